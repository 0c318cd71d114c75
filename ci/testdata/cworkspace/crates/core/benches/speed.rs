//! Benchmarks written for nightly (`cargo +nightly bench`): the test crate
//! and #[bench] are unstable, so stable rustc rejects this file (E0554).
//! On purpose: `cargo test` does not build benches, `clippy --all-targets`
//! does, and garage-release's checks must cope.
#![feature(test)]

extern crate test;

use test::Bencher;

#[bench]
fn fnv1a_rust(b: &mut Bencher) {
    let data = cw_core::sample();
    b.iter(|| cw_core::fnv1a(test::black_box(&data)));
}

#[bench]
fn fnv1a_c(b: &mut Bencher) {
    let data = cw_core::sample();
    b.iter(|| mix_sys::fnv1a(test::black_box(&data)));
}

#[bench]
fn zstd_roundtrip(b: &mut Bencher) {
    let data = cw_core::sample();
    b.iter(|| cw_core::roundtrip(test::black_box(&data)));
}
