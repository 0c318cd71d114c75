pub fn stamp(n: u32) -> String { itoa::Buffer::new().format(n).to_string() }
