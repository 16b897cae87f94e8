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
complete -c oix -n "__fish_oix_using_subcommand help; and not __fish_seen_subcommand_from init ls inspect tag untag fsck gc help" -f -a "init" -d 'Create an empty OCI image layout (no-op on an existing layout)'
complete -c oix -n "__fish_oix_using_subcommand help; and not __fish_seen_subcommand_from init ls inspect tag untag fsck gc help" -f -a "ls" -d 'List the top-level entries of a layout (ref, digest, media type, platforms, size)'
complete -c oix -n "__fish_oix_using_subcommand help; and not __fish_seen_subcommand_from init ls inspect tag untag fsck gc help" -f -a "inspect" -d 'Show a manifest, index or config, pretty or as the exact stored bytes'
complete -c oix -n "__fish_oix_using_subcommand help; and not __fish_seen_subcommand_from init ls inspect tag untag fsck gc help" -f -a "tag" -d 'Point one or more new refs at the content a reference names'
complete -c oix -n "__fish_oix_using_subcommand help; and not __fish_seen_subcommand_from init ls inspect tag untag fsck gc help" -f -a "untag" -d 'Remove refs from index.json (content stays until gc)'
complete -c oix -n "__fish_oix_using_subcommand help; and not __fish_seen_subcommand_from init ls inspect tag untag fsck gc help" -f -a "fsck" -d 'Verify a layout: every referenced blob present, sized and hashed right; documents valid'
complete -c oix -n "__fish_oix_using_subcommand help; and not __fish_seen_subcommand_from init ls inspect tag untag fsck gc help" -f -a "gc" -d 'Remove blobs that nothing in index.json reaches, and stale temp files'
complete -c oix -n "__fish_oix_using_subcommand help; and not __fish_seen_subcommand_from init ls inspect tag untag fsck gc help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
