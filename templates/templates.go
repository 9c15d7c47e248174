// Package templates holds Warroom's text templates (timeline, and later the
// postmortem, the digest and messages). They are embedded in the binary; a
// directory given to New can replace any of them by file name, so a team can
// change wording without rebuilding.
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
