//! `make demo` keeps working: run scripts/demo.sh against the freshly built binary.

use std::process::Command;

#[test]
fn demo_script_runs_end_to_end() {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/demo.sh");
    let out = Command::new("bash")
        .arg(script)
        .env("OIX", env!("CARGO_BIN_EXE_oix"))
        .env_remove("KEEP")
        .output()
        .expect("running bash");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "demo failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    // Every step was printed before it ran, and the script got to its end.
    for step in [
        "$ oix init release",
        "$ oix ls --tree",
        "$ oix inspect",
        "$ oix tag",
    ] {
        assert!(
            stdout.contains(step),
            "demo did not run `{step}`:\n{stdout}"
        );
    }
    assert!(stdout.contains("demo: all steps succeeded"), "{stdout}");
    assert!(stdout.contains("linux/arm64"), "{stdout}");
}

#[test]
fn demo_script_fails_when_a_step_fails() {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/demo.sh");
    let out = Command::new("bash")
        .arg(script)
        .env("OIX", "/bin/false")
        .output()
        .expect("running bash");
    assert!(!out.status.success(), "a failing oix must fail the demo");
    assert!(!String::from_utf8_lossy(&out.stdout).contains("all steps succeeded"));
}
