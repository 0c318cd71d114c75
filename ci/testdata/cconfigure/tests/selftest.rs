//! Runs the built binary: its C library must be linked in and agree with Rust.

use std::process::Command;

#[test]
fn selftest_passes() {
    let out = Command::new(env!("CARGO_BIN_EXE_mixer"))
        .arg("--selftest")
        .output()
        .expect("run mixer");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "mixer --selftest failed: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.lines().any(|l| l.starts_with("mix arch: ")),
        "{stdout}"
    );
    assert!(
        stdout.lines().any(|l| l.starts_with("mix host: ")),
        "{stdout}"
    );
    assert!(stdout.contains("fnv1a(hello) = 4f9f2cab"), "{stdout}");
}

#[test]
fn version_names_the_binary() {
    let out = Command::new(env!("CARGO_BIN_EXE_mixer"))
        .arg("--version")
        .output()
        .expect("run mixer");
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("mixer "));
}
