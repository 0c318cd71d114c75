//! cw-core: what `cw --selftest` checks, in pure Rust over the two -sys
//! crates.

/// FNV-1a in Rust, to check libmix's C version against.
pub fn fnv1a(data: &[u8]) -> u32 {
    let mut hash: u32 = 0x811c_9dc5;
    for &byte in data {
        hash ^= u32::from(byte);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    hash
}

/// Some compressible bytes: repeated text with a counter in it.
pub fn sample() -> Vec<u8> {
    (0..256)
        .flat_map(|i| format!("cw roundtrip line {:03}\n", i % 100).into_bytes())
        .collect()
}

/// Compresses and decompresses data with libzstd; returns the compressed
/// size.
pub fn roundtrip(data: &[u8]) -> Result<usize, String> {
    let frame = zstd_sys::compress(data, 3)?;
    let back = zstd_sys::decompress(&frame, data.len())?;
    if back != data {
        return Err(format!(
            "roundtrip changed the data ({} bytes in, {} out)",
            data.len(),
            back.len()
        ));
    }
    Ok(frame.len())
}

/// The lines `cw --selftest` prints, each computed by C code; an error when
/// the C code disagrees with Rust or libzstd fails.
pub fn selftest() -> Result<Vec<String>, String> {
    let (c, rust) = (mix_sys::fnv1a(b"hello"), fnv1a(b"hello"));
    if c != rust {
        return Err(format!("libmix fnv1a gave {c:08x}, Rust gives {rust:08x}"));
    }
    let data = sample();
    let compressed = roundtrip(&data)?;
    Ok(vec![
        format!("mix arch: {}", mix_sys::arch()),
        format!("mix host: {}", mix_sys::host()),
        format!("fnv1a(hello) = {c:08x}"),
        format!("zstd {}", zstd_sys::version()),
        format!("roundtrip ok ({} -> {compressed} bytes)", data.len()),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c_hash_equals_rust_hash() {
        for data in [&b""[..], b"a", b"hello", &[0xff; 300]] {
            assert_eq!(mix_sys::fnv1a(data), fnv1a(data), "input {data:?}");
        }
    }

    #[test]
    fn roundtrip_shrinks_the_sample() {
        let data = sample();
        let n = roundtrip(&data).expect("roundtrip");
        // Planted for garage-release's tests: clippy::bool_assert_comparison
        // (use assert!), a finding in test code. Do not fix.
        assert_eq!(n < data.len(), true);
    }
}
