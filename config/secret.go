package config

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strconv"
)

const redacted = "[redacted]"

// Secret is a string that must not leak: a token, a signing secret or a
// routing key. Every way of printing, logging or marshalling it yields
// "[redacted]" (or "" when it is empty); only Reveal returns the value.
// Validation messages never echo a Secret.
//
// One gap remains: when fmt meets a verb that does not suit an operand,
// such as %s or %d on a struct that holds pointers, it prints the operand
// without calling any methods, and so a Secret inside it. Print
// configurations with %v, %+v or %#v.
type Secret string

// Reveal returns the secret value, for the one place that needs it (an
// Authorization header, an HMAC key).
func (s Secret) Reveal() string { return string(s) }

// IsSet reports whether the secret is non-empty.
func (s Secret) IsSet() bool { return s != "" }

// String returns "[redacted]", or "" when the secret is empty.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return redacted
}

// GoString returns the same as String, so that %#v does not leak the value.
func (s Secret) GoString() string { return s.String() }

// Format makes every fmt verb print the redacted form, so that even %d or
// %x on a Secret cannot print its value; %q quotes it.
func (s Secret) Format(f fmt.State, verb rune) {
	if verb == 'q' {
		io.WriteString(f, strconv.Quote(s.String()))
		return
	}
	io.WriteString(f, s.String())
}

// MarshalJSON encodes the redacted form.
func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// MarshalYAML encodes the redacted form.
func (s Secret) MarshalYAML() (any, error) { return s.String(), nil }

// LogValue makes log/slog print the redacted form.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

var (
	_ slog.LogValuer = Secret("")
	_ json.Marshaler = Secret("")
	_ fmt.Formatter  = Secret("")
)
