package config

import (
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

func TestParseDuration(t *testing.T) {
	good := map[string]time.Duration{
		"0":       0,
		"0m":      0,
		"0s":      0,
		"30s":     30 * time.Second,
		"10m":     10 * time.Minute,
		"2h":      2 * time.Hour,
		"1d":      24 * time.Hour,
		"1w":      7 * 24 * time.Hour,
		"1h30m":   90 * time.Minute,
		"1d12h":   36 * time.Hour,
		"500ms":   500 * time.Millisecond,
		"1m30s":   90 * time.Second,
		" 5m ":    5 * time.Minute,
		"2w3d4h":  (14+3)*24*time.Hour + 4*time.Hour,
		"90m":     90 * time.Minute,
		"1s500ms": 1500 * time.Millisecond,
	}
	for in, want := range good {
		got, err := ParseDuration(in)
		if err != nil || got.D() != want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	bad := map[string]string{
		"":                      "empty",
		"15":                    "add a unit",
		"1h30":                  "add a unit",
		"-5m":                   "negative",
		"5x":                    `unknown unit "x"`,
		"1.5h":                  `unknown unit "."`,
		"m":                     "expected a number",
		"+5m":                   "expected a number",
		"5 m":                   `unknown unit " m"`,
		"99999999999999999999w": "too large",
		"15300w":                "too large",
		"9223372036854775807s":  "too large",
	}
	for in, want := range bad {
		_, err := ParseDuration(in)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseDuration(%q) error = %v, want it to contain %q", in, err, want)
		}
	}
}

func TestDurationString(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0:                            "0s",
		10 * time.Minute:             "10m",
		36 * time.Hour:               "1d12h",
		7 * 24 * time.Hour:           "1w",
		1500 * time.Millisecond:      "1s500ms",
		-90 * time.Second:            "-1m30s",
		time.Microsecond:             "1µs",
		8*24*time.Hour + time.Second: "1w1d1s",
	} {
		if got := Duration(d).String(); got != want {
			t.Errorf("Duration(%v).String() = %q, want %q", d, got, want)
		}
		if d >= 0 && d%time.Millisecond == 0 {
			back, err := ParseDuration(Duration(d).String())
			if err != nil || back.D() != d {
				t.Errorf("round trip of %v = %v, %v", d, back, err)
			}
		}
	}
}

func TestDurationYAML(t *testing.T) {
	var v struct {
		A Duration `yaml:"a"`
		B Duration `yaml:"b"`
	}
	err := yaml.Unmarshal([]byte("a: 1d\nb: 5\n"), &v)
	if err == nil || !strings.Contains(err.Error(), "line 2: invalid duration \"5\"") {
		t.Errorf("err = %v", err)
	}
	if v.A.D() != 24*time.Hour {
		t.Errorf("a = %v; decoding should continue past a bad value", v.A)
	}
	out, err := yaml.Marshal(struct{ D Duration }{Duration(90 * time.Minute)})
	if err != nil || string(out) != "d: 1h30m\n" {
		t.Errorf("Marshal = %q, %v", out, err)
	}
}
