// Package pagerduty sends Warroom's pages to PagerDuty through the Events
// API v2 (https://developer.pagerduty.com/docs/events-api-v2/overview/):
// a trigger when an incident pages, then an acknowledge and a resolve with
// the same dedup key.
//
// Send is meant to run in a job (package jobs), and its errors follow the
// job contract: PagerDuty's 400 and events that cannot be valid are
// permanent (jobs.Permanent), a 429 defers the job without using up an
// attempt (jobs.Defer), and server errors, timeouts and network errors are
// plain errors that the queue retries with backoff. Sending the same event
// twice is harmless: PagerDuty applies events to the open alert with the
// same dedup key.
//
// The routing key (integration key) is a secret: it travels only in the
// request body and never appears in an error.
package pagerduty

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/warroomhq/warroom/integrations/internal/httpx"
	"github.com/warroomhq/warroom/jobs"
)

// DefaultURL is the Events API v2 endpoint.
const DefaultURL = "https://events.pagerduty.com/v2/enqueue"

// PagerDuty's documented limits.
const (
	// MaxSummary is the longest payload.summary, in characters; Send cuts
	// longer summaries.
	MaxSummary = 1024
	// MaxDedupKey is the longest dedup_key, in characters.
	MaxDedupKey = 255
	// MaxEventSize is the largest event PagerDuty accepts, in bytes.
	MaxEventSize = 512 << 10
)

// RateLimitWait is how long a 429 without Retry-After defers the job.
// PagerDuty asks clients to retry 429s "preferably with a backoff of a few
// minutes".
const RateLimitWait = 2 * time.Minute

// DefaultTimeout bounds a request when Client.HTTPClient is nil.
const DefaultTimeout = 30 * time.Second

// userAgent identifies Warroom to PagerDuty.
const userAgent = "Warroom (+https://github.com/warroomhq/warroom)"

// maxAnswer is how much of an answer is read.
const maxAnswer = 64 << 10

// Action is an event's event_action.
type Action string

// The event actions.
const (
	Trigger     Action = "trigger"
	Acknowledge Action = "acknowledge"
	Resolve     Action = "resolve"
)

// Valid reports whether a is one of the three actions.
func (a Action) Valid() bool { return a == Trigger || a == Acknowledge || a == Resolve }

// Event is an alert event. Only RoutingKey, Action and DedupKey are sent
// for acknowledge and resolve; the rest describes a trigger.
type Event struct {
	// RoutingKey is the 32-character integration key of an Events API v2
	// integration. Required. Secret.
	RoutingKey string
	// Action is trigger, acknowledge or resolve. Required.
	Action Action
	// DedupKey correlates a trigger with its acknowledge and resolve, at
	// most 255 characters. Required for acknowledge and resolve; for a
	// trigger without one PagerDuty makes one up, and Send returns it.
	// Warroom uses one key per incident: DedupKey(incidentID).
	DedupKey string

	// Summary titles the alert; cut to MaxSummary characters. Required for
	// a trigger.
	Summary string
	// Source is the affected system, for example the service's name.
	// Required for a trigger.
	Source string
	// Severity is critical, error, warning or info (SeverityFor). Required
	// for a trigger.
	Severity string
	// Component, Group and Class are optional PD-CEF fields.
	Component, Group, Class string
	// CustomDetails are shown on the alert. Optional. They are dropped,
	// with a note saying so, if they would make the event larger than
	// MaxEventSize.
	CustomDetails map[string]any
	// Links are attached to the alert, for example the incident's Slack
	// channel. Optional.
	Links []Link
	// Timestamp is when the problem was detected; zero means Client.Now.
	Timestamp time.Time
	// Client and ClientURL name the tool that sent the event, shown by
	// PagerDuty as a link; Client defaults to "Warroom" when ClientURL is
	// set. Optional.
	Client, ClientURL string
}

// Link is a link attached to a triggered alert.
type Link struct {
	Href string
	Text string
}

// Client sends events to PagerDuty. Its zero value sends to DefaultURL
// with a default HTTP client. It is safe for concurrent use.
type Client struct {
	// URL is the events endpoint; empty means DefaultURL. Tests point it
	// at a fake (internal/pagerdutyfake).
	URL string
	// HTTPClient makes the requests; nil means a client with
	// DefaultTimeout. It is copied, so that redirects are not followed.
	HTTPClient *http.Client
	// Now stamps triggers that have no Timestamp and reads Retry-After
	// dates; nil means time.Now.
	Now func() time.Time
}

// DedupKey is the dedup key Warroom uses for an incident's pages:
// "warroom-inc-<id>". Every page of an incident shares it, so PagerDuty
// shows one alert per incident, however many times it escalates.
func DedupKey(incidentID int64) string { return "warroom-inc-" + strconv.FormatInt(incidentID, 10) }

// SeverityFor maps a Warroom severity to PagerDuty's: sev1 → critical,
// sev2 → error, sev3 → warning, sev4 → info. Anything else is critical: a
// page for an incident whose severity is unknown must not be played down.
func SeverityFor(sev string) string {
	switch strings.ToLower(strings.TrimSpace(sev)) {
	case "sev2":
		return "error"
	case "sev3":
		return "warning"
	case "sev4":
		return "info"
	default:
		return "critical"
	}
}

// validSeverity reports whether s is one of PagerDuty's severities.
func validSeverity(s string) bool {
	return s == "critical" || s == "error" || s == "warning" || s == "info"
}

// Send sends e and returns its dedup key: PagerDuty's answer's, or e's own
// when the answer does not say. Errors follow the job contract (see the
// package documentation) and never contain the routing key.
func (c *Client) Send(ctx context.Context, e Event) (dedupKey string, err error) {
	defer func() { err = scrub(err, e.RoutingKey) }()
	if err := validate(e); err != nil {
		return "", jobs.Permanent(fmt.Errorf("pagerduty: %s event not sent: %w", actionName(e.Action), err))
	}
	body, err := c.encode(e)
	if err != nil {
		return "", jobs.Permanent(fmt.Errorf("pagerduty: %s event not sent: %w", e.Action, err))
	}
	what := fmt.Sprintf("sending the %s event for %q to PagerDuty", e.Action, e.DedupKey)

	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url(), bytes.NewReader(body))
	if err != nil {
		return "", jobs.Permanent(fmt.Errorf("pagerduty: %s: bad events URL: %w", what, err))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", userAgent)
	resp, err := httpx.NoRedirects(c.HTTPClient, DefaultTimeout).Do(req)
	if err != nil {
		return "", fmt.Errorf("pagerduty: %s: %w", what, err)
	}
	defer resp.Body.Close()
	answer, readErr := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))

	switch code := resp.StatusCode; {
	case code >= 200 && code < 300:
		// The event is in, even if the answer was cut short: retrying would
		// only send it again.
		r, _ := ParseResponse(answer)
		if r.DedupKey != "" {
			return r.DedupKey, nil
		}
		return e.DedupKey, nil
	case readErr != nil:
		return "", fmt.Errorf("pagerduty: %s: reading PagerDuty's %d answer: %w", what, code, readErr)
	case code == http.StatusTooManyRequests:
		d, ok := httpx.RetryAfter(resp.Header, c.now())
		if !ok {
			d = RateLimitWait
		}
		return "", jobs.Defer(max(d, time.Second), fmt.Errorf("pagerduty: %s: rate limited (429)", what))
	case code >= 500:
		err := fmt.Errorf("pagerduty: %s: PagerDuty answered %d%s", what, code, describe(answer, e.RoutingKey))
		if d, ok := httpx.RetryAfter(resp.Header, c.now()); ok {
			return "", jobs.RetryAfter(d, err)
		}
		return "", err
	case code == http.StatusRequestTimeout:
		return "", fmt.Errorf("pagerduty: %s: PagerDuty answered 408", what)
	case code == http.StatusBadRequest:
		return "", jobs.Permanent(fmt.Errorf("pagerduty: %s: PagerDuty refused it (400)%s", what, describe(answer, e.RoutingKey)))
	case code >= 300 && code < 400:
		return "", jobs.Permanent(fmt.Errorf("pagerduty: %s: the events URL redirects (%d to %q): configure the final URL",
			what, code, resp.Header.Get("Location")))
	default: // 401, 403, 404 (a wrong URL), 413 and the rest
		return "", jobs.Permanent(fmt.Errorf("pagerduty: %s: PagerDuty answered %d%s: check the events URL",
			what, code, describe(answer, e.RoutingKey)))
	}
}

func (c *Client) url() string {
	if c.URL == "" {
		return DefaultURL
	}
	return c.URL
}

func (c *Client) now() time.Time {
	if c.Now == nil {
		return time.Now()
	}
	return c.Now()
}

func actionName(a Action) string {
	if a.Valid() {
		return string(a)
	}
	return "PagerDuty"
}

// validate refuses events PagerDuty would refuse, or that Warroom must not
// send.
func validate(e Event) error {
	var errs []error
	if strings.TrimSpace(e.RoutingKey) == "" {
		errs = append(errs, errors.New("no routing key"))
	}
	switch {
	case !e.Action.Valid():
		errs = append(errs, fmt.Errorf("action %q is not trigger, acknowledge or resolve", e.Action))
	case e.Action != Trigger && strings.TrimSpace(e.DedupKey) == "":
		errs = append(errs, fmt.Errorf("an %s event needs the trigger's dedup key", e.Action))
	case e.Action == Trigger:
		if strings.TrimSpace(e.Summary) == "" {
			errs = append(errs, errors.New("a trigger needs a summary"))
		}
		if strings.TrimSpace(e.Source) == "" {
			errs = append(errs, errors.New("a trigger needs a source"))
		}
		if !validSeverity(e.Severity) {
			errs = append(errs, fmt.Errorf("severity %q is not critical, error, warning or info", e.Severity))
		}
		for _, l := range e.Links {
			if l.Href == "" {
				errs = append(errs, fmt.Errorf("link %q has no href", l.Text))
			}
		}
	}
	if n := utf8.RuneCountInString(e.DedupKey); n > MaxDedupKey {
		errs = append(errs, fmt.Errorf("dedup key is %d characters, more than PagerDuty's %d", n, MaxDedupKey))
	}
	return errors.Join(errs...)
}

// The Events API v2 request, as PagerDuty documents it.
type wireEvent struct {
	RoutingKey  string       `json:"routing_key"`
	EventAction Action       `json:"event_action"`
	DedupKey    string       `json:"dedup_key,omitempty"`
	Payload     *wirePayload `json:"payload,omitempty"`
	Client      string       `json:"client,omitempty"`
	ClientURL   string       `json:"client_url,omitempty"`
	Links       []wireLink   `json:"links,omitempty"`
}

type wirePayload struct {
	Summary       string         `json:"summary"`
	Source        string         `json:"source"`
	Severity      string         `json:"severity"`
	Timestamp     string         `json:"timestamp,omitempty"`
	Component     string         `json:"component,omitempty"`
	Group         string         `json:"group,omitempty"`
	Class         string         `json:"class,omitempty"`
	CustomDetails map[string]any `json:"custom_details,omitempty"`
}

type wireLink struct {
	Href string `json:"href"`
	Text string `json:"text,omitempty"`
}

// timestampFormat is ISO 8601 with milliseconds, as in PagerDuty's examples.
const timestampFormat = "2006-01-02T15:04:05.000Z07:00"

// droppedDetails replaces custom details too large to send.
var droppedDetails = map[string]any{
	"note": "Warroom dropped the custom details: they made the event larger than PagerDuty's 512 KB limit",
}

// encode builds e's JSON: the payload, client and links only for a
// trigger, as PagerDuty documents acknowledge and resolve events.
func (c *Client) encode(e Event) ([]byte, error) {
	w := wireEvent{RoutingKey: e.RoutingKey, EventAction: e.Action, DedupKey: e.DedupKey}
	if e.Action == Trigger {
		ts := e.Timestamp
		if ts.IsZero() {
			ts = c.now()
		}
		w.Payload = &wirePayload{
			Summary:       truncate(e.Summary, MaxSummary),
			Source:        e.Source,
			Severity:      e.Severity,
			Timestamp:     ts.UTC().Format(timestampFormat),
			Component:     e.Component,
			Group:         e.Group,
			Class:         e.Class,
			CustomDetails: e.CustomDetails,
		}
		w.Client, w.ClientURL = e.Client, e.ClientURL
		if w.Client == "" && w.ClientURL != "" {
			w.Client = "Warroom"
		}
		for _, l := range e.Links {
			w.Links = append(w.Links, wireLink(l))
		}
	}
	body, err := json.Marshal(w)
	if err != nil {
		return nil, fmt.Errorf("encoding: %w", err)
	}
	if len(body) > MaxEventSize && w.Payload != nil && w.Payload.CustomDetails != nil {
		w.Payload.CustomDetails = droppedDetails
		if body, err = json.Marshal(w); err != nil {
			return nil, fmt.Errorf("encoding: %w", err)
		}
	}
	if len(body) > MaxEventSize {
		return nil, fmt.Errorf("the event is %d bytes, more than PagerDuty's %d", len(body), MaxEventSize)
	}
	return body, nil
}

// truncate cuts s to at most n characters, ending with "…" when cut.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}

// Response is PagerDuty's answer to an event: {"status": "success",
// "message": "Event processed", "dedup_key": "..."} when accepted, or
// {"status": "invalid event", "message": "Event object is invalid",
// "errors": ["..."]} when refused.
type Response struct {
	Status   string   `json:"status"`
	Message  string   `json:"message"`
	DedupKey string   `json:"dedup_key"`
	Errors   []string `json:"errors"`
}

// ParseResponse reads an answer of PagerDuty's. It never panics; on
// malformed input it returns what it could read and an error.
func ParseResponse(body []byte) (Response, error) {
	var r Response
	if err := json.Unmarshal(body, &r); err != nil {
		return Response{}, fmt.Errorf("PagerDuty's answer is not its JSON: %w", err)
	}
	return r, nil
}

// describe turns an error answer into ": status: message: error; error",
// or a short excerpt of the body when it is not PagerDuty's JSON, without
// key.
func describe(answer []byte, key string) string {
	if strings.TrimSpace(key) != "" {
		answer = bytes.ReplaceAll(answer, []byte(key), []byte("[redacted]"))
	}
	r, err := ParseResponse(answer)
	if err != nil || r.Status == "" && r.Message == "" && len(r.Errors) == 0 {
		if ex := httpx.Excerpt(answer, 200); ex != "" {
			return ": " + ex
		}
		return ""
	}
	var parts []string
	for _, s := range []string{r.Status, r.Message} {
		if s = httpx.Excerpt([]byte(s), 200); s != "" {
			parts = append(parts, s)
		}
	}
	var errs []string
	for i, e := range r.Errors {
		if i == 10 {
			errs = append(errs, fmt.Sprintf("and %d more", len(r.Errors)-i))
			break
		}
		errs = append(errs, httpx.Excerpt([]byte(e), 200))
	}
	if len(errs) > 0 {
		parts = append(parts, strings.Join(errs, "; "))
	}
	return ": " + strings.Join(parts, ": ")
}

// scrub keeps the routing key out of err's message. PagerDuty does not
// echo it, but a proxy, an error about a misconfigured URL or a fake
// might.
func scrub(err error, key string) error {
	if err == nil || strings.TrimSpace(key) == "" || !strings.Contains(err.Error(), key) {
		return err
	}
	return &scrubbed{msg: strings.ReplaceAll(err.Error(), key, "[redacted]"), err: err}
}

// scrubbed is an error with a redacted message that still unwraps to the
// original, so that jobs.IsPermanent and errors.Is see through it.
type scrubbed struct {
	msg string
	err error
}

func (e *scrubbed) Error() string { return e.msg }
func (e *scrubbed) Unwrap() error { return e.err }
