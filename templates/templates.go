// Package templates holds Warroom's text templates (the timeline, the
// postmortem draft, and later messages). They are embedded in the binary; a
// directory given to New can replace any of them by file name, and
// Set.ReplaceFile one of them by a file of any name, so a team can change
// wording without rebuilding.
//
// Markdown templates pass every piece of text from people or alerts through
// the md, mdurl and mdlink functions (see MarkdownText), so that it shows as
// written and cannot change the document's structure.
package templates

import (
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"text/template"
	"time"

	"github.com/warroomhq/warroom/incidents"
)

//go:embed files/*.tmpl
var embedded embed.FS

// Set is a parsed set of templates.
type Set struct {
	tmpl *template.Template
}

// Funcs are available in every template.
var Funcs = template.FuncMap{
	"utc":      func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05Z") },
	"clock":    func(t time.Time) string { return t.UTC().Format("15:04:05") },
	"inZone":   inZone,
	"upper":    strings.ToUpper,
	"truncate": truncate,
	"duration": incidents.FormatDuration,
	// Markdown escaping (markdown.go): md for any text from people or
	// alerts, mdurl for a URL, mdlink for a link with text.
	"md":     func(v any) string { return MarkdownText(str(v)) },
	"mdurl":  func(v any) string { return MarkdownURL(str(v)) },
	"mdlink": func(text, u any) string { return MarkdownLink(str(text), str(u)) },
}

// New parses the embedded templates, then those in overrideDir (if not
// empty), which replace embedded ones of the same name.
func New(overrideDir string) (*Set, error) {
	t := template.New("warroom").Funcs(Funcs)
	if err := parseFS(t, embedded, "files"); err != nil {
		return nil, err
	}
	if overrideDir != "" {
		if _, err := os.Stat(overrideDir); err != nil {
			return nil, fmt.Errorf("template directory: %w", err)
		}
		if err := parseFS(t, os.DirFS(overrideDir), "."); err != nil {
			return nil, fmt.Errorf("template directory %s: %w", overrideDir, err)
		}
	}
	return &Set{tmpl: t}, nil
}

func parseFS(t *template.Template, fsys fs.FS, dir string) error {
	matches, err := fs.Glob(fsys, filepath.ToSlash(filepath.Join(dir, "*.tmpl")))
	if err != nil {
		return err
	}
	for _, m := range matches {
		body, err := fs.ReadFile(fsys, m)
		if err != nil {
			return err
		}
		if _, err := t.New(filepath.Base(m)).Parse(string(body)); err != nil {
			return fmt.Errorf("parsing template %s: %w", m, err)
		}
	}
	return nil
}

// ReplaceFile replaces the template called name (a file name such as
// "postmortem.md.tmpl") with the file at path, for a single template that a
// configuration points to. The file is parsed with Funcs; on error the set
// is unchanged. Call it while wiring, before the set is used.
func (s *Set) ReplaceFile(name, path string) error {
	body, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("template %s: %w", name, err)
	}
	if s.tmpl.Lookup(name) == nil {
		return fmt.Errorf("template %s: %w: %s", path, ErrNoTemplate, name)
	}
	// Parse into a scratch set first, so that a broken file leaves s as it is.
	if _, err := template.New(name).Funcs(Funcs).Parse(string(body)); err != nil {
		return fmt.Errorf("parsing template %s: %w", path, err)
	}
	if _, err := s.tmpl.New(name).Parse(string(body)); err != nil {
		return fmt.Errorf("parsing template %s: %w", path, err)
	}
	return nil
}

// Execute renders the template called name (a file name such as
// "timeline.txt.tmpl") with data.
func (s *Set) Execute(w io.Writer, name string, data any) error {
	t := s.tmpl.Lookup(name)
	if t == nil {
		return fmt.Errorf("%w: %s", ErrNoTemplate, name)
	}
	if err := t.Execute(w, data); err != nil {
		return fmt.Errorf("rendering %s: %w", name, err)
	}
	return nil
}

// ErrNoTemplate is returned by Execute for an unknown name.
var ErrNoTemplate = errors.New("no such template")

func inZone(zone string, t time.Time) (string, error) {
	loc, err := time.LoadLocation(zone)
	if err != nil {
		return "", err
	}
	return t.In(loc).Format("15:04 MST"), nil
}

func truncate(n int, s string) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:max(0, n-1)]) + "…"
}
