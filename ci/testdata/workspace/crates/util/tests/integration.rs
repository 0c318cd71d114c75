#[test]
fn total_of_nothing_is_zero() {
    assert_eq!(wsutil::total(&[]), 0);
}
