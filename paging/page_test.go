package paging

import (
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/warroomhq/warroom/incidents"
)

func steps(afters ...time.Duration) []Step {
	out := make([]Step, len(afters))
	for i, a := range afters {
		out[i] = Step{After: a, Targets: []Target{{Kind: TargetPerson, Name: "bob"}}}
	}
	return out
}

func TestRoundLength(t *testing.T) {
	m := time.Minute
	for _, tc := range []struct {
		afters []time.Duration
		want   time.Duration
	}{
		{[]time.Duration{0, 10 * m, 20 * m}, 30 * m}, // the last step waits as long as the one before it
		{[]time.Duration{0, 5 * m, 30 * m}, 55 * m},
		{[]time.Duration{0}, DefaultRepeatGap},           // nothing to go by
		{[]time.Duration{5 * m}, 5*m + DefaultRepeatGap}, // the wait before the first step is no gap
		{[]time.Duration{0, 10 * m, 10 * m}, 20 * m},     // steps at the same time: the gap before them
		{[]time.Duration{0, 0}, DefaultRepeatGap},        // all at once
	} {
		p := Policy{Steps: steps(tc.afters...)}
		if got := p.RoundLength(); got != tc.want {
			t.Errorf("steps at %v: round of %v, want %v", tc.afters, got, tc.want)
		}
	}
}

func TestDeadlineAndNext(t *testing.T) {
	start := time.Date(2026, 11, 3, 14, 0, 0, 0, time.UTC)
	p := Policy{Steps: steps(0, 10*time.Minute, 20*time.Minute), Repeat: 1}
	var got []string
	r, s, ok := 0, 0, true
	for ; ok; r, s, ok = p.Next(r, s) {
		got = append(got, p.Deadline(start, r, s).Format("15:04"))
	}
	if strings.Join(got, " ") != "14:00 14:10 14:20 14:30 14:40 14:50" {
		t.Errorf("deadlines: %v", got)
	}
}

func TestPolicyCheck(t *testing.T) {
	good := Policy{Name: "p", Steps: steps(0, time.Minute)}
	if err := good.Check(); err != nil {
		t.Errorf("good policy: %v", err)
	}
	for name, p := range map[string]Policy{
		"no steps":     {Name: "p"},
		"out of order": {Name: "p", Steps: steps(time.Minute, 0)},
		"negative":     {Name: "p", Steps: steps(-time.Minute)},
		"no targets":   {Name: "p", Steps: []Step{{}}},
		"service":      {Name: "p", Steps: []Step{{Targets: []Target{{Kind: TargetService, Name: "x"}}}}},
		"negative rpt": {Name: "p", Steps: steps(0), Repeat: -1},
	} {
		if err := p.Check(); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestParseTarget(t *testing.T) {
	for _, s := range []string{"person:bob", "schedule:payments-primary", "channel:#payments", "user:U1", "service:checkout"} {
		got, err := ParseTarget(s)
		if err != nil || got.String() != s {
			t.Errorf("ParseTarget(%q) = %v, %v", s, got, err)
		}
	}
	for _, s := range []string{"", "bob", "person:", "team:x"} {
		if _, err := ParseTarget(s); err == nil {
			t.Errorf("ParseTarget(%q): no error", s)
		}
	}
}

func TestResolveTarget(t *testing.T) {
	s := &Service{opts: Options{
		People:    []string{"alice", "bob"},
		Schedules: []string{"payments-primary"},
		Services:  map[string]string{"checkout": "payments"},
	}}
	for in, want := range map[string]string{
		"alice":                     "person:alice",
		"@Bob":                      "person:bob",
		"payments-primary":          "schedule:payments-primary",
		"CHECKOUT":                  "service:checkout",
		"schedule:payments-primary": "schedule:payments-primary",
		"service:checkout":          "service:checkout",
	} {
		got, err := s.ResolveTarget(in)
		if err != nil || got.String() != want {
			t.Errorf("ResolveTarget(%q) = %v, %v; want %s", in, got, err, want)
		}
	}
	for _, in := range []string{"erin", "schedule:alice", "person:checkout", ""} {
		_, err := s.ResolveTarget(in)
		var ve *incidents.ValidationError
		if !errors.As(err, &ve) {
			t.Errorf("ResolveTarget(%q): %v, want a validation error", in, err)
		}
	}
}

// TestPagingImportsNoVendorPackage keeps paging a domain package: the
// standard library and Warroom's own vendor-free packages only.
func TestPagingImportsNoVendorPackage(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", ".").CombinedOutput()
	if err != nil {
		t.Skipf("go list unavailable: %v\n%s", err, out)
	}
	allowed := map[string]bool{
		"github.com/warroomhq/warroom/paging":    true,
		"github.com/warroomhq/warroom/incidents": true,
		"github.com/warroomhq/warroom/jobs":      true,
	}
	for _, dep := range strings.Fields(string(out)) {
		if !allowed[dep] {
			t.Errorf("paging depends on %s; keep vendor and adapter packages out of it", dep)
		}
	}
}

// FuzzResolveTarget: what follows /incident page is typed by people; it
// resolves to a configured name or a clear error, never a panic.
func FuzzResolveTarget(f *testing.F) {
	s := &Service{opts: Options{
		People:    []string{"alice", "bob"},
		Schedules: []string{"payments-primary"},
		Services:  map[string]string{"checkout": "payments"},
	}}
	for _, w := range []string{"alice", "@bob", "schedule:payments-primary", "service:", ":", "person:ALICE", "x:y:z", ""} {
		f.Add(w)
	}
	f.Fuzz(func(t *testing.T, w string) {
		got, err := s.ResolveTarget(w)
		if err != nil {
			var ve *incidents.ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("%q: %v is not a validation error", w, err)
			}
			return
		}
		if _, err := ParseTarget(got.String()); err != nil {
			t.Fatalf("%q resolved to %v, which does not parse: %v", w, got, err)
		}
	})
}
