package github

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	gh "github.com/google/go-github/v60/github"

	"github.com/warroomhq/warroom/jobs"
)

// secondaryWait is how long to wait after a secondary rate limit that says
// nothing of when to retry: GitHub asks for at least a minute.
const secondaryWait = time.Minute

// minWait is the least a rate limit defers a job, so that a reset that
// has just passed (or clocks a second apart) does not make a busy loop.
const minWait = time.Second

// jobError maps err, returned by GitHub while doing what (for example
// "creating branch x in acme/api"), to the job contract:
//
//   - a rate limit (403 with X-RateLimit-Remaining: 0, a secondary rate
//     limit, 429) defers the job until the limit resets, without using up
//     an attempt (jobs.Defer);
//   - a server error is retried with backoff, or after its Retry-After
//     (jobs.RetryAfter); so are network errors, a 409 conflict (someone
//     changed the branch meanwhile: the retry reads it again) and 408;
//   - 401, 403, 404, 422 and other client errors are permanent
//     (jobs.Permanent): retrying the same request cannot help. need says
//     what the token needs for the call ("contents: write"), for the 403's
//     message.
//
// The token never appears in the message.
func (c *Client) jobError(err error, repo, what, need string) error {
	if err == nil {
		return nil
	}
	if d, ok := rateLimitDelay(err, c.now); ok {
		return jobs.Defer(d, c.scrub(fmt.Errorf("%s: GitHub's rate limit: %w", what, err)))
	}
	status := statusOf(err)
	switch {
	case status == 0, // network errors, cancellations, 202 Accepted
		status == http.StatusRequestTimeout, status == http.StatusConflict,
		status == http.StatusTooEarly:
		return c.scrub(fmt.Errorf("%s: %w", what, err))
	case status >= 500:
		wrapped := c.scrub(fmt.Errorf("%s: GitHub answered %d: %w", what, status, err))
		if d, ok := retryAfterHeader(headerOf(err)); ok {
			return jobs.RetryAfter(d, wrapped)
		}
		return wrapped
	case status == http.StatusUnauthorized:
		return jobs.Permanent(c.scrub(fmt.Errorf(
			"%s: GitHub rejected the token (401): check github.token, which may be wrong, expired or revoked: %w", what, err)))
	case status == http.StatusForbidden:
		return jobs.Permanent(c.scrub(fmt.Errorf(
			"%s: GitHub refused (403): the token needs %s on %s (a classic token: the repo scope): %w", what, need, repo, err)))
	case status == http.StatusNotFound:
		return jobs.Permanent(c.scrub(fmt.Errorf(
			"%s: repository %s not found (404): check its name (owner/name) and that the token can read it: %w", what, repo, err)))
	default: // 400, 410 (issues turned off), 422 and the rest
		return jobs.Permanent(c.scrub(fmt.Errorf("%s: GitHub refused the request (%d): %w", what, status, err)))
	}
}

// statusOf returns the HTTP status of GitHub's answer in err, or 0 when
// there was no answer.
func statusOf(err error) int {
	var (
		er  *gh.ErrorResponse
		tfa *gh.TwoFactorAuthError
		rl  *gh.RateLimitError
		ab  *gh.AbuseRateLimitError
	)
	var resp *http.Response
	switch {
	case errors.As(err, &er):
		resp = er.Response
	case errors.As(err, &tfa):
		resp = tfa.Response
	case errors.As(err, &rl):
		resp = rl.Response
	case errors.As(err, &ab):
		resp = ab.Response
	}
	if resp == nil {
		return 0
	}
	return resp.StatusCode
}

// headerOf returns the headers of GitHub's answer in err, or nil.
func headerOf(err error) http.Header {
	if e, ok := errorResponse(err); ok {
		return e.Response.Header
	}
	return nil
}

// rateLimitDelay reports whether err is a rate limit, and how long to wait.
// The wait is measured against the answer's Date, GitHub's clock, so that a
// skewed local clock does not matter; now is used only for go-github's own
// refusals, which it makes without asking GitHub while a limit it has seen
// lasts.
func rateLimitDelay(err error, now func() time.Time) (time.Duration, bool) {
	var (
		rl *gh.RateLimitError
		ab *gh.AbuseRateLimitError
	)
	switch {
	case errors.As(err, &rl):
		return waitUntil(rl.Rate.Reset.Time, serverTime(rl.Response, now)), true
	case errors.As(err, &ab):
		if d, ok := secondaryDelay(ab.Response, now); ok {
			return d, true
		}
		if ab.RetryAfter != nil {
			return max(*ab.RetryAfter, minWait), true
		}
		return secondaryWait, true
	}
	e, ok := errorResponse(err)
	if !ok {
		return 0, false
	}
	h := e.Response.Header
	switch code := e.Response.StatusCode; {
	case code == http.StatusTooManyRequests,
		code == http.StatusForbidden && (h.Get("Retry-After") != "" || h.Get("X-RateLimit-Remaining") == "0"):
		if d, ok := secondaryDelay(e.Response, now); ok {
			return d, true
		}
		return secondaryWait, true
	}
	return 0, false
}

// secondaryDelay reads how long to wait from an answer's Retry-After, or
// else its X-RateLimit-Reset.
func secondaryDelay(resp *http.Response, now func() time.Time) (time.Duration, bool) {
	if resp == nil {
		return 0, false
	}
	if d, ok := retryAfterHeader(resp.Header); ok {
		return max(d, minWait), true
	}
	if v := resp.Header.Get("X-RateLimit-Reset"); v != "" {
		if s, err := strconv.ParseInt(v, 10, 64); err == nil {
			return waitUntil(time.Unix(s, 0), serverTime(resp, now)), true
		}
	}
	return 0, false
}

// retryAfterHeader reads Retry-After in seconds, as GitHub sends it.
func retryAfterHeader(h http.Header) (time.Duration, bool) {
	s, err := strconv.Atoi(strings.TrimSpace(h.Get("Retry-After")))
	if err != nil || s < 0 {
		return 0, false
	}
	return time.Duration(s) * time.Second, true
}

// serverTime is the answer's Date, or now when it has none.
func serverTime(resp *http.Response, now func() time.Time) time.Time {
	if resp != nil {
		if t, err := http.ParseTime(resp.Header.Get("Date")); err == nil {
			return t
		}
	}
	return now()
}

func waitUntil(reset, now time.Time) time.Duration {
	return max(reset.Sub(now), minWait)
}

// scrub keeps the token out of err's message. GitHub does not echo tokens,
// but a proxy or a misconfigured URL might.
func (c *Client) scrub(err error) error {
	if c.token == "" || !strings.Contains(err.Error(), c.token) {
		return err
	}
	return &scrubbed{msg: strings.ReplaceAll(err.Error(), c.token, "[redacted]"), err: err}
}

type scrubbed struct {
	msg string
	err error
}

func (e *scrubbed) Error() string { return e.msg }
func (e *scrubbed) Unwrap() error { return e.err }
