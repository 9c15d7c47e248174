// Package alerttest holds the test helpers that the alert source packages
// (alertmanager, grafana, generic) share: reading sample bodies, comparing
// parsed batches, checking error messages, and the checks that every fuzz
// target runs on a parser's result.
//
// It is imported only by tests.
package alerttest

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/warroomhq/warroom/incidents"
)

// ReadBody returns the file testdata/name of the package under test.
func ReadBody(t testing.TB, name string) []byte {
	t.Helper()
	body, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return body
}

// MustParse parses body with parse and fails unless that succeeds and the
// batch is valid.
func MustParse(t testing.TB, parse func([]byte) (*incidents.AlertBatch, error), body []byte) *incidents.AlertBatch {
	t.Helper()
	b, err := parse(body)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if err := b.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	return b
}

// UTC returns the RFC 3339 time s in UTC. It panics if s is not one.
func UTC(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

// CheckBatch compares every field of got with want, except Raw, which must be
// body. Times must be equal instants in UTC.
func CheckBatch(t testing.TB, got *incidents.AlertBatch, body []byte, want incidents.AlertBatch) {
	t.Helper()
	if string(got.Raw) != string(body) {
		t.Errorf("Raw is not the body")
	}
	if got.Source != want.Source || got.Receiver != want.Receiver || got.ExternalURL != want.ExternalURL || got.Title != want.Title {
		t.Errorf("batch = {Source:%q Receiver:%q ExternalURL:%q Title:%q}, want {Source:%q Receiver:%q ExternalURL:%q Title:%q}",
			got.Source, got.Receiver, got.ExternalURL, got.Title, want.Source, want.Receiver, want.ExternalURL, want.Title)
	}
	if len(got.Alerts) != len(want.Alerts) {
		t.Fatalf("%d alerts, want %d", len(got.Alerts), len(want.Alerts))
	}
	for i := range want.Alerts {
		g, w := got.Alerts[i], want.Alerts[i]
		for _, tm := range []struct {
			name      string
			got, want time.Time
		}{{"StartsAt", g.StartsAt, w.StartsAt}, {"EndsAt", g.EndsAt, w.EndsAt}} {
			if !tm.got.Equal(tm.want) || tm.got.IsZero() != tm.want.IsZero() || tm.got.Location() != time.UTC {
				t.Errorf("alert %d: %s = %v (%v), want %v in UTC", i, tm.name, tm.got, tm.got.Location(), tm.want)
			}
		}
		g.StartsAt, g.EndsAt, w.StartsAt, w.EndsAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
		if !reflect.DeepEqual(g, w) {
			t.Errorf("alert %d:\n got %#v\nwant %#v", i, g, w)
		}
	}
}

// CheckInvalid checks the result of parsing a wrong body: err must be an
// *incidents.ValidationError for field, on one line, whose message contains
// want, and b must be nil.
func CheckInvalid(t testing.TB, b *incidents.AlertBatch, err error, field, want string) {
	t.Helper()
	if err == nil {
		t.Fatalf("Parse = %+v, want an error", b)
	}
	var ve *incidents.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("error %T %v, want *incidents.ValidationError", err, err)
	}
	if ve.Field != field || !strings.Contains(err.Error(), want) {
		t.Errorf("error (field %q) %q; want field %q and a message containing %q", ve.Field, err, field, want)
	}
	if strings.Contains(err.Error(), "\n") {
		t.Errorf("error %q has more than one line", err)
	}
	if b != nil {
		t.Errorf("Parse returned a batch and an error")
	}
}

// Seed adds to f's seed corpus the package's testdata/*.json files, bodies
// that no format accepts (empty, null, an empty object, a null alert), and
// bodies.
func Seed(f *testing.F, bodies ...string) {
	f.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no seed bodies: %v", err)
	}
	for _, name := range files {
		body, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(body)
	}
	for _, s := range append([]string{``, `null`, `{}`, `{"alerts":[null]}`}, bodies...) {
		f.Add([]byte(s))
	}
}

// CheckParsed holds the checks that hold for whatever body a parser is given.
// With an error, b must be nil and the error one line. Without, b must be
// valid and have alerts, each with a valid status, non-nil labels and
// annotations, and a title, and every URL in b must be empty or http(s).
func CheckParsed(t testing.TB, b *incidents.AlertBatch, err error) {
	t.Helper()
	if err != nil {
		if b != nil {
			t.Fatalf("Parse returned a batch and an error")
		}
		if strings.Contains(err.Error(), "\n") {
			t.Fatalf("error %q has more than one line", err)
		}
		return
	}
	if err := b.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	if len(b.Alerts) == 0 {
		t.Fatalf("a batch without alerts")
	}
	checkURL(t, "ExternalURL", b.ExternalURL)
	for i, a := range b.Alerts {
		if !a.Status.Valid() {
			t.Fatalf("alert %d: status %q", i, a.Status)
		}
		if a.Labels == nil || a.Annotations == nil {
			t.Fatalf("alert %d: nil labels or annotations", i)
		}
		if a.Title == "" {
			t.Fatalf("alert %d: no title", i)
		}
		checkURL(t, "GeneratorURL", a.GeneratorURL)
		checkURL(t, "RunbookURL", a.RunbookURL)
		for _, l := range a.Links {
			if !strings.HasPrefix(l.URL, "http://") && !strings.HasPrefix(l.URL, "https://") {
				t.Fatalf("alert %d: link %q to %q", i, l.Title, l.URL)
			}
		}
	}
}

// checkURL fails unless u is empty or an http(s) URL.
func checkURL(t testing.TB, name, u string) {
	t.Helper()
	if u != "" && !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
		t.Fatalf("%s %q", name, u)
	}
}
