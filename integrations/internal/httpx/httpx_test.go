package httpx

import (
	"net/http"
	"testing"
	"time"
	"unicode/utf8"
)

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		header string
		want   time.Duration
		ok     bool
	}{
		{"", 0, false},
		{"120", 2 * time.Minute, true},
		{" 7 ", 7 * time.Second, true},
		{"0", 0, true},
		{"-3", 0, false},
		{"1.5", 0, false},
		{"soon", 0, false},
		{"99999999999999999", 24 * time.Hour, true},
		{"Sat, 21 Nov 2026 10:01:30 GMT", 90 * time.Second, true},
		{"Sat, 21 Nov 2026 09:00:00 GMT", 0, true},
		{"Sat, 21 Nov 2099 09:00:00 GMT", 24 * time.Hour, true},
	} {
		h := http.Header{}
		if tc.header != "" {
			h.Set("Retry-After", tc.header)
		}
		got, ok := RetryAfter(h, now)
		if got != tc.want || ok != tc.ok {
			t.Errorf("RetryAfter(%q) = %v, %v; want %v, %v", tc.header, got, ok, tc.want, tc.ok)
		}
	}
}

func TestExcerpt(t *testing.T) {
	for _, tc := range []struct {
		body string
		n    int
		want string
	}{
		{"", 10, ""},
		{"short", 10, "short"},
		{"  a\r\n\tb  \x00 c ", 10, "a b c"},
		{"abcdefghij", 5, "abcde…"},
		{"abcd efgh", 5, "abcd…"},
		{"bad \xff byte", 20, "bad \uFFFD byte"},
		{"éèêë", 2, "éè…"},
	} {
		if got := Excerpt([]byte(tc.body), tc.n); got != tc.want {
			t.Errorf("Excerpt(%q, %d) = %q, want %q", tc.body, tc.n, got, tc.want)
		}
	}
}

func TestNoRedirectsCopies(t *testing.T) {
	orig := &http.Client{Timeout: time.Second}
	c := NoRedirects(orig, time.Minute)
	if orig.CheckRedirect != nil || c == orig || c.Timeout != time.Second {
		t.Fatalf("NoRedirects changed or lost the original client: %+v", c)
	}
	if d := NoRedirects(nil, time.Minute); d.Timeout != time.Minute || d.CheckRedirect == nil {
		t.Fatalf("default client: %+v", d)
	}
}

func FuzzRetryAfter(f *testing.F) {
	for _, s := range []string{"120", "Sat, 21 Nov 2026 10:01:30 GMT", "-1", "1e9", ""} {
		f.Add(s)
	}
	now := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, v string) {
		d, ok := RetryAfter(http.Header{"Retry-After": {v}}, now)
		if d < 0 || d > MaxRetryAfter {
			t.Fatalf("RetryAfter(%q) = %v, %v", v, d, ok)
		}
		if !ok && d != 0 {
			t.Fatalf("RetryAfter(%q) = %v with ok false", v, d)
		}
	})
}

func FuzzExcerpt(f *testing.F) {
	f.Add([]byte("hello \x00 world"), 5)
	f.Fuzz(func(t *testing.T, body []byte, n int) {
		n = n % 300
		got := Excerpt(body, n)
		if !utf8.ValidString(got) {
			t.Fatalf("Excerpt(%q) = %q is not UTF-8", body, got)
		}
		if max(n, 0)+1 < utf8.RuneCountInString(got) {
			t.Fatalf("Excerpt(%q, %d) = %q is too long", body, n, got)
		}
		for _, r := range got {
			if r < ' ' || r == 0x7f {
				t.Fatalf("Excerpt(%q) = %q keeps a control character", body, got)
			}
		}
	})
}
