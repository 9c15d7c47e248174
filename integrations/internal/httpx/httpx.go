// Package httpx holds the small HTTP helpers that Warroom's outbound
// clients (PagerDuty, page webhooks) share: reading Retry-After, quoting a
// short excerpt of an answer in an error, and an http.Client that does not
// follow redirects.
package httpx

import (
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// RetryAfter reads h's Retry-After, in delay-seconds or as an HTTP-date
// (RFC 9110, section 10.2.3), measured from now. A date in the past is a
// zero delay, and delays are capped at MaxRetryAfter. It reports false when
// the header is missing or malformed.
func RetryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if s, err := strconv.ParseInt(v, 10, 64); err == nil {
		if s < 0 {
			return 0, false
		}
		// Cap before multiplying so that a huge value cannot overflow.
		return time.Duration(min(s, int64(MaxRetryAfter/time.Second))) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return min(max(t.Sub(now), 0), MaxRetryAfter), true
}

// MaxRetryAfter caps what RetryAfter returns. The job queue caps delays
// lower still (jobs.MaxRetryAfter).
const MaxRetryAfter = 24 * time.Hour

// Excerpt returns at most n runes of body for an error message: invalid
// UTF-8 replaced, control characters and runs of white space turned into
// single spaces, and "…" added when it was cut.
func Excerpt(body []byte, n int) string {
	s := strings.ToValidUTF8(string(body), "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return strings.TrimSpace(string([]rune(s)[:max(n, 0)])) + "…"
}

// NoRedirects returns a copy of hc (a default client with timeout when nil)
// that does not follow redirects: a webhook or events endpoint that
// redirects a POST is misconfigured, and following it would resend a
// signed body, or turn the POST into a GET, somewhere nobody configured.
func NoRedirects(hc *http.Client, timeout time.Duration) *http.Client {
	var c http.Client
	if hc != nil {
		c = *hc
	} else {
		c.Timeout = timeout
	}
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &c
}
