package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/warroomhq/warroom/incidents"
)

const testToken = "s3cret-token"

var t0 = time.Date(2025, 3, 1, 14, 0, 0, 0, time.UTC)

// fakeReader is an in-memory incidents.Reader.
type fakeReader struct {
	mu     sync.Mutex
	incs   map[incidents.ID]*incidents.Incident
	events map[incidents.ID][]incidents.Event
	err    error // returned by every method when set
}

var _ incidents.Reader = (*fakeReader)(nil)

func (f *fakeReader) Incident(ctx context.Context, id incidents.ID) (*incidents.Incident, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return nil, f.err
	}
	inc, ok := f.incs[id]
	if !ok {
		return nil, &incidents.NotFoundError{ID: id}
	}
	c := *inc
	return &c, nil
}

func (f *fakeReader) Incidents(ctx context.Context, lf incidents.ListFilter) ([]*incidents.Incident, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return nil, f.err
	}
	var out []*incidents.Incident
	for _, inc := range f.incs {
		switch {
		case lf.Status == incidents.FilterOpen && !inc.Status.Open(),
			lf.Status == incidents.FilterResolved && inc.Status.Open(),
			lf.Service != "" && inc.Service != lf.Service:
			continue
		}
		c := *inc
		out = append(out, &c)
	}
	slices.SortFunc(out, func(a, b *incidents.Incident) int { return int(b.ID - a.ID) })
	if lf.Limit > 0 && len(out) > lf.Limit {
		out = out[:lf.Limit]
	}
	return out, nil
}

func (f *fakeReader) Timeline(ctx context.Context, id incidents.ID) ([]incidents.Event, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return nil, f.err
	}
	return slices.Clone(f.events[id]), nil
}

func (f *fakeReader) CountByStatus(ctx context.Context) (map[incidents.Status]int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return nil, f.err
	}
	out := map[incidents.Status]int{}
	for _, inc := range f.incs {
		out[inc.Status]++
	}
	return out, nil
}

func (f *fakeReader) setErr(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.err = err
}

func newFakeReader() *fakeReader {
	return &fakeReader{
		incs: map[incidents.ID]*incidents.Incident{
			41: {
				ID: 41, Title: "API latency", Severity: incidents.Sev3, Status: incidents.StatusResolved,
				Service: "api", Summary: "A slow query; added an index.", DeclaredBy: "slack:U9",
				Roles:      map[incidents.Role]string{incidents.RoleLead: "U9"},
				DetectedAt: t0.Add(-2 * time.Hour), DeclaredAt: t0.Add(-2 * time.Hour),
				MitigatedAt: t0.Add(-90 * time.Minute), ResolvedAt: t0.Add(-time.Hour),
			},
			42: {
				ID: 42, Title: "Checkout is failing", Severity: incidents.Sev2, Status: incidents.StatusIdentified,
				Service: "checkout", Description: "5xx on /pay", DeclaredBy: "slack:U123",
				Roles:     map[incidents.Role]string{incidents.RoleLead: "U1", incidents.RoleComms: "U2"},
				ChannelID: "C42", ChannelName: "inc-42-checkout",
				DetectedAt: t0.Add(-5 * time.Minute), DeclaredAt: t0.Add(-3*time.Minute + 500*time.Millisecond),
				AcknowledgedAt: t0.Add(-2 * time.Minute),
			},
			43: {
				ID: 43, Title: "Queue backlog", Severity: incidents.Sev4, Status: incidents.StatusInvestigating,
				Service: "api", DeclaredBy: "alertmanager", DeclaredAt: t0,
			},
		},
		events: map[incidents.ID][]incidents.Event{
			42: {
				{ID: 1, IncidentID: 42, At: t0.Add(-3 * time.Minute), Kind: incidents.EventDeclared, Actor: "slack:U123", Text: "Declared"},
				{ID: 2, IncidentID: 42, At: t0.Add(-time.Minute), Kind: incidents.EventStatusChanged, Actor: "slack:U1",
					Text: "Status changed to identified", Data: map[string]any{"from": "investigating", "to": "identified"}},
			},
		},
	}
}

type testEnv struct {
	srv    *Server
	h      http.Handler
	reader *fakeReader
	reg    *prometheus.Registry
	logs   *syncBuffer
}

func newTestEnv(t *testing.T, mod func(*Options)) *testEnv {
	t.Helper()
	env := &testEnv{reader: newFakeReader(), reg: prometheus.NewRegistry(), logs: &syncBuffer{}}
	opts := Options{
		Incidents: env.reader,
		APIToken:  testToken,
		PublicURL: "https://warroom.example.com/",
		Registry:  env.reg,
		// Not t.Output(): the server logs a request after its answer is
		// sent, which may be after the test has ended.
		Logger: slog.New(slog.NewTextHandler(env.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Now:    func() time.Time { return t0.Add(10 * time.Minute) },
	}
	if mod != nil {
		mod(&opts)
	}
	env.srv = New(opts)
	env.h = env.srv.Handler()
	return env
}

// do serves one request; a token of "" sends no Authorization header.
func (env *testEnv) do(t *testing.T, method, target, token string, body io.Reader) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, target, body)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	env.h.ServeHTTP(rec, req)
	return rec
}

// syncBuffer collects logs from concurrent handlers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// wantJSON checks the status, the content type, and that the body equals want
// as JSON (key order and spacing aside).
func wantJSON(t *testing.T, rec *httptest.ResponseRecorder, code int, want string) {
	t.Helper()
	if rec.Code != code {
		t.Errorf("status = %d, want %d; body %s", rec.Code, code, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	var got, exp any
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatalf("body is not JSON: %v: %s", err, rec.Body)
	}
	if err := json.Unmarshal([]byte(want), &exp); err != nil {
		t.Fatalf("bad expectation: %v", err)
	}
	if !reflect.DeepEqual(got, exp) {
		t.Errorf("body = %s\nwant   %s", strings.TrimSpace(rec.Body.String()), want)
	}
}

// wantError checks a JSON error reply and returns its message.
func wantError(t *testing.T, rec *httptest.ResponseRecorder, code int) string {
	t.Helper()
	if rec.Code != code {
		t.Errorf("status = %d, want %d; body %s", rec.Code, code, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	var body map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("body is not JSON: %v: %s", err, rec.Body)
	}
	msg, ok := body["error"].(string)
	if len(body) != 1 || !ok || msg == "" {
		t.Errorf(`body = %s, want {"error":"..."}`, rec.Body)
	}
	return msg
}

func TestHealthz(t *testing.T) {
	env := newTestEnv(t, nil)
	req := httptest.NewRequest("GET", "/healthz", nil)
	req.Header.Set("X-Request-Id", "probe-1")
	rec := httptest.NewRecorder()
	env.h.ServeHTTP(rec, req)
	wantJSON(t, rec, 200, `{"status":"ok"}`)
	if id := rec.Header().Get("X-Request-Id"); id != "probe-1" {
		t.Errorf("X-Request-Id = %q, want the caller's probe-1", id)
	}

	rec = env.do(t, "GET", "/healthz", "", nil)
	if id := rec.Header().Get("X-Request-Id"); id == "" || id == "probe-1" {
		t.Errorf("X-Request-Id = %q, want a new one", id)
	}
}

func TestReadyz(t *testing.T) {
	t.Run("ready", func(t *testing.T) {
		var called bool
		env := newTestEnv(t, func(o *Options) {
			o.Ready = func(ctx context.Context) error {
				called = true
				if _, ok := ctx.Deadline(); !ok {
					t.Error("Ready got a context without a deadline")
				}
				return nil
			}
		})
		wantJSON(t, env.do(t, "GET", "/readyz", "", nil), 200, `{"status":"ready"}`)
		if !called {
			t.Error("Ready was not called")
		}
	})
	t.Run("not ready", func(t *testing.T) {
		env := newTestEnv(t, func(o *Options) {
			o.Ready = func(context.Context) error { return errors.New("migrations pending: 3 of 5 applied") }
		})
		wantJSON(t, env.do(t, "GET", "/readyz", "", nil), 503,
			`{"status":"not ready","error":"migrations pending: 3 of 5 applied"}`)
	})
	t.Run("no check", func(t *testing.T) {
		env := newTestEnv(t, nil)
		wantJSON(t, env.do(t, "GET", "/readyz", "", nil), 200, `{"status":"ready"}`)
	})
}

func TestMetrics(t *testing.T) {
	env := newTestEnv(t, nil)
	env.do(t, "GET", "/healthz", "", nil)
	env.do(t, "GET", "/healthz", "", nil)
	env.do(t, "GET", "/api/incidents/42", testToken, nil)
	env.do(t, "GET", "/api/incidents/43", testToken, nil)
	env.do(t, "GET", "/api/incidents/999", testToken, nil)
	env.do(t, "GET", "/no/such/path", "", nil)

	rec := env.do(t, "GET", "/metrics", "", nil)
	if rec.Code != 200 {
		t.Fatalf("status = %d, want 200: %s", rec.Code, rec.Body)
	}
	text := rec.Body.String()
	for _, want := range []string{
		`warroom_http_requests_total{code="200",route="GET /healthz"} 2`,
		`warroom_http_requests_total{code="200",route="GET /api/incidents/{id}"} 2`,
		`warroom_http_requests_total{code="404",route="GET /api/incidents/{id}"} 1`,
		`warroom_http_requests_total{code="404",route="unmatched"} 1`,
		`warroom_http_request_duration_seconds_count{route="GET /healthz"} 2`,
		`warroom_incidents{status="investigating"} 1`,
		`warroom_incidents{status="identified"} 1`,
		`warroom_incidents{status="monitoring"} 0`,
		`warroom_incidents{status="resolved"} 1`,
		`go_goroutines `,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	for _, raw := range []string{"/api/incidents/42", "/no/such/path"} {
		if strings.Contains(text, `route="`+raw) || strings.Contains(text, `route="GET `+raw) {
			t.Errorf("metrics carry the raw path %s as a route", raw)
		}
	}

	// A failing store leaves the gauge out but still serves the rest.
	env.reader.setErr(errors.New("database is locked"))
	rec = env.do(t, "GET", "/metrics", "", nil)
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), "warroom_http_requests_total") {
		t.Errorf("with a failing store: status %d, want 200 with the HTTP metrics", rec.Code)
	}
	if strings.Contains(rec.Body.String(), "warroom_incidents{") {
		t.Error("with a failing store the incident gauge is still served")
	}
}

func TestNewTwiceOnOneRegistry(t *testing.T) {
	reg := prometheus.NewRegistry()
	a := New(Options{Registry: reg})
	b := New(Options{Registry: reg}) // must not panic
	a.Handler().ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/healthz", nil))
	b.Handler().ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/healthz", nil))
	rec := httptest.NewRecorder()
	b.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if !strings.Contains(rec.Body.String(), `warroom_http_requests_total{code="200",route="GET /healthz"} 2`) {
		t.Errorf("two servers on one registry do not share their counters:\n%s", rec.Body)
	}
}

func TestAPIAuth(t *testing.T) {
	env := newTestEnv(t, nil)

	rec := env.do(t, "GET", "/api/incidents", "", nil)
	wantError(t, rec, 401)
	if h := rec.Header().Get("WWW-Authenticate"); !strings.HasPrefix(h, "Bearer") {
		t.Errorf("WWW-Authenticate = %q, want Bearer", h)
	}

	rec = env.do(t, "GET", "/api/incidents", "wrong", nil)
	wantError(t, rec, 401)
	if h := rec.Header().Get("WWW-Authenticate"); !strings.HasPrefix(h, "Bearer") {
		t.Errorf("WWW-Authenticate = %q, want Bearer", h)
	}
	wantError(t, env.do(t, "GET", "/api/incidents", testToken+"x", nil), 401)
	wantError(t, env.do(t, "GET", "/api/incidents/42/timeline", "wrong", nil), 401)

	req := httptest.NewRequest("GET", "/api/incidents", nil)
	req.Header.Set("Authorization", "Basic "+testToken)
	rec = httptest.NewRecorder()
	env.h.ServeHTTP(rec, req)
	wantError(t, rec, 401)

	if rec := env.do(t, "GET", "/api/incidents", testToken, nil); rec.Code != 200 {
		t.Errorf("right token: status = %d, want 200: %s", rec.Code, rec.Body)
	}
	req = httptest.NewRequest("GET", "/api/incidents", nil)
	req.Header.Set("Authorization", "bearer "+testToken) // the scheme is case-insensitive
	rec = httptest.NewRecorder()
	env.h.ServeHTTP(rec, req)
	if rec.Code != 200 {
		t.Errorf("lower-case scheme: status = %d, want 200", rec.Code)
	}

	if strings.Contains(env.logs.String(), testToken) {
		t.Error("the logs contain the API token")
	}
}

func TestAPIOffWithoutToken(t *testing.T) {
	env := newTestEnv(t, func(o *Options) { o.APIToken = "" })
	for _, token := range []string{"", "anything"} {
		msg := wantError(t, env.do(t, "GET", "/api/incidents", token, nil), 404)
		if !strings.Contains(msg, "off") {
			t.Errorf("error = %q, want it to say the API is off", msg)
		}
		wantError(t, env.do(t, "GET", "/api/incidents/42", token, nil), 404)
	}
	// An empty bearer token must not match the empty API token.
	req := httptest.NewRequest("GET", "/api/incidents/42", nil)
	req.Header.Set("Authorization", "Bearer ")
	rec := httptest.NewRecorder()
	env.h.ServeHTTP(rec, req)
	wantError(t, rec, 404)
}

func listIDs(t *testing.T, rec *httptest.ResponseRecorder) []string {
	t.Helper()
	if rec.Code != 200 {
		t.Fatalf("status = %d, want 200: %s", rec.Code, rec.Body)
	}
	var body struct {
		Incidents []struct {
			ID string `json:"id"`
		} `json:"incidents"`
		Count *int `json:"count"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatal(err)
	}
	if body.Incidents == nil || body.Count == nil || *body.Count != len(body.Incidents) {
		t.Errorf("body = %s, want incidents as an array and count equal to its length", rec.Body)
	}
	ids := []string{}
	for _, inc := range body.Incidents {
		ids = append(ids, inc.ID)
	}
	return ids
}

func TestListIncidents(t *testing.T) {
	env := newTestEnv(t, nil)
	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"", []string{"INC-43", "INC-42"}},
		{"?status=open", []string{"INC-43", "INC-42"}},
		{"?status=resolved", []string{"INC-41"}},
		{"?status=all", []string{"INC-43", "INC-42", "INC-41"}},
		{"?status=ALL", []string{"INC-43", "INC-42", "INC-41"}},
		{"?status=all&service=api", []string{"INC-43", "INC-41"}},
		{"?status=all&limit=1", []string{"INC-43"}},
		{"?status=all&limit=1000", []string{"INC-43", "INC-42", "INC-41"}},
		{"?service=nothing", []string{}},
	} {
		t.Run(tc.query, func(t *testing.T) {
			got := listIDs(t, env.do(t, "GET", "/api/incidents"+tc.query, testToken, nil))
			if !slices.Equal(got, tc.want) {
				t.Errorf("ids = %v, want %v", got, tc.want)
			}
		})
	}
	for _, query := range []string{"?status=closed", "?limit=0", "?limit=1001", "?limit=ten"} {
		t.Run(query, func(t *testing.T) {
			msg := wantError(t, env.do(t, "GET", "/api/incidents"+query, testToken, nil), 400)
			if !strings.Contains(msg, strings.Split(query[1:], "=")[0]) {
				t.Errorf("error = %q, want it to name the parameter", msg)
			}
		})
	}
}

func TestListIncidentsShowsEmptyListAsArray(t *testing.T) {
	env := newTestEnv(t, nil)
	rec := env.do(t, "GET", "/api/incidents?service=none", testToken, nil)
	wantJSON(t, rec, 200, `{"incidents":[],"count":0}`)
}

const incident42JSON = `{
	"id": "INC-42", "number": 42,
	"title": "Checkout is failing", "severity": "sev2", "status": "identified",
	"service": "checkout", "description": "5xx on /pay", "summary": "",
	"declared_by": "slack:U123",
	"roles": {"lead": "U1", "comms": "U2"},
	"channel": {"id": "C42", "name": "inc-42-checkout"},
	"detected_at": "2025-03-01T13:55:00Z",
	"declared_at": "2025-03-01T13:57:00Z",
	"acknowledged_at": "2025-03-01T13:58:00Z",
	"mitigated_at": null,
	"resolved_at": null,
	"duration_seconds": 900,
	"url": "https://warroom.example.com/api/incidents/42",
	"action_items": []
}`

func TestGetIncident(t *testing.T) {
	env := newTestEnv(t, nil)
	for _, id := range []string{"42", "INC-42", "inc-42"} {
		t.Run(id, func(t *testing.T) {
			wantJSON(t, env.do(t, "GET", "/api/incidents/"+id, testToken, nil), 200, incident42JSON)
		})
	}
	t.Run("resolved", func(t *testing.T) {
		wantJSON(t, env.do(t, "GET", "/api/incidents/41", testToken, nil), 200, `{
			"id": "INC-41", "number": 41,
			"title": "API latency", "severity": "sev3", "status": "resolved",
			"service": "api", "description": "", "summary": "A slow query; added an index.",
			"declared_by": "slack:U9", "roles": {"lead": "U9"}, "channel": null,
			"detected_at": "2025-03-01T12:00:00Z", "declared_at": "2025-03-01T12:00:00Z",
			"acknowledged_at": null, "mitigated_at": "2025-03-01T12:30:00Z", "resolved_at": "2025-03-01T13:00:00Z",
			"duration_seconds": 3600,
			"url": "https://warroom.example.com/api/incidents/41",
			"action_items": []
		}`)
	})
	t.Run("no public URL", func(t *testing.T) {
		env := newTestEnv(t, func(o *Options) { o.PublicURL = "" })
		rec := env.do(t, "GET", "/api/incidents/43", testToken, nil)
		var body map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
			t.Fatal(err)
		}
		if _, ok := body["url"]; ok {
			t.Errorf("url is present without a public URL: %s", rec.Body)
		}
		if roles, ok := body["roles"].(map[string]any); !ok || len(roles) != 0 {
			t.Errorf("roles = %v, want {}", body["roles"])
		}
	})
	t.Run("bad id", func(t *testing.T) {
		for _, id := range []string{"abc", "0", "-1", "INC-"} {
			msg := wantError(t, env.do(t, "GET", "/api/incidents/"+id, testToken, nil), 400)
			if !strings.Contains(msg, "INC-42") {
				t.Errorf("%s: error = %q, want the domain's hint", id, msg)
			}
		}
	})
	t.Run("unknown", func(t *testing.T) {
		msg := wantError(t, env.do(t, "GET", "/api/incidents/999", testToken, nil), 404)
		if msg != "INC-999 does not exist" {
			t.Errorf("error = %q", msg)
		}
	})
}

func TestTimeline(t *testing.T) {
	env := newTestEnv(t, nil)
	wantJSON(t, env.do(t, "GET", "/api/incidents/INC-42/timeline", testToken, nil), 200, `{
		"incident": "INC-42",
		"events": [
			{"id": 1, "at": "2025-03-01T13:57:00Z", "kind": "declared", "actor": "slack:U123", "text": "Declared", "data": {}},
			{"id": 2, "at": "2025-03-01T13:59:00Z", "kind": "status_changed", "actor": "slack:U1",
			 "text": "Status changed to identified", "data": {"from": "investigating", "to": "identified"}}
		]
	}`)
	wantJSON(t, env.do(t, "GET", "/api/incidents/43/timeline", testToken, nil), 200,
		`{"incident": "INC-43", "events": []}`)
	wantError(t, env.do(t, "GET", "/api/incidents/999/timeline", testToken, nil), 404)
	wantError(t, env.do(t, "GET", "/api/incidents/x/timeline", testToken, nil), 400)
}

func TestStoreErrorIsNotLeaked(t *testing.T) {
	env := newTestEnv(t, nil)
	env.reader.setErr(errors.New("sqlite: disk I/O error at /var/lib/warroom.db"))
	for _, path := range []string{"/api/incidents", "/api/incidents/42", "/api/incidents/42/timeline"} {
		msg := wantError(t, env.do(t, "GET", path, testToken, nil), 500)
		if strings.Contains(msg, "sqlite") || strings.Contains(msg, "/var/lib") {
			t.Errorf("%s: error %q leaks the cause", path, msg)
		}
	}
	if !strings.Contains(env.logs.String(), "disk I/O error") {
		t.Error("the real error was not logged")
	}
}

func TestWriteErrorMapping(t *testing.T) {
	for _, tc := range []struct {
		err  error
		code int
		msg  string
	}{
		{&incidents.NotFoundError{ID: 7}, 404, "INC-7 does not exist"},
		{incidents.ErrNotFound, 404, "not found"},
		{&incidents.ValidationError{Field: "severity", Msg: "use sev1 to sev4"}, 400, "use sev1 to sev4"},
		{&incidents.TransitionError{Msg: "INC-7 is already resolved"}, 422, "INC-7 is already resolved"},
		{incidents.ErrConflict, 409, ""},
		{&StatusError{Code: 401, Msg: "bad signature"}, 401, "bad signature"},
		{&http.MaxBytesError{Limit: 10}, 413, "request body is larger than 10 bytes"},
		{errors.New("boom"), 500, "internal server error"},
	} {
		rec := httptest.NewRecorder()
		WriteError(rec, httptest.NewRequest("GET", "/", nil), tc.err)
		msg := wantError(t, rec, tc.code)
		if tc.msg != "" && msg != tc.msg {
			t.Errorf("%v: message = %q, want %q", tc.err, msg, tc.msg)
		}
	}
}

func TestUnknownRouteAndWrongMethod(t *testing.T) {
	env := newTestEnv(t, nil)
	wantError(t, env.do(t, "GET", "/nope", "", nil), 404)

	rec := env.do(t, "POST", "/healthz", "", nil)
	msg := wantError(t, rec, 405)
	if allow := rec.Header().Get("Allow"); !strings.Contains(allow, "GET") {
		t.Errorf("Allow = %q, want GET", allow)
	}
	if !strings.Contains(msg, "POST") {
		t.Errorf("error = %q, want it to name the method", msg)
	}
	wantError(t, env.do(t, "DELETE", "/api/incidents/42", testToken, nil), 405)

	// A handler's own 404 keeps its body.
	env.srv.Handle("GET /custom", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "custom", http.StatusNotFound)
	}))
	rec = env.do(t, "GET", "/custom", "", nil)
	if rec.Code != 404 || rec.Body.String() != "custom\n" {
		t.Errorf("custom 404 = %d %q", rec.Code, rec.Body)
	}
}

func TestPanicRecovery(t *testing.T) {
	env := newTestEnv(t, nil)
	env.srv.Handle("POST /hooks/boom", http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		panic("boom")
	}))
	msg := wantError(t, env.do(t, "POST", "/hooks/boom", "", nil), 500)
	if strings.Contains(msg, "boom") {
		t.Errorf("error %q leaks the panic", msg)
	}
	wantJSON(t, env.do(t, "GET", "/healthz", "", nil), 200, `{"status":"ok"}`)

	logs := env.logs.String()
	if !strings.Contains(logs, "panic") || !strings.Contains(logs, "server_test.go") {
		t.Errorf("the panic was not logged with its stack:\n%s", logs)
	}
	rec := env.do(t, "GET", "/metrics", "", nil)
	if want := `warroom_http_requests_total{code="500",route="POST /hooks/boom"} 1`; !strings.Contains(rec.Body.String(), want) {
		t.Errorf("metrics lack %s", want)
	}
}

func TestDecodeJSON(t *testing.T) {
	env := newTestEnv(t, func(o *Options) { o.MaxBodyBytes = 64 })
	type payload struct {
		Name  string `json:"name"`
		Count int    `json:"count"`
	}
	env.srv.Handle("POST /hooks/test", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var p payload
		if err := DecodeJSON(w, r, &p); err != nil {
			WriteError(w, r, err)
			return
		}
		WriteJSON(w, http.StatusOK, p)
	}))
	post := func(body string) *httptest.ResponseRecorder {
		return env.do(t, "POST", "/hooks/test", "", strings.NewReader(body))
	}

	wantJSON(t, post(`{"name":"a","count":2,"extra":true}`), 200, `{"name":"a","count":2}`)

	msg := wantError(t, post(`{"name":"`+strings.Repeat("x", 100)+`"}`), 413)
	if !strings.Contains(msg, "64") {
		t.Errorf("413 error = %q, want the limit", msg)
	}
	for name, body := range map[string]string{
		"malformed":  `{"name":`,
		"syntax":     `{"name" "a"}`,
		"wrong type": `{"count":"two"}`,
		"not object": `[1,2]`,
		"trailing":   `{"name":"a"} {"name":"b"}`,
		"empty":      ``,
	} {
		t.Run(name, func(t *testing.T) {
			wantError(t, post(body), 400)
		})
	}

	rec := env.do(t, "GET", "/metrics", "", nil)
	if want := `warroom_http_requests_total{code="413",route="POST /hooks/test"} 1`; !strings.Contains(rec.Body.String(), want) {
		t.Errorf("metrics lack %s", want)
	}
}

func TestDecodeJSONOutsideServer(t *testing.T) {
	// Without the middleware DecodeJSON applies the default limit itself.
	big := `{"name":"` + strings.Repeat("x", DefaultMaxBodyBytes) + `"}`
	req := httptest.NewRequest("POST", "/", strings.NewReader(big))
	var v struct{ Name string }
	err := DecodeJSON(httptest.NewRecorder(), req, &v)
	var se *StatusError
	if !errors.As(err, &se) || se.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("err = %v, want a 413 StatusError", err)
	}
}

func TestServeGracefulShutdown(t *testing.T) {
	env := newTestEnv(t, nil)
	started := make(chan struct{})
	release := make(chan struct{})
	env.srv.Handle("GET /slow", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-release
		WriteJSON(w, http.StatusOK, map[string]string{"status": "done"})
	}))

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	addrc := make(chan net.Addr, 1)
	served := make(chan error, 1)
	go func() { served <- env.srv.Serve(ctx, "127.0.0.1:0", func(a net.Addr) { addrc <- a }) }()
	var addr string
	select {
	case a := <-addrc:
		addr = a.String()
	case err := <-served:
		t.Fatalf("Serve returned before listening: %v", err)
	}
	base := "http://" + addr

	resp, err := http.Get(base + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("healthz = %d", resp.StatusCode)
	}

	type result struct {
		code int
		body string
		err  error
	}
	slow := make(chan result, 1)
	go func() {
		resp, err := http.Get(base + "/slow")
		if err != nil {
			slow <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		slow <- result{code: resp.StatusCode, body: string(b), err: err}
	}()
	<-started
	cancel()

	// Shutdown closes the listener first: wait until new connections fail.
	for {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			break
		}
		conn.Close()
		time.Sleep(time.Millisecond)
	}
	select {
	case err := <-served:
		t.Fatalf("Serve returned with a request in flight: %v", err)
	default:
	}

	close(release)
	res := <-slow
	if res.err != nil || res.code != 200 || !strings.Contains(res.body, "done") {
		t.Errorf("in-flight request = %d %q %v, want 200 done", res.code, res.body, res.err)
	}
	if err := <-served; err != nil {
		t.Errorf("Serve = %v, want nil after a clean shutdown", err)
	}
}

func TestServeGraceExpires(t *testing.T) {
	env := newTestEnv(t, func(o *Options) { o.ShutdownGrace = 20 * time.Millisecond })
	started := make(chan struct{})
	release := make(chan struct{})
	defer close(release)
	env.srv.Handle("GET /stuck", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-release
	}))
	ctx, cancel := context.WithCancel(t.Context())
	addrc := make(chan net.Addr, 1)
	served := make(chan error, 1)
	go func() { served <- env.srv.Serve(ctx, "127.0.0.1:0", func(a net.Addr) { addrc <- a }) }()
	addr := (<-addrc).String()
	go func() {
		if resp, err := http.Get("http://" + addr + "/stuck"); err == nil {
			resp.Body.Close()
		}
	}()
	<-started
	cancel()
	if err := <-served; !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Serve = %v, want the grace period's deadline", err)
	}
}

func TestServeListenError(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	err = New(Options{}).Serve(t.Context(), ln.Addr().String(), nil)
	if err == nil {
		t.Fatal("Serve on a busy address = nil, want an error")
	}
}
