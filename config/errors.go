package config

import (
	"fmt"
	"sort"
	"strings"
)

// Problem is one thing wrong with a configuration.
type Problem struct {
	// Line is the 1-based line of the offending YAML node, or 0 when the
	// configuration was not loaded from YAML or the line is unknown.
	Line int
	// Path is the dotted key path of the offending value, such as
	// "schedules.payments-primary.members[1]", or "" for the whole file.
	Path string
	// Msg says what is wrong. It never contains a Secret.
	Msg string
}

// String formats the problem as "line 12: slack: unknown key \"chanel\"".
func (p Problem) String() string {
	var b strings.Builder
	if p.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", p.Line)
	}
	if p.Path != "" {
		b.WriteString(p.Path)
		b.WriteString(": ")
	}
	b.WriteString(p.Msg)
	return b.String()
}

// Errors is the error returned by Load, LoadFile and Validate. It holds every
// problem found, so that a user can fix them all in one go.
type Errors struct {
	// File is the name of the file the configuration came from, if any.
	File string
	// Problems are sorted by line.
	Problems []Problem
}

// Error lists the problems one per line, sorted by line, each prefixed with
// the file name when there is one.
func (e *Errors) Error() string {
	ps := append([]Problem(nil), e.Problems...)
	sort.SliceStable(ps, func(i, j int) bool { return ps[i].Line < ps[j].Line })
	lines := make([]string, len(ps))
	for i, p := range ps {
		if e.File != "" {
			lines[i] = e.File + ": " + p.String()
		} else {
			lines[i] = p.String()
		}
	}
	if len(lines) == 0 {
		if e.File != "" {
			return e.File + ": invalid configuration"
		}
		return "invalid configuration"
	}
	return strings.Join(lines, "\n")
}

// problems collects Problems while walking or validating a configuration.
type problems struct {
	list []Problem
}

func (ps *problems) add(line int, path, format string, args ...any) {
	ps.list = append(ps.list, Problem{Line: line, Path: path, Msg: fmt.Sprintf(format, args...)})
}

// err returns the collected problems as an *Errors sorted by line, or nil
// when there are none.
func (ps *problems) err() error {
	if len(ps.list) == 0 {
		return nil
	}
	list := append([]Problem(nil), ps.list...)
	sort.SliceStable(list, func(i, j int) bool { return list[i].Line < list[j].Line })
	return &Errors{Problems: list}
}
