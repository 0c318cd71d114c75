// Package index builds the release page (_releases.html) and its machine
// readable twin (_releases.json) from the manifests found in a bucket, and
// fixes the bucket layout both the page and the publisher use (layout.go).
//
// The page is static HTML with inline CSS and no JavaScript: it is served
// straight from the bucket and must work on a phone. Every link is relative
// to the bucket root, where the page lives, so the bucket can be served under
// any host name or path.
//
// # _releases.json
//
// The shape is stable; fields are only ever added:
//
//	{
//	  "format": 1,
//	  "generated": "2026-11-25T10:00:00Z",
//	  "latest": "v1.10.0",              // highest stable version, omitted when none
//	  "stable": [ <release>... ],       // by semantic version, newest first
//	  "extra": [ <release>... ],        // by date, newest first
//	  "development": [ <release>... ]   // by date, newest first
//	}
//
// A <release> is the release's manifest.json object (see ci/manifest) plus
// "prefix", the folder of its files relative to the bucket root
// ("_releases/<version>/"), and "docs_url" ("_docs/<version>/index.html")
// when docs were published. A binary is at prefix + targets[].path and its
// checksum at the same key plus ".sha256". The arrays are never null.
//
// A <release> also says how to check it: "signed" (always present; false
// for an unsigned release), and when the files exist "sbom_url",
// "provenance_url" (the unsigned in-toto statement), "public_key_url",
// "provenance_signature_url" (the DSSE envelope for cosign
// verify-blob-attestation), "image_signature_url" and "signature_urls",
// which maps a signed file by its path in the release folder ("SHA256SUMS",
// targets[].path) to its cosign signature. Like docs_url they are relative
// to the JSON file. Verify with a public key taken from the project's
// repository, not only with the one next to the files.
//
// dist/ holds the same two files for its one release, as index.html and
// releases.json (LocalHTML, LocalJSON): there, links and "prefix" are
// relative to dist/ itself ("prefix" is "", docs are under "docs/").
package index
