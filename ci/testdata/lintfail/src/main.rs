//! lintfail: prints its version; its tests trip clippy on purpose.

fn ready() -> bool {
    std::env::args().count() < 100
}

fn main() {
    if std::env::args().nth(1).as_deref() == Some("--version") {
        let version = option_env!("GIT_VERSION").unwrap_or(env!("CARGO_PKG_VERSION"));
        println!("lintfail {version}");
        return;
    }
    println!("ready: {}", ready());
}

#[cfg(test)]
mod tests {
    #[test]
    fn is_ready() {
        // Planted for the tests of garage-release: clippy says
        // bool_assert_comparison (use assert!), an error with -D warnings.
        assert_eq!(super::ready(), true);
    }
}
