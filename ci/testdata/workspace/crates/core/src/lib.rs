//! The library the root package's binary uses.

/// The greeting wsr prints.
pub fn greet(name: &str) -> String {
    format!("hello from {name}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn greets() {
        assert_eq!(super::greet("x"), "hello from x");
    }
}
