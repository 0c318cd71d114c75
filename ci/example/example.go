// Package example embeds the bundled Rust project that garage-release
// releases when it is given no project of its own: a small HTTP key-value
// store with unit and integration tests, a smoke script and an mdBook.
package example

import "embed"

// FS holds the project's files (never target/).
//
//go:embed Cargo.toml Cargo.lock README.md smoke.sh src tests docs
var FS embed.FS
