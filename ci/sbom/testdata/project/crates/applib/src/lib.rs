pub fn render(n: u32) -> String {
    itoa::Buffer::new().format(n).to_string()
}

#[cfg(test)]
mod tests {
    static_assertions::const_assert!(1 < 2);
}
