package deployhooks_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/warroomhq/warroom/config"
	"github.com/warroomhq/warroom/deploys"
	"github.com/warroomhq/warroom/incidents"
	"github.com/warroomhq/warroom/integrations/deployhooks"
	"github.com/warroomhq/warroom/integrations/webhook"
	"github.com/warroomhq/warroom/server"
)

const (
	token        = "hook-token"
	githubSecret = "gh-hook-secret"
	argoSecret   = "argo-secret"
)

// recorder is a deploys.Recorder in memory, idempotent like the real one.
type recorder struct {
	mu       sync.Mutex
	deploys  []deploys.Deploy
	calls    int
	progress map[string][]deploys.Progress // by known rollback key
	services map[string]string             // known rollback key → its service
	err      error
}

func newRecorder() *recorder {
	return &recorder{progress: map[string][]deploys.Progress{"warroom-rollback-1": nil, "warroom-rollback-2": nil},
		services: map[string]string{"warroom-rollback-1": "checkout", "warroom-rollback-2": "search"}}
}

func (r *recorder) RecordDeploy(_ context.Context, d deploys.Deploy) (deploys.Deploy, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls++
	if r.err != nil {
		return deploys.Deploy{}, r.err
	}
	for i, o := range r.deploys {
		if o.Source == d.Source && o.ExternalID == d.ExternalID {
			d.ID = o.ID
			r.deploys[i] = d
			return d, nil
		}
	}
	d.ID = int64(len(r.deploys) + 1)
	r.deploys = append(r.deploys, d)
	return d, nil
}

func (r *recorder) RecordRollbackProgress(_ context.Context, service, key string, p deploys.Progress) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls++
	if r.err != nil {
		return r.err
	}
	if _, ok := r.progress[key]; !ok || r.services[key] != service {
		return fmt.Errorf("rollback %s: %w", key, incidents.ErrNotFound)
	}
	r.progress[key] = append(r.progress[key], p)
	return nil
}

func (r *recorder) snapshot() ([]deploys.Deploy, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]deploys.Deploy(nil), r.deploys...), r.calls
}

var services = map[string]config.Service{
	"checkout": {
		Repository: "acme/checkout",
		Deploys:    &config.Deploys{GitHubDeployments: &config.GitHubDeployments{Environment: "production"}},
		Rollback:   &config.Rollback{Webhook: &config.RollbackWebhook{URL: "https://argo.example.com/rollback", Secret: argoSecret}},
	},
	"search": {
		Repository: "acme/search",
		Deploys:    &config.Deploys{Webhook: &config.DeployWebhook{Environment: "production"}},
		Rollback:   &config.Rollback{Webhook: &config.RollbackWebhook{URL: "https://other.example.com", Secret: "search-secret"}},
	},
	"billing": {
		Repository: "acme/billing",
		Rollback:   &config.Rollback{GitHubDeployment: &config.GitHubDeployment{Environment: "prod-eu"}},
	},
}

type rig struct {
	srv *httptest.Server
	rec *recorder
	reg *prometheus.Registry
}

func newRig(t *testing.T, opts deployhooks.Options) *rig {
	t.Helper()
	r := &rig{rec: newRecorder(), reg: prometheus.NewRegistry()}
	opts.Recorder, opts.Registry = r.rec, r.reg
	if opts.Services == nil {
		opts.Services = services
	}
	srv := server.New(server.Options{})
	deployhooks.New(opts).Routes(srv.HandleLimited)
	r.srv = httptest.NewServer(srv.Handler())
	t.Cleanup(r.srv.Close)
	return r
}

func defaultRig(t *testing.T) *rig {
	return newRig(t, deployhooks.Options{Token: token, GitHubSecret: []byte(githubSecret)})
}

func (r *rig) post(t *testing.T, path, body string, header http.Header) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest("POST", r.srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := r.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("%s answered %d with a body that is not JSON: %v", path, resp.StatusCode, err)
	}
	return resp.StatusCode, out
}

func bearer(tok string) http.Header { return http.Header{"Authorization": {"Bearer " + tok}} }

const argoDeploy = `{"service": "checkout", "environment": "production", "id": "sync-981", "ref": "v1.4.2",
	"sha": "9f2c1e0b7d4a3c2b1a09f8e7d6c5b4a392817160", "status": "succeeded", "url": "https://argo.example.com/app/checkout",
	"creator": "argocd", "description": "Release 1.4.2", "started_at": "2026-11-21T09:40:00Z",
	"finished_at": "2026-11-21T10:43:10+01:00", "rollback": false, "extra": {"ignored": true}}`

func TestDeployHookRecordsADeploy(t *testing.T) {
	r := defaultRig(t)
	code, out := r.post(t, "/hooks/deploy", argoDeploy, bearer(token))
	if code != 200 || out["status"] != "ok" || out["deploy_id"] != 1.0 || out["service"] != "checkout" {
		t.Fatalf("%d %v", code, out)
	}
	want := deploys.Deploy{
		ID: 1, Service: "checkout", Environment: "production", Source: deploys.SourceWebhook, ExternalID: "checkout/sync-981",
		Ref: "v1.4.2", SHA: "9f2c1e0b7d4a3c2b1a09f8e7d6c5b4a392817160", Status: deploys.StatusSuccess, Creator: "argocd",
		Description: "Release 1.4.2", URL: "https://argo.example.com/app/checkout",
		StartedAt: time.Date(2026, 11, 21, 9, 40, 0, 0, time.UTC), FinishedAt: time.Date(2026, 11, 21, 9, 43, 10, 0, time.UTC),
	}
	got, _ := r.rec.snapshot()
	if len(got) != 1 || !reflect.DeepEqual(got[0], want) {
		t.Fatalf("recorded %+v\nwant %+v", got, want)
	}

	// The same deploy again (a retry) is the same deploy; so is a later
	// status under the same id, sent with basic auth.
	r.post(t, "/hooks/deploy", argoDeploy, bearer(token))
	req := http.Header{}
	hr := &http.Request{Header: req}
	hr.SetBasicAuth("argocd", token)
	code, out = r.post(t, "/hooks/deploy", `{"service": "checkout", "environment": "production", "id": "sync-981", "ref": "v1.4.2", "status": "inactive"}`, hr.Header)
	if code != 200 || out["deploy_id"] != 1.0 {
		t.Fatalf("%d %v", code, out)
	}
	if got, _ := r.rec.snapshot(); len(got) != 1 || got[0].Status != deploys.StatusInactive {
		t.Errorf("recorded %+v", got)
	}

	// Without id, environment and version identify it.
	r.post(t, "/hooks/deploy", `{"service": "checkout", "environment": "staging", "sha": "abc", "status": "running"}`, bearer(token))
	if got, _ := r.rec.snapshot(); len(got) != 2 || got[1].ExternalID != "checkout/staging@abc" || got[1].Status != deploys.StatusRunning {
		t.Errorf("recorded %+v", got)
	}
	if n := testutil.ToFloat64(counter(t, r.reg, "deploy", "recorded")); n != 4 {
		t.Errorf("recorded counter %v", n)
	}
}

func counter(t *testing.T, reg *prometheus.Registry, hook, outcome string) prometheus.Collector {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "x"})
	for _, mf := range mfs {
		if mf.GetName() != "warroom_deploy_hook_requests_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["hook"] == hook && labels["outcome"] == outcome {
				c.Add(m.GetCounter().GetValue())
			}
		}
	}
	return c
}

func TestDeployHookRefusals(t *testing.T) {
	r := newRig(t, deployhooks.Options{Token: token, GitHubSecret: []byte(githubSecret), MaxBodyBytes: 2048})
	for _, tc := range []struct {
		name   string
		body   string
		header http.Header
		code   int
		text   string
	}{
		{"no token", argoDeploy, nil, 401, "webhook token"},
		{"wrong token", argoDeploy, bearer("nope"), 401, "webhook token"},
		{"token as a signature", argoDeploy, http.Header{webhook.SignatureHeader: {webhook.Sign([]byte(token), []byte(argoDeploy))}}, 401, "webhook token"},
		{"empty", "", bearer(token), 400, "empty"},
		{"not JSON", "{", bearer(token), 400, "not valid JSON"},
		{"an array", "[]", bearer(token), 400, "JSON object"},
		{"trailing", `{"service":"checkout","ref":"a","status":"success"} {}`, bearer(token), 400, "after its JSON object"},
		{"no service", `{"ref": "v1", "status": "success"}`, bearer(token), 400, "service: missing"},
		{"unknown service", `{"service": "nope", "ref": "v1", "status": "success"}`, bearer(token), 400, `service: "nope" is not a service`},
		{"no version", `{"service": "checkout", "status": "success"}`, bearer(token), 400, "ref: missing"},
		{"no status", `{"service": "checkout", "ref": "v1"}`, bearer(token), 400, "status: missing"},
		{"bad status", `{"service": "checkout", "ref": "v1", "status": "great"}`, bearer(token), 400, `status: "great" is not one of`},
		{"bad time", `{"service": "checkout", "ref": "v1", "status": "success", "started_at": "yesterday"}`, bearer(token), 400, "started_at:"},
		{"backwards", `{"service": "checkout", "ref": "v1", "status": "success", "started_at": "2026-01-02T00:00:00Z", "finished_at": "2026-01-01T00:00:00Z"}`, bearer(token), 400, "finished_at: before started_at"},
		{"bad url", `{"service": "checkout", "ref": "v1", "status": "success", "url": "javascript:alert(1)"}`, bearer(token), 400, "url:"},
		{"wrong type", `{"service": "checkout", "ref": "v1", "status": "success", "rollback": "yes"}`, bearer(token), 400, "rollback: expected a JSON bool"},
		{"control characters", `{"service": "checkout", "ref": "v1\u0000", "status": "success"}`, bearer(token), 400, "ref: has control"},
		{"too large", `{"service": "checkout", "ref": "v1", "status": "success", "description": "` + strings.Repeat("x", 3000) + `"}`, bearer(token), 413, "larger than"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out := r.post(t, "/hooks/deploy", tc.body, tc.header)
			msg, _ := out["error"].(string)
			if code != tc.code || !strings.Contains(msg, tc.text) {
				t.Errorf("%d %v, want %d with %q", code, out, tc.code, tc.text)
			}
		})
	}
	if _, calls := r.rec.snapshot(); calls != 0 {
		t.Errorf("%d recorder calls", calls)
	}

	// A deploy to an environment the service does not follow is ignored.
	code, out := r.post(t, "/hooks/deploy", `{"service": "search", "environment": "staging", "ref": "v1", "status": "success"}`, bearer(token))
	if code != 202 || out["status"] != "ignored" {
		t.Errorf("%d %v", code, out)
	}
}

func TestDeployHookOffWithoutAToken(t *testing.T) {
	r := newRig(t, deployhooks.Options{})
	for _, path := range []string{"/hooks/deploy", "/hooks/github"} {
		if code, out := r.post(t, path, argoDeploy, bearer("")); code != 404 || !strings.Contains(out["error"].(string), "off") {
			t.Errorf("%s: %d %v", path, code, out)
		}
	}
}

func TestDeployHookStoreFailures(t *testing.T) {
	r := defaultRig(t)
	r.rec.err = errors.New("database is locked")
	req, _ := http.NewRequest("POST", r.srv.URL+"/hooks/deploy", strings.NewReader(argoDeploy))
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := r.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") != "10" {
		t.Errorf("%d, Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	r.rec.err = &incidents.ValidationError{Field: "ref", Msg: "ref is too long"}
	if code, _ := r.post(t, "/hooks/deploy", argoDeploy, bearer(token)); code != 400 {
		t.Errorf("validation error: %d", code)
	}
}

func githubHeaders(event, body, secret string) http.Header {
	return http.Header{
		"X-Github-Event":      {event},
		"X-Github-Delivery":   {"72d3162e-cc78-11e3-81ab-4c9367dc0958"},
		"X-Hub-Signature-256": {webhook.Sign([]byte(secret), []byte(body))},
		"Content-Type":        {"application/json"},
	}
}

func readTestdata(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestGitHubHookRecordsDeploymentStatuses(t *testing.T) {
	r := defaultRig(t)
	body := readTestdata(t, "deployment_status.json")
	code, out := r.post(t, "/hooks/github", body, githubHeaders("deployment_status", body, githubSecret))
	if code != 200 || out["deploy_id"] != 1.0 || out["service"] != "checkout" {
		t.Fatalf("%d %v", code, out)
	}
	want := deploys.Deploy{
		ID: 1, Service: "checkout", Environment: "production", Source: deploys.SourceGitHubDeployments, ExternalID: "1428571",
		Ref: "v1.4.2", SHA: "9f2c1e0b7d4a3c2b1a09f8e7d6c5b4a392817160", Status: deploys.StatusSuccess, Creator: "alice",
		Description: "Release 1.4.2", URL: "https://ci.example.com/deploys/981",
		StartedAt: time.Date(2026, 11, 21, 9, 40, 0, 0, time.UTC), FinishedAt: time.Date(2026, 11, 21, 9, 43, 10, 0, time.UTC),
	}
	got, _ := r.rec.snapshot()
	if len(got) != 1 || !reflect.DeepEqual(got[0], want) {
		t.Fatalf("recorded %+v\nwant %+v", got, want)
	}

	// A redelivery changes nothing.
	r.post(t, "/hooks/github", body, githubHeaders("deployment_status", body, githubSecret))
	if got, _ := r.rec.snapshot(); len(got) != 1 {
		t.Errorf("%d deploys after a redelivery", len(got))
	}

	// The form content type works too.
	form := "payload=" + url.QueryEscape(strings.Replace(body, `"state": "success"`, `"state": "inactive"`, 1))
	h := githubHeaders("deployment_status", form, githubSecret)
	h.Set("Content-Type", "application/x-www-form-urlencoded")
	if code, out := r.post(t, "/hooks/github", form, h); code != 200 {
		t.Fatalf("form: %d %v", code, out)
	}
	if got, _ := r.rec.snapshot(); len(got) != 1 || got[0].Status != deploys.StatusInactive || !got[0].FinishedAt.IsZero() {
		t.Errorf("after inactive: %+v", got)
	}

	// A rollback service's environment counts; case of the repository
	// does not matter.
	billing := strings.NewReplacer(`"full_name": "acme/checkout"`, `"full_name": "Acme/Billing"`,
		`"environment": "production"`, `"environment": "prod-eu"`).Replace(body)
	if code, out := r.post(t, "/hooks/github", billing, githubHeaders("deployment_status", billing, githubSecret)); code != 200 || out["service"] != "billing" {
		t.Errorf("billing: %d %v", code, out)
	}
}

func TestGitHubHookRefusesBadSignatures(t *testing.T) {
	r := defaultRig(t)
	body := readTestdata(t, "deployment_status.json")
	good := githubHeaders("deployment_status", body, githubSecret)
	for name, mod := range map[string]func(http.Header){
		"missing":      func(h http.Header) { h.Del("X-Hub-Signature-256") },
		"other secret": func(h http.Header) { h.Set("X-Hub-Signature-256", webhook.Sign([]byte("nope"), []byte(body))) },
		"sha1": func(h http.Header) {
			h.Set("X-Hub-Signature-256", "sha1="+strings.TrimPrefix(good.Get("X-Hub-Signature-256"), "sha256="))
		},
		"other body": func(h http.Header) {
			h.Set("X-Hub-Signature-256", webhook.Sign([]byte(githubSecret), []byte(body+" ")))
		},
		"token":     func(h http.Header) { h.Del("X-Hub-Signature-256"); h.Set("Authorization", "Bearer "+token) },
		"truncated": func(h http.Header) { h.Set("X-Hub-Signature-256", good.Get("X-Hub-Signature-256")[:40]) },
	} {
		h := good.Clone()
		mod(h)
		if code, out := r.post(t, "/hooks/github", body, h); code != 401 || !strings.Contains(out["error"].(string), "X-Hub-Signature-256") {
			t.Errorf("%s: %d %v", name, code, out)
		}
	}
	if _, calls := r.rec.snapshot(); calls != 0 {
		t.Errorf("%d recorder calls", calls)
	}
}

func TestGitHubHookOtherEvents(t *testing.T) {
	r := defaultRig(t)
	ping := `{"zen": "Keep it logically awesome.", "hook_id": 1}`
	if code, out := r.post(t, "/hooks/github", ping, githubHeaders("ping", ping, githubSecret)); code != 200 || out["status"] != "ok" {
		t.Errorf("ping: %d %v", code, out)
	}
	push := `{"ref": "refs/heads/main"}`
	if code, out := r.post(t, "/hooks/github", push, githubHeaders("push", push, githubSecret)); code != 202 || out["status"] != "ignored" {
		t.Errorf("push: %d %v", code, out)
	}
	if code, _ := r.post(t, "/hooks/github", push, githubHeaders("", push, githubSecret)); code != 400 {
		t.Errorf("no event: %d", code)
	}
	body := readTestdata(t, "deployment_status.json")
	other := strings.Replace(body, `"full_name": "acme/checkout"`, `"full_name": "acme/unknown"`, 1)
	if code, out := r.post(t, "/hooks/github", other, githubHeaders("deployment_status", other, githubSecret)); code != 202 ||
		!strings.Contains(out["reason"].(string), "acme/unknown to production") {
		t.Errorf("unknown repository: %d %v", code, out)
	}
	for _, tc := range []struct{ body, text string }{
		{`{"deployment": {"id": 1}, "deployment_status": {"state": "success"}}`, "repository.full_name is missing"},
		{`{"repository": {"full_name": "acme/checkout"}, "deployment_status": {"state": "success"}}`, "deployment.id is missing"},
		{`{"repository": {"full_name": "acme/checkout"}, "deployment": {"id": 1, "environment": "production"}}`, "deployment_status.state is missing"},
		{`{"repository": {"full_name": "acme/checkout"}, "deployment": {"id": 1, "environment": "production"}, "deployment_status": {"state": "exploded"}}`, `"exploded" is not`},
		{`{"repository": {"full_name": "acme/checkout"}, "deployment": {"id": "x"}}`, "deployment.id: expected"},
		{`{"repository": {"full_name": "acme/checkout"}, "deployment": {"id": 1}, "deployment_status": {"state": "success"}}`, "deployment.environment is missing"},
		{`[`, "not a deployment_status event"},
	} {
		if code, out := r.post(t, "/hooks/github", tc.body, githubHeaders("deployment_status", tc.body, githubSecret)); code != 400 ||
			!strings.Contains(out["error"].(string), tc.text) {
			t.Errorf("%s: %d %v, want 400 with %q", tc.body, code, out, tc.text)
		}
	}
	if got, _ := r.rec.snapshot(); len(got) != 0 {
		t.Errorf("recorded %+v", got)
	}
}

func signed(body, secret string) http.Header {
	return http.Header{webhook.SignatureHeader: {webhook.Sign([]byte(secret), []byte(body))}}
}

func TestRollbackCallbacks(t *testing.T) {
	r := defaultRig(t)
	body := `{"key": "warroom-rollback-1", "service": "checkout", "status": "progressing", "message": "syncing 3/5 pods",
		"url": "https://argo.example.com/app/checkout", "id": "sync-982"}`
	code, out := r.post(t, "/hooks/deploy/rollback", body, signed(body, argoSecret))
	if code != 200 || out["status"] != "ok" {
		t.Fatalf("%d %v", code, out)
	}
	want := []deploys.Progress{{Status: deploys.StatusRunning, Message: "syncing 3/5 pods", URL: "https://argo.example.com/app/checkout",
		Handle: deploys.Handle{ExternalID: "sync-982", URL: "https://argo.example.com/app/checkout"}}}
	if got := r.rec.progress["warroom-rollback-1"]; !reflect.DeepEqual(got, want) {
		t.Errorf("progress %+v\nwant %+v", got, want)
	}

	for _, tc := range []struct {
		name   string
		body   string
		header http.Header
		code   int
		text   string
	}{
		{"unsigned", body, nil, 401, "X-Warroom-Signature"},
		{"another service's secret", body, signed(body, "search-secret"), 401, "X-Warroom-Signature"},
		{"the webhook token", body, bearer(token), 401, "X-Warroom-Signature"},
		{"claims another service", strings.Replace(body, "checkout", "search", 1), signed(body, argoSecret), 401, "X-Warroom-Signature"},
		{"service without a webhook", strings.Replace(body, `"checkout"`, `"billing"`, 1), signed(strings.Replace(body, `"checkout"`, `"billing"`, 1), ""), 401, "X-Warroom-Signature"},
		{"unknown key", strings.Replace(body, "rollback-1", "rollback-9", 1), signed(strings.Replace(body, "rollback-1", "rollback-9", 1), argoSecret), 404, "rollback-9"},
		{"another service's rollback", strings.Replace(body, `"checkout"`, `"search"`, 1), signed(strings.Replace(body, `"checkout"`, `"search"`, 1), "search-secret"), 404,
			`no webhook rollback "warroom-rollback-1" of "search"`},
		{"bad status", `{"key": "k", "service": "checkout", "status": "meh"}`, signed(`{"key": "k", "service": "checkout", "status": "meh"}`, argoSecret), 400, "status:"},
		{"unsigned garbage", `{`, nil, 401, "X-Warroom-Signature"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out := r.post(t, "/hooks/deploy/rollback", tc.body, tc.header)
			if msg, _ := out["error"].(string); code != tc.code || !strings.Contains(msg, tc.text) {
				t.Errorf("%d %v, want %d with %q", code, out, tc.code, tc.text)
			}
		})
	}
	if got := r.rec.progress["warroom-rollback-1"]; len(got) != 1 {
		t.Errorf("%d progress reports", len(got))
	}
}
