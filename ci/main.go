// Command ci is garage-release's front end: `go run ./ci <command>`.
//
// It parses flags, finds the project and its version, connects to a Dagger
// engine, runs the stages of ci/pipeline, exports dist/ and publishes. All
// argument errors are found before anything is started, and exit with 2.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"

	"dagger.io/dagger"
	"github.com/spf13/pflag"
)

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1 // a stage failed, the engine or a server refused
	exitUsage   = 2 // bad input: nothing was started
)

// usageError is bad input from the user: a flag, a path, a setting.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// command is one sub-command.
type command struct {
	name    string
	summary string
	// arg names the command's one positional argument ("" for none).
	arg string
	// flags registers the command's flags on fs, bound to o.
	flags func(fs *pflag.FlagSet, o *options)
	// run does the work; it is called only after the flags parsed and
	// o.prepare succeeded.
	run func(ctx context.Context, e *env, o *options) error
}

// env is the process's outside world, replaceable in tests.
type env struct {
	stdout, stderr io.Writer
	getenv         func(string) string
	workdir        string
	// dial connects to the engine: dagger.Connect, or a test's fake.
	dial func(ctx context.Context, opts ...dagger.ClientOpt) (*dagger.Client, error)
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	wd, err := os.Getwd()
	if err != nil {
		fmt.Fprintln(os.Stderr, "garage-release:", err)
		os.Exit(exitFailure)
	}
	os.Exit(run(ctx, &env{stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv, workdir: wd, dial: dagger.Connect}, os.Args[1:]))
}

// run executes one command line and returns the exit code.
func run(ctx context.Context, e *env, args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		if len(args) > 1 && args[0] == "help" {
			return run(ctx, e, []string{args[1], "--help"})
		}
		printUsage(e.stdout)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	cmd, ok := commands()[args[0]]
	if !ok {
		fmt.Fprintf(e.stderr, "garage-release: unknown command %q\n", args[0])
		if s := suggest(args[0]); s != "" {
			fmt.Fprintf(e.stderr, "Did you mean %q?\n", s)
		}
		fmt.Fprintf(e.stderr, "Run 'go run ./ci --help' for the list of commands.\n")
		return exitUsage
	}
	o, fs, err := parseCommand(e, cmd, args)
	if errors.Is(err, pflag.ErrHelp) {
		printCommandUsage(e.stdout, cmd, fs)
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(e.stderr, "garage-release %s: %v\n", cmd.name, err)
		return exitUsage
	}
	err = cmd.run(ctx, e, o)
	switch {
	case err == nil:
		return exitOK
	case ctx.Err() != nil:
		fmt.Fprintf(e.stderr, "garage-release %s: interrupted: %v\n", cmd.name, err)
		return exitFailure
	default:
		var ue *usageError
		fmt.Fprintf(e.stderr, "garage-release %s: %v\n", cmd.name, err)
		if errors.As(err, &ue) {
			return exitUsage
		}
		return exitFailure
	}
}

// parseCommand parses a command line (args[0] is the command) into the
// options the command runs with, checked by prepare: everything before the
// run, so tests can see what a command would do without an engine. It
// returns pflag.ErrHelp for --help, with the flag set to print.
func parseCommand(e *env, cmd command, args []string) (*options, *pflag.FlagSet, error) {
	o := &options{}
	fs := pflag.NewFlagSet(cmd.name, pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.SortFlags = false
	cmd.flags(fs, o)
	again := fmt.Sprintf("\nRun 'go run ./ci %s --help' for its flags.", cmd.name)
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return nil, fs, err
		}
		return nil, fs, fmt.Errorf("%w%s", err, again)
	}
	if cmd.arg != "" {
		if fs.NArg() != 1 {
			return nil, fs, fmt.Errorf("give the %s, e.g. 'go run ./ci %s v1.2.3'%s", cmd.arg, cmd.name, again)
		}
		o.arg = fs.Arg(0)
	} else if fs.NArg() > 0 {
		return nil, fs, fmt.Errorf("unexpected argument %q (flags start with --)%s", fs.Arg(0), again)
	}
	o.cmdline = args
	o.set = map[string]bool{}
	fs.Visit(func(f *pflag.Flag) { o.set[f.Name] = true })
	if err := o.prepare(e, cmd.name); err != nil {
		return nil, fs, err
	}
	return o, fs, nil
}

func printUsage(w io.Writer) {
	fmt.Fprint(w, `garage-release: release a Rust project (static binaries for amd64, i386,
arm64 and arm, a multi-platform image, docs, a release page) on a Dagger engine.

Usage: go run ./ci <command> [flags]

Commands:
`)
	cmds := commands()
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool { return commandOrder(names[i]) < commandOrder(names[j]) })
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, cmds[n].summary)
	}
	fmt.Fprint(w, `
With no --source, the project is the Rust project in the current folder, or
else the bundled example (ci/example). Run 'go run ./ci <command> --help' for
a command's flags.
`)
}

func printCommandUsage(w io.Writer, cmd command, fs *pflag.FlagSet) {
	arg := ""
	if cmd.arg != "" {
		arg = " <" + cmd.arg + ">"
	}
	fmt.Fprintf(w, "Usage: go run ./ci %s%s [flags]\n\n%s\n\nFlags:\n%s", cmd.name, arg, cmd.summary, fs.FlagUsages())
}

func suggest(name string) string {
	best, bestScore := "", 0
	for n := range commands() {
		score := 0
		for i := 0; i < len(n) && i < len(name) && n[i] == name[i]; i++ {
			score++
		}
		if strings.Contains(n, name) || strings.Contains(name, n) {
			score += 2
		}
		if score > bestScore {
			best, bestScore = n, score
		}
	}
	if bestScore < 2 {
		return ""
	}
	return best
}
