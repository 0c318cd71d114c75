//! vendored: prints its version through a vendored crate.

fn main() {
    let version = option_env!("GIT_VERSION").unwrap_or(env!("CARGO_PKG_VERSION"));
    if std::env::args().nth(1).as_deref() == Some("--version") {
        println!("{}", tinyfmt::label("vendored", version));
        return;
    }
    println!("{}", tinyfmt::label("hello", "world"));
}
