//! mixer: a binary whose C half (libmix, built by build.rs with configure
//! and make) says which target it was compiled for.

use std::ffi::CStr;
use std::os::raw::c_char;
use std::process::ExitCode;

extern "C" {
    fn mix_arch() -> *const c_char;
    fn mix_host() -> *const c_char;
    fn mix_fnv1a(p: *const u8, n: usize) -> u32;
}

/// The architecture libmix's compiler targeted (x86_64, i386, aarch64, armv5te).
fn arch() -> String {
    // SAFETY: mix_arch returns a static NUL-terminated string.
    unsafe { CStr::from_ptr(mix_arch()) }
        .to_string_lossy()
        .into_owned()
}

/// The --host that libmix's configure recorded: the Rust target triple.
fn host() -> String {
    // SAFETY: mix_host returns a static NUL-terminated string.
    unsafe { CStr::from_ptr(mix_host()) }
        .to_string_lossy()
        .into_owned()
}

/// FNV-1a computed by the C library.
fn c_fnv1a(data: &[u8]) -> u32 {
    // SAFETY: the pointer and length come from one live slice.
    unsafe { mix_fnv1a(data.as_ptr(), data.len()) }
}

/// The same hash in Rust, to check the C one against.
fn fnv1a(data: &[u8]) -> u32 {
    let mut hash: u32 = 0x811c_9dc5;
    for &byte in data {
        hash ^= u32::from(byte);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    hash
}

fn selftest() -> ExitCode {
    println!("mix arch: {}", arch());
    println!("mix host: {}", host());
    let (c, rust) = (c_fnv1a(b"hello"), fnv1a(b"hello"));
    println!("fnv1a(hello) = {c:08x}");
    if c != rust {
        eprintln!("mixer: C fnv1a gave {c:08x}, Rust gives {rust:08x}");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("--version") => {
            // GIT_VERSION is set by the release pipeline at build time.
            let version = option_env!("GIT_VERSION").unwrap_or(env!("CARGO_PKG_VERSION"));
            println!("mixer {version}");
            ExitCode::SUCCESS
        }
        Some("--selftest") => selftest(),
        Some(arg) if !arg.starts_with('-') => {
            for word in &args {
                println!("{:08x}  {word}", c_fnv1a(word.as_bytes()));
            }
            ExitCode::SUCCESS
        }
        _ => {
            eprintln!("usage: mixer --version | --selftest | WORD...");
            ExitCode::from(2)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c_hash_equals_rust_hash() {
        for data in [&b""[..], b"a", b"hello", b"foobar", &[0xff; 300]] {
            assert_eq!(c_fnv1a(data), fnv1a(data), "input {data:?}");
        }
    }

    #[test]
    fn known_values() {
        // Published FNV-1a test vectors.
        assert_eq!(fnv1a(b""), 0x811c_9dc5);
        assert_eq!(fnv1a(b"a"), 0xe40c_292c);
        assert_eq!(fnv1a(b"foobar"), 0xbf9c_f968);
    }

    #[test]
    fn configure_recorded_the_target() {
        assert_eq!(host(), env!("MIXER_TARGET"));
    }
}
