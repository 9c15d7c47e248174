// Package deploywebhook is Warroom's rollback protocol with deploy tools
// that are not GitHub (Argo CD, Spinnaker, an in-house tool): Warroom POSTs
// a signed JSON rollback request to the tool, and the tool reports the
// rollback's progress back with signed status callbacks to
// POST /hooks/deploy/rollback (served by package deployhooks).
//
// The request, to the service's rollback.webhook.url:
//
//	POST <url>
//	Content-Type: application/json
//	X-Warroom-Event: rollback
//	X-Warroom-Delivery: <key>
//	X-Warroom-Signature: sha256=<hex HMAC-SHA256 of the body with rollback.webhook.secret>
//
//	{"key": "warroom-rollback-1", "incident": "INC-42", "service": "checkout",
//	 "from": {"ref": "v1.2", "sha": "..."}, "to": {"ref": "v1.1", "sha": "..."},
//	 "requested_by": "slack:U01ALICE", "requested_at": "2026-11-21T10:00:00Z",
//	 "callback_url": "https://warroom.example.com/hooks/deploy/rollback"}
//
// The same rollback may be sent more than once (a retry after a lost
// answer) with the same key and X-Warroom-Delivery: the tool must start it
// once, and answer a repeat with 2xx (or 409). It answers 2xx, optionally
// with {"id": "<its own ID>", "url": "<where to watch>"}. 5xx, 408 and 429
// are retried (honouring Retry-After); other answers are permanent
// failures.
//
// The callback, signed with the same secret:
//
//	POST /hooks/deploy/rollback
//	X-Warroom-Signature: sha256=<hex HMAC-SHA256 of the body>
//
//	{"key": "warroom-rollback-1", "service": "checkout", "status": "running",
//	 "message": "syncing 3/5 pods", "url": "https://argo.example.com/...", "id": "sync-981"}
//
// status is pending, running, success, failed or canceled (and the
// synonyms ParseStatus accepts).
package deploywebhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/warroomhq/warroom/deploys"
	"github.com/warroomhq/warroom/integrations/webhook"
	"github.com/warroomhq/warroom/jobs"
)

// CallbackPath is where deploy tools send rollback status callbacks.
const CallbackPath = "/hooks/deploy/rollback"

// The headers of a rollback request besides the signature.
const (
	DeliveryHeader = "X-Warroom-Delivery" // the rollback's key, to dedupe
	EventHeader    = "X-Warroom-Event"    // "rollback"
)

// Ref is a version: a branch, tag or version name and a commit.
type Ref struct {
	Ref string `json:"ref"`
	SHA string `json:"sha"`
}

// Request is the body of a rollback request.
type Request struct {
	Key         string    `json:"key"`
	Incident    string    `json:"incident"` // "INC-42"
	Service     string    `json:"service"`
	From        Ref       `json:"from"`
	To          Ref       `json:"to"`
	RequestedBy string    `json:"requested_by"`
	RequestedAt time.Time `json:"requested_at"`
	CallbackURL string    `json:"callback_url,omitempty"`
}

// Answer is the optional body of the tool's 2xx answer.
type Answer struct {
	ID  string `json:"id"`
	URL string `json:"url"`
}

// Callback is the body of a status callback.
type Callback struct {
	Key     string `json:"key"`
	Service string `json:"service"`
	Status  string `json:"status"`
	Message string `json:"message"`
	URL     string `json:"url"`
	ID      string `json:"id"`
}

// ParseStatus reads a status as deploy tools name it: pending (queued,
// waiting), running (in_progress, progressing, started), success
// (succeeded, successful, healthy, done), failed (failure, error,
// degraded), inactive, canceled (cancelled, aborted). Case is ignored.
func ParseStatus(s string) (deploys.Status, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "pending", "queued", "waiting":
		return deploys.StatusPending, true
	case "running", "in_progress", "progressing", "started":
		return deploys.StatusRunning, true
	case "success", "succeeded", "successful", "healthy", "done":
		return deploys.StatusSuccess, true
	case "failed", "failure", "error", "degraded":
		return deploys.StatusFailed, true
	case "inactive":
		return deploys.StatusInactive, true
	case "canceled", "cancelled", "aborted":
		return deploys.StatusCanceled, true
	}
	return "", false
}

// Limits on the fields of callbacks and deploy events, in bytes.
const (
	MaxIDLength      = 200
	MaxMessageLength = 2000
	MaxURLLength     = 2000
)

// ParseCallback reads a status callback. Its errors name the field.
func ParseCallback(body []byte) (service, key string, p deploys.Progress, err error) {
	var c Callback
	if err := Unmarshal(body, &c); err != nil {
		return "", "", p, err
	}
	if err := CheckID("key", c.Key, true); err != nil {
		return "", "", p, err
	}
	if err := CheckID("service", c.Service, true); err != nil {
		return "", "", p, err
	}
	if err := CheckID("id", c.ID, false); err != nil {
		return "", "", p, err
	}
	st, ok := ParseStatus(c.Status)
	if !ok {
		return "", "", p, fmt.Errorf("status: %q is not one of pending, running, success, failed, canceled", c.Status)
	}
	if err := CheckURL("url", c.URL); err != nil {
		return "", "", p, err
	}
	if len(c.Message) > MaxMessageLength {
		return "", "", p, fmt.Errorf("message: longer than %d bytes", MaxMessageLength)
	}
	p = deploys.Progress{Status: st, Message: c.Message, URL: c.URL}
	if c.ID != "" || c.URL != "" {
		p.Handle = deploys.Handle{ExternalID: c.ID, URL: c.URL}
	}
	return c.Service, c.Key, p, nil
}

// Unmarshal decodes a JSON object into v, with errors that name the field.
func Unmarshal(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(v); err != nil {
		var ute *json.UnmarshalTypeError
		if errors.As(err, &ute) {
			if ute.Field == "" {
				return fmt.Errorf("the body must be a JSON object, not %s", ute.Value)
			}
			return fmt.Errorf("%s: expected a JSON %s, got %s", ute.Field, ute.Type, ute.Value)
		}
		return fmt.Errorf("the body is not valid JSON: %v", err)
	}
	if dec.More() {
		return errors.New("the body has data after its JSON object")
	}
	return nil
}

// CheckID checks an identifier field: at most MaxIDLength bytes, valid
// UTF-8, printable; required or not.
func CheckID(field, v string, required bool) error {
	switch {
	case v == "" && required:
		return fmt.Errorf("%s: missing", field)
	case len(v) > MaxIDLength:
		return fmt.Errorf("%s: longer than %d bytes", field, MaxIDLength)
	case strings.ContainsFunc(v, func(r rune) bool { return !unicode.IsPrint(r) || r == unicode.ReplacementChar }):
		return fmt.Errorf("%s: has control or invalid characters", field)
	}
	return nil
}

// CheckURL checks an optional link: an absolute http(s) URL.
func CheckURL(field, v string) error {
	if v == "" {
		return nil
	}
	if len(v) > MaxURLLength {
		return fmt.Errorf("%s: longer than %d bytes", field, MaxURLLength)
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%s: %q is not an absolute http(s) URL", field, v)
	}
	return nil
}

// Rollbacker rolls back by sending a rollback request to a deploy tool.
type Rollbacker struct {
	url         string
	secret      []byte
	callbackURL string
	client      *http.Client
}

// NewRollbacker returns a Rollbacker that POSTs to url, signed with secret
// (rollback.webhook.secret). callbackURL is where the tool reports back:
// server.public_url + CallbackPath (see CallbackURL); empty leaves it out
// of requests. client nil means a client with a 30 s timeout.
func NewRollbacker(url string, secret []byte, callbackURL string, client *http.Client) *Rollbacker {
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	return &Rollbacker{url: url, secret: secret, callbackURL: callbackURL, client: client}
}

// CallbackURL is the callback URL for Warroom's public URL, or "" when it
// has none.
func CallbackURL(publicURL string) string {
	if publicURL == "" {
		return ""
	}
	return strings.TrimSuffix(publicURL, "/") + CallbackPath
}

// Mechanism is deploys.MechanismWebhook.
func (r *Rollbacker) Mechanism() deploys.Mechanism { return deploys.MechanismWebhook }

// host is the target's host, for messages: its URL may carry a token.
func (r *Rollbacker) host() string {
	if u, err := url.Parse(r.url); err == nil && u.Host != "" {
		return u.Host
	}
	return "the rollback webhook"
}

// Body returns the request body for req.
func (r *Rollbacker) Body(req deploys.RollbackRequest) ([]byte, error) {
	return json.Marshal(Request{
		Key: req.Key, Incident: req.Incident.String(), Service: req.Service,
		From:        Ref{Ref: req.From.Ref, SHA: req.From.SHA},
		To:          Ref{Ref: req.To.Ref, SHA: req.To.SHA},
		RequestedBy: string(req.RequestedBy), RequestedAt: req.At.UTC(), CallbackURL: r.callbackURL,
	})
}

// maxAnswer bounds how much of an answer is read.
const maxAnswer = 64 << 10

// Start sends the rollback request. The handle is the tool's answer (its
// id, else the key, and its url). Sending it again for the same key is
// safe when the tool dedupes by X-Warroom-Delivery, as it must.
func (r *Rollbacker) Start(ctx context.Context, req deploys.RollbackRequest) (deploys.Handle, error) {
	switch {
	case len(r.secret) == 0:
		return deploys.Handle{}, jobs.Permanent(errors.New("deploywebhook: the rollback webhook has no secret"))
	case req.Key == "":
		return deploys.Handle{}, jobs.Permanent(errors.New("deploywebhook: the rollback has no key"))
	case req.To.Ref == "" && req.To.SHA == "":
		return deploys.Handle{}, jobs.Permanent(errors.New("deploywebhook: the rollback has no target ref or SHA"))
	}
	body, err := r.Body(req)
	if err != nil {
		return deploys.Handle{}, jobs.Permanent(fmt.Errorf("deploywebhook: %w", err))
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, r.url, bytes.NewReader(body))
	if err != nil {
		return deploys.Handle{}, jobs.Permanent(fmt.Errorf("deploywebhook: the rollback webhook URL is not valid"))
	}
	hr.Header.Set("Content-Type", "application/json")
	hr.Header.Set("User-Agent", "Warroom")
	hr.Header.Set(EventHeader, "rollback")
	hr.Header.Set(DeliveryHeader, req.Key)
	hr.Header.Set(webhook.SignatureHeader, webhook.Sign(r.secret, body))
	resp, err := r.client.Do(hr)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // its message has the URL, which may carry a token
		}
		return deploys.Handle{}, fmt.Errorf("deploywebhook: sending rollback %s to %s: %w", req.Key, r.host(), err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	code := resp.StatusCode
	switch {
	case code >= 200 && code < 300 || code == http.StatusConflict:
		var a Answer
		_ = json.Unmarshal(answer, &a)
		h := deploys.Handle{ExternalID: req.Key, URL: a.URL}
		if CheckID("id", a.ID, false) == nil && a.ID != "" {
			h.ExternalID = a.ID
		}
		if CheckURL("url", a.URL) != nil {
			h.URL = ""
		}
		return h, nil
	}
	err = fmt.Errorf("deploywebhook: %s answered rollback %s with %d: %s", r.host(), req.Key, code, snippet(answer))
	switch {
	case code >= 500 || code == http.StatusRequestTimeout || code == http.StatusTooManyRequests:
		if s, perr := strconv.Atoi(strings.TrimSpace(resp.Header.Get("Retry-After"))); perr == nil && s >= 0 {
			return deploys.Handle{}, jobs.RetryAfter(time.Duration(s)*time.Second, err)
		}
		return deploys.Handle{}, err
	default:
		return deploys.Handle{}, jobs.Permanent(err)
	}
}

// snippet is the start of an answer's body, on one line, for a message.
func snippet(b []byte) string {
	s := strings.Join(strings.Fields(strings.ToValidUTF8(string(b), "?")), " ")
	if len(s) > 200 {
		s = strings.ToValidUTF8(s[:200], "") + "…"
	}
	if s == "" {
		return "(no body)"
	}
	return s
}

// Progress has no news: the tool reports progress with callbacks, which
// the deploys service records (deploys.Recorder.RecordRollbackProgress).
// It returns StatusUnknown, which callers must not record over a state
// the callbacks reported.
func (r *Rollbacker) Progress(ctx context.Context, req deploys.RollbackRequest, h deploys.Handle) (deploys.Progress, error) {
	return deploys.Progress{
		Status:  deploys.StatusUnknown,
		Message: "waiting for " + r.host() + " to report the rollback's progress",
		URL:     h.URL,
	}, nil
}
