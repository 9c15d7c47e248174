package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/warroomhq/warroom/integrations/internal/httpx"
	"github.com/warroomhq/warroom/jobs"
)

// The headers of a delivery, besides SignatureHeader.
const (
	// EventHeader names what happened, for example "page.triggered".
	EventHeader = "X-Warroom-Event"
	// DeliveryHeader is the delivery's idempotency key: a retried delivery
	// carries the same one, and receivers should ignore a delivery whose ID
	// they have already processed.
	DeliveryHeader = "X-Warroom-Delivery"
)

// DefaultUserAgent is sent when Client.UserAgent is empty.
const DefaultUserAgent = "Warroom-Webhook/1"

// DefaultTimeout bounds a delivery when Client.HTTPClient is nil.
const DefaultTimeout = 15 * time.Second

// RateLimitWait is how long a 429 without Retry-After defers the job.
const RateLimitWait = 30 * time.Second

// maxAnswer is how much of an answer is read.
const maxAnswer = 16 << 10

// Client delivers signed JSON bodies. Its zero value is ready to use, and it
// is safe for concurrent use.
type Client struct {
	// HTTPClient makes the requests; nil means a client with
	// DefaultTimeout. It is copied, so that redirects are not followed.
	HTTPClient *http.Client
	// UserAgent is sent as User-Agent; empty means DefaultUserAgent.
	UserAgent string
	// Now reads Retry-After dates; nil means time.Now.
	Now func() time.Time
}

// Post delivers body to rawURL: a POST with Content-Type application/json,
// SignatureHeader (HMAC-SHA256 of body with secret, see Sign), EventHeader
// and DeliveryHeader. It is meant to run in a job whose key is deliveryID,
// and its errors follow the job contract:
//
//   - a 2xx answer is success;
//   - 429, or 503 with Retry-After, defers the job (jobs.Defer) for
//     Retry-After (RateLimitWait for a 429 without one);
//   - other 5xx answers, 408, timeouts and network errors are plain errors,
//     retried with backoff;
//   - other 4xx answers and redirects are permanent (jobs.Permanent), with
//     the status and a short excerpt of the answer;
//   - a URL that is not absolute http(s), an empty secret, event or
//     delivery ID are permanent, and nothing is sent.
//
// Errors never contain the secret, nor the URL's user information or
// query.
func (c *Client) Post(ctx context.Context, rawURL string, secret []byte, event string, deliveryID string, body []byte) (err error) {
	defer func() { err = scrub(err, secret) }()
	switch {
	case !headerValue(event):
		return jobs.Permanent(fmt.Errorf("webhook: event %q is empty or not a header value", event))
	case !headerValue(deliveryID):
		return jobs.Permanent(fmt.Errorf("webhook: delivery ID %q is empty or not a header value", deliveryID))
	}
	u, err := parseURL(rawURL)
	if err != nil {
		return jobs.Permanent(fmt.Errorf("webhook: %s delivery %s not sent: %w", event, deliveryID, err))
	}
	what := fmt.Sprintf("webhook: delivering %s %s to %s", event, deliveryID, redact(u))
	if len(secret) == 0 {
		return jobs.Permanent(fmt.Errorf("%s: no secret to sign it with", what))
	}

	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return jobs.Permanent(fmt.Errorf("%s: %w", what, err))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", c.userAgent())
	req.Header.Set(SignatureHeader, Sign(secret, body))
	req.Header.Set(EventHeader, event)
	req.Header.Set(DeliveryHeader, deliveryID)
	resp, err := httpx.NoRedirects(c.HTTPClient, DefaultTimeout).Do(req)
	if err != nil {
		// url.Error quotes the whole URL, query and all: keep its cause.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("%s: %w", what, err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	excerpt := ""
	if ex := httpx.Excerpt(answer, 200); ex != "" {
		excerpt = ": " + ex
	}

	code := resp.StatusCode
	retryAfter, hasRetryAfter := httpx.RetryAfter(resp.Header, c.now())
	switch {
	case code >= 200 && code < 300:
		return nil
	case code == http.StatusTooManyRequests:
		if !hasRetryAfter {
			retryAfter = RateLimitWait
		}
		return jobs.Defer(max(retryAfter, time.Second), fmt.Errorf("%s: rate limited (429)%s", what, excerpt))
	case code == http.StatusServiceUnavailable && hasRetryAfter:
		return jobs.Defer(max(retryAfter, time.Second), fmt.Errorf("%s: unavailable (503)%s", what, excerpt))
	case code >= 500 || code == http.StatusRequestTimeout:
		return fmt.Errorf("%s: the receiver answered %d%s", what, code, excerpt)
	case code >= 300 && code < 400:
		loc := resp.Header.Get("Location")
		if lu, err := u.Parse(loc); err == nil {
			loc = redact(lu)
		}
		return jobs.Permanent(fmt.Errorf("%s: the receiver redirects (%d to %s): configure the final URL", what, code, loc))
	default:
		return jobs.Permanent(fmt.Errorf("%s: the receiver refused it (%d)%s", what, code, excerpt))
	}
}

func (c *Client) userAgent() string {
	if c.UserAgent == "" {
		return DefaultUserAgent
	}
	return c.UserAgent
}

func (c *Client) now() time.Time {
	if c.Now == nil {
		return time.Now()
	}
	return c.Now()
}

// parseURL accepts absolute http and https URLs with a host.
func parseURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		// url.Parse's error quotes the URL; say only what is wrong.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("the URL is not valid: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("the URL's scheme is %q: only http and https are allowed", u.Scheme)
	}
	if u.Host == "" {
		return nil, errors.New("the URL has no host")
	}
	return u, nil
}

// redact is u without its user information, query and fragment, which
// may hold credentials, for messages.
func redact(u *url.URL) string {
	r := *u
	r.User, r.RawQuery, r.Fragment, r.RawFragment = nil, "", "", ""
	s := r.String()
	if u.RawQuery != "" {
		s += "?…"
	}
	return s
}

// headerValue reports whether s is a non-empty header value without
// control characters.
func headerValue(s string) bool {
	if strings.TrimSpace(s) == "" {
		return false
	}
	for _, r := range s {
		if r < ' ' || r == 0x7f {
			return false
		}
	}
	return true
}

// scrub keeps the secret out of err's message, in case a receiver echoes
// it.
func scrub(err error, secret []byte) error {
	if err == nil || strings.TrimSpace(string(secret)) == "" || !strings.Contains(err.Error(), string(secret)) {
		return err
	}
	return &scrubbed{msg: strings.ReplaceAll(err.Error(), string(secret), "[redacted]"), err: err}
}

// scrubbed is an error with a redacted message that still unwraps to the
// original, so that jobs.IsPermanent and errors.Is see through it.
type scrubbed struct {
	msg string
	err error
}

func (e *scrubbed) Error() string { return e.msg }
func (e *scrubbed) Unwrap() error { return e.err }
