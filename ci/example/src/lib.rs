//! kvstore: a tiny in-memory HTTP key-value store, in the spirit of an
//! object store, built on the standard library only.
//!
//! - [`http`] parses requests and writes responses (HTTP/1.x, one request
//!   per connection).
//! - [`store`] keeps the objects in memory.
//! - [`server`] maps requests to store operations and runs the accept loop.

pub mod http;
pub mod server;
pub mod store;

/// Version reported by `kvstore --version`: the release pipeline sets
/// `GIT_VERSION` at build time, otherwise the version from Cargo.toml is used.
pub const VERSION: &str = match option_env!("GIT_VERSION") {
    Some(version) => version,
    None => env!("CARGO_PKG_VERSION"),
};
