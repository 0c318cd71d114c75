//! zinfo: reports the libzstd it was linked with and proves it works by a
//! compress/decompress roundtrip; its own C code names the target.

use std::ffi::CStr;
use std::os::raw::{c_char, c_int, c_uint, c_void};
use std::process::ExitCode;

// The few libzstd functions zinfo calls, declared here rather than through
// bindgen or a -sys crate: the fixture has no dependencies.
extern "C" {
    fn ZSTD_versionNumber() -> c_uint;
    fn ZSTD_compressBound(src_size: usize) -> usize;
    fn ZSTD_compress(
        dst: *mut c_void,
        dst_capacity: usize,
        src: *const c_void,
        src_size: usize,
        level: c_int,
    ) -> usize;
    fn ZSTD_decompress(
        dst: *mut c_void,
        dst_capacity: usize,
        src: *const c_void,
        compressed_size: usize,
    ) -> usize;
    fn ZSTD_isError(code: usize) -> c_uint;
}

// csrc/zinfo_arch.c, compiled by build.rs.
extern "C" {
    fn zinfo_arch() -> *const c_char;
}

/// libzstd's version as major.minor.patch.
fn zstd_version() -> String {
    // SAFETY: no arguments, no state.
    let v = unsafe { ZSTD_versionNumber() };
    format!("{}.{}.{}", v / 10000, v / 100 % 100, v % 100)
}

/// The architecture zinfo's C code was compiled for.
fn arch() -> String {
    // SAFETY: zinfo_arch returns a static NUL-terminated string.
    unsafe { CStr::from_ptr(zinfo_arch()) }
        .to_string_lossy()
        .into_owned()
}

fn check(code: usize, what: &str) -> Result<usize, String> {
    // SAFETY: ZSTD_isError only inspects the number.
    if unsafe { ZSTD_isError(code) } != 0 {
        return Err(format!("{what} failed (zstd error code {code})"));
    }
    Ok(code)
}

fn compress(data: &[u8], level: i32) -> Result<Vec<u8>, String> {
    // SAFETY: no pointers involved.
    let bound = unsafe { ZSTD_compressBound(data.len()) };
    let mut dst = vec![0u8; bound];
    // SAFETY: dst has room for `bound` bytes, data is a live slice.
    let n = unsafe {
        ZSTD_compress(
            dst.as_mut_ptr().cast(),
            dst.len(),
            data.as_ptr().cast(),
            data.len(),
            level,
        )
    };
    dst.truncate(check(n, "ZSTD_compress")?);
    Ok(dst)
}

fn decompress(frame: &[u8], size: usize) -> Result<Vec<u8>, String> {
    let mut dst = vec![0u8; size];
    // SAFETY: dst has room for `size` bytes, frame is a live slice.
    let n = unsafe {
        ZSTD_decompress(
            dst.as_mut_ptr().cast(),
            dst.len(),
            frame.as_ptr().cast(),
            frame.len(),
        )
    };
    dst.truncate(check(n, "ZSTD_decompress")?);
    Ok(dst)
}

/// Some compressible bytes: repeated text with a counter in it.
fn sample() -> Vec<u8> {
    (0..256)
        .flat_map(|i| format!("zinfo roundtrip line {:03}\n", i % 100).into_bytes())
        .collect()
}

/// Compresses and decompresses data; returns the compressed size.
fn roundtrip(data: &[u8]) -> Result<usize, String> {
    let frame = compress(data, 3)?;
    let back = decompress(&frame, data.len())?;
    if back != data {
        return Err(format!(
            "roundtrip changed the data ({} bytes in, {} out)",
            data.len(),
            back.len()
        ));
    }
    Ok(frame.len())
}

fn selftest() -> ExitCode {
    println!("zstd {}", zstd_version());
    println!("arch: {}", arch());
    let data = sample();
    match roundtrip(&data) {
        Ok(n) => {
            println!("roundtrip ok ({} -> {n} bytes)", data.len());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("zinfo: {e}");
            ExitCode::FAILURE
        }
    }
}

fn main() -> ExitCode {
    match std::env::args().nth(1).as_deref() {
        Some("--version") => {
            // GIT_VERSION is set by the release pipeline at build time.
            let version = option_env!("GIT_VERSION").unwrap_or(env!("CARGO_PKG_VERSION"));
            println!("zinfo {version}");
            ExitCode::SUCCESS
        }
        Some("--selftest") => selftest(),
        None => {
            println!("zstd {}", zstd_version());
            ExitCode::SUCCESS
        }
        Some(_) => {
            eprintln!("usage: zinfo [--version | --selftest]");
            ExitCode::from(2)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip_restores_the_data() {
        let data = sample();
        let n = roundtrip(&data).expect("roundtrip");
        assert!(n < data.len(), "{n} bytes compressed from {}", data.len());
        assert!(roundtrip(b"").is_ok(), "empty input");
    }

    #[test]
    fn garbage_is_an_error() {
        assert!(decompress(b"not a zstd frame", 100).is_err());
    }

    #[test]
    fn version_is_one_point_something() {
        assert!(zstd_version().starts_with("1."), "{}", zstd_version());
    }
}
