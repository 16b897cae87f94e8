//! Archives as stores: export is one copy into the archive sink (same bytes as before
//! the sink existed), docker-loadable exports, and archives read as sources.

mod common;

use common::*;
use std::fs;
use std::path::Path;

/// sha256 of the file `oix export ARGS -o FILE` writes.
fn export_digest(dir: &Path, args: &[&str]) -> String {
    let out = dir.join("out.tar");
    let _ = fs::remove_file(&out);
    let mut a: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    a.push("-o".into());
    a.push(out.display().to_string());
    oix(&a).ok();
    sha256_hex(&fs::read(&out).unwrap())
}

/// Exports of the bundled fixtures have exactly the bytes they had before export became
/// a copy into the archive sink (digests recorded from the export of 5139d00).
#[test]
fn export_through_the_archive_sink_keeps_the_bytes() {
    let t = tempfile::tempdir().unwrap();
    let f = fixtures();
    let at = |s: &str| f.join(s).display().to_string();
    for (want, args) in [
        (
            "3b83021105852a6f9ea3dc59da9979e73380d5f3ada456b87724a717c0d465b3",
            vec![at("single:latest")],
        ),
        (
            "9741f9da4e7754ae139681fa7e5906863bd2cc40d292785a34b7f54a2ad14b93",
            vec![at("multiarch:latest")],
        ),
        (
            "c1596f1058ca6715c86ef8e4cad18e24cabec81d80dc8d03a88f2095a217a5bc",
            vec![at("nested:latest")],
        ),
        (
            "1bd57bf7a8765d4e0a1a380d2e1acdb59bc360fb75faaf4724fa16685214d244",
            vec![at("attestation:latest")],
        ),
        (
            "d69f0c9daccd456ac1cc2628f46b94a3be81cb6d5f61f432385320d39210840b",
            vec![at("skopeo")],
        ),
        (
            "6d62a13cdd641c81332943f0b8d4b9a8d6eec471a9e320f7e16bb3e94c920d21",
            vec![
                at("multiarch:latest"),
                "--platform".into(),
                "linux/arm64".into(),
            ],
        ),
        (
            "56d2e4cd7eb7b2740f1b8a3cba1c13e38611d6562ed7fba66430324e7f528ebd",
            vec![
                at("attestation:latest"),
                "--platform".into(),
                "linux/amd64".into(),
            ],
        ),
        (
            "0ef5e2328a2ab8afe5cf34e3f148c0b8c9e6923f53c83cae4571f8f51ff60b65",
            vec![
                at("nested:latest"),
                "--platform".into(),
                "linux/arm64".into(),
            ],
        ),
        (
            "ff18ea28561cdec25eb7b130033ff4a985e8bf5c9f6d9f6f2e9a138ad84559b4",
            vec![at("skopeo"), "--compression".into(), "gzip".into()],
        ),
        (
            "d12a1b3410085f785010f6704a4fb21601269137f618ac04635f0b1083f14fc5",
            vec![at("skopeo"), "--compression".into(), "zstd".into()],
        ),
    ] {
        let a: Vec<&str> = std::iter::once("export")
            .chain(args.iter().map(String::as_str))
            .collect();
        assert_eq!(export_digest(t.path(), &a), want, "oix {}", a.join(" "));
    }
}
