package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/warroomhq/warroom/incidents"
	"github.com/warroomhq/warroom/postmortem"
)

const postmortemUsage = `Usage:
  warroom postmortem <id> [--config FILE] [--db PATH] [--out FILE]
      write the postmortem draft of incident <id> (42 or INC-42)
  warroom postmortem lint FILE
      report blaming language in a postmortem; exit 1 when there is any
`

// cmdPostmortem writes an incident's postmortem draft from the database
// that serve uses (reading only, so it may run while serve does), or lints
// a postmortem file.
func cmdPostmortem(e *env, args []string) error {
	if len(args) > 0 && args[0] == "lint" {
		return cmdPostmortemLint(e, args[1:])
	}
	fs := e.newFlags("postmortem")
	fs.Usage = func() { fmt.Fprint(e.stderr, postmortemUsage+"\nFlags:\n"); fs.PrintDefaults() }
	cfgPath := fs.String("config", "", "config file for postmortem.template, postmortem.timezone and database.path\n(default $WARROOM_CONFIG or warroom.yaml; without it and with --db: the built-in template, in UTC)")
	db := fs.String("db", "", "SQLite database file (default $WARROOM_DB or database.path)")
	out := fs.String("out", "", "write the draft to this file instead of standard output")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		fs.Usage()
		return errUsage
	}
	id, err := incidents.ParseID(pos[0])
	if err != nil {
		fmt.Fprintf(e.stderr, "warroom postmortem: %v\n", err)
		return errUsage
	}

	dbPath := firstNonEmpty(*db, e.getenv("WARROOM_DB"))
	var (
		templatePath string
		loc          = time.UTC
		names        map[string]string
	)
	if *cfgPath != "" || e.getenv("WARROOM_CONFIG") != "" || dbPath == "" {
		cfg, err := e.loadConfig(e.configPath(*cfgPath))
		if err != nil {
			return err
		}
		dbPath = firstNonEmpty(dbPath, cfg.Database.Path)
		templatePath, loc, names = cfg.Postmortem.Template, cfg.Postmortem.Location, cfg.SlackNames()
	}
	tmpl, err := postmortem.LoadTemplates(templatePath)
	if err != nil {
		return err
	}
	ctx := e.ctx
	st, err := openReadOnly(ctx, dbPath)
	if err != nil {
		return err
	}
	defer st.Close()
	drafter := &postmortem.Drafter{Source: st, Templates: tmpl, Location: loc, Names: names, Items: st}
	md, err := drafter.Draft(ctx, id)
	if err != nil {
		return err
	}
	if *out == "" {
		_, err = e.stdout.Write(md)
		return err
	}
	if err := os.WriteFile(*out, md, 0o644); err != nil {
		return fmt.Errorf("writing the draft: %w", err)
	}
	return nil
}

// cmdPostmortemLint prints each finding of postmortem.Lint as
// FILE:LINE:COL: phrase — suggestion. It exits 1 when there are findings,
// and 2 when the file cannot be read (as grep does), so that a script can
// tell "reword this" from "could not check".
func cmdPostmortemLint(e *env, args []string) error {
	fs := e.newFlags("postmortem lint")
	fs.Usage = func() { fmt.Fprint(e.stderr, postmortemUsage) }
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errUsage
	}
	file := fs.Arg(0)
	data, err := os.ReadFile(file)
	if err != nil {
		return &exitError{code: 2, msg: err.Error()}
	}
	findings := postmortem.Lint(data)
	var b bytes.Buffer
	for _, f := range findings {
		fmt.Fprintf(&b, "%s:%d:%d: %s — %s\n", file, f.Line, f.Column, f.Phrase, f.Suggestion)
	}
	if _, err := e.stdout.Write(b.Bytes()); err != nil {
		return err
	}
	if len(findings) > 0 {
		return &exitError{code: 1, msg: fmt.Sprintf("%s: %d %s of blaming language", file, len(findings), plural(len(findings), "passage", "passages"))}
	}
	return nil
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// parseInterspersed parses flags that may come before or after the
// positional arguments ("postmortem 42 --db w.db") and returns those.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := parse(fs, args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		rest := fs.Args()
		if len(args) > len(rest) && args[len(args)-len(rest)-1] == "--" {
			return append(pos, rest...), nil // everything after -- is positional
		}
		pos, args = append(pos, rest[0]), rest[1:]
	}
}
