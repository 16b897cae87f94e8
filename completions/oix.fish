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
complete -c oix -n "__fish_oix_needs_command" -f -a "ls" -d 'List the top-level entries of a layout, or the entries of the index a ref names'
complete -c oix -n "__fish_oix_needs_command" -f -a "inspect" -d 'Show a manifest, index or config, pretty or as the exact stored bytes'
complete -c oix -n "__fish_oix_needs_command" -f -a "digest" -d 'Print the digest of the manifest or index a reference names (a registry: one HEAD)'
complete -c oix -n "__fish_oix_needs_command" -f -a "tag" -d 'Point one or more new refs at the content a reference names'
complete -c oix -n "__fish_oix_needs_command" -f -a "untag" -d 'Remove refs from index.json (content stays until gc)'
complete -c oix -n "__fish_oix_needs_command" -f -a "fsck" -d 'Verify a layout: every referenced blob present, sized and hashed right; documents valid'
complete -c oix -n "__fish_oix_needs_command" -f -a "gc" -d 'Remove blobs that nothing in index.json reaches, referrers of subjects that are gone, and stale temp files'
complete -c oix -n "__fish_oix_needs_command" -f -a "index" -d 'Create and edit multi-arch indexes inside a layout'
complete -c oix -n "__fish_oix_needs_command" -f -a "merge" -d 'Merge images and indexes into DEST:REF under a release policy'
complete -c oix -n "__fish_oix_needs_command" -f -a "diff" -d 'Show entries added, removed and changed (per platform) between two refs'
complete -c oix -n "__fish_oix_needs_command" -f -a "annotate" -d 'Set or remove annotations on an index, on chosen entries, or inside chosen manifests'
complete -c oix -n "__fish_oix_needs_command" -f -a "select" -d 'Print the entries a platform/annotation selector picks (digest first)'
complete -c oix -n "__fish_oix_needs_command" -f -a "fold" -d 'Turn several top-level entries sharing one ref into one explicit index'
complete -c oix -n "__fish_oix_needs_command" -f -a "copy" -d 'Copy an image or index between any two stores (layouts, registries, archives)'
complete -c oix -n "__fish_oix_needs_command" -f -a "push" -d 'Push a layout\'s image or index to a registry (docker://HOST/REPO[:TAG])'
complete -c oix -n "__fish_oix_needs_command" -f -a "pull" -d 'Pull an image or index from a registry into a layout'
complete -c oix -n "__fish_oix_needs_command" -f -a "login" -d 'Check credentials against a registry and store them in the containers auth file'
complete -c oix -n "__fish_oix_needs_command" -f -a "logout" -d 'Remove stored credentials for a registry (or all of them) from the auth file'
complete -c oix -n "__fish_oix_needs_command" -f -a "publish" -d 'Push this arch\'s image under its per-arch tag, then converge the release tag'
complete -c oix -n "__fish_oix_needs_command" -f -a "apply" -d 'Carry out a release plan: create release tags, annotate, assemble, push; idempotent'
complete -c oix -n "__fish_oix_needs_command" -f -a "plan" -d 'Work with release plan files'
complete -c oix -n "__fish_oix_needs_command" -f -a "build" -d 'Build an image from root filesystem directories or tarballs, reproducibly'
complete -c oix -n "__fish_oix_needs_command" -f -a "import" -d 'Import an oci-archive, a docker-archive or another layout\'s refs, verified'
complete -c oix -n "__fish_oix_needs_command" -f -a "recompress" -d 'Rewrite an image\'s or index\'s layers as zstd or gzip, in place or as zstd twins'
complete -c oix -n "__fish_oix_needs_command" -f -a "export" -d 'Export refs as a reproducible oci-archive holding only the blobs they reach'
complete -c oix -n "__fish_oix_needs_command" -f -a "referrers" -d 'List the referrers of an image or index (signatures, SBOMs, attestations)'
complete -c oix -n "__fish_oix_needs_command" -f -a "attach" -d 'Attach files to an image or index as an OCI 1.1 artifact (a referrer)'
complete -c oix -n "__fish_oix_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c oix -n "__fish_oix_using_subcommand init" -l lock-timeout -d 'Seconds to wait for another oix process\'s lock on a layout' -r
complete -c oix -n "__fish_oix_using_subcommand init" -l json -d 'Print machine-readable JSON on stdout'
complete -c oix -n "__fish_oix_using_subcommand init" -s h -l help -d 'Print help'
complete -c oix -n "__fish_oix_using_subcommand init" -s V -l version -d 'Print version'
complete -c oix -n "__fish_oix_using_subcommand ls" -l platform -d 'Keep entries for PLATFORM: `os/arch[/variant][:os.version][+feature...]` or `local` (case-insensitive; x86_64→amd64, aarch64→arm64, armhf→arm/v7, ...). Repeatable: any may match' -r
complete -c oix -n "__fish_oix_using_subcommand ls" -l where -d 'Keep entries where EXPR holds: key=value, key!=value, key~=REGEX, key (present), !key (absent); key is an annotation key or ref, digest, mediaType, artifactType. Repeatable: all must hold' -r
complete -c oix -n "__fish_oix_using_subcommand ls" -l match -d 'How --platform compares: exact (equal after normalization) or compatible (the entry runs on that platform). Default: exact; compatible with --on-ambiguity best' -r -f -a "exact\t'Equal after normalization'
compatible\t'The entry can run on the wanted platform'"
complete -c oix -n "__fish_oix_using_subcommand ls" -l fallback -d 'Opt-in fallbacks of compatible matching: 386 (amd64 also runs 386) and arm (arm64 also runs arm/v8..v5). Comma-separated or repeated' -r -f -a "386\t'An amd64 host also accepts 386 entries'
arm\t'An arm64 host also accepts arm/v8..v5 entries (needs AArch32 support)'"
complete -c oix -n "__fish_oix_using_subcommand ls" -l scope -d 'Which annotations --where reads: the descriptor\'s, the manifest\'s (inside the pointed-to manifest or index), or either' -r -f -a "descriptor\t'The annotations on the descriptor (the entry in its index)'
manifest\t'The annotations inside the manifest or index the descriptor points to'
any\t'Either of the two'"
complete -c oix -n "__fish_oix_using_subcommand ls" -l authfile -d 'Credentials file (containers auth.json or docker config.json); only this file is read (`oix login` writes it)' -r -F
complete -c oix -n "__fish_oix_using_subcommand ls" -l ca-cert -d 'Trust the certificates of this PEM file besides the system roots: as CAs, and as the registry\'s own certificate when the server presents exactly one of them (a self-signed `openssl req -x509` certificate; its host name is still checked); repeatable' -r -F
complete -c oix -n "__fish_oix_using_subcommand ls" -l cert-dir -d 'Use the certificates of DIR for the registry: *.crt files are CAs (trusted like --ca-cert), NAME.cert with NAME.key a client certificate. Without it, the first existing HOST[:PORT] directory of ~/.config/containers/certs.d, /etc/containers/certs.d and /etc/docker/certs.d is used (OIX_CERTS_D_ROOTS, a \':\'-separated list, replaces those roots)' -r -F
complete -c oix -n "__fish_oix_using_subcommand ls" -l client-cert -d 'Present this client certificate (PEM) when the registry asks for one (mutual TLS); needs --client-key. Wins over a certs.d client pair' -r -F
complete -c oix -n "__fish_oix_using_subcommand ls" -l client-key -d 'The private key (PEM: PKCS#8, RSA or EC as openssl writes them, unencrypted) of --client-cert' -r -F
complete -c oix -n "__fish_oix_using_subcommand ls" -l timeout -d 'Give up on a connection after SECONDS without progress: to connect (default 30), waiting for or reading an answer, sending a body (default 60), and for a credential helper to answer (default 60). A timed-out request counts as a transient failure (see --retries); when none is left, oix exits 1 naming the host' -r
complete -c oix -n "__fish_oix_using_subcommand ls" -l creds -d 'Credentials for this run instead of any auth file: USER:PASSWORD, or USER alone to be asked for the password (on a terminal only). The value is visible to other users in the process list: prefer `oix login --password-stdin`' -r
complete -c oix -n "__fish_oix_using_subcommand ls" -l retries -d 'Attempts after a transient failure (5xx, 429, dropped connection)' -r
complete -c oix -n "__fish_oix_using_subcommand ls" -s j -l jobs -d 'Parallel blob transfers' -r
complete -c oix -n "__fish_oix_using_subcommand ls" -l lock-timeout -d 'Seconds to wait for another oix process\'s lock on a layout' -r
complete -c oix -n "__fish_oix_using_subcommand ls" -l tree -d 'Walk nested indexes, manifests, configs and layers; the referrers of each index and manifest (signatures, SBOMs, attestations) are listed under it'
complete -c oix -n "__fish_oix_using_subcommand ls" -l referrers -d 'Count each entry\'s referrers (recursively) in a REFERRERS column; with --json, list them (`oix referrers` shows one subject\'s in full)'
complete -c oix -n "__fish_oix_using_subcommand ls" -l inherit -d 'Let an entry see the annotations of the indexes above it (never by default)'
complete -c oix -n "__fish_oix_using_subcommand ls" -l insecure -d 'Use TLS without verifying the registry\'s certificate'
complete -c oix -n "__fish_oix_using_subcommand ls" -l plain-http -d 'Speak plain HTTP to the registry (no TLS)'
complete -c oix -n "__fish_oix_using_subcommand ls" -l json -d 'Print machine-readable JSON on stdout'
complete -c oix -n "__fish_oix_using_subcommand ls" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c oix -n "__fish_oix_using_subcommand ls" -s V -l version -d 'Print version'
complete -c oix -n "__fish_oix_using_subcommand inspect" -l platform -d 'Keep entries for PLATFORM: `os/arch[/variant][:os.version][+feature...]` or `local` (case-insensitive; x86_64→amd64, aarch64→arm64, armhf→arm/v7, ...). Repeatable: any may match' -r
complete -c oix -n "__fish_oix_using_subcommand inspect" -l where -d 'Keep entries where EXPR holds: key=value, key!=value, key~=REGEX, key (present), !key (absent); key is an annotation key or ref, digest, mediaType, artifactType. Repeatable: all must hold' -r
complete -c oix -n "__fish_oix_using_subcommand inspect" -l match -d 'How --platform compares: exact (equal after normalization) or compatible (the entry runs on that platform). Default: exact; compatible with --on-ambiguity best' -r -f -a "exact\t'Equal after normalization'
compatible\t'The entry can run on the wanted platform'"
complete -c oix -n "__fish_oix_using_subcommand inspect" -l fallback -d 'Opt-in fallbacks of compatible matching: 386 (amd64 also runs 386) and arm (arm64 also runs arm/v8..v5). Comma-separated or repeated' -r -f -a "386\t'An amd64 host also accepts 386 entries'
arm\t'An arm64 host also accepts arm/v8..v5 entries (needs AArch32 support)'"
complete -c oix -n "__fish_oix_using_subcommand inspect" -l scope -d 'Which annotations --where reads: the descriptor\'s, the manifest\'s (inside the pointed-to manifest or index), or either' -r -f -a "descriptor\t'The annotations on the descriptor (the entry in its index)'
manifest\t'The annotations inside the manifest or index the descriptor points to'
any\t'Either of the two'"
complete -c oix -n "__fish_oix_using_subcommand inspect" -l on-ambiguity -d 'When several entries match: error (exit 4, listing them), first (in index order), best (the unique best under compatible matching) or all' -r -f -a "error\t'Fail with exit code 4, listing every candidate'
first\t'The first match in depth-first document order (the image-spec\'s SHOULD)'
best\t'The uniquely highest-ranked match under compatible matching, else exit 4'
all\t'Every match'"
complete -c oix -n "__fish_oix_using_subcommand inspect" -l authfile -d 'Credentials file (containers auth.json or docker config.json); only this file is read (`oix login` writes it)' -r -F
complete -c oix -n "__fish_oix_using_subcommand inspect" -l ca-cert -d 'Trust the certificates of this PEM file besides the system roots: as CAs, and as the registry\'s own certificate when the server presents exactly one of them (a self-signed `openssl req -x509` certificate; its host name is still checked); repeatable' -r -F
complete -c oix -n "__fish_oix_using_subcommand inspect" -l cert-dir -d 'Use the certificates of DIR for the registry: *.crt files are CAs (trusted like --ca-cert), NAME.cert with NAME.key a client certificate. Without it, the first existing HOST[:PORT] directory of ~/.config/containers/certs.d, /etc/containers/certs.d and /etc/docker/certs.d is used (OIX_CERTS_D_ROOTS, a \':\'-separated list, replaces those roots)' -r -F
complete -c oix -n "__fish_oix_using_subcommand inspect" -l client-cert -d 'Present this client certificate (PEM) when the registry asks for one (mutual TLS); needs --client-key. Wins over a certs.d client pair' -r -F
complete -c oix -n "__fish_oix_using_subcommand inspect" -l client-key -d 'The private key (PEM: PKCS#8, RSA or EC as openssl writes them, unencrypted) of --client-cert' -r -F
complete -c oix -n "__fish_oix_using_subcommand inspect" -l timeout -d 'Give up on a connection after SECONDS without progress: to connect (default 30), waiting for or reading an answer, sending a body (default 60), and for a credential helper to answer (default 60). A timed-out request counts as a transient failure (see --retries); when none is left, oix exits 1 naming the host' -r
complete -c oix -n "__fish_oix_using_subcommand inspect" -l creds -d 'Credentials for this run instead of any auth file: USER:PASSWORD, or USER alone to be asked for the password (on a terminal only). The value is visible to other users in the process list: prefer `oix login --password-stdin`' -r
complete -c oix -n "__fish_oix_using_subcommand inspect" -l retries -d 'Attempts after a transient failure (5xx, 429, dropped connection)' -r
complete -c oix -n "__fish_oix_using_subcommand inspect" -s j -l jobs -d 'Parallel blob transfers' -r
complete -c oix -n "__fish_oix_using_subcommand inspect" -l lock-timeout -d 'Seconds to wait for another oix process\'s lock on a layout' -r
complete -c oix -n "__fish_oix_using_subcommand inspect" -l raw -d 'Print the exact stored bytes (from a registry: as served, and its Docker-Content-Digest on stderr)'
complete -c oix -n "__fish_oix_using_subcommand inspect" -l config -d 'Show the image\'s config instead of its manifest'
complete -c oix -n "__fish_oix_using_subcommand inspect" -l inherit -d 'Let an entry see the annotations of the indexes above it (never by default)'
complete -c oix -n "__fish_oix_using_subcommand inspect" -l insecure -d 'Use TLS without verifying the registry\'s certificate'
complete -c oix -n "__fish_oix_using_subcommand inspect" -l plain-http -d 'Speak plain HTTP to the registry (no TLS)'
complete -c oix -n "__fish_oix_using_subcommand inspect" -l json -d 'Print machine-readable JSON on stdout'
complete -c oix -n "__fish_oix_using_subcommand inspect" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c oix -n "__fish_oix_using_subcommand inspect" -s V -l version -d 'Print version'
complete -c oix -n "__fish_oix_using_subcommand digest" -l authfile -d 'Credentials file (containers auth.json or docker config.json); only this file is read (`oix login` writes it)' -r -F
complete -c oix -n "__fish_oix_using_subcommand digest" -l ca-cert -d 'Trust the certificates of this PEM file besides the system roots: as CAs, and as the registry\'s own certificate when the server presents exactly one of them (a self-signed `openssl req -x509` certificate; its host name is still checked); repeatable' -r -F
complete -c oix -n "__fish_oix_using_subcommand digest" -l cert-dir -d 'Use the certificates of DIR for the registry: *.crt files are CAs (trusted like --ca-cert), NAME.cert with NAME.key a client certificate. Without it, the first existing HOST[:PORT] directory of ~/.config/containers/certs.d, /etc/containers/certs.d and /etc/docker/certs.d is used (OIX_CERTS_D_ROOTS, a \':\'-separated list, replaces those roots)' -r -F
complete -c oix -n "__fish_oix_using_subcommand digest" -l client-cert -d 'Present this client certificate (PEM) when the registry asks for one (mutual TLS); needs --client-key. Wins over a certs.d client pair' -r -F
complete -c oix -n "__fish_oix_using_subcommand digest" -l client-key -d 'The private key (PEM: PKCS#8, RSA or EC as openssl writes them, unencrypted) of --client-cert' -r -F
complete -c oix -n "__fish_oix_using_subcommand digest" -l timeout -d 'Give up on a connection after SECONDS without progress: to connect (default 30), waiting for or reading an answer, sending a body (default 60), and for a credential helper to answer (default 60). A timed-out request counts as a transient failure (see --retries); when none is left, oix exits 1 naming the host' -r
complete -c oix -n "__fish_oix_using_subcommand digest" -l creds -d 'Credentials for this run instead of any auth file: USER:PASSWORD, or USER alone to be asked for the password (on a terminal only). The value is visible to other users in the process list: prefer `oix login --password-stdin`' -r
complete -c oix -n "__fish_oix_using_subcommand digest" -l retries -d 'Attempts after a transient failure (5xx, 429, dropped connection)' -r
complete -c oix -n "__fish_oix_using_subcommand digest" -s j -l jobs -d 'Parallel blob transfers' -r
complete -c oix -n "__fish_oix_using_subcommand digest" -l lock-timeout -d 'Seconds to wait for another oix process\'s lock on a layout' -r
complete -c oix -n "__fish_oix_using_subcommand digest" -l insecure -d 'Use TLS without verifying the registry\'s certificate'
complete -c oix -n "__fish_oix_using_subcommand digest" -l plain-http -d 'Speak plain HTTP to the registry (no TLS)'
complete -c oix -n "__fish_oix_using_subcommand digest" -l json -d 'Print machine-readable JSON on stdout'
complete -c oix -n "__fish_oix_using_subcommand digest" -s h -l help -d 'Print help'
complete -c oix -n "__fish_oix_using_subcommand digest" -s V -l version -d 'Print version'
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
complete -c oix -n "__fish_oix_using_subcommand gc" -l dry-run -d 'Report what would be removed without removing it. Writes nothing, not even a lock file, so it works on a read-only layout'
complete -c oix -n "__fish_oix_using_subcommand gc" -l json -d 'Print machine-readable JSON on stdout'
complete -c oix -n "__fish_oix_using_subcommand gc" -s h -l help -d 'Print help'
complete -c oix -n "__fish_oix_using_subcommand gc" -s V -l version -d 'Print version'
complete -c oix -n "__fish_oix_using_subcommand index; and not __fish_seen_subcommand_from create add rm help" -l lock-timeout -d 'Seconds to wait for another oix process\'s lock on a layout' -r
complete -c oix -n "__fish_oix_using_subcommand index; and not __fish_seen_subcommand_from create add rm help" -l json -d 'Print machine-readable JSON on stdout'
complete -c oix -n "__fish_oix_using_subcommand index; and not __fish_seen_subcommand_from create add rm help" -s h -l help -d 'Print help'
complete -c oix -n "__fish_oix_using_subcommand index; and not __fish_seen_subcommand_from create add rm help" -s V -l version -d 'Print version'
complete -c oix -n "__fish_oix_using_subcommand index; and not __fish_seen_subcommand_from create add rm help" -f -a "create" -d 'Create an index from images (REF moves to the new index)'
complete -c oix -n "__fish_oix_using_subcommand index; and not __fish_seen_subcommand_from create add rm help" -f -a "add" -d 'Add or replace entries of an index, keyed on platform; creates it when missing'
complete -c oix -n "__fish_oix_using_subcommand index; and not __fish_seen_subcommand_from create add rm help" -f -a "rm" -d 'Remove the entries a selector chooses (with their attestations)'
complete -c oix -n "__fish_oix_using_subcommand index; and not __fish_seen_subcommand_from create add rm help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c oix -n "__fish_oix_using_subcommand index; and __fish_seen_subcommand_from create" -l platform -d 'Platform per source, in order (instead of SRC=PLATFORM)' -r
complete -c oix -n "__fish_oix_using_subcommand index; and __fish_seen_subcommand_from create" -l annotation -d 'Set an annotation on the index (repeatable)' -r
complete -c oix -n "__fish_oix_using_subcommand index; and __fish_seen_subcommand_from create" -l created -d 'Write org.opencontainers.image.created (RFC 3339 or `now`); SOURCE_DATE_EPOCH also sets it' -r
complete -c oix -n "__fish_oix_using_subcommand index; and __fish_seen_subcommand_from create" -l referrers-type -d 'Carry only referrers of this artifactType (repeatable; a referrer of a carried referrer must match too)' -r
complete -c oix -n "__fish_oix_using_subcommand index; and __fish_seen_subcommand_from create" -l manifest-format -d 'Write the manifests and indexes in this format: keep (as stored), oci, docker (schema 2). Blobs never change; only documents get new digests' -r -f -a "keep\t'As stored (no conversion)'
oci\t'OCI image index and manifest'
docker\t'Docker manifest list and schema 2 manifest (skopeo calls it v2s2)'"
complete -c oix -n "__fish_oix_using_subcommand index; and __fish_seen_subcommand_from create" -l allow-lossy -d 'With --manifest-format docker, drop what Docker cannot hold instead of refusing: annotations, subject, artifact-type, attestations, fields (comma-separated)' -r
complete -c oix -n "__fish_oix_using_subcommand index; and __fish_seen_subcommand_from create" -l lock-timeout -d 'Seconds to wait for another oix process\'s lock on a layout' -r
complete -c oix -n "__fish_oix_using_subcommand index; and __fish_seen_subcommand_from create" -l flatten -d 'Inline the entries of index sources instead of nesting them'
complete -c oix -n "__fish_oix_using_subcommand index; and __fish_seen_subcommand_from create" -l dry-run -d 'Show the resulting changes without writing anything'
complete -c oix -n "__fish_oix_using_subcommand index; and __fish_seen_subcommand_from create" -l detailed-exitcode -d 'Exit 6 when index.json changed (or, with --dry-run, would change)'
complete -c oix -n "__fish_oix_using_subcommand index; and __fish_seen_subcommand_from create" -l allow-unknown-platform -d 'Write a SRC=PLATFORM whose os or architecture is not a known GOOS/GOARCH value'
complete -c oix -n "__fish_oix_using_subcommand index; and __fish_seen_subcommand_from create" -l force-platform -d 'Write a SRC=PLATFORM that disagrees with the image\'s config'
complete -c oix -n "__fish_oix_using_subcommand index; and __fish_seen_subcommand_from create" -l trust-source -d 'Do not hash blobs taken from other layouts (sizes are still checked; links still need a source file owned by you and not writable by group or others)'
complete -c oix -n "__fish_oix_using_subcommand index; and __fish_seen_subcommand_from create" -l no-referrers -d 'Carry no referrers (by default every referrer of every manifest and index copied travels along, recursively)'
complete -c oix -n "__fish_oix_using_subcommand index; and __fish_seen_subcommand_from create" -l json -d 'Print machine-readable JSON on stdout'
complete -c oix -n "__fish_oix_using_subcommand index; and __fish_seen_subcommand_from create" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c oix -n "__fish_oix_using_subcommand index; and __fish_seen_subcommand_from create" -s V -l version -d 'Print version'
complete -c oix -n "__fish_oix_using_subcommand index; and __fish_seen_subcommand_from add" -l platform -d 'Platform per source, in order (instead of SRC=PLATFORM)' -r
complete -c oix -n "__fish_oix_using_subcommand index; and __fish_seen_subcommand_from add" -l mode -d 'What to do when an entry for the same platform exists' -r -f -a "replace\t'Replace the existing entry (and its attestations) in place'
append\t'Keep both'
fail\t'Refuse (exit 5)'"
complete -c oix -n "__fish_oix_using_subcommand index; and __fish_seen_subcommand_from add" -l annotation -d 'Set an annotation on the index (repeatable)' -r
complete -c oix -n "__fish_oix_using_subcommand index; and __fish_seen_subcommand_from add" -l created -d 'Write org.opencontainers.image.created (RFC 3339 or `now`); SOURCE_DATE_EPOCH also sets it' -r
complete -c oix -n "__fish_oix_using_subcommand index; and __fish_seen_subcommand_from add" -l referrers-type -d 'Carry only referrers of this artifactType (repeatable; a referrer of a carried referrer must match too)' -r
complete -c oix -n "__fish_oix_using_subcommand index; and __fish_seen_subcommand_from add" -l manifest-format -d 'Write the manifests and indexes in this format: keep (as stored), oci, docker (schema 2). Blobs never change; only documents get new digests' -r -f -a "keep\t'As stored (no conversion)'
oci\t'OCI image index and manifest'
docker\t'Docker manifest list and schema 2 manifest (skopeo calls it v2s2)'"
complete -c oix -n "__fish_oix_using_subcommand index; and __fish_seen_subcommand_from add" -l allow-lossy -d 'With --manifest-format docker, drop what Docker cannot hold instead of refusing: annotations, subject, artifact-type, attestations, fields (comma-separated)' -r
complete -c oix -n "__fish_oix_using_subcommand index; and __fish_seen_subcommand_from add" -l authfile -d 'Credentials file (containers auth.json or docker config.json); only this file is read (`oix login` writes it)' -r -F
complete -c oix -n "__fish_oix_using_subcommand index; and __fish_seen_subcommand_from add" -l ca-cert -d 'Trust the certificates of this PEM file besides the system roots: as CAs, and as the registry\'s own certificate when the server presents exactly one of them (a self-signed `openssl req -x509` certificate; its host name is still checked); repeatable' -r -F
complete -c oix -n "__fish_oix_using_subcommand index; and __fish_seen_subcommand_from add" -l cert-dir -d 'Use the certificates of DIR for the registry: *.crt files are CAs (trusted like --ca-cert), NAME.cert with NAME.key a client certificate. Without it, the first existing HOST[:PORT] directory of ~/.config/containers/certs.d, /etc/containers/certs.d and /etc/docker/certs.d is used (OIX_CERTS_D_ROOTS, a \':\'-separated list, replaces those roots)' -r -F
complete -c oix -n "__fish_oix_using_subcommand index; and __fish_seen_subcommand_from add" -l client-cert -d 'Present this client certificate (PEM) when the registry asks for one (mutual TLS); needs --client-key. Wins over a certs.d client pair' -r -F
complete -c oix -n "__fish_oix_using_subcommand index; and __fish_seen_subcommand_from add" -l client-key -d 'The private key (PEM: PKCS#8, RSA or EC as openssl writes them, unencrypted) of --client-cert' -r -F
complete -c oix -n "__fish_oix_using_subcommand index; and __fish_seen_subcommand_from add" -l timeout -d 'Give up on a connection after SECONDS without progress: to connect (default 30), waiting for or reading an answer, sending a body (default 60), and for a credential helper to answer (default 60). A timed-out request counts as a transient failure (see --retries); when none is left, oix exits 1 naming the host' -r
complete -c oix -n "__fish_oix_using_subcommand index; and __fish_seen_subcommand_from add" -l creds -d 'Credentials for this run instead of any auth file: USER:PASSWORD, or USER alone to be asked for the password (on a terminal only). The value is visible to other users in the process list: prefer `oix login --password-stdin`' -r
complete -c oix -n "__fish_oix_using_subcommand index; and __fish_seen_subcommand_from add" -l retries -d 'Attempts after a transient failure (5xx, 429, dropped connection)' -r
complete -c oix -n "__fish_oix_using_subcommand index; and __fish_seen_subcommand_from add" -s j -l jobs -d 'Parallel blob transfers' -r
complete -c oix -n "__fish_oix_using_subcommand index; and __fish_seen_subcommand_from add" -l lock-timeout -d 'Seconds to wait for another oix process\'s lock on a layout' -r
complete -c oix -n "__fish_oix_using_subcommand index; and __fish_seen_subcommand_from add" -l flatten -d 'Inline the entries of index sources instead of nesting them'
complete -c oix -n "__fish_oix_using_subcommand index; and __fish_seen_subcommand_from add" -l dry-run -d 'Show the resulting changes without writing anything'
complete -c oix -n "__fish_oix_using_subcommand index; and __fish_seen_subcommand_from add" -l detailed-exitcode -d 'Exit 6 when index.json changed (or, with --dry-run, would change)'
complete -c oix -n "__fish_oix_using_subcommand index; and __fish_seen_subcommand_from add" -l allow-unknown-platform -d 'Write a SRC=PLATFORM whose os or architecture is not a known GOOS/GOARCH value'
complete -c oix -n "__fish_oix_using_subcommand index; and __fish_seen_subcommand_from add" -l force-platform -d 'Write a SRC=PLATFORM that disagrees with the image\'s config'
complete -c oix -n "__fish_oix_using_subcommand index; and __fish_seen_subcommand_from add" -l trust-source -d 'Do not hash blobs taken from other layouts (sizes are still checked; links still need a source file owned by you and not writable by group or others)'
complete -c oix -n "__fish_oix_using_subcommand index; and __fish_seen_subcommand_from add" -l no-referrers -d 'Carry no referrers (by default every referrer of every manifest and index copied travels along, recursively)'
complete -c oix -n "__fish_oix_using_subcommand index; and __fish_seen_subcommand_from add" -l insecure -d 'Use TLS without verifying the registry\'s certificate'
complete -c oix -n "__fish_oix_using_subcommand index; and __fish_seen_subcommand_from add" -l plain-http -d 'Speak plain HTTP to the registry (no TLS)'
complete -c oix -n "__fish_oix_using_subcommand index; and __fish_seen_subcommand_from add" -l json -d 'Print machine-readable JSON on stdout'
complete -c oix -n "__fish_oix_using_subcommand index; and __fish_seen_subcommand_from add" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c oix -n "__fish_oix_using_subcommand index; and __fish_seen_subcommand_from add" -s V -l version -d 'Print version'
complete -c oix -n "__fish_oix_using_subcommand index; and __fish_seen_subcommand_from rm" -l platform -d 'Keep entries for PLATFORM: `os/arch[/variant][:os.version][+feature...]` or `local` (case-insensitive; x86_64→amd64, aarch64→arm64, armhf→arm/v7, ...). Repeatable: any may match' -r
complete -c oix -n "__fish_oix_using_subcommand index; and __fish_seen_subcommand_from rm" -l where -d 'Keep entries where EXPR holds: key=value, key!=value, key~=REGEX, key (present), !key (absent); key is an annotation key or ref, digest, mediaType, artifactType. Repeatable: all must hold' -r
complete -c oix -n "__fish_oix_using_subcommand index; and __fish_seen_subcommand_from rm" -l match -d 'How --platform compares: exact (equal after normalization) or compatible (the entry runs on that platform). Default: exact; compatible with --on-ambiguity best' -r -f -a "exact\t'Equal after normalization'
compatible\t'The entry can run on the wanted platform'"
complete -c oix -n "__fish_oix_using_subcommand index; and __fish_seen_subcommand_from rm" -l fallback -d 'Opt-in fallbacks of compatible matching: 386 (amd64 also runs 386) and arm (arm64 also runs arm/v8..v5). Comma-separated or repeated' -r -f -a "386\t'An amd64 host also accepts 386 entries'
arm\t'An arm64 host also accepts arm/v8..v5 entries (needs AArch32 support)'"
complete -c oix -n "__fish_oix_using_subcommand index; and __fish_seen_subcommand_from rm" -l scope -d 'Which annotations --where reads: the descriptor\'s, the manifest\'s (inside the pointed-to manifest or index), or either' -r -f -a "descriptor\t'The annotations on the descriptor (the entry in its index)'
manifest\t'The annotations inside the manifest or index the descriptor points to'
any\t'Either of the two'"
complete -c oix -n "__fish_oix_using_subcommand index; and __fish_seen_subcommand_from rm" -l on-ambiguity -d 'When several entries match: error (exit 4, listing them), first (in index order), best (the unique best under compatible matching) or all' -r -f -a "error\t'Fail with exit code 4, listing every candidate'
first\t'The first match in depth-first document order (the image-spec\'s SHOULD)'
best\t'The uniquely highest-ranked match under compatible matching, else exit 4'
all\t'Every match'"
complete -c oix -n "__fish_oix_using_subcommand index; and __fish_seen_subcommand_from rm" -l authfile -d 'Credentials file (containers auth.json or docker config.json); only this file is read (`oix login` writes it)' -r -F
complete -c oix -n "__fish_oix_using_subcommand index; and __fish_seen_subcommand_from rm" -l ca-cert -d 'Trust the certificates of this PEM file besides the system roots: as CAs, and as the registry\'s own certificate when the server presents exactly one of them (a self-signed `openssl req -x509` certificate; its host name is still checked); repeatable' -r -F
complete -c oix -n "__fish_oix_using_subcommand index; and __fish_seen_subcommand_from rm" -l cert-dir -d 'Use the certificates of DIR for the registry: *.crt files are CAs (trusted like --ca-cert), NAME.cert with NAME.key a client certificate. Without it, the first existing HOST[:PORT] directory of ~/.config/containers/certs.d, /etc/containers/certs.d and /etc/docker/certs.d is used (OIX_CERTS_D_ROOTS, a \':\'-separated list, replaces those roots)' -r -F
complete -c oix -n "__fish_oix_using_subcommand index; and __fish_seen_subcommand_from rm" -l client-cert -d 'Present this client certificate (PEM) when the registry asks for one (mutual TLS); needs --client-key. Wins over a certs.d client pair' -r -F
complete -c oix -n "__fish_oix_using_subcommand index; and __fish_seen_subcommand_from rm" -l client-key -d 'The private key (PEM: PKCS#8, RSA or EC as openssl writes them, unencrypted) of --client-cert' -r -F
complete -c oix -n "__fish_oix_using_subcommand index; and __fish_seen_subcommand_from rm" -l timeout -d 'Give up on a connection after SECONDS without progress: to connect (default 30), waiting for or reading an answer, sending a body (default 60), and for a credential helper to answer (default 60). A timed-out request counts as a transient failure (see --retries); when none is left, oix exits 1 naming the host' -r
complete -c oix -n "__fish_oix_using_subcommand index; and __fish_seen_subcommand_from rm" -l creds -d 'Credentials for this run instead of any auth file: USER:PASSWORD, or USER alone to be asked for the password (on a terminal only). The value is visible to other users in the process list: prefer `oix login --password-stdin`' -r
complete -c oix -n "__fish_oix_using_subcommand index; and __fish_seen_subcommand_from rm" -l retries -d 'Attempts after a transient failure (5xx, 429, dropped connection)' -r
complete -c oix -n "__fish_oix_using_subcommand index; and __fish_seen_subcommand_from rm" -s j -l jobs -d 'Parallel blob transfers' -r
complete -c oix -n "__fish_oix_using_subcommand index; and __fish_seen_subcommand_from rm" -l lock-timeout -d 'Seconds to wait for another oix process\'s lock on a layout' -r
complete -c oix -n "__fish_oix_using_subcommand index; and __fish_seen_subcommand_from rm" -l inherit -d 'Let an entry see the annotations of the indexes above it (never by default)'
complete -c oix -n "__fish_oix_using_subcommand index; and __fish_seen_subcommand_from rm" -l dry-run -d 'Show what would be removed without writing'
complete -c oix -n "__fish_oix_using_subcommand index; and __fish_seen_subcommand_from rm" -l detailed-exitcode -d 'Exit 6 when index.json changed (or would change)'
complete -c oix -n "__fish_oix_using_subcommand index; and __fish_seen_subcommand_from rm" -l insecure -d 'Use TLS without verifying the registry\'s certificate'
complete -c oix -n "__fish_oix_using_subcommand index; and __fish_seen_subcommand_from rm" -l plain-http -d 'Speak plain HTTP to the registry (no TLS)'
complete -c oix -n "__fish_oix_using_subcommand index; and __fish_seen_subcommand_from rm" -l json -d 'Print machine-readable JSON on stdout'
complete -c oix -n "__fish_oix_using_subcommand index; and __fish_seen_subcommand_from rm" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c oix -n "__fish_oix_using_subcommand index; and __fish_seen_subcommand_from rm" -s V -l version -d 'Print version'
complete -c oix -n "__fish_oix_using_subcommand index; and __fish_seen_subcommand_from help" -f -a "create" -d 'Create an index from images (REF moves to the new index)'
complete -c oix -n "__fish_oix_using_subcommand index; and __fish_seen_subcommand_from help" -f -a "add" -d 'Add or replace entries of an index, keyed on platform; creates it when missing'
complete -c oix -n "__fish_oix_using_subcommand index; and __fish_seen_subcommand_from help" -f -a "rm" -d 'Remove the entries a selector chooses (with their attestations)'
complete -c oix -n "__fish_oix_using_subcommand index; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c oix -n "__fish_oix_using_subcommand merge" -l policy -d 'union | replace | keep-missing | require-all (see the description)' -r -f -a "union\t''
replace\t''
keep-missing\t''
require-all\t''"
complete -c oix -n "__fish_oix_using_subcommand merge" -l expect -d 'Platforms the result must hold (comma-separated or repeated)' -r
complete -c oix -n "__fish_oix_using_subcommand merge" -l platform -d 'Keep entries for PLATFORM: `os/arch[/variant][:os.version][+feature...]` or `local` (case-insensitive; x86_64→amd64, aarch64→arm64, armhf→arm/v7, ...). Repeatable: any may match' -r
complete -c oix -n "__fish_oix_using_subcommand merge" -l where -d 'Keep entries where EXPR holds: key=value, key!=value, key~=REGEX, key (present), !key (absent); key is an annotation key or ref, digest, mediaType, artifactType. Repeatable: all must hold' -r
complete -c oix -n "__fish_oix_using_subcommand merge" -l match -d 'How --platform compares: exact (equal after normalization) or compatible (the entry runs on that platform). Default: exact; compatible with --on-ambiguity best' -r -f -a "exact\t'Equal after normalization'
compatible\t'The entry can run on the wanted platform'"
complete -c oix -n "__fish_oix_using_subcommand merge" -l fallback -d 'Opt-in fallbacks of compatible matching: 386 (amd64 also runs 386) and arm (arm64 also runs arm/v8..v5). Comma-separated or repeated' -r -f -a "386\t'An amd64 host also accepts 386 entries'
arm\t'An arm64 host also accepts arm/v8..v5 entries (needs AArch32 support)'"
complete -c oix -n "__fish_oix_using_subcommand merge" -l scope -d 'Which annotations --where reads: the descriptor\'s, the manifest\'s (inside the pointed-to manifest or index), or either' -r -f -a "descriptor\t'The annotations on the descriptor (the entry in its index)'
manifest\t'The annotations inside the manifest or index the descriptor points to'
any\t'Either of the two'"
complete -c oix -n "__fish_oix_using_subcommand merge" -l annotation -d 'Set an annotation on the index (repeatable)' -r
complete -c oix -n "__fish_oix_using_subcommand merge" -l created -d 'Write org.opencontainers.image.created (RFC 3339 or `now`); SOURCE_DATE_EPOCH also sets it' -r
complete -c oix -n "__fish_oix_using_subcommand merge" -l referrers-type -d 'Carry only referrers of this artifactType (repeatable; a referrer of a carried referrer must match too)' -r
complete -c oix -n "__fish_oix_using_subcommand merge" -l manifest-format -d 'Write the manifests and indexes in this format: keep (as stored), oci, docker (schema 2). Blobs never change; only documents get new digests' -r -f -a "keep\t'As stored (no conversion)'
oci\t'OCI image index and manifest'
docker\t'Docker manifest list and schema 2 manifest (skopeo calls it v2s2)'"
complete -c oix -n "__fish_oix_using_subcommand merge" -l allow-lossy -d 'With --manifest-format docker, drop what Docker cannot hold instead of refusing: annotations, subject, artifact-type, attestations, fields (comma-separated)' -r
complete -c oix -n "__fish_oix_using_subcommand merge" -l authfile -d 'Credentials file (containers auth.json or docker config.json); only this file is read (`oix login` writes it)' -r -F
complete -c oix -n "__fish_oix_using_subcommand merge" -l ca-cert -d 'Trust the certificates of this PEM file besides the system roots: as CAs, and as the registry\'s own certificate when the server presents exactly one of them (a self-signed `openssl req -x509` certificate; its host name is still checked); repeatable' -r -F
complete -c oix -n "__fish_oix_using_subcommand merge" -l cert-dir -d 'Use the certificates of DIR for the registry: *.crt files are CAs (trusted like --ca-cert), NAME.cert with NAME.key a client certificate. Without it, the first existing HOST[:PORT] directory of ~/.config/containers/certs.d, /etc/containers/certs.d and /etc/docker/certs.d is used (OIX_CERTS_D_ROOTS, a \':\'-separated list, replaces those roots)' -r -F
complete -c oix -n "__fish_oix_using_subcommand merge" -l client-cert -d 'Present this client certificate (PEM) when the registry asks for one (mutual TLS); needs --client-key. Wins over a certs.d client pair' -r -F
complete -c oix -n "__fish_oix_using_subcommand merge" -l client-key -d 'The private key (PEM: PKCS#8, RSA or EC as openssl writes them, unencrypted) of --client-cert' -r -F
complete -c oix -n "__fish_oix_using_subcommand merge" -l timeout -d 'Give up on a connection after SECONDS without progress: to connect (default 30), waiting for or reading an answer, sending a body (default 60), and for a credential helper to answer (default 60). A timed-out request counts as a transient failure (see --retries); when none is left, oix exits 1 naming the host' -r
complete -c oix -n "__fish_oix_using_subcommand merge" -l creds -d 'Credentials for this run instead of any auth file: USER:PASSWORD, or USER alone to be asked for the password (on a terminal only). The value is visible to other users in the process list: prefer `oix login --password-stdin`' -r
complete -c oix -n "__fish_oix_using_subcommand merge" -l retries -d 'Attempts after a transient failure (5xx, 429, dropped connection)' -r
complete -c oix -n "__fish_oix_using_subcommand merge" -s j -l jobs -d 'Parallel blob transfers' -r
complete -c oix -n "__fish_oix_using_subcommand merge" -l lock-timeout -d 'Seconds to wait for another oix process\'s lock on a layout' -r
complete -c oix -n "__fish_oix_using_subcommand merge" -l inherit -d 'Let an entry see the annotations of the indexes above it (never by default)'
complete -c oix -n "__fish_oix_using_subcommand merge" -l dry-run -d 'Show the resulting changes without writing anything'
complete -c oix -n "__fish_oix_using_subcommand merge" -l detailed-exitcode -d 'Exit 6 when index.json changed (or, with --dry-run, would change)'
complete -c oix -n "__fish_oix_using_subcommand merge" -l allow-unknown-platform -d 'Write a SRC=PLATFORM whose os or architecture is not a known GOOS/GOARCH value'
complete -c oix -n "__fish_oix_using_subcommand merge" -l force-platform -d 'Write a SRC=PLATFORM that disagrees with the image\'s config'
complete -c oix -n "__fish_oix_using_subcommand merge" -l trust-source -d 'Do not hash blobs taken from other layouts (sizes are still checked; links still need a source file owned by you and not writable by group or others)'
complete -c oix -n "__fish_oix_using_subcommand merge" -l no-referrers -d 'Carry no referrers (by default every referrer of every manifest and index copied travels along, recursively)'
complete -c oix -n "__fish_oix_using_subcommand merge" -l insecure -d 'Use TLS without verifying the registry\'s certificate'
complete -c oix -n "__fish_oix_using_subcommand merge" -l plain-http -d 'Speak plain HTTP to the registry (no TLS)'
complete -c oix -n "__fish_oix_using_subcommand merge" -l json -d 'Print machine-readable JSON on stdout'
complete -c oix -n "__fish_oix_using_subcommand merge" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c oix -n "__fish_oix_using_subcommand merge" -s V -l version -d 'Print version'
complete -c oix -n "__fish_oix_using_subcommand diff" -l authfile -d 'Credentials file (containers auth.json or docker config.json); only this file is read (`oix login` writes it)' -r -F
complete -c oix -n "__fish_oix_using_subcommand diff" -l ca-cert -d 'Trust the certificates of this PEM file besides the system roots: as CAs, and as the registry\'s own certificate when the server presents exactly one of them (a self-signed `openssl req -x509` certificate; its host name is still checked); repeatable' -r -F
complete -c oix -n "__fish_oix_using_subcommand diff" -l cert-dir -d 'Use the certificates of DIR for the registry: *.crt files are CAs (trusted like --ca-cert), NAME.cert with NAME.key a client certificate. Without it, the first existing HOST[:PORT] directory of ~/.config/containers/certs.d, /etc/containers/certs.d and /etc/docker/certs.d is used (OIX_CERTS_D_ROOTS, a \':\'-separated list, replaces those roots)' -r -F
complete -c oix -n "__fish_oix_using_subcommand diff" -l client-cert -d 'Present this client certificate (PEM) when the registry asks for one (mutual TLS); needs --client-key. Wins over a certs.d client pair' -r -F
complete -c oix -n "__fish_oix_using_subcommand diff" -l client-key -d 'The private key (PEM: PKCS#8, RSA or EC as openssl writes them, unencrypted) of --client-cert' -r -F
complete -c oix -n "__fish_oix_using_subcommand diff" -l timeout -d 'Give up on a connection after SECONDS without progress: to connect (default 30), waiting for or reading an answer, sending a body (default 60), and for a credential helper to answer (default 60). A timed-out request counts as a transient failure (see --retries); when none is left, oix exits 1 naming the host' -r
complete -c oix -n "__fish_oix_using_subcommand diff" -l creds -d 'Credentials for this run instead of any auth file: USER:PASSWORD, or USER alone to be asked for the password (on a terminal only). The value is visible to other users in the process list: prefer `oix login --password-stdin`' -r
complete -c oix -n "__fish_oix_using_subcommand diff" -l retries -d 'Attempts after a transient failure (5xx, 429, dropped connection)' -r
complete -c oix -n "__fish_oix_using_subcommand diff" -s j -l jobs -d 'Parallel blob transfers' -r
complete -c oix -n "__fish_oix_using_subcommand diff" -l lock-timeout -d 'Seconds to wait for another oix process\'s lock on a layout' -r
complete -c oix -n "__fish_oix_using_subcommand diff" -l detailed-exitcode -d 'Exit 6 when they differ'
complete -c oix -n "__fish_oix_using_subcommand diff" -l insecure -d 'Use TLS without verifying the registry\'s certificate'
complete -c oix -n "__fish_oix_using_subcommand diff" -l plain-http -d 'Speak plain HTTP to the registry (no TLS)'
complete -c oix -n "__fish_oix_using_subcommand diff" -l json -d 'Print machine-readable JSON on stdout'
complete -c oix -n "__fish_oix_using_subcommand diff" -s h -l help -d 'Print help'
complete -c oix -n "__fish_oix_using_subcommand diff" -s V -l version -d 'Print version'
complete -c oix -n "__fish_oix_using_subcommand annotate" -l set -d 'Set an annotation (repeatable)' -r
complete -c oix -n "__fish_oix_using_subcommand annotate" -l unset -d 'Remove an annotation (repeatable)' -r
complete -c oix -n "__fish_oix_using_subcommand annotate" -l platform -d 'Keep entries for PLATFORM: `os/arch[/variant][:os.version][+feature...]` or `local` (case-insensitive; x86_64→amd64, aarch64→arm64, armhf→arm/v7, ...). Repeatable: any may match' -r
complete -c oix -n "__fish_oix_using_subcommand annotate" -l where -d 'Keep entries where EXPR holds: key=value, key!=value, key~=REGEX, key (present), !key (absent); key is an annotation key or ref, digest, mediaType, artifactType. Repeatable: all must hold' -r
complete -c oix -n "__fish_oix_using_subcommand annotate" -l match -d 'How --platform compares: exact (equal after normalization) or compatible (the entry runs on that platform). Default: exact; compatible with --on-ambiguity best' -r -f -a "exact\t'Equal after normalization'
compatible\t'The entry can run on the wanted platform'"
complete -c oix -n "__fish_oix_using_subcommand annotate" -l fallback -d 'Opt-in fallbacks of compatible matching: 386 (amd64 also runs 386) and arm (arm64 also runs arm/v8..v5). Comma-separated or repeated' -r -f -a "386\t'An amd64 host also accepts 386 entries'
arm\t'An arm64 host also accepts arm/v8..v5 entries (needs AArch32 support)'"
complete -c oix -n "__fish_oix_using_subcommand annotate" -l scope -d 'Which annotations --where reads: the descriptor\'s, the manifest\'s (inside the pointed-to manifest or index), or either' -r -f -a "descriptor\t'The annotations on the descriptor (the entry in its index)'
manifest\t'The annotations inside the manifest or index the descriptor points to'
any\t'Either of the two'"
complete -c oix -n "__fish_oix_using_subcommand annotate" -l on-ambiguity -d 'When several entries match: error (exit 4, listing them), first (in index order), best (the unique best under compatible matching) or all' -r -f -a "error\t'Fail with exit code 4, listing every candidate'
first\t'The first match in depth-first document order (the image-spec\'s SHOULD)'
best\t'The uniquely highest-ranked match under compatible matching, else exit 4'
all\t'Every match'"
complete -c oix -n "__fish_oix_using_subcommand annotate" -l authfile -d 'Credentials file (containers auth.json or docker config.json); only this file is read (`oix login` writes it)' -r -F
complete -c oix -n "__fish_oix_using_subcommand annotate" -l ca-cert -d 'Trust the certificates of this PEM file besides the system roots: as CAs, and as the registry\'s own certificate when the server presents exactly one of them (a self-signed `openssl req -x509` certificate; its host name is still checked); repeatable' -r -F
complete -c oix -n "__fish_oix_using_subcommand annotate" -l cert-dir -d 'Use the certificates of DIR for the registry: *.crt files are CAs (trusted like --ca-cert), NAME.cert with NAME.key a client certificate. Without it, the first existing HOST[:PORT] directory of ~/.config/containers/certs.d, /etc/containers/certs.d and /etc/docker/certs.d is used (OIX_CERTS_D_ROOTS, a \':\'-separated list, replaces those roots)' -r -F
complete -c oix -n "__fish_oix_using_subcommand annotate" -l client-cert -d 'Present this client certificate (PEM) when the registry asks for one (mutual TLS); needs --client-key. Wins over a certs.d client pair' -r -F
complete -c oix -n "__fish_oix_using_subcommand annotate" -l client-key -d 'The private key (PEM: PKCS#8, RSA or EC as openssl writes them, unencrypted) of --client-cert' -r -F
complete -c oix -n "__fish_oix_using_subcommand annotate" -l timeout -d 'Give up on a connection after SECONDS without progress: to connect (default 30), waiting for or reading an answer, sending a body (default 60), and for a credential helper to answer (default 60). A timed-out request counts as a transient failure (see --retries); when none is left, oix exits 1 naming the host' -r
complete -c oix -n "__fish_oix_using_subcommand annotate" -l creds -d 'Credentials for this run instead of any auth file: USER:PASSWORD, or USER alone to be asked for the password (on a terminal only). The value is visible to other users in the process list: prefer `oix login --password-stdin`' -r
complete -c oix -n "__fish_oix_using_subcommand annotate" -l retries -d 'Attempts after a transient failure (5xx, 429, dropped connection)' -r
complete -c oix -n "__fish_oix_using_subcommand annotate" -s j -l jobs -d 'Parallel blob transfers' -r
complete -c oix -n "__fish_oix_using_subcommand annotate" -l lock-timeout -d 'Seconds to wait for another oix process\'s lock on a layout' -r
complete -c oix -n "__fish_oix_using_subcommand annotate" -l manifest -d 'Edit the annotations inside the chosen manifests (their digests change, and every parent up to index.json is rewritten) instead of on their descriptors'
complete -c oix -n "__fish_oix_using_subcommand annotate" -l inherit -d 'Let an entry see the annotations of the indexes above it (never by default)'
complete -c oix -n "__fish_oix_using_subcommand annotate" -l dry-run -d 'Show what would change without writing'
complete -c oix -n "__fish_oix_using_subcommand annotate" -l detailed-exitcode -d 'Exit 6 when index.json changed (or would change)'
complete -c oix -n "__fish_oix_using_subcommand annotate" -l insecure -d 'Use TLS without verifying the registry\'s certificate'
complete -c oix -n "__fish_oix_using_subcommand annotate" -l plain-http -d 'Speak plain HTTP to the registry (no TLS)'
complete -c oix -n "__fish_oix_using_subcommand annotate" -l json -d 'Print machine-readable JSON on stdout'
complete -c oix -n "__fish_oix_using_subcommand annotate" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c oix -n "__fish_oix_using_subcommand annotate" -s V -l version -d 'Print version'
complete -c oix -n "__fish_oix_using_subcommand select" -l platform -d 'Keep entries for PLATFORM: `os/arch[/variant][:os.version][+feature...]` or `local` (case-insensitive; x86_64→amd64, aarch64→arm64, armhf→arm/v7, ...). Repeatable: any may match' -r
complete -c oix -n "__fish_oix_using_subcommand select" -l where -d 'Keep entries where EXPR holds: key=value, key!=value, key~=REGEX, key (present), !key (absent); key is an annotation key or ref, digest, mediaType, artifactType. Repeatable: all must hold' -r
complete -c oix -n "__fish_oix_using_subcommand select" -l match -d 'How --platform compares: exact (equal after normalization) or compatible (the entry runs on that platform). Default: exact; compatible with --on-ambiguity best' -r -f -a "exact\t'Equal after normalization'
compatible\t'The entry can run on the wanted platform'"
complete -c oix -n "__fish_oix_using_subcommand select" -l fallback -d 'Opt-in fallbacks of compatible matching: 386 (amd64 also runs 386) and arm (arm64 also runs arm/v8..v5). Comma-separated or repeated' -r -f -a "386\t'An amd64 host also accepts 386 entries'
arm\t'An arm64 host also accepts arm/v8..v5 entries (needs AArch32 support)'"
complete -c oix -n "__fish_oix_using_subcommand select" -l scope -d 'Which annotations --where reads: the descriptor\'s, the manifest\'s (inside the pointed-to manifest or index), or either' -r -f -a "descriptor\t'The annotations on the descriptor (the entry in its index)'
manifest\t'The annotations inside the manifest or index the descriptor points to'
any\t'Either of the two'"
complete -c oix -n "__fish_oix_using_subcommand select" -l on-ambiguity -d 'When several entries match: error (exit 4, listing them), first (in index order), best (the unique best under compatible matching) or all' -r -f -a "error\t'Fail with exit code 4, listing every candidate'
first\t'The first match in depth-first document order (the image-spec\'s SHOULD)'
best\t'The uniquely highest-ranked match under compatible matching, else exit 4'
all\t'Every match'"
complete -c oix -n "__fish_oix_using_subcommand select" -l authfile -d 'Credentials file (containers auth.json or docker config.json); only this file is read (`oix login` writes it)' -r -F
complete -c oix -n "__fish_oix_using_subcommand select" -l ca-cert -d 'Trust the certificates of this PEM file besides the system roots: as CAs, and as the registry\'s own certificate when the server presents exactly one of them (a self-signed `openssl req -x509` certificate; its host name is still checked); repeatable' -r -F
complete -c oix -n "__fish_oix_using_subcommand select" -l cert-dir -d 'Use the certificates of DIR for the registry: *.crt files are CAs (trusted like --ca-cert), NAME.cert with NAME.key a client certificate. Without it, the first existing HOST[:PORT] directory of ~/.config/containers/certs.d, /etc/containers/certs.d and /etc/docker/certs.d is used (OIX_CERTS_D_ROOTS, a \':\'-separated list, replaces those roots)' -r -F
complete -c oix -n "__fish_oix_using_subcommand select" -l client-cert -d 'Present this client certificate (PEM) when the registry asks for one (mutual TLS); needs --client-key. Wins over a certs.d client pair' -r -F
complete -c oix -n "__fish_oix_using_subcommand select" -l client-key -d 'The private key (PEM: PKCS#8, RSA or EC as openssl writes them, unencrypted) of --client-cert' -r -F
complete -c oix -n "__fish_oix_using_subcommand select" -l timeout -d 'Give up on a connection after SECONDS without progress: to connect (default 30), waiting for or reading an answer, sending a body (default 60), and for a credential helper to answer (default 60). A timed-out request counts as a transient failure (see --retries); when none is left, oix exits 1 naming the host' -r
complete -c oix -n "__fish_oix_using_subcommand select" -l creds -d 'Credentials for this run instead of any auth file: USER:PASSWORD, or USER alone to be asked for the password (on a terminal only). The value is visible to other users in the process list: prefer `oix login --password-stdin`' -r
complete -c oix -n "__fish_oix_using_subcommand select" -l retries -d 'Attempts after a transient failure (5xx, 429, dropped connection)' -r
complete -c oix -n "__fish_oix_using_subcommand select" -s j -l jobs -d 'Parallel blob transfers' -r
complete -c oix -n "__fish_oix_using_subcommand select" -l lock-timeout -d 'Seconds to wait for another oix process\'s lock on a layout' -r
complete -c oix -n "__fish_oix_using_subcommand select" -l inherit -d 'Let an entry see the annotations of the indexes above it (never by default)'
complete -c oix -n "__fish_oix_using_subcommand select" -l all -d 'Print every match (same as --on-ambiguity all)'
complete -c oix -n "__fish_oix_using_subcommand select" -s q -l quiet -d 'Print only the digests, one a line'
complete -c oix -n "__fish_oix_using_subcommand select" -l insecure -d 'Use TLS without verifying the registry\'s certificate'
complete -c oix -n "__fish_oix_using_subcommand select" -l plain-http -d 'Speak plain HTTP to the registry (no TLS)'
complete -c oix -n "__fish_oix_using_subcommand select" -l json -d 'Print machine-readable JSON on stdout'
complete -c oix -n "__fish_oix_using_subcommand select" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c oix -n "__fish_oix_using_subcommand select" -s V -l version -d 'Print version'
complete -c oix -n "__fish_oix_using_subcommand fold" -l lock-timeout -d 'Seconds to wait for another oix process\'s lock on a layout' -r
complete -c oix -n "__fish_oix_using_subcommand fold" -l json -d 'Print machine-readable JSON on stdout'
complete -c oix -n "__fish_oix_using_subcommand fold" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c oix -n "__fish_oix_using_subcommand fold" -s V -l version -d 'Print version'
complete -c oix -n "__fish_oix_using_subcommand copy" -l platform -d 'Copy only these platforms of an index (OS/ARCH[/VARIANT], repeatable or comma-separated): the index is rewritten to the matching entries' -r
complete -c oix -n "__fish_oix_using_subcommand copy" -l where -d 'Copy only the entries whose descriptor satisfies EXPR (repeatable, all must hold)' -r
complete -c oix -n "__fish_oix_using_subcommand copy" -l digestfile -d 'After copying, write the digest of the copied image or index to FILE (as skopeo: the digest alone, no newline)' -r -F
complete -c oix -n "__fish_oix_using_subcommand copy" -l mount-from -d 'Also mount blobs from this repository of the destination registry (repeatable; the source repository is tried first when both are on one registry)' -r
complete -c oix -n "__fish_oix_using_subcommand copy" -l chunk-size -d 'Size of one PATCH of a chunked upload (bytes, or with a K/M/G suffix)' -r
complete -c oix -n "__fish_oix_using_subcommand copy" -l add-compression -d 'Keep each gzip entry of the index and add a zstd twin per platform, marked io.github.containers.compression.zstd (podman\'s --add-compression; see `oix recompress`). Only zstd' -r
complete -c oix -n "__fish_oix_using_subcommand copy" -l manifest-format -d 'Write the manifests and indexes in this format: keep (as stored), oci, docker (schema 2), or auto (as stored; converted and retried once when a registry destination refuses the format). Blobs never change; only documents get new digests' -r -f -a "keep\t'As stored (no conversion)'
oci\t'OCI image index and manifest'
docker\t'Docker manifest list and schema 2 manifest (skopeo calls it v2s2)'
auto\t'As stored; when the registry refuses the format (MANIFEST_INVALID, unsupported media type), the other one, retried once (push and copy to a registry)'"
complete -c oix -n "__fish_oix_using_subcommand copy" -l allow-lossy -d 'With --manifest-format docker (or auto), drop what Docker cannot hold instead of refusing: annotations, subject, artifact-type, attestations, fields (comma-separated)' -r
complete -c oix -n "__fish_oix_using_subcommand copy" -l referrers-type -d 'Carry only referrers of this artifactType (repeatable; a referrer of a carried referrer must match too)' -r
complete -c oix -n "__fish_oix_using_subcommand copy" -l authfile -d 'Credentials file (containers auth.json or docker config.json); only this file is read (`oix login` writes it)' -r -F
complete -c oix -n "__fish_oix_using_subcommand copy" -l ca-cert -d 'Trust the certificates of this PEM file besides the system roots: as CAs, and as the registry\'s own certificate when the server presents exactly one of them (a self-signed `openssl req -x509` certificate; its host name is still checked); repeatable' -r -F
complete -c oix -n "__fish_oix_using_subcommand copy" -l cert-dir -d 'Use the certificates of DIR for the registry: *.crt files are CAs (trusted like --ca-cert), NAME.cert with NAME.key a client certificate. Without it, the first existing HOST[:PORT] directory of ~/.config/containers/certs.d, /etc/containers/certs.d and /etc/docker/certs.d is used (OIX_CERTS_D_ROOTS, a \':\'-separated list, replaces those roots)' -r -F
complete -c oix -n "__fish_oix_using_subcommand copy" -l client-cert -d 'Present this client certificate (PEM) when the registry asks for one (mutual TLS); needs --client-key. Wins over a certs.d client pair' -r -F
complete -c oix -n "__fish_oix_using_subcommand copy" -l client-key -d 'The private key (PEM: PKCS#8, RSA or EC as openssl writes them, unencrypted) of --client-cert' -r -F
complete -c oix -n "__fish_oix_using_subcommand copy" -l timeout -d 'Give up on a connection after SECONDS without progress: to connect (default 30), waiting for or reading an answer, sending a body (default 60), and for a credential helper to answer (default 60). A timed-out request counts as a transient failure (see --retries); when none is left, oix exits 1 naming the host' -r
complete -c oix -n "__fish_oix_using_subcommand copy" -l creds -d 'Credentials for this run instead of any auth file: USER:PASSWORD, or USER alone to be asked for the password (on a terminal only). The value is visible to other users in the process list: prefer `oix login --password-stdin`' -r
complete -c oix -n "__fish_oix_using_subcommand copy" -l retries -d 'Attempts after a transient failure (5xx, 429, dropped connection)' -r
complete -c oix -n "__fish_oix_using_subcommand copy" -s j -l jobs -d 'Parallel blob transfers' -r
complete -c oix -n "__fish_oix_using_subcommand copy" -l lock-timeout -d 'Seconds to wait for another oix process\'s lock on a layout' -r
complete -c oix -n "__fish_oix_using_subcommand copy" -l dry-run -d 'Print what would be copied, skipped and named; write nothing'
complete -c oix -n "__fish_oix_using_subcommand copy" -l force-recursive -d 'Check every blob and manifest even when the destination registry already holds the image or index by digest'
complete -c oix -n "__fish_oix_using_subcommand copy" -l src-plain-http -d 'Speak plain HTTP to the source registry only (--plain-http: to both)'
complete -c oix -n "__fish_oix_using_subcommand copy" -l dest-plain-http -d 'Speak plain HTTP to the destination registry only'
complete -c oix -n "__fish_oix_using_subcommand copy" -l src-insecure -d 'Use TLS without verifying the source registry\'s certificate (--insecure: both)'
complete -c oix -n "__fish_oix_using_subcommand copy" -l dest-insecure -d 'Use TLS without verifying the destination registry\'s certificate'
complete -c oix -n "__fish_oix_using_subcommand copy" -l no-referrers -d 'Carry no referrers (by default every referrer of every manifest and index copied travels along, recursively)'
complete -c oix -n "__fish_oix_using_subcommand copy" -l insecure -d 'Use TLS without verifying the registry\'s certificate'
complete -c oix -n "__fish_oix_using_subcommand copy" -l plain-http -d 'Speak plain HTTP to the registry (no TLS)'
complete -c oix -n "__fish_oix_using_subcommand copy" -l json -d 'Print machine-readable JSON on stdout'
complete -c oix -n "__fish_oix_using_subcommand copy" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c oix -n "__fish_oix_using_subcommand copy" -s V -l version -d 'Print version'
complete -c oix -n "__fish_oix_using_subcommand push" -l platform -d 'Push only these platforms (OS/ARCH[/VARIANT], repeatable or comma-separated): the index is rewritten to the matching entries, never pushed sparse' -r
complete -c oix -n "__fish_oix_using_subcommand push" -l where -d 'Push only the entries whose descriptor satisfies EXPR (key=value, key!=value, key~=REGEX, key, !key; repeatable, all must hold)' -r
complete -c oix -n "__fish_oix_using_subcommand push" -l arch-tags -d 'Also tag each child manifest: {tag}, {arch}, {variant}, {os} are replaced, e.g. \'{tag}-{arch}\' or \'{tag}_{arch}{variant}\'' -r
complete -c oix -n "__fish_oix_using_subcommand push" -l mount-from -d 'Mount blobs from this repository of the same registry instead of uploading them (repeatable)' -r
complete -c oix -n "__fish_oix_using_subcommand push" -l chunk-size -d 'Size of one PATCH of a chunked upload; smaller blobs go up in one request (bytes, or with a K/M/G suffix)' -r
complete -c oix -n "__fish_oix_using_subcommand push" -l via -d 'Who does the work: the built-in client or skopeo' -r -f -a "builtin\t'The built-in client'
skopeo\t'`skopeo copy --all --preserve-digests`'"
complete -c oix -n "__fish_oix_using_subcommand push" -l add-compression -d 'Keep each gzip entry of the index and add a zstd twin per platform, marked io.github.containers.compression.zstd (podman\'s --add-compression; see `oix recompress`). Only zstd' -r
complete -c oix -n "__fish_oix_using_subcommand push" -l manifest-format -d 'Write the manifests and indexes in this format: keep (as stored), oci, docker (schema 2), or auto (as stored; converted and retried once when a registry destination refuses the format). Blobs never change; only documents get new digests' -r -f -a "keep\t'As stored (no conversion)'
oci\t'OCI image index and manifest'
docker\t'Docker manifest list and schema 2 manifest (skopeo calls it v2s2)'
auto\t'As stored; when the registry refuses the format (MANIFEST_INVALID, unsupported media type), the other one, retried once (push and copy to a registry)'"
complete -c oix -n "__fish_oix_using_subcommand push" -l allow-lossy -d 'With --manifest-format docker (or auto), drop what Docker cannot hold instead of refusing: annotations, subject, artifact-type, attestations, fields (comma-separated)' -r
complete -c oix -n "__fish_oix_using_subcommand push" -l referrers-type -d 'Carry only referrers of this artifactType (repeatable; a referrer of a carried referrer must match too)' -r
complete -c oix -n "__fish_oix_using_subcommand push" -l authfile -d 'Credentials file (containers auth.json or docker config.json); only this file is read (`oix login` writes it)' -r -F
complete -c oix -n "__fish_oix_using_subcommand push" -l ca-cert -d 'Trust the certificates of this PEM file besides the system roots: as CAs, and as the registry\'s own certificate when the server presents exactly one of them (a self-signed `openssl req -x509` certificate; its host name is still checked); repeatable' -r -F
complete -c oix -n "__fish_oix_using_subcommand push" -l cert-dir -d 'Use the certificates of DIR for the registry: *.crt files are CAs (trusted like --ca-cert), NAME.cert with NAME.key a client certificate. Without it, the first existing HOST[:PORT] directory of ~/.config/containers/certs.d, /etc/containers/certs.d and /etc/docker/certs.d is used (OIX_CERTS_D_ROOTS, a \':\'-separated list, replaces those roots)' -r -F
complete -c oix -n "__fish_oix_using_subcommand push" -l client-cert -d 'Present this client certificate (PEM) when the registry asks for one (mutual TLS); needs --client-key. Wins over a certs.d client pair' -r -F
complete -c oix -n "__fish_oix_using_subcommand push" -l client-key -d 'The private key (PEM: PKCS#8, RSA or EC as openssl writes them, unencrypted) of --client-cert' -r -F
complete -c oix -n "__fish_oix_using_subcommand push" -l timeout -d 'Give up on a connection after SECONDS without progress: to connect (default 30), waiting for or reading an answer, sending a body (default 60), and for a credential helper to answer (default 60). A timed-out request counts as a transient failure (see --retries); when none is left, oix exits 1 naming the host' -r
complete -c oix -n "__fish_oix_using_subcommand push" -l creds -d 'Credentials for this run instead of any auth file: USER:PASSWORD, or USER alone to be asked for the password (on a terminal only). The value is visible to other users in the process list: prefer `oix login --password-stdin`' -r
complete -c oix -n "__fish_oix_using_subcommand push" -l retries -d 'Attempts after a transient failure (5xx, 429, dropped connection)' -r
complete -c oix -n "__fish_oix_using_subcommand push" -s j -l jobs -d 'Parallel blob transfers' -r
complete -c oix -n "__fish_oix_using_subcommand push" -l lock-timeout -d 'Seconds to wait for another oix process\'s lock on a layout' -r
complete -c oix -n "__fish_oix_using_subcommand push" -l all-refs -d 'Push every ref of the layout, each to the tag of its name'
complete -c oix -n "__fish_oix_using_subcommand push" -l dry-run -d 'Print what would be uploaded, skipped and tagged; write nothing'
complete -c oix -n "__fish_oix_using_subcommand push" -l force-recursive -d 'Check every blob and manifest even when the registry already holds the image or index by digest (normally its graph is then known to be complete)'
complete -c oix -n "__fish_oix_using_subcommand push" -l no-referrers -d 'Carry no referrers (by default every referrer of every manifest and index copied travels along, recursively)'
complete -c oix -n "__fish_oix_using_subcommand push" -l insecure -d 'Use TLS without verifying the registry\'s certificate'
complete -c oix -n "__fish_oix_using_subcommand push" -l plain-http -d 'Speak plain HTTP to the registry (no TLS)'
complete -c oix -n "__fish_oix_using_subcommand push" -l json -d 'Print machine-readable JSON on stdout'
complete -c oix -n "__fish_oix_using_subcommand push" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c oix -n "__fish_oix_using_subcommand push" -s V -l version -d 'Print version'
complete -c oix -n "__fish_oix_using_subcommand pull" -l platform -d 'Pull only these platforms of an index (OS/ARCH[/VARIANT], repeatable or comma-separated)' -r
complete -c oix -n "__fish_oix_using_subcommand pull" -l where -d 'Pull only the entries whose descriptor satisfies EXPR (repeatable, all must hold)' -r
complete -c oix -n "__fish_oix_using_subcommand pull" -l manifest-format -d 'Write the manifests and indexes in this format: keep (as stored), oci, docker (schema 2). Blobs never change; only documents get new digests' -r -f -a "keep\t'As stored (no conversion)'
oci\t'OCI image index and manifest'
docker\t'Docker manifest list and schema 2 manifest (skopeo calls it v2s2)'"
complete -c oix -n "__fish_oix_using_subcommand pull" -l allow-lossy -d 'With --manifest-format docker, drop what Docker cannot hold instead of refusing: annotations, subject, artifact-type, attestations, fields (comma-separated)' -r
complete -c oix -n "__fish_oix_using_subcommand pull" -l referrers-type -d 'Carry only referrers of this artifactType (repeatable; a referrer of a carried referrer must match too)' -r
complete -c oix -n "__fish_oix_using_subcommand pull" -l authfile -d 'Credentials file (containers auth.json or docker config.json); only this file is read (`oix login` writes it)' -r -F
complete -c oix -n "__fish_oix_using_subcommand pull" -l ca-cert -d 'Trust the certificates of this PEM file besides the system roots: as CAs, and as the registry\'s own certificate when the server presents exactly one of them (a self-signed `openssl req -x509` certificate; its host name is still checked); repeatable' -r -F
complete -c oix -n "__fish_oix_using_subcommand pull" -l cert-dir -d 'Use the certificates of DIR for the registry: *.crt files are CAs (trusted like --ca-cert), NAME.cert with NAME.key a client certificate. Without it, the first existing HOST[:PORT] directory of ~/.config/containers/certs.d, /etc/containers/certs.d and /etc/docker/certs.d is used (OIX_CERTS_D_ROOTS, a \':\'-separated list, replaces those roots)' -r -F
complete -c oix -n "__fish_oix_using_subcommand pull" -l client-cert -d 'Present this client certificate (PEM) when the registry asks for one (mutual TLS); needs --client-key. Wins over a certs.d client pair' -r -F
complete -c oix -n "__fish_oix_using_subcommand pull" -l client-key -d 'The private key (PEM: PKCS#8, RSA or EC as openssl writes them, unencrypted) of --client-cert' -r -F
complete -c oix -n "__fish_oix_using_subcommand pull" -l timeout -d 'Give up on a connection after SECONDS without progress: to connect (default 30), waiting for or reading an answer, sending a body (default 60), and for a credential helper to answer (default 60). A timed-out request counts as a transient failure (see --retries); when none is left, oix exits 1 naming the host' -r
complete -c oix -n "__fish_oix_using_subcommand pull" -l creds -d 'Credentials for this run instead of any auth file: USER:PASSWORD, or USER alone to be asked for the password (on a terminal only). The value is visible to other users in the process list: prefer `oix login --password-stdin`' -r
complete -c oix -n "__fish_oix_using_subcommand pull" -l retries -d 'Attempts after a transient failure (5xx, 429, dropped connection)' -r
complete -c oix -n "__fish_oix_using_subcommand pull" -s j -l jobs -d 'Parallel blob transfers' -r
complete -c oix -n "__fish_oix_using_subcommand pull" -l lock-timeout -d 'Seconds to wait for another oix process\'s lock on a layout' -r
complete -c oix -n "__fish_oix_using_subcommand pull" -l no-referrers -d 'Carry no referrers (by default every referrer of every manifest and index copied travels along, recursively)'
complete -c oix -n "__fish_oix_using_subcommand pull" -l insecure -d 'Use TLS without verifying the registry\'s certificate'
complete -c oix -n "__fish_oix_using_subcommand pull" -l plain-http -d 'Speak plain HTTP to the registry (no TLS)'
complete -c oix -n "__fish_oix_using_subcommand pull" -l json -d 'Print machine-readable JSON on stdout'
complete -c oix -n "__fish_oix_using_subcommand pull" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c oix -n "__fish_oix_using_subcommand pull" -s V -l version -d 'Print version'
complete -c oix -n "__fish_oix_using_subcommand login" -s u -l username -d 'User name (asked for when standard input is a terminal and it is not given)' -r
complete -c oix -n "__fish_oix_using_subcommand login" -l authfile -d 'Credentials file (containers auth.json or docker config.json); only this file is read (`oix login` writes it)' -r -F
complete -c oix -n "__fish_oix_using_subcommand login" -l ca-cert -d 'Trust the certificates of this PEM file besides the system roots: as CAs, and as the registry\'s own certificate when the server presents exactly one of them (a self-signed `openssl req -x509` certificate; its host name is still checked); repeatable' -r -F
complete -c oix -n "__fish_oix_using_subcommand login" -l cert-dir -d 'Use the certificates of DIR for the registry: *.crt files are CAs (trusted like --ca-cert), NAME.cert with NAME.key a client certificate. Without it, the first existing HOST[:PORT] directory of ~/.config/containers/certs.d, /etc/containers/certs.d and /etc/docker/certs.d is used (OIX_CERTS_D_ROOTS, a \':\'-separated list, replaces those roots)' -r -F
complete -c oix -n "__fish_oix_using_subcommand login" -l client-cert -d 'Present this client certificate (PEM) when the registry asks for one (mutual TLS); needs --client-key. Wins over a certs.d client pair' -r -F
complete -c oix -n "__fish_oix_using_subcommand login" -l client-key -d 'The private key (PEM: PKCS#8, RSA or EC as openssl writes them, unencrypted) of --client-cert' -r -F
complete -c oix -n "__fish_oix_using_subcommand login" -l timeout -d 'Give up on a connection after SECONDS without progress: to connect (default 30), waiting for or reading an answer, sending a body (default 60), and for a credential helper to answer (default 60). A timed-out request counts as a transient failure (see --retries); when none is left, oix exits 1 naming the host' -r
complete -c oix -n "__fish_oix_using_subcommand login" -l lock-timeout -d 'Seconds to wait for another oix process\'s lock on a layout' -r
complete -c oix -n "__fish_oix_using_subcommand login" -l password-stdin -d 'Read the password from standard input (one line)'
complete -c oix -n "__fish_oix_using_subcommand login" -l insecure -d 'Use TLS without verifying the registry\'s certificate'
complete -c oix -n "__fish_oix_using_subcommand login" -l plain-http -d 'Speak plain HTTP to the registry (no TLS)'
complete -c oix -n "__fish_oix_using_subcommand login" -l json -d 'Print machine-readable JSON on stdout'
complete -c oix -n "__fish_oix_using_subcommand login" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c oix -n "__fish_oix_using_subcommand login" -s V -l version -d 'Print version'
complete -c oix -n "__fish_oix_using_subcommand logout" -l authfile -d 'The auth file to edit (default: as for `oix login`)' -r -F
complete -c oix -n "__fish_oix_using_subcommand logout" -l lock-timeout -d 'Seconds to wait for another oix process\'s lock on a layout' -r
complete -c oix -n "__fish_oix_using_subcommand logout" -l all -d 'Remove every stored credential of the auth file (its other keys are kept)'
complete -c oix -n "__fish_oix_using_subcommand logout" -l json -d 'Print machine-readable JSON on stdout'
complete -c oix -n "__fish_oix_using_subcommand logout" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c oix -n "__fish_oix_using_subcommand logout" -s V -l version -d 'Print version'
complete -c oix -n "__fish_oix_using_subcommand publish" -l arch-tag -d 'The per-arch tag: {tag}, {arch}, {variant}, {os} and {build} are replaced, e.g. \'{tag}-{arch}\' or \'{tag}-{build}-{arch}{variant}\'; must contain {arch}' -r
complete -c oix -n "__fish_oix_using_subcommand publish" -l build -d 'The build (compose) id for {build}: per-arch tags of other builds are not read' -r
complete -c oix -n "__fish_oix_using_subcommand publish" -l policy -d 'How TAG is computed from the per-arch tags and what TAG holds now' -r -f -a "union\t''
replace\t''
keep-missing\t''
require-all\t''"
complete -c oix -n "__fish_oix_using_subcommand publish" -l expect -d 'Platforms TAG must list (OS/ARCH[/VARIANT], repeatable or comma-separated); refused with exit 5 otherwise, TAG untouched' -r
complete -c oix -n "__fish_oix_using_subcommand publish" -l max-retries -d 'Writes of TAG after the first, when a re-read shows another publisher wrote' -r
complete -c oix -n "__fish_oix_using_subcommand publish" -l authfile -d 'Credentials file (containers auth.json or docker config.json); only this file is read (`oix login` writes it)' -r -F
complete -c oix -n "__fish_oix_using_subcommand publish" -l ca-cert -d 'Trust the certificates of this PEM file besides the system roots: as CAs, and as the registry\'s own certificate when the server presents exactly one of them (a self-signed `openssl req -x509` certificate; its host name is still checked); repeatable' -r -F
complete -c oix -n "__fish_oix_using_subcommand publish" -l cert-dir -d 'Use the certificates of DIR for the registry: *.crt files are CAs (trusted like --ca-cert), NAME.cert with NAME.key a client certificate. Without it, the first existing HOST[:PORT] directory of ~/.config/containers/certs.d, /etc/containers/certs.d and /etc/docker/certs.d is used (OIX_CERTS_D_ROOTS, a \':\'-separated list, replaces those roots)' -r -F
complete -c oix -n "__fish_oix_using_subcommand publish" -l client-cert -d 'Present this client certificate (PEM) when the registry asks for one (mutual TLS); needs --client-key. Wins over a certs.d client pair' -r -F
complete -c oix -n "__fish_oix_using_subcommand publish" -l client-key -d 'The private key (PEM: PKCS#8, RSA or EC as openssl writes them, unencrypted) of --client-cert' -r -F
complete -c oix -n "__fish_oix_using_subcommand publish" -l timeout -d 'Give up on a connection after SECONDS without progress: to connect (default 30), waiting for or reading an answer, sending a body (default 60), and for a credential helper to answer (default 60). A timed-out request counts as a transient failure (see --retries); when none is left, oix exits 1 naming the host' -r
complete -c oix -n "__fish_oix_using_subcommand publish" -l creds -d 'Credentials for this run instead of any auth file: USER:PASSWORD, or USER alone to be asked for the password (on a terminal only). The value is visible to other users in the process list: prefer `oix login --password-stdin`' -r
complete -c oix -n "__fish_oix_using_subcommand publish" -l retries -d 'Attempts after a transient failure (5xx, 429, dropped connection)' -r
complete -c oix -n "__fish_oix_using_subcommand publish" -s j -l jobs -d 'Parallel blob transfers' -r
complete -c oix -n "__fish_oix_using_subcommand publish" -l lock-timeout -d 'Seconds to wait for another oix process\'s lock on a layout' -r
complete -c oix -n "__fish_oix_using_subcommand publish" -l dry-run -d 'Print the per-arch tag and the index TAG would get; write nothing'
complete -c oix -n "__fish_oix_using_subcommand publish" -l insecure -d 'Use TLS without verifying the registry\'s certificate'
complete -c oix -n "__fish_oix_using_subcommand publish" -l plain-http -d 'Speak plain HTTP to the registry (no TLS)'
complete -c oix -n "__fish_oix_using_subcommand publish" -l json -d 'Print machine-readable JSON on stdout'
complete -c oix -n "__fish_oix_using_subcommand publish" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c oix -n "__fish_oix_using_subcommand publish" -s V -l version -d 'Print version'
complete -c oix -n "__fish_oix_using_subcommand apply" -l only -d 'Only the images with this name (repeatable or comma-separated)' -r
complete -c oix -n "__fish_oix_using_subcommand apply" -l skip -d 'Leave out the images with this name (repeatable or comma-separated)' -r
complete -c oix -n "__fish_oix_using_subcommand apply" -l timeout -d 'Give up on a registry connection after SECONDS without progress (connecting, answers, bodies, credential helpers); overrides the plan destinations\' `timeout` (default 30 s to connect, 60 s otherwise). A push that timed out fails its image (exit 1)' -r
complete -c oix -n "__fish_oix_using_subcommand apply" -l cert-dir -d 'Use the certificates of DIR for the registry: *.crt files are CAs (trusted like --ca-cert), NAME.cert with NAME.key a client certificate. Without it, the first existing HOST[:PORT] directory of ~/.config/containers/certs.d, /etc/containers/certs.d and /etc/docker/certs.d is used (OIX_CERTS_D_ROOTS, a \':\'-separated list, replaces those roots)' -r -F
complete -c oix -n "__fish_oix_using_subcommand apply" -l client-cert -d 'Present this client certificate (PEM) when the registry asks for one (mutual TLS); needs --client-key. Wins over a certs.d client pair' -r -F
complete -c oix -n "__fish_oix_using_subcommand apply" -l client-key -d 'The private key (PEM: PKCS#8, RSA or EC as openssl writes them, unencrypted) of --client-cert' -r -F
complete -c oix -n "__fish_oix_using_subcommand apply" -l referrers-type -d 'Carry only referrers of this artifactType (repeatable; a referrer of a carried referrer must match too)' -r
complete -c oix -n "__fish_oix_using_subcommand apply" -l lock-timeout -d 'Seconds to wait for another oix process\'s lock on a layout' -r
complete -c oix -n "__fish_oix_using_subcommand apply" -l dry-run -d 'Print the plan and stop; nothing is written or pushed'
complete -c oix -n "__fish_oix_using_subcommand apply" -l force -d 'Move tags that exist with other content, in the layout and at destinations'
complete -c oix -n "__fish_oix_using_subcommand apply" -l fail-fast -d 'Stop at the first refused or failed image (a refusal found while planning stops the run before anything is written)'
complete -c oix -n "__fish_oix_using_subcommand apply" -l no-push -d 'Carry out the layout steps only; destinations are not contacted'
complete -c oix -n "__fish_oix_using_subcommand apply" -l detailed-exitcode -d 'Exit 6 when changes were (or, with --dry-run, would be) made'
complete -c oix -n "__fish_oix_using_subcommand apply" -l no-referrers -d 'Carry no referrers (by default every referrer of every manifest and index copied travels along, recursively)'
complete -c oix -n "__fish_oix_using_subcommand apply" -l json -d 'Print machine-readable JSON on stdout'
complete -c oix -n "__fish_oix_using_subcommand apply" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c oix -n "__fish_oix_using_subcommand apply" -s V -l version -d 'Print version'
complete -c oix -n "__fish_oix_using_subcommand plan; and not __fish_seen_subcommand_from check help" -l lock-timeout -d 'Seconds to wait for another oix process\'s lock on a layout' -r
complete -c oix -n "__fish_oix_using_subcommand plan; and not __fish_seen_subcommand_from check help" -l json -d 'Print machine-readable JSON on stdout'
complete -c oix -n "__fish_oix_using_subcommand plan; and not __fish_seen_subcommand_from check help" -s h -l help -d 'Print help'
complete -c oix -n "__fish_oix_using_subcommand plan; and not __fish_seen_subcommand_from check help" -s V -l version -d 'Print version'
complete -c oix -n "__fish_oix_using_subcommand plan; and not __fish_seen_subcommand_from check help" -f -a "check" -d 'Validate a plan file: schema, names and tags, platforms, templates, URLs, the ca_cert/authfile files; and, for each source layout that exists, that its sources resolve to one image or index (layouts that do not exist yet are listed, not errors). Registries are not contacted; nothing is written'
complete -c oix -n "__fish_oix_using_subcommand plan; and not __fish_seen_subcommand_from check help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c oix -n "__fish_oix_using_subcommand plan; and __fish_seen_subcommand_from check" -l lock-timeout -d 'Seconds to wait for another oix process\'s lock on a layout' -r
complete -c oix -n "__fish_oix_using_subcommand plan; and __fish_seen_subcommand_from check" -l json -d 'Print machine-readable JSON on stdout'
complete -c oix -n "__fish_oix_using_subcommand plan; and __fish_seen_subcommand_from check" -s h -l help -d 'Print help'
complete -c oix -n "__fish_oix_using_subcommand plan; and __fish_seen_subcommand_from check" -s V -l version -d 'Print version'
complete -c oix -n "__fish_oix_using_subcommand plan; and __fish_seen_subcommand_from help" -f -a "check" -d 'Validate a plan file: schema, names and tags, platforms, templates, URLs, the ca_cert/authfile files; and, for each source layout that exists, that its sources resolve to one image or index (layouts that do not exist yet are listed, not errors). Registries are not contacted; nothing is written'
complete -c oix -n "__fish_oix_using_subcommand plan; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c oix -n "__fish_oix_using_subcommand build" -s o -l output -d 'Where to put the image: LAYOUT:REF (the layout is created if missing)' -r
complete -c oix -n "__fish_oix_using_subcommand build" -l platform -d 'Platform of the image: os/arch[/variant] (default: the base image\'s)' -r
complete -c oix -n "__fish_oix_using_subcommand build" -l os-version -d 'os.version of the platform (e.g. a Windows build number)' -r
complete -c oix -n "__fish_oix_using_subcommand build" -l os-feature -d 'An os.features entry of the platform (repeatable)' -r
complete -c oix -n "__fish_oix_using_subcommand build" -l layer -d 'A further layer source, in order after SOURCE (repeatable)' -r
complete -c oix -n "__fish_oix_using_subcommand build" -l base -d 'Put the new layers on top of this image: REF in the output layout, or LAYOUT:REF / LAYOUT@DIGEST (its config is carried over, history appended)' -r
complete -c oix -n "__fish_oix_using_subcommand build" -l env -d 'Set an environment variable, KEY=VALUE (repeatable)' -r
complete -c oix -n "__fish_oix_using_subcommand build" -l entrypoint -d 'Entrypoint: a JSON array, or words separated by spaces (\'\' clears it)' -r
complete -c oix -n "__fish_oix_using_subcommand build" -l cmd -d 'Default command: a JSON array, or words separated by spaces (\'\' clears it)' -r
complete -c oix -n "__fish_oix_using_subcommand build" -l workdir -d 'Working directory' -r
complete -c oix -n "__fish_oix_using_subcommand build" -l user -d 'User (name, uid or uid:gid)' -r
complete -c oix -n "__fish_oix_using_subcommand build" -l label -d 'A config label, KEY=VALUE (repeatable)' -r
complete -c oix -n "__fish_oix_using_subcommand build" -l expose -d 'An exposed port, PORT[/tcp|udp|sctp] (repeatable)' -r
complete -c oix -n "__fish_oix_using_subcommand build" -l stop-signal -d 'Stop signal (e.g. SIGTERM)' -r
complete -c oix -n "__fish_oix_using_subcommand build" -l annotation -d 'A manifest annotation, KEY=VALUE (repeatable)' -r
complete -c oix -n "__fish_oix_using_subcommand build" -l config -d 'A JSON object of runtime-config fields (Env, Cmd, Labels, …) applied before the flags' -r -F
complete -c oix -n "__fish_oix_using_subcommand build" -l compression -d 'Layer compression' -r -f -a "gzip\t''
zstd\t''
none\t''"
complete -c oix -n "__fish_oix_using_subcommand build" -l level -d 'Compression level (gzip 0-9, default 4; zstd 1-19, default 3)' -r
complete -c oix -n "__fish_oix_using_subcommand build" -l jobs -d 'Compression threads (default: the number of cores; the bytes do not depend on it)' -r
complete -c oix -n "__fish_oix_using_subcommand build" -l source-date-epoch -d 'Clamp mtimes to this Unix time and use it as the config\'s `created`' -r
complete -c oix -n "__fish_oix_using_subcommand build" -l owner -d 'Write every entry as owned by UID:GID (e.g. 0:0)' -r
complete -c oix -n "__fish_oix_using_subcommand build" -l lock-timeout -d 'Seconds to wait for another oix process\'s lock on a layout' -r
complete -c oix -n "__fish_oix_using_subcommand build" -l allow-unknown-platform -d 'Write a --platform whose os or architecture is not a known GOOS/GOARCH value'
complete -c oix -n "__fish_oix_using_subcommand build" -l json -d 'Print machine-readable JSON on stdout'
complete -c oix -n "__fish_oix_using_subcommand build" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c oix -n "__fish_oix_using_subcommand build" -s V -l version -d 'Print version'
complete -c oix -n "__fish_oix_using_subcommand import" -s o -l output -d 'Target LAYOUT (created if missing), or LAYOUT:REF to name the imported image' -r
complete -c oix -n "__fish_oix_using_subcommand import" -l max-ratio -d 'Refuse a compressed archive that expands more than this many times its size' -r
complete -c oix -n "__fish_oix_using_subcommand import" -l max-size -d 'Refuse an archive whose uncompressed content exceeds this many bytes' -r
complete -c oix -n "__fish_oix_using_subcommand import" -l referrers-type -d 'Carry only referrers of this artifactType (repeatable; a referrer of a carried referrer must match too)' -r
complete -c oix -n "__fish_oix_using_subcommand import" -l lock-timeout -d 'Seconds to wait for another oix process\'s lock on a layout' -r
complete -c oix -n "__fish_oix_using_subcommand import" -l all -d 'Import every ref of the source, each under its own name'
complete -c oix -n "__fish_oix_using_subcommand import" -l trust-source -d 'A layout SOURCE only: do not hash its blobs (sizes are still checked; links still need a source file owned by you and not writable by group or others)'
complete -c oix -n "__fish_oix_using_subcommand import" -l no-referrers -d 'Carry no referrers (by default every referrer of every manifest and index copied travels along, recursively)'
complete -c oix -n "__fish_oix_using_subcommand import" -l dry-run -d 'Read and check the source, print what would be imported (refs, referrers); change nothing in the target'
complete -c oix -n "__fish_oix_using_subcommand import" -l json -d 'Print machine-readable JSON on stdout'
complete -c oix -n "__fish_oix_using_subcommand import" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c oix -n "__fish_oix_using_subcommand import" -s V -l version -d 'Print version'
complete -c oix -n "__fish_oix_using_subcommand recompress" -l to -d 'The compression to write: zstd or gzip' -r
complete -c oix -n "__fish_oix_using_subcommand recompress" -l level -d 'Compression level (gzip 0-9, default 4; zstd 1-19, default 3)' -r
complete -c oix -n "__fish_oix_using_subcommand recompress" -l platform -d 'Only the index entries of this platform (repeatable; exact match)' -r
complete -c oix -n "__fish_oix_using_subcommand recompress" -s j -l jobs -d 'Compression threads (default: all cores); the output does not depend on it' -r
complete -c oix -n "__fish_oix_using_subcommand recompress" -l lock-timeout -d 'Seconds to wait for another oix process\'s lock on a layout' -r
complete -c oix -n "__fish_oix_using_subcommand recompress" -l add -d 'Keep each entry and add a zstd twin next to it (--to zstd, indexes only)'
complete -c oix -n "__fish_oix_using_subcommand recompress" -l dry-run -d 'Compute the new digests without storing anything'
complete -c oix -n "__fish_oix_using_subcommand recompress" -l json -d 'Print machine-readable JSON on stdout'
complete -c oix -n "__fish_oix_using_subcommand recompress" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c oix -n "__fish_oix_using_subcommand recompress" -s V -l version -d 'Print version'
complete -c oix -n "__fish_oix_using_subcommand export" -s o -l output -d 'The archive to write (- for stdout)' -r -F
complete -c oix -n "__fish_oix_using_subcommand export" -l compression -d 'Compression (default: from the file name: .tar.gz/.tgz gzip, .tar.zst zstd, else none)' -r -f -a "gzip\t''
zstd\t''
none\t''"
complete -c oix -n "__fish_oix_using_subcommand export" -l level -d 'Compression level (gzip 0-9, default 4; zstd 1-19, default 3)' -r
complete -c oix -n "__fish_oix_using_subcommand export" -l jobs -d 'Compression threads (default: the number of cores; the bytes do not depend on it)' -r
complete -c oix -n "__fish_oix_using_subcommand export" -l platform -d 'Export only images of this platform, os/arch[/variant] (repeatable; normalized like every selector: arm64 = arm64/v8, x86_64 = amd64)' -r
complete -c oix -n "__fish_oix_using_subcommand export" -l where -d 'Export only images whose descriptor satisfies EXPR (key=value, key!=value, key~=REGEX, key, !key; repeatable, all must hold)' -r
complete -c oix -n "__fish_oix_using_subcommand export" -l format -d 'Archive format: oci-archive, or docker-archive (also loadable by docker load; with docker-archive --platform chooses the image instead of subsetting)' -r -f -a "oci-archive\t''
docker-archive\t''"
complete -c oix -n "__fish_oix_using_subcommand export" -l name -d 'The image name of a docker-archive, REPO:TAG (RepoTags, io.containerd.image.name)' -r
complete -c oix -n "__fish_oix_using_subcommand export" -l manifest-format -d 'Write the manifests and indexes in this format: keep (as stored), oci, docker (schema 2). Blobs never change; only documents get new digests' -r -f -a "keep\t'As stored (no conversion)'
oci\t'OCI image index and manifest'
docker\t'Docker manifest list and schema 2 manifest (skopeo calls it v2s2)'"
complete -c oix -n "__fish_oix_using_subcommand export" -l allow-lossy -d 'With --manifest-format docker, drop what Docker cannot hold instead of refusing: annotations, subject, artifact-type, attestations, fields (comma-separated)' -r
complete -c oix -n "__fish_oix_using_subcommand export" -l referrers-type -d 'Carry only referrers of this artifactType (repeatable; a referrer of a carried referrer must match too)' -r
complete -c oix -n "__fish_oix_using_subcommand export" -l lock-timeout -d 'Seconds to wait for another oix process\'s lock on a layout' -r
complete -c oix -n "__fish_oix_using_subcommand export" -l docker-compat -d 'Same as --format docker-archive'
complete -c oix -n "__fish_oix_using_subcommand export" -l allow-zstd -d 'Accept zstd layers in a docker-archive (docker load reads them from Docker 23 on)'
complete -c oix -n "__fish_oix_using_subcommand export" -l no-referrers -d 'Carry no referrers (by default every referrer of every manifest and index copied travels along, recursively)'
complete -c oix -n "__fish_oix_using_subcommand export" -l dry-run -d 'Print what would be exported (refs, referrers); write no archive'
complete -c oix -n "__fish_oix_using_subcommand export" -l json -d 'Print machine-readable JSON on stdout'
complete -c oix -n "__fish_oix_using_subcommand export" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c oix -n "__fish_oix_using_subcommand export" -s V -l version -d 'Print version'
complete -c oix -n "__fish_oix_using_subcommand referrers" -l artifact-type -d 'List only referrers of this artifactType (repeatable: any of them)' -r
complete -c oix -n "__fish_oix_using_subcommand referrers" -l lock-timeout -d 'Seconds to wait for another oix process\'s lock on a layout' -r
complete -c oix -n "__fish_oix_using_subcommand referrers" -s r -l recursive -d 'Also list the referrers of referrers (a signature of an SBOM), indented under their subject; each once, a cycle ends'
complete -c oix -n "__fish_oix_using_subcommand referrers" -l json -d 'Print machine-readable JSON on stdout'
complete -c oix -n "__fish_oix_using_subcommand referrers" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c oix -n "__fish_oix_using_subcommand referrers" -s V -l version -d 'Print version'
complete -c oix -n "__fish_oix_using_subcommand attach" -l artifact-type -d 'The artifact\'s type, e.g. application/spdx+json (a media type)' -r
complete -c oix -n "__fish_oix_using_subcommand attach" -l annotation -d 'An annotation on the artifact manifest, KEY=VALUE (repeatable)' -r
complete -c oix -n "__fish_oix_using_subcommand attach" -l lock-timeout -d 'Seconds to wait for another oix process\'s lock on a layout' -r
complete -c oix -n "__fish_oix_using_subcommand attach" -l json -d 'Print machine-readable JSON on stdout'
complete -c oix -n "__fish_oix_using_subcommand attach" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c oix -n "__fish_oix_using_subcommand attach" -s V -l version -d 'Print version'
complete -c oix -n "__fish_oix_using_subcommand help; and not __fish_seen_subcommand_from init ls inspect digest tag untag fsck gc index merge diff annotate select fold copy push pull login logout publish apply plan build import recompress export referrers attach help" -f -a "init" -d 'Create an empty OCI image layout (no-op on an existing layout)'
complete -c oix -n "__fish_oix_using_subcommand help; and not __fish_seen_subcommand_from init ls inspect digest tag untag fsck gc index merge diff annotate select fold copy push pull login logout publish apply plan build import recompress export referrers attach help" -f -a "ls" -d 'List the top-level entries of a layout, or the entries of the index a ref names'
complete -c oix -n "__fish_oix_using_subcommand help; and not __fish_seen_subcommand_from init ls inspect digest tag untag fsck gc index merge diff annotate select fold copy push pull login logout publish apply plan build import recompress export referrers attach help" -f -a "inspect" -d 'Show a manifest, index or config, pretty or as the exact stored bytes'
complete -c oix -n "__fish_oix_using_subcommand help; and not __fish_seen_subcommand_from init ls inspect digest tag untag fsck gc index merge diff annotate select fold copy push pull login logout publish apply plan build import recompress export referrers attach help" -f -a "digest" -d 'Print the digest of the manifest or index a reference names (a registry: one HEAD)'
complete -c oix -n "__fish_oix_using_subcommand help; and not __fish_seen_subcommand_from init ls inspect digest tag untag fsck gc index merge diff annotate select fold copy push pull login logout publish apply plan build import recompress export referrers attach help" -f -a "tag" -d 'Point one or more new refs at the content a reference names'
complete -c oix -n "__fish_oix_using_subcommand help; and not __fish_seen_subcommand_from init ls inspect digest tag untag fsck gc index merge diff annotate select fold copy push pull login logout publish apply plan build import recompress export referrers attach help" -f -a "untag" -d 'Remove refs from index.json (content stays until gc)'
complete -c oix -n "__fish_oix_using_subcommand help; and not __fish_seen_subcommand_from init ls inspect digest tag untag fsck gc index merge diff annotate select fold copy push pull login logout publish apply plan build import recompress export referrers attach help" -f -a "fsck" -d 'Verify a layout: every referenced blob present, sized and hashed right; documents valid'
complete -c oix -n "__fish_oix_using_subcommand help; and not __fish_seen_subcommand_from init ls inspect digest tag untag fsck gc index merge diff annotate select fold copy push pull login logout publish apply plan build import recompress export referrers attach help" -f -a "gc" -d 'Remove blobs that nothing in index.json reaches, referrers of subjects that are gone, and stale temp files'
complete -c oix -n "__fish_oix_using_subcommand help; and not __fish_seen_subcommand_from init ls inspect digest tag untag fsck gc index merge diff annotate select fold copy push pull login logout publish apply plan build import recompress export referrers attach help" -f -a "index" -d 'Create and edit multi-arch indexes inside a layout'
complete -c oix -n "__fish_oix_using_subcommand help; and not __fish_seen_subcommand_from init ls inspect digest tag untag fsck gc index merge diff annotate select fold copy push pull login logout publish apply plan build import recompress export referrers attach help" -f -a "merge" -d 'Merge images and indexes into DEST:REF under a release policy'
complete -c oix -n "__fish_oix_using_subcommand help; and not __fish_seen_subcommand_from init ls inspect digest tag untag fsck gc index merge diff annotate select fold copy push pull login logout publish apply plan build import recompress export referrers attach help" -f -a "diff" -d 'Show entries added, removed and changed (per platform) between two refs'
complete -c oix -n "__fish_oix_using_subcommand help; and not __fish_seen_subcommand_from init ls inspect digest tag untag fsck gc index merge diff annotate select fold copy push pull login logout publish apply plan build import recompress export referrers attach help" -f -a "annotate" -d 'Set or remove annotations on an index, on chosen entries, or inside chosen manifests'
complete -c oix -n "__fish_oix_using_subcommand help; and not __fish_seen_subcommand_from init ls inspect digest tag untag fsck gc index merge diff annotate select fold copy push pull login logout publish apply plan build import recompress export referrers attach help" -f -a "select" -d 'Print the entries a platform/annotation selector picks (digest first)'
complete -c oix -n "__fish_oix_using_subcommand help; and not __fish_seen_subcommand_from init ls inspect digest tag untag fsck gc index merge diff annotate select fold copy push pull login logout publish apply plan build import recompress export referrers attach help" -f -a "fold" -d 'Turn several top-level entries sharing one ref into one explicit index'
complete -c oix -n "__fish_oix_using_subcommand help; and not __fish_seen_subcommand_from init ls inspect digest tag untag fsck gc index merge diff annotate select fold copy push pull login logout publish apply plan build import recompress export referrers attach help" -f -a "copy" -d 'Copy an image or index between any two stores (layouts, registries, archives)'
complete -c oix -n "__fish_oix_using_subcommand help; and not __fish_seen_subcommand_from init ls inspect digest tag untag fsck gc index merge diff annotate select fold copy push pull login logout publish apply plan build import recompress export referrers attach help" -f -a "push" -d 'Push a layout\'s image or index to a registry (docker://HOST/REPO[:TAG])'
complete -c oix -n "__fish_oix_using_subcommand help; and not __fish_seen_subcommand_from init ls inspect digest tag untag fsck gc index merge diff annotate select fold copy push pull login logout publish apply plan build import recompress export referrers attach help" -f -a "pull" -d 'Pull an image or index from a registry into a layout'
complete -c oix -n "__fish_oix_using_subcommand help; and not __fish_seen_subcommand_from init ls inspect digest tag untag fsck gc index merge diff annotate select fold copy push pull login logout publish apply plan build import recompress export referrers attach help" -f -a "login" -d 'Check credentials against a registry and store them in the containers auth file'
complete -c oix -n "__fish_oix_using_subcommand help; and not __fish_seen_subcommand_from init ls inspect digest tag untag fsck gc index merge diff annotate select fold copy push pull login logout publish apply plan build import recompress export referrers attach help" -f -a "logout" -d 'Remove stored credentials for a registry (or all of them) from the auth file'
complete -c oix -n "__fish_oix_using_subcommand help; and not __fish_seen_subcommand_from init ls inspect digest tag untag fsck gc index merge diff annotate select fold copy push pull login logout publish apply plan build import recompress export referrers attach help" -f -a "publish" -d 'Push this arch\'s image under its per-arch tag, then converge the release tag'
complete -c oix -n "__fish_oix_using_subcommand help; and not __fish_seen_subcommand_from init ls inspect digest tag untag fsck gc index merge diff annotate select fold copy push pull login logout publish apply plan build import recompress export referrers attach help" -f -a "apply" -d 'Carry out a release plan: create release tags, annotate, assemble, push; idempotent'
complete -c oix -n "__fish_oix_using_subcommand help; and not __fish_seen_subcommand_from init ls inspect digest tag untag fsck gc index merge diff annotate select fold copy push pull login logout publish apply plan build import recompress export referrers attach help" -f -a "plan" -d 'Work with release plan files'
complete -c oix -n "__fish_oix_using_subcommand help; and not __fish_seen_subcommand_from init ls inspect digest tag untag fsck gc index merge diff annotate select fold copy push pull login logout publish apply plan build import recompress export referrers attach help" -f -a "build" -d 'Build an image from root filesystem directories or tarballs, reproducibly'
complete -c oix -n "__fish_oix_using_subcommand help; and not __fish_seen_subcommand_from init ls inspect digest tag untag fsck gc index merge diff annotate select fold copy push pull login logout publish apply plan build import recompress export referrers attach help" -f -a "import" -d 'Import an oci-archive, a docker-archive or another layout\'s refs, verified'
complete -c oix -n "__fish_oix_using_subcommand help; and not __fish_seen_subcommand_from init ls inspect digest tag untag fsck gc index merge diff annotate select fold copy push pull login logout publish apply plan build import recompress export referrers attach help" -f -a "recompress" -d 'Rewrite an image\'s or index\'s layers as zstd or gzip, in place or as zstd twins'
complete -c oix -n "__fish_oix_using_subcommand help; and not __fish_seen_subcommand_from init ls inspect digest tag untag fsck gc index merge diff annotate select fold copy push pull login logout publish apply plan build import recompress export referrers attach help" -f -a "export" -d 'Export refs as a reproducible oci-archive holding only the blobs they reach'
complete -c oix -n "__fish_oix_using_subcommand help; and not __fish_seen_subcommand_from init ls inspect digest tag untag fsck gc index merge diff annotate select fold copy push pull login logout publish apply plan build import recompress export referrers attach help" -f -a "referrers" -d 'List the referrers of an image or index (signatures, SBOMs, attestations)'
complete -c oix -n "__fish_oix_using_subcommand help; and not __fish_seen_subcommand_from init ls inspect digest tag untag fsck gc index merge diff annotate select fold copy push pull login logout publish apply plan build import recompress export referrers attach help" -f -a "attach" -d 'Attach files to an image or index as an OCI 1.1 artifact (a referrer)'
complete -c oix -n "__fish_oix_using_subcommand help; and not __fish_seen_subcommand_from init ls inspect digest tag untag fsck gc index merge diff annotate select fold copy push pull login logout publish apply plan build import recompress export referrers attach help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c oix -n "__fish_oix_using_subcommand help; and __fish_seen_subcommand_from index" -f -a "create" -d 'Create an index from images (REF moves to the new index)'
complete -c oix -n "__fish_oix_using_subcommand help; and __fish_seen_subcommand_from index" -f -a "add" -d 'Add or replace entries of an index, keyed on platform; creates it when missing'
complete -c oix -n "__fish_oix_using_subcommand help; and __fish_seen_subcommand_from index" -f -a "rm" -d 'Remove the entries a selector chooses (with their attestations)'
complete -c oix -n "__fish_oix_using_subcommand help; and __fish_seen_subcommand_from plan" -f -a "check" -d 'Validate a plan file: schema, names and tags, platforms, templates, URLs, the ca_cert/authfile files; and, for each source layout that exists, that its sources resolve to one image or index (layouts that do not exist yet are listed, not errors). Registries are not contacted; nothing is written'
