package deploywebhook_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/warroomhq/warroom/deploys"
	"github.com/warroomhq/warroom/incidents"
	"github.com/warroomhq/warroom/integrations/deploywebhook"
	"github.com/warroomhq/warroom/integrations/webhook"
	"github.com/warroomhq/warroom/jobs"
)

var secret = []byte("argo-secret")

// tool is a deploy tool's rollback endpoint: it checks the signature,
// starts each delivery once, and answers what answer says.
type tool struct {
	mu       sync.Mutex
	started  map[string]deploywebhook.Request
	requests []*http.Request
	bodies   [][]byte
	answer   func(w http.ResponseWriter)
}

func newTool(t *testing.T) (*tool, *httptest.Server) {
	tl := &tool{started: map[string]deploywebhook.Request{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		tl.mu.Lock()
		defer tl.mu.Unlock()
		tl.requests = append(tl.requests, r)
		tl.bodies = append(tl.bodies, body)
		if tl.answer != nil {
			tl.answer(w)
			return
		}
		if !webhook.Verify(secret, body, r.Header.Get(webhook.SignatureHeader)) {
			http.Error(w, `{"error": "bad signature"}`, http.StatusUnauthorized)
			return
		}
		var req deploywebhook.Request
		if err := json.Unmarshal(body, &req); err != nil {
			http.Error(w, "bad body", http.StatusBadRequest)
			return
		}
		if _, ok := tl.started[r.Header.Get(deploywebhook.DeliveryHeader)]; !ok {
			tl.started[r.Header.Get(deploywebhook.DeliveryHeader)] = req
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"id": "sync-982", "url": "https://argo.example.com/app/checkout"}`)
	}))
	t.Cleanup(srv.Close)
	return tl, srv
}

func request() deploys.RollbackRequest {
	return deploys.RollbackRequest{
		Key: "warroom-rollback-1", Incident: 42, Service: "checkout",
		From:        deploys.Deploy{Ref: "v1.2", SHA: "333"},
		To:          deploys.Deploy{Ref: "v1.1", SHA: "222"},
		RequestedBy: incidents.SlackActor("U01ALICE"),
		At:          time.Date(2026, 11, 21, 10, 0, 0, 0, time.FixedZone("CET", 3600)),
	}
}

func TestStartSendsASignedRequestOnce(t *testing.T) {
	tl, srv := newTool(t)
	rb := deploywebhook.NewRollbacker(srv.URL+"/rollback", secret, deploywebhook.CallbackURL("https://warroom.example.com/"), nil)
	if rb.Mechanism() != deploys.MechanismWebhook {
		t.Errorf("Mechanism = %s", rb.Mechanism())
	}
	h, err := rb.Start(context.Background(), request())
	if err != nil {
		t.Fatal(err)
	}
	if want := (deploys.Handle{ExternalID: "sync-982", URL: "https://argo.example.com/app/checkout"}); h != want {
		t.Errorf("handle %+v, want %+v", h, want)
	}
	if len(tl.requests) != 1 {
		t.Fatalf("%d requests", len(tl.requests))
	}
	r, body := tl.requests[0], tl.bodies[0]
	if r.Method != "POST" || r.URL.Path != "/rollback" || r.Header.Get("Content-Type") != "application/json" ||
		r.Header.Get("X-Warroom-Delivery") != "warroom-rollback-1" || r.Header.Get("X-Warroom-Event") != "rollback" ||
		r.Header.Get("X-Warroom-Signature") != webhook.Sign(secret, body) {
		t.Errorf("request %s %s %v", r.Method, r.URL, r.Header)
	}
	var got, want any
	json.Unmarshal(body, &got)
	json.Unmarshal([]byte(`{"key": "warroom-rollback-1", "incident": "INC-42", "service": "checkout",
		"from": {"ref": "v1.2", "sha": "333"}, "to": {"ref": "v1.1", "sha": "222"},
		"requested_by": "slack:U01ALICE", "requested_at": "2026-11-21T09:00:00Z",
		"callback_url": "https://warroom.example.com/hooks/deploy/rollback"}`), &want)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("body %s", body)
	}

	// A retry is the same delivery, which the tool starts once.
	if h2, err := rb.Start(context.Background(), request()); err != nil || h2 != h {
		t.Errorf("retry: %+v, %v", h2, err)
	}
	if len(tl.requests) != 2 || len(tl.started) != 1 || tl.bodies[1] == nil || string(tl.bodies[1]) != string(body) {
		t.Errorf("%d requests, %d started", len(tl.requests), len(tl.started))
	}

	// Progress has no news: callbacks carry it.
	p, err := rb.Progress(context.Background(), request(), h)
	if err != nil || p.Status != deploys.StatusUnknown || p.URL != h.URL || !strings.Contains(p.Message, "127.0.0.1") {
		t.Errorf("Progress = %+v, %v", p, err)
	}
}

func TestStartAnswers(t *testing.T) {
	for _, tc := range []struct {
		name      string
		answer    func(w http.ResponseWriter)
		permanent bool
		retry     time.Duration
		handle    deploys.Handle
		text      string
	}{
		{"no body", func(w http.ResponseWriter) { w.WriteHeader(202) }, false, 0, deploys.Handle{ExternalID: "warroom-rollback-1"}, ""},
		{"bad answer", func(w http.ResponseWriter) { io.WriteString(w, `{"id": "a\u0000b", "url": "javascript:x"}`) }, false, 0, deploys.Handle{ExternalID: "warroom-rollback-1"}, ""},
		{"already started", func(w http.ResponseWriter) { w.WriteHeader(409) }, false, 0, deploys.Handle{ExternalID: "warroom-rollback-1"}, ""},
		{"server error", func(w http.ResponseWriter) { w.WriteHeader(502) }, false, 0, deploys.Handle{}, "answered rollback warroom-rollback-1 with 502: (no body)"},
		{"busy", func(w http.ResponseWriter) { w.Header().Set("Retry-After", "45"); w.WriteHeader(429) }, false, 45 * time.Second, deploys.Handle{}, "429"},
		{"refused", func(w http.ResponseWriter) { w.WriteHeader(400); io.WriteString(w, "unknown\nservice  checkout") }, true, 0, deploys.Handle{}, "400: unknown service checkout"},
		{"unauthorized", func(w http.ResponseWriter) { w.WriteHeader(401) }, true, 0, deploys.Handle{}, "401"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tl, srv := newTool(t)
			tl.answer = tc.answer
			h, err := deploywebhook.NewRollbacker(srv.URL, secret, "", nil).Start(context.Background(), request())
			if tc.text == "" {
				if err != nil || h != tc.handle {
					t.Errorf("Start = %+v, %v; want %+v", h, err, tc.handle)
				}
				return
			}
			if err == nil || jobs.IsPermanent(err) != tc.permanent || !strings.Contains(err.Error(), tc.text) {
				t.Errorf("Start: %v; want permanent %v with %q", err, tc.permanent, tc.text)
			}
			if d, ok := jobs.RetryAfterOf(err); tc.retry != 0 && (!ok || d != tc.retry) {
				t.Errorf("retry after %v %v, want %v", d, ok, tc.retry)
			}
		})
	}
}

func TestStartKeepsTheURLOutOfErrors(t *testing.T) {
	_, srv := newTool(t)
	u := srv.URL + "/rollback?token=very-secret-token"
	srv.Close() // nothing listens there now
	_, err := deploywebhook.NewRollbacker(u, secret, "", nil).Start(context.Background(), request())
	if err == nil || jobs.IsPermanent(err) || strings.Contains(err.Error(), "very-secret-token") {
		t.Errorf("Start: %v", err)
	}
}

func TestStartRefusesWithoutASecretOrTarget(t *testing.T) {
	tl, srv := newTool(t)
	if _, err := deploywebhook.NewRollbacker(srv.URL, nil, "", nil).Start(context.Background(), request()); !jobs.IsPermanent(err) {
		t.Errorf("no secret: %v", err)
	}
	req := request()
	req.To = deploys.Deploy{}
	if _, err := deploywebhook.NewRollbacker(srv.URL, secret, "", nil).Start(context.Background(), req); !jobs.IsPermanent(err) {
		t.Errorf("no target: %v", err)
	}
	if len(tl.requests) != 0 {
		t.Errorf("%d requests", len(tl.requests))
	}
}

func TestCallbackURL(t *testing.T) {
	for in, want := range map[string]string{
		"":                               "",
		"https://w.example.com":          "https://w.example.com/hooks/deploy/rollback",
		"https://w.example.com/warroom/": "https://w.example.com/warroom/hooks/deploy/rollback",
	} {
		if got := deploywebhook.CallbackURL(in); got != want {
			t.Errorf("CallbackURL(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseCallback(t *testing.T) {
	service, key, p, err := deploywebhook.ParseCallback([]byte(`{"key": "k1", "service": "checkout", "status": "FAILED", "message": "pods crashlooping"}`))
	if err != nil || service != "checkout" || key != "k1" ||
		!reflect.DeepEqual(p, deploys.Progress{Status: deploys.StatusFailed, Message: "pods crashlooping"}) {
		t.Errorf("ParseCallback = %s %s %+v %v", service, key, p, err)
	}
	for body, text := range map[string]string{
		`{"service": "checkout", "status": "success"}`:                                                "key: missing",
		`{"key": "k", "status": "success"}`:                                                           "service: missing",
		`{"key": "k", "service": "s"}`:                                                                "status:",
		`{"key": "k", "service": "s", "status": "success", "url": "ftp://x"}`:                         "url:",
		`{"key": "k", "service": "s", "status": "success", "id": "` + strings.Repeat("i", 201) + `"}`: "id: longer",
		`{"key": 5}`:      "key: expected a JSON string",
		`"just a string"`: "JSON object",
	} {
		if _, _, _, err := deploywebhook.ParseCallback([]byte(body)); err == nil || !strings.Contains(err.Error(), text) {
			t.Errorf("%s: %v, want %q", body, err, text)
		}
	}
}

// FuzzParseCallback: any body is a callback or an error, never a panic.
func FuzzParseCallback(f *testing.F) {
	f.Add([]byte(`{"key": "warroom-rollback-1", "service": "checkout", "status": "running", "url": "https://a.example.com", "id": "x"}`))
	f.Add([]byte(`{"key": "k", "service": "s", "status": "cancelled", "message": "stopped"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		service, key, p, err := deploywebhook.ParseCallback(body)
		if err != nil {
			return
		}
		if service == "" || key == "" || p.Status == "" {
			t.Fatalf("incomplete callback %q %q %+v", service, key, p)
		}
	})
}
