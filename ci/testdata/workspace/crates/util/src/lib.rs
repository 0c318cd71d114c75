//! A member nothing else uses: only `cargo test --workspace` runs its tests.

/// The sum of xs, saturating instead of overflowing.
pub fn total(xs: &[u32]) -> u32 {
    xs.iter().fold(0u32, |acc, x| acc.saturating_add(*x))
}

#[cfg(test)]
mod tests {
    use super::total;

    #[test]
    fn adds() {
        assert_eq!(total(&[1, 2, 3]), 6);
    }

    #[test]
    fn saturates() {
        assert_eq!(total(&[u32::MAX, 1]), u32::MAX);
    }
}
