package project

import (
	"fmt"
	"strings"

	"github.com/garage-release/garage-release/ci/target"
)

// Overrides are the settings a run gives over the project's Cargo.toml:
// the CLI's flags and the Dagger module's arguments both fill one, and
// Apply is the one place they take effect, so a setting is added once for
// both front ends. A nil field keeps the project's value.
type Overrides struct {
	Binary        *string
	Features      *[]string
	Targets       *[]string
	BuildPackages *[]string
	TestArgs      *[]string
	Image         *string
	Checks        *[]string
	ClippyArgs    *[]string
	Lints         *string
}

// Keys names each override as the user wrote it (a flag, an argument),
// for the messages of Apply; the CLI's flag names by default.
type Keys map[string]string

// Apply sets the overrides on s and checks the result. Errors name the
// override as keys says.
func (o Overrides) Apply(s *Settings, keys Keys) error {
	name := func(k string) string {
		if n, ok := keys[k]; ok {
			return n
		}
		return "--" + k
	}
	if o.Binary != nil {
		s.Binary = *o.Binary
	}
	if o.Features != nil {
		s.Features = *o.Features
	}
	if o.Targets != nil {
		// An empty list means every target in Cargo.toml, never in an
		// override: `--targets ,` is a mistake, not "all".
		if strings.TrimSpace(strings.Join(*o.Targets, "")) == "" {
			return fmt.Errorf("%s is empty: name the targets (%s), or leave it out for the project's", name("targets"), strings.Join(target.Names(), ", "))
		}
		s.Targets = *o.Targets
	}
	if o.BuildPackages != nil {
		s.BuildPackages = *o.BuildPackages
	}
	if o.TestArgs != nil {
		s.TestArgs = *o.TestArgs
	}
	if o.Image != nil && *o.Image != "" {
		s.Image = *o.Image
	}
	if o.Checks != nil {
		if err := s.Checks.SetChecks(*o.Checks); err != nil {
			return fmt.Errorf("%s: %w", name("checks"), err)
		}
	}
	if o.ClippyArgs != nil {
		s.Checks.ClippyArgs = *o.ClippyArgs
	}
	if o.Lints != nil {
		if err := s.Checks.SetLints(*o.Lints); err != nil {
			return fmt.Errorf("%s %w", name("lints"), err)
		}
	}
	return s.Validate()
}
