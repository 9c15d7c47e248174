package bot

import (
	"math"
	"strings"
	"testing"

	"github.com/warroomhq/warroom/incidents"
)

var unescaper = strings.NewReplacer("&amp;", "&", "&lt;", "<", "&gt;", ">")

func FuzzEscape(f *testing.F) {
	for _, s := range []string{"", "<!channel>", "a & b", "&amp;", "&lt;&gt;", "<@U123|x>", "\xff<"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := Escape(s)
		if strings.ContainsAny(got, "<>") {
			t.Fatalf("Escape(%q) = %q contains < or >", s, got)
		}
		for i := range len(got) {
			if got[i] != '&' {
				continue
			}
			rest := got[i:]
			if !strings.HasPrefix(rest, "&amp;") && !strings.HasPrefix(rest, "&lt;") && !strings.HasPrefix(rest, "&gt;") {
				t.Fatalf("Escape(%q) = %q has a raw & at %d", s, got, i)
			}
		}
		if back := unescaper.Replace(got); back != s {
			t.Fatalf("unescaping Escape(%q) = %q gives %q", s, got, back)
		}
	})
}

func FuzzChannelName(f *testing.F) {
	f.Add("inc", int64(7), "Checkout is down", 0)
	f.Add("inc", int64(7), "Café in Zürich: Straße", 1)
	f.Add("", int64(-1), "🔥🔥🔥", 998)
	f.Add("Ops Team!", int64(math.MaxInt64), strings.Repeat("word ", 40), 999)
	f.Add(strings.Repeat("p", 100), int64(math.MinInt64), strings.Repeat("a", 100)+" 1000", math.MaxInt)
	f.Add("inc", int64(7), "the payment service is down 2", 1)
	f.Fuzz(func(t *testing.T, prefix string, id int64, title string, attempt int) {
		if attempt < 0 {
			attempt = -(attempt + 1) // attempts are counted from 0
		}
		name := ChannelName(prefix, incidents.ID(id), title, attempt)
		if !channelNameRE.MatchString(name) {
			t.Fatalf("ChannelName(%q, %d, %q, %d) = %q is not valid", prefix, id, title, attempt, name)
		}
		if strings.HasSuffix(name, "-") {
			t.Fatalf("ChannelName(%q, %d, %q, %d) = %q ends in -", prefix, id, title, attempt, name)
		}
		others := []int{0, 1, 2, 997, 998, 999, 1000, attempt / 2}
		if attempt < math.MaxInt {
			others = append(others, attempt+1)
		}
		for _, other := range others {
			if other == attempt {
				continue
			}
			if o := ChannelName(prefix, incidents.ID(id), title, other); o == name {
				t.Fatalf("attempts %d and %d both give %q (prefix %q, id %d, title %q)", attempt, other, name, prefix, id, title)
			}
		}
	})
}
