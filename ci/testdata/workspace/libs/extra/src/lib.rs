//! A path dependency outside the workspace members.

/// Who greets.
pub fn name() -> String {
    "extra".to_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn names() {
        assert_eq!(super::name(), "extra");
    }
}
