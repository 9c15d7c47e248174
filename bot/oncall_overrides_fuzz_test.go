package bot

import (
	"strconv"
	"strings"
	"testing"
)

// FuzzOverrideCancelArgs feeds the text after "/incident oncall override
// cancel" to its parser: it never panics, refuses with a *UsageError, or
// returns a positive ID written in the input.
func FuzzOverrideCancelArgs(f *testing.F) {
	for _, s := range []string{"12", "#12", "", "1 2", "-1", "0", "#", "99999999999999999999", "&lt;12&gt;", "<#C123|x>", "１２"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		id, err := parseOverrideID(argWords(text))
		if err != nil {
			if _, ok := err.(*UsageError); !ok {
				t.Fatalf("parseOverrideID(%q): %T %v, want a *UsageError", text, err, err)
			}
			return
		}
		if id <= 0 || !strings.Contains(text, strconv.FormatInt(id, 10)) {
			t.Fatalf("parseOverrideID(%q) = %d", text, id)
		}
	})
}
