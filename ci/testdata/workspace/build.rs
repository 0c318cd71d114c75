//! Tells the binary which target it was built for (`wsr --target`).

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let target = std::env::var("TARGET").unwrap_or_default();
    println!("cargo:rustc-env=WSR_BUILD_TARGET={target}");
}
