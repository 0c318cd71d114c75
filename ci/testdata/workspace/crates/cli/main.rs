//! wsr: the workspace fixture's binary. Its source lies outside src/ and
//! outside every member, as ripgrep's crates/core/main.rs does.

/// Read at compile time from a folder cargo knows nothing about.
const BANNER: &str = include_str!("../../assets/banner.txt");

fn main() {
    match std::env::args().nth(1).as_deref() {
        Some("--version") => println!("wsr {}", env!("CARGO_PKG_VERSION")),
        // Set by build.rs: proves the build script ran for this target.
        Some("--target") => println!("{}", env!("WSR_BUILD_TARGET")),
        _ => {
            print!("{BANNER}");
            println!("{}", wscore::greet(&extra::name()));
        }
    }
}
