use proc_macro::TokenStream;

#[proc_macro]
pub fn hello(_: TokenStream) -> TokenStream {
    format!("fn hello() -> &'static str {{ {:?} }}", macro_support::greeting())
        .parse()
        .unwrap()
}
