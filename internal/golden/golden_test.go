package golden

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestCheckWritesThenCompares(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "x.golden")
	Check(t, path, "a\nb\n", true, "rerun")
	Check(t, path, "a\nb\n", false, "rerun") // equal: passes

	if d := Diff("a\nb\nc", "a\nB\nc\nd"); !strings.Contains(d, "line 2:\n- b\n+ B") || !strings.Contains(d, "line 4:\n- \n+ d") {
		t.Errorf("Diff = %q", d)
	}
	if d := Diff("same", "same"); d != "" {
		t.Errorf("Diff of equal texts = %q", d)
	}
}
