static_assertions::const_assert!(usize::BITS == 64);

pub fn touch() {}
