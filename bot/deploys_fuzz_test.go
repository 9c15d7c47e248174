package bot

import (
	"strings"
	"testing"
)

// FuzzRollbackButtonValue feeds "Roll back to this" values, which come back
// from Slack in interaction payloads, through their parser: it never
// panics, and what it accepts is made of the input and renders back to it.
func FuzzRollbackButtonValue(f *testing.F) {
	for _, s := range []string{"INC-7|checkout|v1.4.1", "7|checkout|abc1234", "INC-7|checkout|a|b", "||", "INC-0|x|y", "INC-7||v1", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		id, service, ref, err := parseRollbackTo(v)
		if err != nil {
			return
		}
		if id <= 0 || service == "" || ref == "" {
			t.Fatalf("parseRollbackTo(%q) = %v, %q, %q", v, id, service, ref)
		}
		if !strings.Contains(v, service) || !strings.Contains(v, ref) {
			t.Fatalf("parseRollbackTo(%q) = %q, %q: not from the input", v, service, ref)
		}
	})
}
