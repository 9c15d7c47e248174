// Package alertjson holds what the alert source packages (alertmanager,
// grafana, generic) share in turning a webhook body into incidents values:
// decoding JSON, checking statuses, times and URLs, computing Alertmanager's
// fingerprint, and converting the fields that Alertmanager's and Grafana's
// alerts have in common.
//
// Every error it returns is an *incidents.ValidationError whose message is a
// sentence for the sender that names the field at fault, such as
// field "alerts[2].status" must be "firing" or "resolved", not "ok".
// Fields are paths into the body: "alerts[2].labels.env", or "body" for the
// body as a whole.
package alertjson

import (
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"maps"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/warroomhq/warroom/incidents"
)

// Invalid returns an error for the sender: msg, a sentence, explains what is
// wrong with field.
func Invalid(field, msg string) error {
	return &incidents.ValidationError{Field: field, Msg: msg}
}

// Decode unmarshals data, which sits at field of the body ("" for the body
// itself), into v, and turns JSON errors into sentences for the sender that
// name the field with the wrong type.
func Decode(data []byte, field string, v any) error {
	err := json.Unmarshal(data, v)
	var (
		syntax *json.SyntaxError
		typ    *json.UnmarshalTypeError
	)
	switch {
	case err == nil:
		return nil
	case errors.As(err, &syntax):
		return Invalid("body", fmt.Sprintf("body is not valid JSON at byte %d: %v", syntax.Offset, syntax))
	case errors.As(err, &typ):
		path := field
		if typ.Field != "" {
			path = strings.TrimPrefix(field+"."+typ.Field, ".")
		}
		if path == "" {
			return Invalid("body", "body must be a JSON object, not "+jsonKind(typ.Value))
		}
		return Invalid(path, fmt.Sprintf("field %q must be %s, not %s", path, goKind(typ.Type), jsonKind(typ.Value)))
	default:
		return Invalid("body", "body is not valid JSON: "+err.Error())
	}
}

// jsonKind names a JSON value as json.UnmarshalTypeError.Value has it
// ("number", "number -1", "string", "bool", "array", "object").
func jsonKind(value string) string {
	kind, _, _ := strings.Cut(value, " ")
	switch kind {
	case "number":
		return "a number"
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "array":
		return "a list"
	case "object":
		return "an object"
	}
	return kind
}

// goKind names the JSON value that t is decoded from.
func goKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Map, reflect.Struct:
		return "an object"
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return "a number"
	}
	return t.String()
}

// StringMap converts m, the JSON object of strings at field, decoded into
// map[string]any; null values are dropped. The result is never nil. Keys are
// checked in sorted order, so the error for an object with several wrong
// values is always the same.
func StringMap(field string, m map[string]any) (map[string]string, error) {
	out := make(map[string]string, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		switch v := m[k].(type) {
		case string:
			out[k] = v
		case nil:
		default:
			path := field + "." + k
			return nil, Invalid(path, fmt.Sprintf("field %q must be a string, not %s", path, ValueKind(v)))
		}
	}
	return out, nil
}

// ValueKind names, for an error message, a JSON value decoded into any
// ("a number", "true or false", "a list", "an object", "a string").
func ValueKind(v any) string {
	switch v.(type) {
	case float64:
		return "a number"
	case bool:
		return "true or false"
	case []any:
		return "a list"
	case map[string]any:
		return "an object"
	}
	return "a string"
}

// ParseStatus reads the alert status at field, which must be "firing" or
// "resolved".
func ParseStatus(field, s string) (incidents.AlertStatus, error) {
	status := incidents.AlertStatus(s)
	switch {
	case status.Valid():
		return status, nil
	case s == "":
		return "", Invalid(field, fmt.Sprintf(`field %q is missing; it must be "firing" or "resolved"`, field))
	}
	return "", Invalid(field, fmt.Sprintf(`field %q must be "firing" or "resolved", not %s`, field, Quote(s)))
}

// ParseTime reads the RFC 3339 time at field as UTC. Empty and Go's zero time
// ("0001-01-01T00:00:00Z", Alertmanager's endsAt of a firing alert) are the
// zero time.
func ParseTime(field, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, Invalid(field, fmt.Sprintf(`field %q is not an RFC 3339 time: %s (use a time like "2026-11-21T10:00:00Z")`, field, Quote(s)))
	}
	if t.IsZero() {
		return time.Time{}, nil
	}
	return t.UTC(), nil
}

// Common is the part of an alert that Alertmanager's and Grafana's webhook
// bodies share, under the same JSON names; Grafana's alert is
// Alertmanager's with more fields. Labels and Annotations hold strings only,
// so a body decoded into map[string]any goes through StringMap first.
type Common struct {
	Status       string            `json:"status"`
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     string            `json:"startsAt"`
	EndsAt       string            `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL"`
	Fingerprint  string            `json:"fingerprint"`
}

// Alert checks c, the alert at field, and converts it to the fields of an
// incidents.Alert that it holds. It checks status, startsAt and endsAt in
// that order, with ParseStatus and ParseTime. Labels and Annotations are
// never nil. The fingerprint is trimmed; a blank one is the one Alertmanager
// computes from the labels (see Fingerprint). GeneratorURL is kept only when
// HTTPURL accepts it. The caller fills in the rest, such as Title.
func (c *Common) Alert(field string) (incidents.Alert, error) {
	status, err := ParseStatus(field+".status", c.Status)
	if err != nil {
		return incidents.Alert{}, err
	}
	startsAt, err := ParseTime(field+".startsAt", c.StartsAt)
	if err != nil {
		return incidents.Alert{}, err
	}
	endsAt, err := ParseTime(field+".endsAt", c.EndsAt)
	if err != nil {
		return incidents.Alert{}, err
	}
	a := incidents.Alert{
		Fingerprint: strings.TrimSpace(c.Fingerprint),
		Status:      status,
		Labels:      c.Labels,
		Annotations: c.Annotations,
		StartsAt:    startsAt,
		EndsAt:      endsAt,
	}
	if a.Labels == nil {
		a.Labels = map[string]string{}
	}
	if a.Annotations == nil {
		a.Annotations = map[string]string{}
	}
	if a.Fingerprint == "" {
		a.Fingerprint = Fingerprint(a.Labels)
	}
	a.GeneratorURL, _ = HTTPURL(c.GeneratorURL)
	return a, nil
}

// HTTPURL returns s, trimmed, when it is an absolute http or https URL, with
// its scheme in lower case. It refuses anything else, such as a relative
// path or a javascript: URL.
func HTTPURL(s string) (string, bool) {
	s = strings.TrimSpace(s)
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return "", false
	}
	return u.Scheme + s[len(u.Scheme):], true
}

// FirstNonEmpty returns the first of values that is not blank, trimmed, or "".
func FirstNonEmpty(values ...string) string {
	for _, v := range values {
		if v = strings.TrimSpace(v); v != "" {
			return v
		}
	}
	return ""
}

// Quote quotes s for an error message, shortened to 64 characters.
func Quote(s string) string {
	const limit = 64
	if utf8.RuneCountInString(s) > limit {
		s = string([]rune(s)[:limit]) + "…"
	}
	return strconv.Quote(s)
}

// Fingerprint is the fingerprint that Alertmanager, and so Grafana, gives an
// alert with labels (Prometheus' model.LabelSet.Fingerprint): FNV-64a over
// the sorted names and values, each followed by the byte 0xff, as 16 hex
// digits.
func Fingerprint(labels map[string]string) string {
	h := fnv.New64a()
	sep := []byte{0xff}
	for _, name := range slices.Sorted(maps.Keys(labels)) {
		_, _ = io.WriteString(h, name)
		_, _ = h.Write(sep)
		_, _ = io.WriteString(h, labels[name])
		_, _ = h.Write(sep)
	}
	return fmt.Sprintf("%016x", h.Sum64())
}

// UnquoteMeta undoes the regexp.QuoteMeta that Alertmanager's template data,
// which Grafana uses too, applies to the receiver's name in webhook bodies
// ("team\.db" for "team.db").
func UnquoteMeta(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) && strings.IndexByte(`\.+*?()|[]{}^$`, s[i+1]) >= 0 {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
