use hello_macro::hello;

hello!();

fn main() {
    println!("{} {} {}", hello(), applib::render(7), env!("RELAPP_BUILD"));
    #[cfg(windows)]
    winonly::touch();
    #[cfg(target_arch = "aarch64")]
    armonly::touch();
}

#[cfg(test)]
mod tests {
    #[test]
    fn renders() {
        assert!(testutil::nonempty(&applib::render(1)));
    }
}
