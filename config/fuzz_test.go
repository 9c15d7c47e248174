package config

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// fuzzSecret is what the fuzz environment returns for variables it does
// not know, standing for a secret that must not reach an error message.
const fuzzSecret = "Zq7SECRETzQ"

var fuzzEnv = map[string]string{
	"DUR":   "10m",
	"URL":   "https://hooks.example.com/x",
	"NAME":  "alice",
	"SEV":   "sev1",
	"YAML":  "x: y\n- z\n{a: [b]}",
	"EMPTY": "",
}

func fuzzGetenv(name string) string {
	if v, ok := fuzzEnv[name]; ok {
		return v
	}
	return fuzzSecret
}

func FuzzLoad(f *testing.F) {
	f.Add(readExample(f))
	f.Add([]byte(base))
	for _, s := range []string{
		"slack:\n  chanel: x\n",
		"alerts:\n  reopen_within: ${DUR}\n  routes:\n    - match: { a: '=~^x$', b: '!=y', c: '!~z' }\n      severity: ${SEV}\n",
		"digest:\n  schedule: 'CRON_TZ=Europe/Berlin 0 9 * * MON'\n  channel: '#d'\n",
		"people:\n  a: &p { slack: U01A }\n  b: *p\nschedules:\n  s: &s\n    rotation: { every: 1w, handoff: 'Mon 09:00', start: '2026-11-02' }\n    members: [a, b]\n  t:\n    <<: *s\n",
		"server:\n  listen: ${TOKEN}\n  public_url: ${URL}\npostmortem:\n  template: ${YAML}\n",
		"a: &a [*a, *a]\nb: &b [*a, *a, *a]\n",
		"---\nserver: {}\n---\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Load(data, fuzzGetenv)
		if err != nil {
			if c != nil {
				t.Fatalf("Load returned both a config and an error")
			}
			errs, ok := errors.AsType[*Errors](err)
			if !ok || len(errs.Problems) == 0 {
				t.Fatalf("error %T %q is not an *Errors with problems", err, err)
			}
			msg := err.Error()
			if !bytes.Contains(data, []byte(fuzzSecret)) && strings.Contains(msg, fuzzSecret) {
				t.Fatalf("error leaks a value from the environment:\n%s", msg)
			}
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("Load accepted a config that Validate rejects: %v", err)
		}
	})
}
