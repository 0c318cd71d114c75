//! Runs the built binary: both C libraries must be linked in and work.

use std::process::Command;

fn cw(arg: &str) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_cw"))
        .arg(arg)
        .output()
        .expect("run cw");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

#[test]
fn selftest_passes() {
    let (ok, out) = cw("--selftest");
    assert!(ok, "cw --selftest failed: {out}");
    for prefix in ["mix arch: ", "mix host: ", "zstd 1.", "roundtrip ok ("] {
        assert!(out.lines().any(|l| l.starts_with(prefix)), "{out}");
    }
    assert!(out.contains("fnv1a(hello) = 4f9f2cab"), "{out}");
}

#[test]
fn version_names_the_binary() {
    let (ok, out) = cw("--version");
    assert!(ok && out.starts_with("cw "), "{out}");
}
