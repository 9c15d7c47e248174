package bot

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/slack-go/slack"
)

// HTTP serves Slack's HTTP endpoints: it verifies each request's signature
// before anything else, parses it and hands it to a Dispatcher.
type HTTP struct {
	d      Dispatcher
	secret string
	now    func() time.Time
	log    *slog.Logger
}

// NewHTTP returns the HTTP endpoints for d, verifying requests with the
// signing secret.
func NewHTTP(d Dispatcher, signingSecret string, now func() time.Time, log *slog.Logger) *HTTP {
	return &HTTP{d: d, secret: signingSecret, now: now, log: log}
}

// Routes mounts POST /slack/commands, /slack/events and /slack/interactivity.
func (h *HTTP) Routes(handle func(pattern string, h http.Handler)) { panic("unimplemented") }

// Verify checks a Slack request signature: X-Slack-Signature must be
// "v0=" + hex(HMAC-SHA256(secret, "v0:" + X-Slack-Request-Timestamp + ":" +
// body)), compared in constant time, and the timestamp at most 5 minutes
// away from now.
func Verify(secret string, header http.Header, body []byte, now time.Time) error {
	panic("unimplemented")
}

// RunSocketMode receives requests over Socket Mode with api (which carries
// the app-level token) and hands them to d, until ctx is cancelled.
func RunSocketMode(ctx context.Context, api *slack.Client, d Dispatcher, log *slog.Logger) error {
	panic("unimplemented")
}
