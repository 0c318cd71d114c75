fn main() {
    let ac = autocfg::new();
    ac.emit_has_type("i128");
    println!("cargo:rustc-env=RELAPP_BUILD={}", buildinfo::stamp(42));
}
