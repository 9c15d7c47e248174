// Package server is Warroom's HTTP server: health and readiness probes,
// Prometheus metrics, a read-only JSON API over incidents, and the routes that
// other packages add with Handle (Slack, alert webhooks).
//
// Every route, built in or added, goes through the same middleware: a request
// ID (X-Request-Id), a body size limit, panic recovery, metrics labelled by
// the route pattern, and request logging at debug level. Errors become HTTP
// replies in one place, WriteError, and every error body is JSON:
//
//	{"error": "a sentence for the caller"}
//
// # Routes
//
//	GET /healthz                      200 {"status":"ok"}; the process is alive
//	GET /readyz                       200 {"status":"ready"} or 503 {"status":"not ready","error":"..."}
//	GET /metrics                      Prometheus text format, no authentication
//	GET /api/incidents                ?status=open|resolved|all (default open), ?service=, ?limit=1..1000 (default 100)
//	GET /api/incidents/{id}           id is 42 or INC-42
//	GET /api/incidents/{id}/timeline
//	GET /api/incidents/{id}/alerts    ?limit=1..1000 (default 100): firing first, each with its history
//	GET /api/incidents/{id}/postmortem  the postmortem draft as Markdown (text/markdown); with
//	                                  ?format=html as HTML (text/html, Content-Security-Policy: default-src 'none')
//
// The /api routes need "Authorization: Bearer <token>". A missing or wrong
// token gets 401 with "WWW-Authenticate: Bearer". When Options.APIToken is
// empty the API is off and its routes answer 404 with a JSON error saying so
// (404 rather than 403: there is nothing to be allowed into, and no token
// would help).
//
// # JSON shapes
//
// The names are stable and snake_case. Times are RFC 3339 in UTC with whole
// seconds ("2025-03-01T14:05:00Z"), or null when the moment has not come yet.
//
// An incident:
//
//	{
//	  "id": "INC-42", "number": 42,
//	  "title": "Checkout is failing", "severity": "sev2", "status": "identified",
//	  "service": "checkout", "description": "", "summary": "",
//	  "declared_by": "slack:U123",
//	  "roles": {"lead": "U1", "comms": "U2"},          // {} when no one holds a role
//	  "channel": {"id": "C123", "name": "inc-42-checkout"}, // or null
//	  "detected_at": "...", "declared_at": "...",
//	  "acknowledged_at": null, "mitigated_at": null, "resolved_at": null,
//	  "duration_seconds": 754,    // detection to resolution, or to now while open
//	  "url": "https://warroom.example.com/api/incidents/42" // omitted without Options.PublicURL
//	}
//
// GET /api/incidents/{id} adds the incident's follow-ups: "postmortem"
// (omitted until a draft was proposed on GitHub) and "action_items" ([]
// when there are none):
//
//	"postmortem": {"repository": "acme/postmortems", "branch": "postmortem/inc-42-checkout",
//	  "path": "postmortems/2026-11-03-inc-42-checkout.md", "pull_request": 12,
//	  "url": "https://github.com/acme/postmortems/pull/12", "state": "open",
//	  "edited_by_people": false, "updated_at": "..."},
//	"action_items": [{"text": "Add a canary stage", "state": "open", "issue": 31,
//	  "issue_url": "https://github.com/acme/checkout/issues/31", "created_at": "..."}]
//
// An action item's state is "done" once its issue is closed, and the
// postmortem's state "open", "merged" or "closed", as last seen by the
// hourly sync (or the last publish).
//
// A list, newest first: {"incidents": [incident, ...], "count": 2}.
//
// A timeline, in the order things happened:
//
//	{"incident": "INC-42", "events": [
//	  {"id": 7, "at": "...", "kind": "status_changed", "actor": "slack:U1",
//	   "text": "Status changed to identified", "data": {"from": "investigating", "to": "identified"}}
//	]}
//
// "data" is always an object ({} when the event has no details).
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/warroomhq/warroom/incidents"
)

// Defaults for zero Options fields.
const (
	DefaultMaxBodyBytes  = 1 << 20
	DefaultShutdownGrace = 15 * time.Second
)

// Limits of the http.Server that Serve runs.
const (
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 30 * time.Second
	writeTimeout      = 30 * time.Second
	idleTimeout       = 120 * time.Second
	maxHeaderBytes    = 64 << 10

	readyTimeout         = 2 * time.Second // for Options.Ready
	incidentGaugeTimeout = 3 * time.Second // for the warroom_incidents gauge at scrape time
)

// Options configures a Server. Only Incidents is needed for the API; every
// other field has a usable zero value.
type Options struct {
	// Incidents is the read side for the JSON API and the warroom_incidents
	// gauge. When nil, the API is off and the gauge is not registered.
	Incidents incidents.Reader
	// Alerts is the read side of incidents' alerts, for
	// /api/incidents/{id}/alerts. Nil leaves that route answering 404.
	Alerts AlertReader
	// Postmortems writes the drafts of /api/incidents/{id}/postmortem.
	// Nil leaves that route answering 404.
	Postmortems Postmortems
	// Followups shows incidents' postmortem pull requests and action
	// items in GET /api/incidents/{id}. Optional.
	Followups Followups
	// Deploys answers /api/freeze and /api/services/{service}/deploys.
	// Nil leaves those routes answering 404.
	Deploys Deploys
	// Ready reports whether Warroom can serve: the database is reachable and
	// its migrations are applied. Its error text is shown on /readyz, which
	// needs no token, so it should name the problem without secrets. Nil
	// means always ready.
	Ready func(ctx context.Context) error
	// APIToken is the bearer token for /api. Empty turns the API off.
	APIToken string
	// PublicURL is the base of links in API output, such as
	// "https://warroom.example.com". Empty leaves links out.
	PublicURL string
	// Registry is where the server registers its metrics and what /metrics
	// serves. Nil means a new registry of the server's own.
	Registry *prometheus.Registry
	// Logger receives request logs (debug), errors and panics. Nil discards.
	Logger *slog.Logger
	// MaxBodyBytes limits request bodies; 0 means DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// Now is the clock for durations in API output; nil means time.Now.
	Now func() time.Time
	// ShutdownGrace is how long Serve waits for in-flight requests once its
	// context is cancelled; 0 means DefaultShutdownGrace.
	ShutdownGrace time.Duration
}

// Server routes Warroom's HTTP requests. Create it with New, add routes with
// Handle during wiring, then call Serve (or mount Handler elsewhere).
type Server struct {
	opts     Options
	log      *slog.Logger
	mux      *http.ServeMux
	apiToken Token
	limits   map[string]int64 // body limits by route pattern
	metrics  *httpMetrics
}

// New returns a server with the built-in routes registered. It registers the
// server's metrics on opts.Registry and panics if a metric of the same name but
// a different shape is already there, as prometheus.MustRegister does.
func New(opts Options) *Server {
	if opts.Registry == nil {
		opts.Registry = prometheus.NewRegistry()
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.ShutdownGrace <= 0 {
		opts.ShutdownGrace = DefaultShutdownGrace
	}
	opts.PublicURL = strings.TrimRight(opts.PublicURL, "/")

	s := &Server{
		opts:     opts,
		log:      opts.Logger,
		mux:      http.NewServeMux(),
		apiToken: NewToken(opts.APIToken),
		limits:   map[string]int64{},
	}
	s.metrics = newHTTPMetrics(opts.Registry, opts.Incidents)

	s.mux.HandleFunc("GET /healthz", s.healthz)
	s.mux.HandleFunc("GET /readyz", s.readyz)
	s.mux.Handle("GET /metrics", metricsHandler(opts.Registry, s.log))
	s.mux.Handle("GET /api/incidents", s.api(s.listIncidents))
	s.mux.Handle("GET /api/incidents/{id}", s.api(s.getIncident))
	s.mux.Handle("GET /api/incidents/{id}/timeline", s.api(s.getTimeline))
	s.mux.Handle("GET /api/incidents/{id}/alerts", s.api(s.getAlerts))
	s.mux.Handle("GET /api/incidents/{id}/postmortem", s.api(s.getPostmortem))
	s.mux.Handle("GET /api/freeze", s.api(s.getFreeze))
	s.mux.Handle("GET /api/services/{service}/deploys", s.api(s.getDeploys))
	return s
}

// Handle registers h for pattern (a net/http ServeMux pattern such as
// "POST /slack/commands"). The route gets the same middleware as the built-in
// ones: metrics by pattern, panic recovery, the body limit and request
// logging. Call it during wiring; like ServeMux.Handle it panics when the
// pattern is invalid or conflicts with another.
func (s *Server) Handle(pattern string, h http.Handler) {
	s.mux.Handle(pattern, h)
}

// HandleLimited is Handle with a body limit of its own instead of
// Options.MaxBodyBytes, for routes whose senders post large bodies (alert
// webhooks). A larger body gets 413.
func (s *Server) HandleLimited(pattern string, limit int64, h http.Handler) {
	s.mux.Handle(pattern, h)
	s.limits[pattern] = limit
}

// Handler returns the server's routes with their middleware, for use in an
// http.Server of the caller's own or in tests. Routes added with Handle later
// are served too.
func (s *Server) Handler() http.Handler {
	return http.HandlerFunc(s.serveHTTP)
}

// Serve listens on addr (":8080", or "127.0.0.1:0" for any free port) and
// serves until ctx is cancelled. It then shuts down gracefully: it stops
// accepting connections and waits for in-flight requests, up to
// Options.ShutdownGrace, before closing the rest. It returns nil after a clean
// shutdown, and an error when it cannot listen, serving fails, or requests
// were still running at the end of the grace period.
//
// ready, when not nil, is called once with the listening address, before any
// request is served; with port 0 it is how callers learn the port.
func (s *Server) Serve(ctx context.Context, addr string, ready func(net.Addr)) error {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", addr, err)
	}
	srv := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		// Requests keep ctx's values but not its cancellation, so that
		// in-flight requests can finish during shutdown.
		BaseContext: func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	if ready != nil {
		ready(ln.Addr())
	}
	s.log.Info("serving http", "addr", ln.Addr().String())

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return fmt.Errorf("serving http on %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}

	s.log.Info("shutting down http", "grace", s.opts.ShutdownGrace.String())
	shutdownCtx, cancel := context.WithTimeout(context.Background(), s.opts.ShutdownGrace)
	defer cancel()
	err = srv.Shutdown(shutdownCtx)
	if serr := <-served; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		s.log.Warn("http serve loop ended with an error during shutdown", "err", serr)
	}
	if err != nil {
		closeErr := srv.Close()
		return errors.Join(fmt.Errorf("shutting down http after %s: %w", s.opts.ShutdownGrace, err), closeErr)
	}
	return nil
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	if s.opts.Ready == nil {
		WriteJSON(w, http.StatusOK, map[string]string{"status": "ready"})
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
	defer cancel()
	// Run the check aside, so a check that ignores its context cannot hold
	// the probe past its timeout.
	done := make(chan error, 1)
	go func() { done <- s.opts.Ready(ctx) }()
	var err error
	select {
	case err = <-done:
	case <-ctx.Done():
		err = fmt.Errorf("readiness check did not finish within %s", readyTimeout)
	}
	if err != nil {
		loggerFrom(r).Warn("not ready", "err", err)
		WriteJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "not ready", "error": err.Error()})
		return
	}
	WriteJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}
