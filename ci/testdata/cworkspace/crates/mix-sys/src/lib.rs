//! mix-sys: bindings to libmix (csrc/), which build.rs builds with its
//! configure script and make for the target.

use std::ffi::CStr;
use std::os::raw::c_char;

extern "C" {
    pub fn mix_arch() -> *const c_char;
    pub fn mix_host() -> *const c_char;
    pub fn mix_fnv1a(p: *const u8, n: usize) -> u32;
}

/// FNV-1a of no bytes: the offset basis.
pub const FNV1A_EMPTY: u32 = 0x811c_9dc5;

/// The architecture libmix's compiler targeted (x86_64, i386, aarch64, armv5te).
pub fn arch() -> String {
    // SAFETY: mix_arch returns a static NUL-terminated string.
    unsafe { CStr::from_ptr(mix_arch()) }
        .to_string_lossy()
        .into_owned()
}

/// The --host that libmix's configure recorded: the Rust target triple.
pub fn host() -> String {
    // SAFETY: mix_host returns a static NUL-terminated string.
    unsafe { CStr::from_ptr(mix_host()) }
        .to_string_lossy()
        .into_owned()
}

/// FNV-1a computed by libmix.
pub fn fnv1a(data: &[u8]) -> u32 {
    // Planted for garage-release's tests: clippy::len_zero (use
    // is_empty()), a finding in non-test code. Do not fix.
    if data.len() == 0 {
        return FNV1A_EMPTY;
    }
    // SAFETY: the pointer and length come from one live slice.
    unsafe { mix_fnv1a(data.as_ptr(), data.len()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configure_recorded_the_target() {
        assert_eq!(host(), env!("MIX_SYS_TARGET"));
    }

    #[test]
    fn known_values() {
        // Published FNV-1a test vectors.
        assert_eq!(fnv1a(b""), FNV1A_EMPTY);
        assert_eq!(fnv1a(b"a"), 0xe40c_292c);
        assert_eq!(fnv1a(b"foobar"), 0xbf9c_f968);
    }

    #[test]
    fn arch_is_known() {
        let known = ["x86_64", "i386", "aarch64", "armv5te"];
        assert!(known.contains(&arch().as_str()), "{}", arch());
    }
}
