//! One reference grammar (issue 13, item 2): a registry host, repository name or tag
//! that `oix plan check` accepts is accepted by the parser `oix push` uses, and one it
//! refuses is refused by both for the same reason. Each row of the table runs through
//! `oix plan check` (as a plan's destination, image name and tag) and through
//! `oix push --dry-run` (as the destination reference). Accepted hosts are all loopback
//! addresses on a port nothing listens on, so no traffic leaves the machine.

mod common;

use common::*;
use std::fs;
use std::net::TcpListener;
use std::path::Path;

/// A loopback port nothing listens on (bound, then released).
fn closed_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Case {
    host: String,
    name: &'static str,
    tag: String,
    /// `None`: accepted; `Some(reason)`: refused, with `reason` in both messages.
    refused: Option<String>,
}

fn case(host: &str, name: &'static str, tag: &str, refused: Option<&str>) -> Case {
    Case {
        host: host.to_string(),
        name,
        tag: tag.to_string(),
        refused: refused.map(str::to_string),
    }
}

fn table(port: u16) -> Vec<Case> {
    let long_tag = "a".repeat(129);
    let max_tag = "a".repeat(128);
    let port_range = |h: &str| format!("invalid registry host {h:?}: the port must be 1-65535");
    let not_number = |h: &str| format!("invalid registry host {h:?}: the port must be a number");
    vec![
        // Accepted.
        case(&format!("127.0.0.1:{port}"), "app", "1.0", None),
        case(&format!("localhost:{port}"), "team/app", "v1_x-2", None),
        case(&format!("[::1]:{port}"), "app", "1.0", None),
        case(&format!("127.0.0.1:{port}"), "app", &max_tag, None),
        case("127.0.0.1:65535", "app", "1.0", None),
        // Ports.
        case("h.io:0", "app", "1.0", Some(&port_range("h.io:0"))),
        case("h.io:65536", "app", "1.0", Some(&port_range("h.io:65536"))),
        case("h.io:99999", "app", "1.0", Some(&port_range("h.io:99999"))),
        case("h.io:", "app", "1.0", Some(&not_number("h.io:"))),
        case("h.io:5x", "app", "1.0", Some(&not_number("h.io:5x"))),
        case("[::1]:0", "app", "1.0", Some(&port_range("[::1]:0"))),
        // Host names and addresses.
        case(
            "[::1",
            "app",
            "1.0",
            Some("invalid registry host \"[::1\": unclosed '[' of an IPv6 address"),
        ),
        case(
            "[::g]:5000",
            "app",
            "1.0",
            Some("invalid registry host \"[::g]:5000\": not an IPv6 address"),
        ),
        case(
            "h_x.io",
            "app",
            "1.0",
            Some("invalid registry host \"h_x.io\": \"h_x\" is not a host name label"),
        ),
        case(
            "a..b:5000",
            "app",
            "1.0",
            Some("invalid registry host \"a..b:5000\": \"\" is not a host name label"),
        ),
        // Repository names.
        case(
            &format!("127.0.0.1:{port}"),
            "App",
            "1.0",
            Some("invalid repository name \"App\""),
        ),
        // Tags.
        case(
            &format!("127.0.0.1:{port}"),
            "app",
            &long_tag,
            Some(&format!("invalid tag \"{long_tag}\"")),
        ),
        case(
            &format!("127.0.0.1:{port}"),
            "app",
            "1.0+build.5",
            Some("invalid tag \"1.0+build.5\""),
        ),
        case(
            &format!("127.0.0.1:{port}"),
            "app",
            ".x",
            Some("invalid tag \".x\""),
        ),
        // Credentials are refused by both and never shown.
        case(
            &format!("u:hunter2@127.0.0.1:{port}"),
            "app",
            "1.0",
            Some("holds credentials"),
        ),
    ]
}

fn plan_check(dir: &Path, c: &Case) -> Run {
    let plan = dir.join("plan.yaml");
    fs::write(
        &plan,
        format!(
            "version: 1\nlayout: ./work\ndestinations:\n  - url: 'docker://{}'\n    plain_http: true\nimages:\n  - name: '{}'\n    source: src\n    tags: ['{}']\n",
            c.host, c.name, c.tag
        ),
    )
    .unwrap();
    oix(&[
        "plan".to_string(),
        "check".to_string(),
        plan.display().to_string(),
    ])
}

fn push_dry_run(layout: &Path, c: &Case) -> Run {
    oix(&[
        "push".to_string(),
        "--dry-run".to_string(),
        "--plain-http".to_string(),
        "--retries".to_string(),
        "0".to_string(),
        at(layout, ":latest"),
        format!("docker://{}/{}:{}", c.host, c.name, c.tag),
    ])
}

#[test]
fn plan_check_and_push_agree_on_hosts_names_and_tags() {
    let tmp = tempfile::tempdir().unwrap();
    let (_fx, layout) = copy_fixture("single");
    let port = closed_port();
    for c in table(port) {
        let row = format!("{} {} {}", c.host, c.name, c.tag);
        let check = plan_check(tmp.path(), &c);
        let push = push_dry_run(&layout, &c);
        for r in [&check, &push] {
            assert!(
                !r.all_output().contains("hunter2"),
                "{row}: credentials shown: {}",
                r.all_output()
            );
        }
        match &c.refused {
            None => {
                assert_eq!(check.code, 0, "{row}: plan check refused: {}", check.stderr);
                // Past the reference: the push fails connecting (nothing listens), not
                // as a usage error about what was written.
                assert_ne!(push.code, 2, "{row}: push refused: {}", push.stderr);
                assert!(
                    !push.stderr.contains("invalid"),
                    "{row}: push refused: {}",
                    push.stderr
                );
            }
            Some(reason) => {
                assert_eq!(check.code, 1, "{row}: plan check accepted: {check:?}");
                assert!(
                    check.stderr.contains(reason.as_str()),
                    "{row}: plan check says: {}",
                    check.stderr
                );
                assert_eq!(push.code, 2, "{row}: push did not refuse: {push:?}");
                assert!(
                    push.stderr.contains(reason.as_str()),
                    "{row}: push says: {}",
                    push.stderr
                );
                // Both give a hint.
                for r in [&check, &push] {
                    assert!(r.stderr.contains("hint"), "{row}: no hint: {}", r.stderr);
                }
            }
        }
    }
}

/// The library parse `push` uses and the plan's registry source parser agree too: a
/// `docker://` source a plan accepts is one `RegistryRef::parse` accepts.
#[test]
fn plan_sources_use_the_push_parser() {
    use oix::apply::plan::parse_registry_ref;
    use oix::registry::RegistryRef;
    for (url, ok) in [
        ("docker://localhost:5000/a/b:1", true),
        ("docker://[::1]:5000/a:1", true),
        ("docker://h.io:0/a:1", false),
        ("docker://h.io:99999/a:1", false),
        ("docker://h.io/a:1+x", false),
        ("docker://h.io/A:1", false),
    ] {
        assert_eq!(parse_registry_ref(url).is_ok(), ok, "{url}");
        assert_eq!(RegistryRef::parse(url).is_ok(), ok, "{url}");
        if !ok {
            assert_eq!(
                parse_registry_ref(url).unwrap_err().message,
                RegistryRef::parse(url).unwrap_err().message,
                "{url}"
            );
        }
    }
    // Plans want the host written out and something to pull.
    for url in [
        "docker://alpine:3",
        "docker://user/img:1",
        "docker://h.io/r",
    ] {
        assert!(RegistryRef::parse(url).is_ok(), "{url}");
        assert!(parse_registry_ref(url).is_err(), "{url}");
    }
}

/// `SRC=PLATFORM` has one parser: a plan's `sources:` entry and the `index create`
/// argument record the same platform, and refuse the same bad ones with the same words.
#[test]
fn src_equals_platform_is_parsed_once() {
    use oix::apply::plan::{parse, Sources};
    use oix::authoring::SourceSpec;
    for (platform, ok) in [
        ("linux/arm64/v8", true),
        ("linux/arm64", true),
        ("linux/armhf", true),
        ("linux/x86_64", true),
        ("windows/amd64", true),
        ("linux/", false),
        ("linux/arm64/v8/x", false),
    ] {
        let text = format!("app:b={platform}");
        let cli = SourceSpec::parse(&text);
        let plan = parse(
            Path::new("/plans/p.yaml"),
            &format!(
                "version: 1\nlayout: ./out\nimages:\n  - name: app\n    sources: ['{text}']\n    tags: [t]\n"
            ),
        );
        assert_eq!(cli.is_ok(), ok, "{text}: {cli:?}");
        match (cli, plan) {
            (Ok(spec), Ok(plan)) => {
                let Sources::Assemble(s) = &plan.images[0].sources else {
                    panic!("{text}")
                };
                assert_eq!(s[0].platform(), spec.platform.as_ref(), "{text}");
            }
            (Err(e), Err(problems)) => {
                assert!(
                    problems.iter().any(|p| p.message == e.message),
                    "{text}: {e:?} vs {problems:?}"
                );
            }
            (cli, plan) => panic!("{text}: {cli:?} vs {:?}", plan.map(|_| ())),
        }
    }
}

/// Every command reads the scheme the same way: a layout command or `import` given a
/// registry reference, or a plan given an archive source, says what it was given
/// (credentials unseen) and exits 2 / reports a plan problem, writing nothing.
#[test]
fn schemes_are_told_apart_everywhere() {
    let tmp = tempfile::tempdir().unwrap();
    let r = oix(&["tag", "docker://u:hunter2@h.io/a:1", "x"]).fails_with(2);
    assert!(r.stderr.contains("is a registry reference"), "{}", r.stderr);
    assert!(r.stderr.contains("oix pull"), "{}", r.stderr);
    assert!(!r.stderr.contains("hunter2"), "{}", r.stderr);
    // The read commands read registries (tests/registry_read.rs); credentials in the
    // reference are refused all the same, unseen.
    let r = oix(&["inspect", "docker://u:hunter2@h.io/a:1"]).fails_with(2);
    assert!(r.stderr.contains("holds credentials"), "{}", r.stderr);
    assert!(!r.stderr.contains("hunter2"), "{}", r.stderr);
    let out = tmp.path().join("out");
    let r = oix(&[
        "import".to_string(),
        "docker://h.io/a:1".to_string(),
        "-o".to_string(),
        out.display().to_string(),
    ])
    .fails_with(2);
    assert!(r.stderr.contains("is a registry reference"), "{}", r.stderr);
    assert!(!out.exists());
    // Before, `oci-archive:rel.tar:1.0` in a plan was taken for a ref name of the
    // working layout (the grammar allows ':' and '-').
    let plan = tmp.path().join("plan.yaml");
    fs::write(
        &plan,
        "version: 1\nlayout: ./work\nimages:\n  - name: app\n    source: oci-archive:rel.tar:1.0\n    tags: [t]\n",
    )
    .unwrap();
    let r = oix(&[
        "plan".to_string(),
        "check".to_string(),
        plan.display().to_string(),
    ])
    .fails_with(1);
    assert!(
        r.stderr.contains("an archive is not a source"),
        "{}",
        r.stderr
    );
}

/// Per-arch tags are checked as publishing makes them: a release tag that is legal
/// alone but too long once `-{arch}` is added is refused by `plan check`, as push
/// refuses it.
#[test]
fn plan_check_expands_arch_tags_as_publishing_does() {
    let tmp = tempfile::tempdir().unwrap();
    let plan = tmp.path().join("plan.yaml");
    let write = |tag: &str| {
        fs::write(
            &plan,
            format!(
                "version: 1\nlayout: ./work\ndestinations:\n  - url: docker://localhost:5000/stx\nimages:\n  - name: app\n    sources: ['app:a=linux/amd64', 'app:b=linux/arm64']\n    platforms: [linux/amd64, linux/arm64]\n    tags: ['{tag}']\n    arch_tags: '{{tag}}-{{arch}}'\n"
            ),
        )
        .unwrap();
    };
    let check = || {
        oix(&[
            "plan".to_string(),
            "check".to_string(),
            plan.display().to_string(),
        ])
    };
    write(&"a".repeat(122));
    check().ok();
    let long = "a".repeat(123);
    write(&long);
    let r = check().fails_with(1);
    assert!(
        r.stderr.contains(&format!("invalid tag \"{long}-amd64\"")),
        "{}",
        r.stderr
    );
    // What push says for the same tag.
    let r = oix(&[
        "push".to_string(),
        "--dry-run".to_string(),
        at(&fixtures().join("single"), ":latest"),
        format!("docker://localhost:5000/stx/app:{long}-amd64"),
    ])
    .fails_with(2);
    assert!(
        r.stderr.contains(&format!("invalid tag \"{long}-amd64\"")),
        "{}",
        r.stderr
    );
}

/// `export -o` reads the scheme too: `oci-archive:FILE` writes FILE; a layout, registry
/// or docker-archive destination is refused with the command that writes there.
#[test]
fn export_output_reads_the_scheme() {
    let tmp = tempfile::tempdir().unwrap();
    let single = fixtures().join("single");
    let file = tmp.path().join("out.tar");
    oix(&[
        "export".to_string(),
        at(&single, ":latest"),
        "-o".to_string(),
        format!("oci-archive:{}", file.display()),
    ])
    .ok();
    assert!(file.is_file());
    let t = tmp.path().display();
    for (bad, says) in [
        ("docker://h.io/a:1".to_string(), "oix push"),
        (format!("oci:{t}/somewhere"), "oix import"),
        // A docker-archive output is a docker-loadable export; an empty name is not.
        ("docker-archive:".to_string(), "docker-archive:FILE"),
    ] {
        let r = oix(&[
            "export".to_string(),
            at(&single, ":latest"),
            "-o".to_string(),
            bad.clone(),
        ])
        .fails_with(2);
        assert!(r.stderr.contains(says), "{bad}: {}", r.stderr);
    }
    assert_eq!(fs::read_dir(tmp.path()).unwrap().count(), 1);
}
