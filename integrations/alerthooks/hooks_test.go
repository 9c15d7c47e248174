package alerthooks_test

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/warroomhq/warroom/incidents"
	"github.com/warroomhq/warroom/integrations/alerthooks"
	"github.com/warroomhq/warroom/server"
	"github.com/warroomhq/warroom/store/sqlite"
)

const token = "hook-token"

type hookRig struct {
	srv    *httptest.Server
	st     *sqlite.Store
	alerts *incidents.AlertService
	reg    *prometheus.Registry
}

func newHookRig(t *testing.T, ing alerthooks.Ingester, tok string, limit int64) *hookRig {
	t.Helper()
	st, err := sqlite.OpenMigrated(context.Background(), filepath.Join(t.TempDir(), "w.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	r := &hookRig{st: st, reg: prometheus.NewRegistry()}
	r.alerts = incidents.NewAlertService(incidents.NewService(st), st, incidents.AlertPolicy{})
	if ing == nil {
		ing = r.alerts
	}
	srv := server.New(server.Options{})
	alerthooks.New(alerthooks.Options{Token: tok, Ingester: ing, Registry: r.reg, MaxBodyBytes: limit}).Routes(srv.HandleLimited)
	r.srv = httptest.NewServer(srv.Handler())
	t.Cleanup(r.srv.Close)
	return r
}

func (r *hookRig) post(t *testing.T, source string, body []byte, auth func(*http.Request)) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest("POST", r.srv.URL+"/hooks/"+source, strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	if auth != nil {
		auth(req)
	}
	resp, err := r.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("%s answered %d with a body that is not JSON: %v", source, resp.StatusCode, err)
	}
	return resp.StatusCode, out
}

func bearer(tok string) func(*http.Request) {
	return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok) }
}

func basic(password string) func(*http.Request) {
	return func(r *http.Request) { r.SetBasicAuth("alertmanager", password) }
}

func testdata(t *testing.T, pkg, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", pkg, "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func firstTestdata(t *testing.T, pkg string) []byte {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join("..", pkg, "testdata"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".json") {
			b := testdata(t, pkg, e.Name())
			if _, err := alerthooks.Sources[pkg](b); err == nil {
				return b
			}
		}
	}
	t.Fatalf("no valid body in %s/testdata", pkg)
	return nil
}

func TestHooksAcceptEachSourceAndStoreBeforeAnswering(t *testing.T) {
	r := newHookRig(t, nil, token, 0)
	for source := range alerthooks.Sources {
		t.Run(source, func(t *testing.T) {
			body := firstTestdata(t, source)
			code, out := r.post(t, source, body, basic(token))
			if code != 200 || out["status"] != "ok" {
				t.Fatalf("%d %v", code, out)
			}
			n := int(out["alerts"].(float64))
			if n == 0 || int(out["new"].(float64)) != n {
				t.Fatalf("answer %v", out)
			}
			// The answer came after the commit: the alerts are readable now.
			batch, _ := alerthooks.Sources[source](body)
			for _, a := range batch.Alerts {
				got, err := r.st.AlertByFingerprint(context.Background(), source, a.Fingerprint)
				if err != nil || got.Status != a.Status {
					t.Fatalf("alert %s not stored before the answer: %+v %v", a.Fingerprint, got, err)
				}
			}
			// The same body again is the same alerts.
			code, out = r.post(t, source, body, bearer(token))
			if code != 200 || out["new"].(float64) != 0 || out["repeated"].(float64) != float64(n) {
				t.Fatalf("second delivery: %d %v", code, out)
			}
		})
	}
	if got := counterValue(t, r.reg, "warroom_alert_bodies_total", map[string]string{"source": "generic", "outcome": "accepted"}); got != 2 {
		t.Errorf("warroom_alert_bodies_total{generic,accepted} = %v, want 2", got)
	}
}

func TestHooksRefuseBadRequestsWithJSONErrors(t *testing.T) {
	r := newHookRig(t, nil, token, 2048)
	valid := firstTestdata(t, "generic")
	cases := []struct {
		name   string
		source string
		body   []byte
		auth   func(*http.Request)
		code   int
		says   string
	}{
		{"no token", "alertmanager", valid, nil, 401, "webhook token"},
		{"wrong bearer", "alertmanager", valid, bearer("nope"), 401, "webhook token"},
		{"wrong password", "grafana", valid, basic("nope"), 401, "webhook token"},
		{"malformed JSON", "alertmanager", []byte(`{"version":"4","alerts":[`), bearer(token), 400, "JSON"},
		{"wrong shape", "alertmanager", []byte(`{"alerts":"many"}`), bearer(token), 400, "alerts"},
		{"empty body", "generic", nil, bearer(token), 400, "empty"},
		{"too large", "generic", []byte(`{"title":"` + strings.Repeat("x", 4096) + `"}`), bearer(token), 413, "larger than 2048"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, out := r.post(t, c.source, c.body, c.auth)
			msg, _ := out["error"].(string)
			if code != c.code || !strings.Contains(msg, c.says) {
				t.Fatalf("%d %q, want %d saying %q", code, msg, c.code, c.says)
			}
		})
	}
	incs, err := r.st.Incidents(context.Background(), incidents.ListFilter{})
	if err != nil || len(incs) != 0 {
		t.Fatalf("refused requests changed something: %v %v", incs, err)
	}
}

func TestHooksOffWithoutToken(t *testing.T) {
	r := newHookRig(t, nil, "", 0)
	code, out := r.post(t, "generic", firstTestdata(t, "generic"), bearer(""))
	if code != 404 || !strings.Contains(out["error"].(string), "webhooks.token") {
		t.Fatalf("%d %v", code, out)
	}
}

type failingIngester struct{}

func (failingIngester) Ingest(context.Context, *incidents.AlertBatch) (incidents.IngestResult, error) {
	return incidents.IngestResult{}, errors.New("disk I/O error")
}

func TestHooksAskForARetryWhenStoringFails(t *testing.T) {
	r := newHookRig(t, failingIngester{}, token, 0)
	req, _ := http.NewRequest("POST", r.srv.URL+"/hooks/generic", strings.NewReader(string(firstTestdata(t, "generic"))))
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := r.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]string
	json.NewDecoder(resp.Body).Decode(&out)
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" || strings.Contains(out["error"], "disk") {
		t.Fatalf("%d Retry-After=%q %v; want 503 with Retry-After and no internals", resp.StatusCode, resp.Header.Get("Retry-After"), out)
	}
}

// counterValue is the value of the counter name with exactly labels.
func counterValue(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			got := map[string]string{}
			for _, l := range m.GetLabel() {
				got[l.GetName()] = l.GetValue()
			}
			if maps.Equal(got, labels) {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}
