//! Links libzstd, found with pkg-config as the pkg-config crate finds it
//! (the target's pkg-config, `--static` when asked), and compiles
//! csrc/zinfo_arch.c with the target's C compiler into a static library,
//! as the cc crate would.

use std::env;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{self, Command};

const LIB: &str = "libzstd";

fn main() {
    let manifest = PathBuf::from(
        env::var_os("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR is set by cargo"),
    );
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("OUT_DIR is set by cargo"));
    let target = env::var("TARGET").expect("TARGET is set by cargo");
    let host = env::var("HOST").expect("HOST is set by cargo");
    println!("cargo:rerun-if-changed=build.rs");

    probe_zstd(&target, &host);
    compile_arch(&manifest.join("csrc/zinfo_arch.c"), &out, &target);
}

/// Runs pkg-config for libzstd and passes its -L and -l on to cargo.
fn probe_zstd(target: &str, host: &str) {
    let pkg_config = target_env("PKG_CONFIG", target).unwrap_or_else(|| "pkg-config".to_string());
    // pkg-config answers for the build machine unless told otherwise: a
    // cross build needs a pkg-config set up for the target, as the crate says.
    let allow_cross = target_env("PKG_CONFIG_ALLOW_CROSS", target).is_some_and(|v| v != "0");
    let sysroot = target_env("PKG_CONFIG_SYSROOT_DIR", target).is_some();
    if target != host && !allow_cross && !sysroot {
        fail(
            "pkg-config has not been configured to support cross-compilation.\n\n\
             Install a sysroot for the target platform and configure it via\n\
             PKG_CONFIG_SYSROOT_DIR and PKG_CONFIG_PATH, or install a\n\
             cross-compiling wrapper for pkg-config and set it via\n\
             PKG_CONFIG environment variable.",
        );
    }
    // The child inherits these; a change must rerun the probe.
    for var in [
        "PKG_CONFIG_PATH",
        "PKG_CONFIG_LIBDIR",
        "LIBZSTD_STATIC",
        "PKG_CONFIG_ALL_STATIC",
    ] {
        println!("cargo:rerun-if-env-changed={var}");
    }
    let is_set = |var: &str| env::var(var).is_ok_and(|v| !v.is_empty() && v != "0");
    let statik = is_set("LIBZSTD_STATIC") || is_set("PKG_CONFIG_ALL_STATIC");

    let mut cmd = Command::new(&pkg_config);
    if statik {
        cmd.arg("--static");
    }
    cmd.args(["--cflags", "--libs", LIB]);
    let output = output(&mut cmd, &pkg_config);
    if !output.status.success() {
        // pkg-config's own words first ("Package libzstd was not found ...").
        eprint!("{}", String::from_utf8_lossy(&output.stderr));
        let crate_name = env::var("CARGO_PKG_NAME").unwrap_or_default();
        let path = match env::var("PKG_CONFIG_PATH") {
            Ok(p) => format!("The PKG_CONFIG_PATH environment variable contains {p}."),
            Err(_) => "The PKG_CONFIG_PATH environment variable is not set.".to_string(),
        };
        fail(&format!(
            "The system library `{LIB}` required by crate `{crate_name}` was not found.\n\
             The file `{LIB}.pc` needs to be installed and the PKG_CONFIG_PATH environment \
             variable must contain its parent directory.\n{path}\n\n\
             HINT: if you have installed the library, try setting PKG_CONFIG_PATH to the \
             directory containing `{LIB}.pc`."
        ));
    }
    for flag in String::from_utf8_lossy(&output.stdout).split_whitespace() {
        if let Some(dir) = flag.strip_prefix("-L") {
            println!("cargo:rustc-link-search=native={dir}");
        } else if let Some(lib) = flag.strip_prefix("-l") {
            // No `static=` kind, as the pkg-config crate for a library in
            // /usr: the linker picks libzstd.a itself when rustc links
            // with +crt-static, libzstd.so otherwise.
            println!("cargo:rustc-link-lib={lib}");
        }
        // -I: zinfo declares the few functions it calls itself. -pthread
        // (a private flag of --static): std links the thread library anyway.
    }
}

/// Compiles src into lib<zinfo_arch>.a in out and links it.
fn compile_arch(src: &Path, out: &Path, target: &str) {
    println!("cargo:rerun-if-changed={}", src.display());
    let cc = target_env("CC", target).unwrap_or_else(|| "cc".to_string());
    let ar = target_env("AR", target).unwrap_or_else(|| "ar".to_string());
    let cflags = target_env("CFLAGS", target).unwrap_or_default();
    let obj = out.join("zinfo_arch.o");
    let lib = out.join("libzinfo_arch.a");

    // CC may hold several words ("ccache gcc"), as the cc crate allows.
    let mut words = cc.split_whitespace();
    let program = words.next().unwrap_or("cc").to_string();
    let mut compile = Command::new(&program);
    // -fPIC: Rust links position-independent executables (static-pie too).
    compile
        .args(words)
        .args(["-O2", "-fPIC"])
        .args(cflags.split_whitespace());
    compile.arg("-c").arg(src).arg("-o").arg(&obj);
    check(&mut compile, &program);

    let _ = fs::remove_file(&lib); // ar would add to a stale archive
    let mut archive = Command::new(&ar);
    archive.arg("crs").arg(&lib).arg(&obj);
    check(&mut archive, &ar);

    println!("cargo:rustc-link-search=native={}", out.display());
    println!("cargo:rustc-link-lib=static=zinfo_arch");
}

/// Looks VAR up as the cc and pkg-config crates do: `VAR_<target>`, then
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

/// Runs cmd and returns its output; a command that cannot be started
/// stops the build in the cc crate's words.
fn output(cmd: &mut Command, program: &str) -> process::Output {
    match cmd.output() {
        Ok(output) => output,
        Err(e) if e.kind() == io::ErrorKind::NotFound => fail(&format!(
            "failed to execute command: {e}\nis `{program}` not installed?"
        )),
        Err(e) => fail(&format!("failed to execute command: {e}\ncommand: {cmd:?}")),
    }
}

/// Runs cmd; if it fails, stops the build with its output.
fn check(cmd: &mut Command, program: &str) {
    let out = output(cmd, program);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        fail(&format!(
            "command did not execute successfully, got: {}\ncommand: {cmd:?}\n\
             --- stdout\n{stdout}--- stderr\n{stderr}",
            out.status
        ));
    }
    eprint!("{stdout}{stderr}");
}

fn fail(msg: &str) -> ! {
    eprintln!("\nerror: {msg}\n");
    process::exit(1);
}
