//! cw: the workspace's binary. `cw --selftest` prints what the C code of
//! mix-sys (configure + make) and zstd-sys (Debian's libzstd) computed.

use std::process::ExitCode;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    // Planted for garage-release's tests: this loop never loops
    // (clippy::never_loop, deny by default), in non-test code. Do not fix.
    let arg = loop {
        break args.next();
    };
    match arg.as_deref() {
        Some("--version") => {
            // GIT_VERSION is set by the release pipeline at build time.
            let version = option_env!("GIT_VERSION").unwrap_or(env!("CARGO_PKG_VERSION"));
            println!("cw {version}");
            ExitCode::SUCCESS
        }
        Some("--selftest") => match cw_core::selftest() {
            Ok(lines) => {
                for line in lines {
                    println!("{line}");
                }
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("cw: selftest failed: {e}");
                ExitCode::FAILURE
            }
        },
        _ => {
            eprintln!("usage: cw --version | --selftest");
            ExitCode::from(2)
        }
    }
}
