//! zstd-sys: the few libzstd functions the workspace uses, declared by hand
//! (no bindgen: the fixture has no dependencies), and safe wrappers.

use std::os::raw::{c_int, c_uint, c_void};

extern "C" {
    pub fn ZSTD_versionNumber() -> c_uint;
    pub fn ZSTD_compressBound(src_size: usize) -> usize;
    pub fn ZSTD_compress(
        dst: *mut c_void,
        dst_capacity: usize,
        src: *const c_void,
        src_size: usize,
        level: c_int,
    ) -> usize;
    pub fn ZSTD_decompress(
        dst: *mut c_void,
        dst_capacity: usize,
        src: *const c_void,
        compressed_size: usize,
    ) -> usize;
    pub fn ZSTD_isError(code: usize) -> c_uint;
}

/// libzstd's version as major.minor.patch.
pub fn version() -> String {
    // SAFETY: no arguments, no state.
    let v = unsafe { ZSTD_versionNumber() };
    format!("{}.{}.{}", v / 10000, v / 100 % 100, v % 100)
}

fn check(code: usize, what: &str) -> Result<usize, String> {
    // SAFETY: ZSTD_isError only inspects the number.
    if unsafe { ZSTD_isError(code) } != 0 {
        return Err(format!("{what} failed (zstd error code {code})"));
    }
    Ok(code)
}

/// One zstd frame holding data.
pub fn compress(data: &[u8], level: i32) -> Result<Vec<u8>, String> {
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

/// The data in frame, at most size bytes of it.
pub fn decompress(frame: &[u8], size: usize) -> Result<Vec<u8>, String> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip() {
        let data = b"zstd-sys roundtrip ".repeat(100);
        let frame = compress(&data, 3).expect("compress");
        assert!(frame.len() < data.len());
        assert_eq!(decompress(&frame, data.len()).expect("decompress"), data);
    }

    #[test]
    fn garbage_is_an_error() {
        assert!(decompress(b"not a zstd frame", 100).is_err());
    }
}
