package bot

import (
	"fmt"
	"testing"
)

// FuzzParsePageValue: an Acknowledge button's value comes back from Slack;
// whatever it holds, parsing never panics, and what it accepts formats back
// to the same incident and page.
func FuzzParsePageValue(f *testing.F) {
	for _, s := range []string{"INC-7|12", "7|1", "INC-7|", "|12", "INC-0|1", "INC-7|-1", "INC-7|12|3", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		id, page, err := parsePageValue(v)
		if err != nil {
			return
		}
		if id <= 0 || page <= 0 {
			t.Fatalf("%q accepted as %v, %d", v, id, page)
		}
		id2, page2, err := parsePageValue(fmt.Sprintf("%s|%d", id, page))
		if err != nil || id2 != id || page2 != page {
			t.Fatalf("%q: round trip gave %v, %d, %v", v, id2, page2, err)
		}
	})
}
