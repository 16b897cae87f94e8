# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_oix_global_optspecs
    string join \n json lock-timeout= h/help V/version
end

function __fish_oix_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_oix_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_oix_using_subcommand
    set -l cmd (__fish_oix_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c oix -n "__fish_oix_needs_command" -l lock-timeout -d 'Seconds to wait for another oix process\'s lock on a layout' -r
complete -c oix -n "__fish_oix_needs_command" -l json -d 'Print machine-readable JSON on stdout'
complete -c oix -n "__fish_oix_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c oix -n "__fish_oix_needs_command" -s V -l version -d 'Print version'
complete -c oix -n "__fish_oix_needs_command" -f -a "init" -d 'Create an empty OCI image layout (no-op on an existing layout)'
complete -c oix -n "__fish_oix_needs_command" -f -a "ls" -d 'List the top-level entries of a layout (ref, digest, media type, platforms, size)'
complete -c oix -n "__fish_oix_needs_command" -f -a "inspect" -d 'Show a manifest, index or config, pretty or as the exact stored bytes'
complete -c oix -n "__fish_oix_needs_command" -f -a "tag" -d 'Point one or more new refs at the content a reference names'
complete -c oix -n "__fish_oix_needs_command" -f -a "untag" -d 'Remove refs from index.json (content stays until gc)'
complete -c oix -n "__fish_oix_needs_command" -f -a "fsck" -d 'Verify a layout: every referenced blob present, sized and hashed right; documents valid'
complete -c oix -n "__fish_oix_needs_command" -f -a "gc" -d 'Remove blobs that nothing in index.json reaches, and stale temp files'
complete -c oix -n "__fish_oix_needs_command" -f -a "index" -d 'Create and edit multi-arch indexes inside a layout'
complete -c oix -n "__fish_oix_needs_command" -f -a "merge" -d 'Merge images and indexes into DEST:REF under a release policy'
complete -c oix -n "__fish_oix_needs_command" -f -a "diff" -d 'Show entries added, removed and changed (per platform) between two refs'
complete -c oix -n "__fish_oix_needs_command" -f -a "apply" -d 'Carry out a release plan: create release tags, annotate, assemble, push; idempotent'
complete -c oix -n "__fish_oix_needs_command" -f -a "plan" -d 'Work with release plan files'
complete -c oix -n "__fish_oix_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c oix -n "__fish_oix_using_subcommand init" -l lock-timeout -d 'Seconds to wait for another oix process\'s lock on a layout' -r
complete -c oix -n "__fish_oix_using_subcommand init" -l json -d 'Print machine-readable JSON on stdout'
complete -c oix -n "__fish_oix_using_subcommand init" -s h -l help -d 'Print help'
complete -c oix -n "__fish_oix_using_subcommand init" -s V -l version -d 'Print version'
complete -c oix -n "__fish_oix_using_subcommand ls" -l lock-timeout -d 'Seconds to wait for another oix process\'s lock on a layout' -r
complete -c oix -n "__fish_oix_using_subcommand ls" -l tree -d 'Walk nested indexes, manifests, configs and layers'
complete -c oix -n "__fish_oix_using_subcommand ls" -l json -d 'Print machine-readable JSON on stdout'
complete -c oix -n "__fish_oix_using_subcommand ls" -s h -l help -d 'Print help'
complete -c oix -n "__fish_oix_using_subcommand ls" -s V -l version -d 'Print version'
complete -c oix -n "__fish_oix_using_subcommand inspect" -l lock-timeout -d 'Seconds to wait for another oix process\'s lock on a layout' -r
complete -c oix -n "__fish_oix_using_subcommand inspect" -l raw -d 'Print the exact stored bytes'
complete -c oix -n "__fish_oix_using_subcommand inspect" -l config -d 'Show the image\'s config instead of its manifest'
complete -c oix -n "__fish_oix_using_subcommand inspect" -l json -d 'Print machine-readable JSON on stdout'
complete -c oix -n "__fish_oix_using_subcommand inspect" -s h -l help -d 'Print help'
complete -c oix -n "__fish_oix_using_subcommand inspect" -s V -l version -d 'Print version'
complete -c oix -n "__fish_oix_using_subcommand tag" -l lock-timeout -d 'Seconds to wait for another oix process\'s lock on a layout' -r
complete -c oix -n "__fish_oix_using_subcommand tag" -l json -d 'Print machine-readable JSON on stdout'
complete -c oix -n "__fish_oix_using_subcommand tag" -s h -l help -d 'Print help'
complete -c oix -n "__fish_oix_using_subcommand tag" -s V -l version -d 'Print version'
complete -c oix -n "__fish_oix_using_subcommand untag" -l lock-timeout -d 'Seconds to wait for another oix process\'s lock on a layout' -r
complete -c oix -n "__fish_oix_using_subcommand untag" -l ignore-missing -d 'Do nothing (exit 0) for refs that do not exist'
complete -c oix -n "__fish_oix_using_subcommand untag" -l json -d 'Print machine-readable JSON on stdout'
complete -c oix -n "__fish_oix_using_subcommand untag" -s h -l help -d 'Print help'
complete -c oix -n "__fish_oix_using_subcommand untag" -s V -l version -d 'Print version'
complete -c oix -n "__fish_oix_using_subcommand fsck" -s j -l jobs -d 'Hashing threads (default: all cores)' -r
complete -c oix -n "__fish_oix_using_subcommand fsck" -l lock-timeout -d 'Seconds to wait for another oix process\'s lock on a layout' -r
complete -c oix -n "__fish_oix_using_subcommand fsck" -l quick -d 'Check presence, sizes and structure only; skip hashing blob contents'
complete -c oix -n "__fish_oix_using_subcommand fsck" -l json -d 'Print machine-readable JSON on stdout'
complete -c oix -n "__fish_oix_using_subcommand fsck" -s h -l help -d 'Print help'
complete -c oix -n "__fish_oix_using_subcommand fsck" -s V -l version -d 'Print version'
complete -c oix -n "__fish_oix_using_subcommand gc" -l lock-timeout -d 'Seconds to wait for another oix process\'s lock on a layout' -r
complete -c oix -n "__fish_oix_using_subcommand gc" -l dry-run -d 'Report what would be removed without removing it'
complete -c oix -n "__fish_oix_using_subcommand gc" -l json -d 'Print machine-readable JSON on stdout'
complete -c oix -n "__fish_oix_using_subcommand gc" -s h -l help -d 'Print help'
complete -c oix -n "__fish_oix_using_subcommand gc" -s V -l version -d 'Print version'
complete -c oix -n "__fish_oix_using_subcommand index; and not __fish_seen_subcommand_from create add help" -l lock-timeout -d 'Seconds to wait for another oix process\'s lock on a layout' -r
complete -c oix -n "__fish_oix_using_subcommand index; and not __fish_seen_subcommand_from create add help" -l json -d 'Print machine-readable JSON on stdout'
complete -c oix -n "__fish_oix_using_subcommand index; and not __fish_seen_subcommand_from create add help" -s h -l help -d 'Print help'
complete -c oix -n "__fish_oix_using_subcommand index; and not __fish_seen_subcommand_from create add help" -s V -l version -d 'Print version'
complete -c oix -n "__fish_oix_using_subcommand index; and not __fish_seen_subcommand_from create add help" -f -a "create" -d 'Create an index from images (REF moves to the new index)'
complete -c oix -n "__fish_oix_using_subcommand index; and not __fish_seen_subcommand_from create add help" -f -a "add" -d 'Add or replace entries of an index, keyed on platform; creates it when missing'
complete -c oix -n "__fish_oix_using_subcommand index; and not __fish_seen_subcommand_from create add help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c oix -n "__fish_oix_using_subcommand index; and __fish_seen_subcommand_from create" -l platform -d 'Platform per source, in order (instead of SRC=PLATFORM)' -r
complete -c oix -n "__fish_oix_using_subcommand index; and __fish_seen_subcommand_from create" -l annotation -d 'Set an annotation on the index (repeatable)' -r
complete -c oix -n "__fish_oix_using_subcommand index; and __fish_seen_subcommand_from create" -l created -d 'Write org.opencontainers.image.created (RFC 3339 or `now`); SOURCE_DATE_EPOCH also sets it' -r
complete -c oix -n "__fish_oix_using_subcommand index; and __fish_seen_subcommand_from create" -l lock-timeout -d 'Seconds to wait for another oix process\'s lock on a layout' -r
complete -c oix -n "__fish_oix_using_subcommand index; and __fish_seen_subcommand_from create" -l flatten -d 'Inline the entries of index sources instead of nesting them'
complete -c oix -n "__fish_oix_using_subcommand index; and __fish_seen_subcommand_from create" -l dry-run -d 'Show the resulting changes without writing anything'
complete -c oix -n "__fish_oix_using_subcommand index; and __fish_seen_subcommand_from create" -l detailed-exitcode -d 'Exit 6 when index.json changed (or, with --dry-run, would change)'
complete -c oix -n "__fish_oix_using_subcommand index; and __fish_seen_subcommand_from create" -l json -d 'Print machine-readable JSON on stdout'
complete -c oix -n "__fish_oix_using_subcommand index; and __fish_seen_subcommand_from create" -s h -l help -d 'Print help'
complete -c oix -n "__fish_oix_using_subcommand index; and __fish_seen_subcommand_from create" -s V -l version -d 'Print version'
complete -c oix -n "__fish_oix_using_subcommand index; and __fish_seen_subcommand_from add" -l platform -d 'Platform per source, in order (instead of SRC=PLATFORM)' -r
complete -c oix -n "__fish_oix_using_subcommand index; and __fish_seen_subcommand_from add" -l mode -d 'What to do when an entry for the same platform exists' -r -f -a "replace\t'Replace the existing entry (and its attestations) in place'
append\t'Keep both'
fail\t'Refuse (exit 5)'"
complete -c oix -n "__fish_oix_using_subcommand index; and __fish_seen_subcommand_from add" -l annotation -d 'Set an annotation on the index (repeatable)' -r
complete -c oix -n "__fish_oix_using_subcommand index; and __fish_seen_subcommand_from add" -l created -d 'Write org.opencontainers.image.created (RFC 3339 or `now`); SOURCE_DATE_EPOCH also sets it' -r
complete -c oix -n "__fish_oix_using_subcommand index; and __fish_seen_subcommand_from add" -l lock-timeout -d 'Seconds to wait for another oix process\'s lock on a layout' -r
complete -c oix -n "__fish_oix_using_subcommand index; and __fish_seen_subcommand_from add" -l flatten -d 'Inline the entries of index sources instead of nesting them'
complete -c oix -n "__fish_oix_using_subcommand index; and __fish_seen_subcommand_from add" -l dry-run -d 'Show the resulting changes without writing anything'
complete -c oix -n "__fish_oix_using_subcommand index; and __fish_seen_subcommand_from add" -l detailed-exitcode -d 'Exit 6 when index.json changed (or, with --dry-run, would change)'
complete -c oix -n "__fish_oix_using_subcommand index; and __fish_seen_subcommand_from add" -l json -d 'Print machine-readable JSON on stdout'
complete -c oix -n "__fish_oix_using_subcommand index; and __fish_seen_subcommand_from add" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c oix -n "__fish_oix_using_subcommand index; and __fish_seen_subcommand_from add" -s V -l version -d 'Print version'
complete -c oix -n "__fish_oix_using_subcommand index; and __fish_seen_subcommand_from help" -f -a "create" -d 'Create an index from images (REF moves to the new index)'
complete -c oix -n "__fish_oix_using_subcommand index; and __fish_seen_subcommand_from help" -f -a "add" -d 'Add or replace entries of an index, keyed on platform; creates it when missing'
complete -c oix -n "__fish_oix_using_subcommand index; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c oix -n "__fish_oix_using_subcommand merge" -l policy -d 'union | replace | keep-missing | require-all (see the description)' -r -f -a "union\t''
replace\t''
keep-missing\t''
require-all\t''"
complete -c oix -n "__fish_oix_using_subcommand merge" -l expect -d 'Platforms the result must hold (comma-separated or repeated)' -r
complete -c oix -n "__fish_oix_using_subcommand merge" -l annotation -d 'Set an annotation on the index (repeatable)' -r
complete -c oix -n "__fish_oix_using_subcommand merge" -l created -d 'Write org.opencontainers.image.created (RFC 3339 or `now`); SOURCE_DATE_EPOCH also sets it' -r
complete -c oix -n "__fish_oix_using_subcommand merge" -l lock-timeout -d 'Seconds to wait for another oix process\'s lock on a layout' -r
complete -c oix -n "__fish_oix_using_subcommand merge" -l dry-run -d 'Show the resulting changes without writing anything'
complete -c oix -n "__fish_oix_using_subcommand merge" -l detailed-exitcode -d 'Exit 6 when index.json changed (or, with --dry-run, would change)'
complete -c oix -n "__fish_oix_using_subcommand merge" -l json -d 'Print machine-readable JSON on stdout'
complete -c oix -n "__fish_oix_using_subcommand merge" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c oix -n "__fish_oix_using_subcommand merge" -s V -l version -d 'Print version'
complete -c oix -n "__fish_oix_using_subcommand diff" -l lock-timeout -d 'Seconds to wait for another oix process\'s lock on a layout' -r
complete -c oix -n "__fish_oix_using_subcommand diff" -l detailed-exitcode -d 'Exit 6 when they differ'
complete -c oix -n "__fish_oix_using_subcommand diff" -l json -d 'Print machine-readable JSON on stdout'
complete -c oix -n "__fish_oix_using_subcommand diff" -s h -l help -d 'Print help'
complete -c oix -n "__fish_oix_using_subcommand diff" -s V -l version -d 'Print version'
complete -c oix -n "__fish_oix_using_subcommand apply" -l only -d 'Only the images with this name (repeatable or comma-separated)' -r
complete -c oix -n "__fish_oix_using_subcommand apply" -l skip -d 'Leave out the images with this name (repeatable or comma-separated)' -r
complete -c oix -n "__fish_oix_using_subcommand apply" -l lock-timeout -d 'Seconds to wait for another oix process\'s lock on a layout' -r
complete -c oix -n "__fish_oix_using_subcommand apply" -l dry-run -d 'Print the plan and stop; nothing is written or pushed'
complete -c oix -n "__fish_oix_using_subcommand apply" -l force -d 'Move tags that exist with other content, in the layout and at destinations'
complete -c oix -n "__fish_oix_using_subcommand apply" -l fail-fast -d 'Stop at the first refused or failed image (a refusal found while planning stops the run before anything is written)'
complete -c oix -n "__fish_oix_using_subcommand apply" -l no-push -d 'Carry out the layout steps only; destinations are not contacted'
complete -c oix -n "__fish_oix_using_subcommand apply" -l detailed-exitcode -d 'Exit 6 when changes were (or, with --dry-run, would be) made'
complete -c oix -n "__fish_oix_using_subcommand apply" -l json -d 'Print machine-readable JSON on stdout'
complete -c oix -n "__fish_oix_using_subcommand apply" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c oix -n "__fish_oix_using_subcommand apply" -s V -l version -d 'Print version'
complete -c oix -n "__fish_oix_using_subcommand plan; and not __fish_seen_subcommand_from check help" -l lock-timeout -d 'Seconds to wait for another oix process\'s lock on a layout' -r
complete -c oix -n "__fish_oix_using_subcommand plan; and not __fish_seen_subcommand_from check help" -l json -d 'Print machine-readable JSON on stdout'
complete -c oix -n "__fish_oix_using_subcommand plan; and not __fish_seen_subcommand_from check help" -s h -l help -d 'Print help'
complete -c oix -n "__fish_oix_using_subcommand plan; and not __fish_seen_subcommand_from check help" -s V -l version -d 'Print version'
complete -c oix -n "__fish_oix_using_subcommand plan; and not __fish_seen_subcommand_from check help" -f -a "check" -d 'Validate a plan file: schema, names and tags, layout sources resolvable'
complete -c oix -n "__fish_oix_using_subcommand plan; and not __fish_seen_subcommand_from check help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c oix -n "__fish_oix_using_subcommand plan; and __fish_seen_subcommand_from check" -l lock-timeout -d 'Seconds to wait for another oix process\'s lock on a layout' -r
complete -c oix -n "__fish_oix_using_subcommand plan; and __fish_seen_subcommand_from check" -l json -d 'Print machine-readable JSON on stdout'
complete -c oix -n "__fish_oix_using_subcommand plan; and __fish_seen_subcommand_from check" -s h -l help -d 'Print help'
complete -c oix -n "__fish_oix_using_subcommand plan; and __fish_seen_subcommand_from check" -s V -l version -d 'Print version'
complete -c oix -n "__fish_oix_using_subcommand plan; and __fish_seen_subcommand_from help" -f -a "check" -d 'Validate a plan file: schema, names and tags, layout sources resolvable'
complete -c oix -n "__fish_oix_using_subcommand plan; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c oix -n "__fish_oix_using_subcommand help; and not __fish_seen_subcommand_from init ls inspect tag untag fsck gc index merge diff apply plan help" -f -a "init" -d 'Create an empty OCI image layout (no-op on an existing layout)'
complete -c oix -n "__fish_oix_using_subcommand help; and not __fish_seen_subcommand_from init ls inspect tag untag fsck gc index merge diff apply plan help" -f -a "ls" -d 'List the top-level entries of a layout (ref, digest, media type, platforms, size)'
complete -c oix -n "__fish_oix_using_subcommand help; and not __fish_seen_subcommand_from init ls inspect tag untag fsck gc index merge diff apply plan help" -f -a "inspect" -d 'Show a manifest, index or config, pretty or as the exact stored bytes'
complete -c oix -n "__fish_oix_using_subcommand help; and not __fish_seen_subcommand_from init ls inspect tag untag fsck gc index merge diff apply plan help" -f -a "tag" -d 'Point one or more new refs at the content a reference names'
complete -c oix -n "__fish_oix_using_subcommand help; and not __fish_seen_subcommand_from init ls inspect tag untag fsck gc index merge diff apply plan help" -f -a "untag" -d 'Remove refs from index.json (content stays until gc)'
complete -c oix -n "__fish_oix_using_subcommand help; and not __fish_seen_subcommand_from init ls inspect tag untag fsck gc index merge diff apply plan help" -f -a "fsck" -d 'Verify a layout: every referenced blob present, sized and hashed right; documents valid'
complete -c oix -n "__fish_oix_using_subcommand help; and not __fish_seen_subcommand_from init ls inspect tag untag fsck gc index merge diff apply plan help" -f -a "gc" -d 'Remove blobs that nothing in index.json reaches, and stale temp files'
complete -c oix -n "__fish_oix_using_subcommand help; and not __fish_seen_subcommand_from init ls inspect tag untag fsck gc index merge diff apply plan help" -f -a "index" -d 'Create and edit multi-arch indexes inside a layout'
complete -c oix -n "__fish_oix_using_subcommand help; and not __fish_seen_subcommand_from init ls inspect tag untag fsck gc index merge diff apply plan help" -f -a "merge" -d 'Merge images and indexes into DEST:REF under a release policy'
complete -c oix -n "__fish_oix_using_subcommand help; and not __fish_seen_subcommand_from init ls inspect tag untag fsck gc index merge diff apply plan help" -f -a "diff" -d 'Show entries added, removed and changed (per platform) between two refs'
complete -c oix -n "__fish_oix_using_subcommand help; and not __fish_seen_subcommand_from init ls inspect tag untag fsck gc index merge diff apply plan help" -f -a "apply" -d 'Carry out a release plan: create release tags, annotate, assemble, push; idempotent'
complete -c oix -n "__fish_oix_using_subcommand help; and not __fish_seen_subcommand_from init ls inspect tag untag fsck gc index merge diff apply plan help" -f -a "plan" -d 'Work with release plan files'
complete -c oix -n "__fish_oix_using_subcommand help; and not __fish_seen_subcommand_from init ls inspect tag untag fsck gc index merge diff apply plan help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c oix -n "__fish_oix_using_subcommand help; and __fish_seen_subcommand_from index" -f -a "create" -d 'Create an index from images (REF moves to the new index)'
complete -c oix -n "__fish_oix_using_subcommand help; and __fish_seen_subcommand_from index" -f -a "add" -d 'Add or replace entries of an index, keyed on platform; creates it when missing'
complete -c oix -n "__fish_oix_using_subcommand help; and __fish_seen_subcommand_from plan" -f -a "check" -d 'Validate a plan file: schema, names and tags, layout sources resolvable'
