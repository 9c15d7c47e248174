package config

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Duration is a time.Duration written the way people write them in a
// configuration file: "30s", "10m", "2h", "1d", "1w", or combinations such
// as "1h30m" and "1d12h". The units are ms, s, m, h, d (24 hours) and w
// (7 days); each number is a whole number. "0" needs no unit; any other bare
// number is an error, as is a negative duration.
type Duration time.Duration

// D returns d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

var durationUnits = []struct {
	name string
	size time.Duration
}{
	{"w", 7 * 24 * time.Hour},
	{"d", 24 * time.Hour},
	{"h", time.Hour},
	{"m", time.Minute},
	{"s", time.Second},
	{"ms", time.Millisecond},
}

// String formats d with the largest units first, such as "1w", "1d12h" or
// "10m"; zero is "0s". Sub-millisecond remainders are dropped.
func (d Duration) String() string {
	if d == 0 {
		return "0s"
	}
	v := time.Duration(d)
	var b strings.Builder
	if v < 0 {
		b.WriteByte('-')
		if v == math.MinInt64 {
			return time.Duration(d).String()
		}
		v = -v
	}
	for _, u := range durationUnits {
		if n := v / u.size; n > 0 {
			fmt.Fprintf(&b, "%d%s", n, u.name)
			v -= n * u.size
		}
	}
	if b.Len() == 0 || b.String() == "-" {
		return time.Duration(d).String()
	}
	return b.String()
}

// ParseDuration parses a Duration as described on the type.
func ParseDuration(s string) (Duration, error) {
	d, err := parseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("invalid duration %q: %w", s, err)
	}
	return d, nil
}

// parseDuration is ParseDuration with errors that do not repeat the input,
// so that callers can decide whether the input may be shown.
func parseDuration(s string) (Duration, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return 0, errors.New("empty")
	case s == "0":
		return 0, nil
	case s[0] == '-':
		return 0, errors.New("a duration cannot be negative")
	}
	var total time.Duration
	for rest := s; rest != ""; {
		i := 0
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		if i == 0 {
			return 0, errors.New("expected a number, such as 10m or 1h30m")
		}
		digits := rest[:i]
		rest = rest[i:]
		j := 0
		for j < len(rest) && (rest[j] < '0' || rest[j] > '9') {
			j++
		}
		unit := rest[:j]
		rest = rest[j:]
		if unit == "" {
			return 0, errors.New("add a unit, such as 10m (units: ms, s, m, h, d, w)")
		}
		var size time.Duration
		for _, u := range durationUnits {
			if u.name == unit {
				size = u.size
			}
		}
		if size == 0 {
			return 0, fmt.Errorf("unknown unit %q (units: ms, s, m, h, d, w)", unit)
		}
		var n int64
		for _, c := range digits {
			if n > (math.MaxInt64-int64(c-'0'))/10 {
				return 0, errors.New("too large")
			}
			n = n*10 + int64(c-'0')
		}
		if n > math.MaxInt64/int64(size) {
			return 0, errors.New("too large")
		}
		part := time.Duration(n) * size
		if total > math.MaxInt64-part {
			return 0, errors.New("too large")
		}
		total += part
	}
	return Duration(total), nil
}

// UnmarshalYAML parses a scalar node with ParseDuration. A bad value is
// reported as a *yaml.TypeError naming the node's line, so that decoding
// continues and reports the other problems too.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: expected a duration such as 10m", n.Line)}}
	}
	v, err := ParseDuration(n.Value)
	if err != nil {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: %v", n.Line, err)}}
	}
	*d = v
	return nil
}

// MarshalText formats d with String, so that d round-trips through YAML and
// JSON.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText parses text with ParseDuration.
func (d *Duration) UnmarshalText(text []byte) error {
	v, err := ParseDuration(string(text))
	if err != nil {
		return err
	}
	*d = v
	return nil
}
