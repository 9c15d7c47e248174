package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/debug"
	"sort"
	"strings"

	"github.com/warroomhq/warroom/config"
)

// version is set at build time with -ldflags "-X main.version=v1.2.3".
var version = ""

// env is the process environment, passed in so tests can set it.
type env struct {
	ctx    context.Context
	stdout io.Writer
	stderr io.Writer
	getenv func(string) string
}

type command struct {
	summary string
	run     func(e *env, args []string) error
}

// commands is the subcommand table; each subcommand adds itself here.
var commands = map[string]command{
	"serve":        {"run the server (HTTP endpoints, job queue)", cmdServe},
	"migrate":      {"apply database migrations and exit", cmdMigrate},
	"check-config": {"validate a config file and print every problem", cmdCheckConfig},
	"version":      {"print the version", cmdVersion},
	"demo":         {"run Warroom's main job offline and print what happens", cmdDemo},
	"digest":       {"print the incident review digest (also while serve runs)", cmdDigest},
	"postmortem":   {"write an incident's postmortem draft, or lint a postmortem", cmdPostmortem},
	"oncall":       {"show who is on call, and who would be paged for a service", cmdOncall},
	"loadtest":     {"fire alert webhooks at a running Warroom and report throughput", cmdLoadtest},
}

// exitError carries an exit code other than 1.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

// errUsage marks errors that should print usage (exit 2).
var errUsage = errors.New("usage")

func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	e := &env{ctx: ctx, stdout: stdout, stderr: stderr, getenv: getenv}
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "warroom: unknown command %q\n\n", args[0])
		usage(stderr)
		return 2
	}
	err := cmd.run(e, args[1:])
	var ee *exitError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		return 2
	case errors.As(err, &ee):
		if ee.msg != "" {
			fmt.Fprintf(stderr, "warroom %s: %s\n", args[0], ee.msg)
		}
		return ee.code
	}
	fmt.Fprintf(stderr, "warroom %s: %v\n", args[0], err)
	return 1
}

func usage(w io.Writer) {
	fmt.Fprintf(w, "Warroom %s: Slack-native incident response.\n\nUsage: warroom <command> [flags]\n\nCommands:\n", versionString())
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-14s %s\n", n, commands[n].summary)
	}
	fmt.Fprintf(w, "\nRun 'warroom <command> -h' for a command's flags.\n")
}

// newFlags returns a flag set that reports errors to e.stderr.
func (e *env) newFlags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet("warroom "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	return fs
}

// parse parses flags, turning flag errors into usage errors.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	return nil
}

// firstNonEmpty returns the first argument that is not empty.
func firstNonEmpty(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

// configPath is the config file: the flag, else $WARROOM_CONFIG, else
// warroom.yaml in the working directory.
func (e *env) configPath(flagValue string) string {
	return firstNonEmpty(flagValue, e.getenv("WARROOM_CONFIG"), "warroom.yaml")
}

// loadConfig loads and validates the config file.
func (e *env) loadConfig(path string) (*config.Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading config: %w", err)
	}
	cfg, err := config.Load(data, e.getenv)
	if err != nil {
		return nil, fmt.Errorf("config %s:\n%w", path, err)
	}
	return cfg, nil
}

func newLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(firstNonEmpty(level, "info"))); err != nil {
		return nil, fmt.Errorf("log level %q: use debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: l}
	switch strings.ToLower(firstNonEmpty(format, "json")) {
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("log format %q: use json or text", format)
}

func versionString() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			return bi.Main.Version
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				return "dev-" + s.Value[:12]
			}
		}
	}
	return "dev"
}

func cmdVersion(e *env, args []string) error {
	fs := e.newFlags("version")
	if err := parse(fs, args); err != nil {
		return err
	}
	info, _ := debug.ReadBuildInfo()
	goVersion := "unknown"
	if info != nil {
		goVersion = info.GoVersion
	}
	fmt.Fprintf(e.stdout, "warroom %s (%s)\n", versionString(), goVersion)
	return nil
}
