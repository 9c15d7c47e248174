// Package alerthooks serves the alert webhooks: POST /hooks/alertmanager,
// /hooks/grafana and /hooks/generic. Each checks the webhook token, reads
// the body, converts it with its source's parser and hands it to the domain,
// which stores the body and its alerts before the sender is answered.
//
// Answers:
//
//	200 {"status":"ok", "body_id":7, "alerts":2, "new":1, "changed":1, "repeated":0, "stale":0, "groups":1}
//	400 {"error":"..."}  the body is malformed or has the wrong shape; sending it again will not help
//	401 {"error":"..."}  no token or a wrong one
//	404 {"error":"..."}  webhooks.token is not set, so the hooks are off
//	413 {"error":"..."}  the body is larger than the limit
//	503 {"error":"..."}  the database could not store it; retry (Alertmanager does)
package alerthooks

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/warroomhq/warroom/incidents"
	"github.com/warroomhq/warroom/integrations/alertmanager"
	"github.com/warroomhq/warroom/integrations/generic"
	"github.com/warroomhq/warroom/integrations/grafana"
	"github.com/warroomhq/warroom/server"
)

// DefaultMaxBodyBytes is the body limit of the alert hooks: Alertmanager
// sends a whole group in one body.
const DefaultMaxBodyBytes = 10 << 20

// Ingester stores a body's alerts; incidents.AlertService implements it.
type Ingester interface {
	Ingest(ctx context.Context, b *incidents.AlertBatch) (incidents.IngestResult, error)
}

// Parser converts one source's body to a batch. Its errors are the sender's
// fault, and their text is shown to the sender.
type Parser func(body []byte) (*incidents.AlertBatch, error)

// Sources are the routes and their parsers.
var Sources = map[string]Parser{
	incidents.SourceAlertmanager: alertmanager.Parse,
	incidents.SourceGrafana:      grafana.Parse,
	incidents.SourceGeneric:      generic.Parse,
}

// Options configures the hooks.
type Options struct {
	// Token is the webhook token. Empty turns the hooks off (404).
	Token    string
	Ingester Ingester
	Logger   *slog.Logger
	// Registry receives the hooks' metrics; nil registers none.
	Registry prometheus.Registerer
	// MaxBodyBytes limits bodies; 0 means DefaultMaxBodyBytes.
	MaxBodyBytes int64
}

// Hooks serves the alert webhooks.
type Hooks struct {
	opts    Options
	token   server.Token
	log     *slog.Logger
	metrics *metrics
}

// New returns the hooks.
func New(opts Options) *Hooks {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	return &Hooks{opts: opts, token: server.NewToken(opts.Token), log: opts.Logger, metrics: newMetrics(opts.Registry)}
}

// Routes registers the hooks with handle, which sets a body limit per route
// (server.Server.HandleLimited).
func (h *Hooks) Routes(handle func(pattern string, limit int64, h http.Handler)) {
	for source, parse := range Sources {
		handle("POST /hooks/"+source, h.opts.MaxBodyBytes, h.Handler(source, parse))
	}
}

// Handler serves one source.
func (h *Hooks) Handler(source string, parse Parser) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		outcome, res := h.serve(w, r, source, parse)
		h.metrics.observe(source, outcome, res, time.Since(start))
	})
}

func (h *Hooks) serve(w http.ResponseWriter, r *http.Request, source string, parse Parser) (string, incidents.IngestResult) {
	var res incidents.IngestResult
	if !h.token.IsSet() {
		server.WriteError(w, r, &server.StatusError{Code: http.StatusNotFound,
			Msg: "the alert webhooks are off; set webhooks.token in Warroom's configuration to turn them on"})
		return "off", res
	}
	if !h.token.BearerOrBasic(r) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="warroom", Basic realm="warroom"`)
		server.WriteError(w, r, &server.StatusError{Code: http.StatusUnauthorized,
			Msg: "missing or wrong webhook token; send Authorization: Bearer <token>, or basic auth with the token as password"})
		return "unauthorized", res
	}
	body, err := server.ReadBody(w, r)
	if err != nil {
		server.WriteError(w, r, err)
		var se *server.StatusError
		if errors.As(err, &se) && se.Code == http.StatusRequestEntityTooLarge {
			return "too_large", res
		}
		return "bad_request", res
	}
	batch, err := parse(body)
	if err != nil {
		server.WriteError(w, r, &server.StatusError{Code: http.StatusBadRequest, Msg: err.Error(), Err: err})
		return "bad_request", res
	}
	batch.Raw = body
	res, err = h.opts.Ingester.Ingest(r.Context(), batch)
	switch {
	case err == nil:
	case incidents.IsUserError(err):
		server.WriteError(w, r, err)
		return "bad_request", res
	default:
		h.log.Error("storing alerts failed", "source", source, "alerts", len(batch.Alerts), "err", err)
		w.Header().Set("Retry-After", "10")
		server.WriteError(w, r, &server.StatusError{Code: http.StatusServiceUnavailable,
			Msg: "the alerts could not be stored; send them again", Err: err})
		return "unavailable", res
	}
	server.WriteJSON(w, http.StatusOK, reply{Status: "ok", IngestResult: res})
	return "accepted", res
}

type reply struct {
	Status string `json:"status"`
	incidents.IngestResult
}
