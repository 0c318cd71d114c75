package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"

	"github.com/spf13/pflag"

	"github.com/garage-release/garage-release/ci/project"
	"github.com/garage-release/garage-release/ci/scaffold"
)

func initCommand() command {
	return command{
		name:    "init",
		summary: "adopt garage-release in a Rust project: write the CI file (pinned version) and print the settings for Cargo.toml",
		flags: func(fs *pflag.FlagSet, o *options) {
			fs.StringVar(&o.source, "source", "", "the Rust project (default: the current folder)")
			fs.StringSliceVar(&o.providers, "ci", []string{"github"}, "CI providers to write a file for, comma-separated: "+strings.Join(scaffold.Providers, ", "))
			fs.StringVar(&o.pin, "pin", "", "the garage-release version the CI file runs (default: the version running, as in go run "+scaffold.Module+"/ci@<version> init)")
			fs.BoolVar(&o.writeSettings, "write-settings", false, "append the settings to Cargo.toml instead of only printing them (refused when it has them already)")
		},
		run: runInit,
	}
}

// runningVersion is garage-release's own version when it runs as
// `go run <module>/ci@<version>`; "" from a checkout ((devel)).
func runningVersion() string {
	info, ok := debug.ReadBuildInfo()
	if !ok || info.Main.Path != scaffold.Module || info.Main.Version == "(devel)" {
		return ""
	}
	return info.Main.Version
}

// initJob is what init writes, all checked before anything is written:
// the CI files, and the settings block for Cargo.toml.
type initJob struct {
	Dir     string // the project
	Version string // the garage-release version the CI files run
	Files   []scaffold.File
	Block   string // the settings for Cargo.toml
	// WriteSettings appends Block to Cargo.toml (it has none yet).
	WriteSettings bool
	table         string // the settings' table name, for the message
}

func (o *options) initJob(e *env) (initJob, error) {
	dir := o.source
	if dir == "" {
		dir = e.workdir
	} else if !filepath.IsAbs(dir) {
		dir = filepath.Join(e.workdir, dir)
	}
	s, err := project.Load(dir)
	if errors.Is(err, project.ErrNoCargoToml) {
		return initJob{}, usagef("%v: run init in the Rust project to release", err)
	}
	if err != nil {
		return initJob{}, usagef("%v", err)
	}
	version := o.pin
	if version == "" {
		version = runningVersion()
	}
	if version == "" {
		return initJob{}, usagef("this garage-release runs from a checkout, with no version to pin: pass --pin <version> (a release tag), or run %s/ci@<version> init", scaffold.Module)
	}
	if strings.ContainsAny(version, " \t\n\"'$`\\") {
		return initJob{}, usagef("--pin %q: give a version such as v1.2.0", version)
	}
	in := scaffold.Input{Version: version, Settings: s, Detected: scaffold.Detect(os.DirFS(dir))}
	var files []scaffold.File
	for _, p := range o.providers {
		f, err := scaffold.CIFile(strings.TrimSpace(p), in)
		if err != nil {
			return initJob{}, usagef("--ci: %v", err)
		}
		files = append(files, f)
	}
	if len(files) == 0 {
		return initJob{}, usagef("--ci is empty: name a provider (%s)", strings.Join(scaffold.Providers, ", "))
	}
	// Nothing is written unless everything can be: an existing file is
	// the maintainer's, never replaced.
	for _, f := range files {
		p := filepath.Join(dir, filepath.FromSlash(f.Path))
		if _, err := os.Lstat(p); err == nil {
			return initJob{}, usagef("%s exists already: garage-release does not replace it (move it away, or write the file by hand from 'go run %s/ci@%s init' in an empty folder)", p, scaffold.Module, version)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return initJob{}, err
		}
	}
	if o.writeSettings {
		cargoToml := filepath.Join(dir, "Cargo.toml")
		data, err := os.ReadFile(cargoToml)
		if err != nil {
			return initJob{}, err
		}
		has, err := project.HasReleaseSettings(data)
		if err != nil {
			return initJob{}, usagef("%s: %v", cargoToml, err)
		}
		if has {
			return initJob{}, usagef("%s has release settings already: edit them there (--write-settings only adds a new table)", cargoToml)
		}
	}
	return initJob{Dir: dir, Version: version, Files: files, Block: scaffold.SettingsBlock(in), WriteSettings: o.writeSettings, table: s.SettingsTable()}, nil
}

func runInit(_ context.Context, e *env, o *options) error {
	job, err := o.initJob(e)
	if err != nil {
		return err
	}
	for _, f := range job.Files {
		p := filepath.Join(job.Dir, filepath.FromSlash(f.Path))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		w, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err != nil {
			return err
		}
		if _, err := w.WriteString(f.Content); err != nil {
			w.Close()
			return err
		}
		if err := w.Close(); err != nil {
			return err
		}
		fmt.Fprintf(e.stderr, "Wrote %s: it runs garage-release %s.\n", f.Path, job.Version)
	}
	if job.WriteSettings {
		if err := appendToFile(filepath.Join(job.Dir, "Cargo.toml"), "\n"+job.Block); err != nil {
			return err
		}
		fmt.Fprintf(e.stderr, "Added [%s] to Cargo.toml:\n\n", job.table)
	} else {
		fmt.Fprintf(e.stderr, "Paste into Cargo.toml (or run again with --write-settings):\n\n")
	}
	fmt.Fprint(e.stdout, job.Block)
	fmt.Fprintf(e.stderr, "\nTry it here first: go run %s/ci@%s release\n", scaffold.Module, job.Version)
	return nil
}

// appendToFile adds text at the end of a file, keeping its mode.
func appendToFile(name, text string) error {
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(text); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
