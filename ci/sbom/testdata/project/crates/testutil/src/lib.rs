pub fn nonempty(s: &str) -> bool { !s.is_empty() }
