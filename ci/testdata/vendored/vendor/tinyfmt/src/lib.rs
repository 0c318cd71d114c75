//! A tiny fake crate, vendored for garage-release's tests.

/// "name value", as a program's --version line.
pub fn label(name: &str, value: &str) -> String {
    format!("{name} {value}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn labels() {
        assert_eq!(super::label("a", "b"), "a b");
    }
}
