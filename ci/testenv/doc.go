// Package testenv finds the real programs and services that tests drive
// (headless Chromium for the release page; S3 and a registry started by
// .ci/run), so every test finds them the same way and says the same thing
// when one is missing: skip on a developer's machine, fail in CI (CI=true),
// where a missing service must never turn into a silently skipped test.
package testenv
