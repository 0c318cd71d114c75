package project

import (
	"fmt"
	"strings"
)

// Checks is a project's check policy: which checks run, clippy's
// arguments, and whether findings fail the release or are reported as
// warnings. A failing test or build fails the release whatever this says.
type Checks struct {
	Fmt    bool `json:"fmt"`
	Clippy bool `json:"clippy"`
	// ClippyArgs follow `cargo clippy --all-targets --`.
	ClippyArgs []string `json:"clippyArgs"`
	// Warn reports findings as warnings (in the summary and on the release
	// page) instead of failing the release.
	Warn bool `json:"warn"`
}

// Names of the checks, as written in `checks = [...]` and --checks.
const (
	CheckFmt    = "fmt"
	CheckClippy = "clippy"
)

// Lint policies, as written in `lints = "..."` and --lints.
const (
	LintsDeny = "deny"
	LintsWarn = "warn"
)

// DefaultClippyArgs are the seed's: every warning is an error.
var DefaultClippyArgs = []string{"-D", "warnings"}

// DefaultChecks runs fmt and clippy with -D warnings, and fails on a finding.
func DefaultChecks() Checks {
	return Checks{Fmt: true, Clippy: true, ClippyArgs: append([]string(nil), DefaultClippyArgs...)}
}

// checkKeys are the check keys of [*.metadata.release].
type checkKeys struct {
	Checks     *[]string `toml:"checks"`
	ClippyArgs *[]string `toml:"clippy-args"`
	Lints      string    `toml:"lints"`
}

func (k checkKeys) settings() (Checks, error) {
	c := DefaultChecks()
	if k.Checks != nil {
		if err := c.SetChecks(*k.Checks); err != nil {
			return c, fmt.Errorf("Cargo.toml: checks: %w", err)
		}
	}
	if k.ClippyArgs != nil {
		c.ClippyArgs = append([]string{}, *k.ClippyArgs...)
	}
	if k.Lints != "" {
		if err := c.SetLints(k.Lints); err != nil {
			return c, fmt.Errorf("Cargo.toml: lints: %w", err)
		}
	}
	return c, nil
}

// SetChecks selects the checks that run: any of "fmt" and "clippy"; an
// empty list or "none" runs none.
func (c *Checks) SetChecks(names []string) error {
	c.Fmt, c.Clippy = false, false
	for _, n := range names {
		switch strings.TrimSpace(n) {
		case CheckFmt:
			c.Fmt = true
		case CheckClippy:
			c.Clippy = true
		case "none", "":
		default:
			return fmt.Errorf("unknown check %q: give fmt, clippy, both, or none", n)
		}
	}
	return nil
}

// SetLints sets what a finding does: "deny" fails the release, "warn"
// reports it.
func (c *Checks) SetLints(policy string) error {
	switch policy {
	case LintsDeny:
		c.Warn = false
	case LintsWarn:
		c.Warn = true
	default:
		return fmt.Errorf("%q: give %q (a finding fails the release) or %q (findings are reported as warnings)", policy, LintsDeny, LintsWarn)
	}
	return nil
}

// Any reports whether any check runs.
func (c Checks) Any() bool { return c.Fmt || c.Clippy }

// Policy is "deny" or "warn".
func (c Checks) Policy() string {
	if c.Warn {
		return LintsWarn
	}
	return LintsDeny
}
