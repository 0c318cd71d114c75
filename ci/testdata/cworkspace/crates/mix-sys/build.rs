//! Builds libmix from csrc/ as a C project is built: `configure --host`,
//! then `make`, out of tree in OUT_DIR (the source tree stays untouched),
//! with the target's C compiler and archiver found as the `cc` crate finds
//! them. Then links the static library.

use std::env;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{self, Command};

fn main() {
    let manifest = PathBuf::from(
        env::var_os("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR is set by cargo"),
    );
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("OUT_DIR is set by cargo"));
    let target = env::var("TARGET").expect("TARGET is set by cargo");
    let csrc = manifest.join("csrc");

    println!("cargo:rerun-if-changed=build.rs");
    for file in ["configure", "Makefile.in", "mix.c", "mix.h"] {
        println!("cargo:rerun-if-changed={}", csrc.join(file).display());
    }

    let cc = target_env("CC", &target).unwrap_or_else(|| "cc".to_string());
    let ar = target_env("AR", &target).unwrap_or_else(|| "ar".to_string());
    // -fPIC as the cc crate adds it: Rust links position-independent
    // executables (static-pie too), so every object must be PIC.
    let mut cflags = String::from("-O2 -fPIC");
    if let Some(extra) = target_env("CFLAGS", &target) {
        cflags.push(' ');
        cflags.push_str(&extra);
    }

    let build = out.join("libmix-build");
    fs::create_dir_all(&build)
        .unwrap_or_else(|e| fail(&format!("cannot create {}: {e}", build.display())));

    let mut configure = Command::new("sh");
    configure
        .arg(csrc.join("configure"))
        .arg(format!("--host={target}"))
        .arg(format!("--prefix={}", out.join("prefix").display()))
        .current_dir(&build)
        .env("CC", &cc)
        .env("AR", &ar)
        .env("CFLAGS", &cflags);
    run(&mut configure, Some(&build.join("config.log")));

    let mut make = Command::new("make");
    make.current_dir(&build);
    run(&mut make, None);

    println!("cargo:rustc-link-search=native={}", build.display());
    println!("cargo:rustc-link-lib=static=mix");
    // links = "mix": dependents' build scripts get DEP_MIX_INCLUDE and
    // DEP_MIX_LIB, as with any -sys crate.
    println!("cargo:include={}", csrc.display());
    println!("cargo:lib={}", build.display());
    // For the unit test that checks configure recorded this target.
    println!("cargo:rustc-env=MIX_SYS_TARGET={target}");
}

/// Looks VAR up as the `cc` crate does: `VAR_<target>`, then
/// `VAR_<target with underscores>`, `TARGET_VAR`, `VAR`. An empty value
/// counts as unset. Tells cargo to rerun when any of them changes.
fn target_env(var: &str, target: &str) -> Option<String> {
    let names = [
        format!("{var}_{target}"),
        format!("{var}_{}", target.replace('-', "_")),
        format!("TARGET_{var}"),
        var.to_string(),
    ];
    for name in &names {
        println!("cargo:rerun-if-env-changed={name}");
    }
    names
        .iter()
        .filter_map(|name| env::var(name).ok())
        .find(|value| !value.is_empty())
}

/// Runs cmd, forwarding its output to the build script's stderr (cargo
/// shows it when the build fails, or with -vv). On failure it stops the
/// build with the command's output and, if given, its log file.
fn run(cmd: &mut Command, log: Option<&Path>) {
    let program = cmd.get_program().to_string_lossy().into_owned();
    let output = match cmd.output() {
        Ok(output) => output,
        // The wording of the cc and cmake crates, which users know.
        Err(e) if e.kind() == io::ErrorKind::NotFound => fail(&format!(
            "failed to execute command: {e}\nis `{program}` not installed?"
        )),
        Err(e) => fail(&format!("failed to execute command: {e}\ncommand: {cmd:?}")),
    };
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    if output.status.success() {
        eprint!("{stdout}{stderr}");
        return;
    }
    let mut msg = format!(
        "command did not execute successfully, got: {}\ncommand: {cmd:?}\n--- stdout\n{stdout}--- stderr\n{stderr}",
        output.status
    );
    if let Some(path) = log {
        if let Ok(text) = fs::read_to_string(path) {
            msg.push_str(&format!("--- {}\n{text}", path.display()));
        }
    }
    fail(&msg);
}

fn fail(msg: &str) -> ! {
    eprintln!("\nerror: {msg}\n");
    process::exit(1);
}
