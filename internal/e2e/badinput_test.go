package e2e

// Bad input (issue 9, "Faults"): every HTTP endpoint of the real binary gets
// malformed, oversized, wrongly signed, stale and replayed requests. Each
// must get a clear 4xx with an error message (never a 5xx), change nothing,
// panic nowhere, and leave the process serving.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/warroomhq/warroom/integrations/webhook"
	"github.com/warroomhq/warroom/internal/slackfake"
)

// badRequest is one request of the matrix and the status it must get.
type badRequest struct {
	name   string
	method string // default POST
	path   string
	header http.Header
	body   []byte
	want   int
}

// The body limits (README, "HTTP endpoints"): 1 MiB, 10 MiB for the alert
// hooks.
const (
	bodyLimit      = 1 << 20
	alertBodyLimit = 10 << 20
)

func bearer(token string) http.Header {
	return http.Header{"Authorization": {"Bearer " + token}, "Content-Type": {"application/json"}}
}

func basic(password string) http.Header {
	r, _ := http.NewRequest(http.MethodGet, "/", nil)
	r.SetBasicAuth("alertmanager", password)
	return http.Header{"Authorization": r.Header["Authorization"], "Content-Type": {"application/json"}}
}

// slackHeader signs body as Slack does, with secret and ts.
func slackHeader(contentType, secret string, ts time.Time, body []byte) http.Header {
	timestamp, sig := slackfake.Sign(secret, ts, body)
	return http.Header{"Content-Type": {contentType}, "X-Slack-Request-Timestamp": {timestamp}, "X-Slack-Signature": {sig}}
}

// githubHeader signs body as GitHub does (X-Hub-Signature-256).
func githubHeader(event, delivery string, secret string, body []byte) http.Header {
	h := http.Header{"Content-Type": {"application/json"}, "X-Github-Delivery": {delivery},
		"X-Hub-Signature-256": {webhook.Sign([]byte(secret), body)}}
	if event != "" {
		h.Set("X-GitHub-Event", event)
	}
	return h
}

func withHeader(h http.Header, kv ...string) http.Header {
	h = h.Clone()
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			h.Del(kv[i])
		} else {
			h.Set(kv[i], kv[i+1])
		}
	}
	return h
}

// oversized is a body one byte over limit.
func oversized(limit int) []byte { return bytes.Repeat([]byte("a"), limit+1) }

// deeplyNested is JSON nested deeper than any decoder should follow.
func deeplyNested(depth int) []byte {
	return []byte(strings.Repeat(`{"a":[`, depth) + strings.Repeat(`]}`, depth))
}

// deploymentStatus is a real deployment_status delivery for
// acme/checkout's production environment (deploy 1428571).
func deploymentStatus(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile("../../integrations/deployhooks/testdata/deployment_status.json")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// apiMatrix: the JSON API under /api and the routes the server answers
// itself.
func apiMatrix() []badRequest {
	get := func(name, path string, h http.Header, want int) badRequest {
		return badRequest{name: name, method: http.MethodGet, path: path, header: h, want: want}
	}
	ok := bearer(APIToken)
	var m []badRequest
	for _, path := range []string{"/api/incidents", "/api/incidents/1", "/api/incidents/1/timeline",
		"/api/incidents/1/alerts", "/api/incidents/1/postmortem", "/api/freeze?service=checkout",
		"/api/services/checkout/deploys"} {
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		m = append(m,
			get("no token "+path, path, nil, 401),
			get("wrong token "+path, path, bearer("wrong"), 401),
			get("token as basic auth "+path, path, basic(APIToken), 401),
			get("token in the query "+path, path+sep+"token="+APIToken, nil, 401),
		)
	}
	return append(m,
		get("unknown status filter", "/api/incidents?status=bogus", ok, 400),
		get("limit 0", "/api/incidents?limit=0", ok, 400),
		get("limit not a number", "/api/incidents?limit=ten", ok, 400),
		get("limit too large", "/api/incidents?limit=1001", ok, 400),
		get("incident id not a number", "/api/incidents/abc", ok, 400),
		get("incident id overflows", "/api/incidents/99999999999999999999999", ok, 400),
		get("incident id with a NUL", "/api/incidents/%00", ok, 400),
		get("unknown incident", "/api/incidents/INC-99999", ok, 404),
		get("timeline of an unknown incident", "/api/incidents/99999/timeline", ok, 404),
		get("alerts limit negative", "/api/incidents/1/alerts?limit=-1", ok, 400),
		get("postmortem in an unknown format", "/api/incidents/1/postmortem?format=pdf", ok, 400),
		get("freeze without a service", "/api/freeze", ok, 400),
		get("freeze of an unknown service", "/api/freeze?service=nope", ok, 400),
		get("deploys limit too large", "/api/services/checkout/deploys?limit=101", ok, 400),
		get("deploys of an unknown service", "/api/services/nope/deploys", ok, 400),
		badRequest{name: "POST to a read-only route", method: http.MethodPost, path: "/api/incidents", header: ok, body: []byte(`{}`), want: 405},
		badRequest{name: "DELETE an incident", method: http.MethodDelete, path: "/api/incidents/1", header: ok, want: 405},
		get("unknown API route", "/api/nope", ok, 404),
		get("unknown route", "/nope", nil, 404),
		get("GET a webhook", "/hooks/generic", nil, 405),
		badRequest{name: "PUT a Slack endpoint", method: http.MethodPut, path: "/slack/commands", want: 405},
		get("headers over 64 KiB", "/healthz", http.Header{"X-Padding": {strings.Repeat("p", 100<<10)}}, 431),
	)
}

// alertHookMatrix: POST /hooks/{alertmanager,grafana,generic}.
func alertHookMatrix() []badRequest {
	ok := bearer(WebhookToken)
	var m []badRequest
	for _, src := range []string{"alertmanager", "grafana", "generic"} {
		p := "/hooks/" + src
		r := func(name string, h http.Header, body string, want int) badRequest {
			return badRequest{name: src + ": " + name, path: p, header: h, body: []byte(body), want: want}
		}
		m = append(m,
			r("no token", http.Header{"Content-Type": {"application/json"}}, `{"alerts":[]}`, 401),
			r("wrong token", bearer("wrong"), `{"alerts":[]}`, 401),
			r("token of another kind", bearer(APIToken), `{"alerts":[]}`, 401),
			r("wrong basic password", basic("wrong"), `{"alerts":[]}`, 401),
			r("token in a wrong scheme", withHeader(ok, "Authorization", "Token "+WebhookToken), `{"alerts":[]}`, 401),
			r("empty body", ok, ``, 400),
			r("not JSON", ok, `hello`, 400),
			r("truncated JSON", ok, `{"alerts":[{"status":"firing",`, 400),
			r("JSON null", ok, `null`, 400),
			r("a JSON array", ok, `[{"status":"firing"}]`, 400),
			r("a JSON string", ok, `"firing"`, 400),
			r("alerts of the wrong type", ok, `{"alerts":"many"}`, 400),
			r("an alert of the wrong type", ok, `{"alerts":[42]}`, 400),
			r("two JSON values", ok, `{} {}`, 400),
			r("invalid UTF-8", ok, "{\"alerts\":[{\"status\":\"fir\xffing\"}]}", 400),
			r("deeply nested", ok, string(deeplyNested(100000)), 400),
			badRequest{name: src + ": oversized", path: p, header: ok, body: oversized(alertBodyLimit), want: 413},
		)
	}
	// Bodies of the right JSON but the wrong content, one per parser.
	r := func(src, name, body string) badRequest {
		return badRequest{name: src + ": " + name, path: "/hooks/" + src, header: ok, body: []byte(body), want: 400}
	}
	return append(m,
		r("alertmanager", "unknown version", `{"version":"3","status":"firing","alerts":[{"status":"firing","labels":{"alertname":"A"},"startsAt":"2026-11-21T10:00:00Z"}]}`),
		r("alertmanager", "labels of the wrong type", `{"version":"4","status":"firing","alerts":[{"status":"firing","labels":{"alertname":["A"]},"startsAt":"2026-11-21T10:00:00Z"}]}`),
		r("alertmanager", "unknown alert status", `{"version":"4","status":"firing","alerts":[{"status":"burning","labels":{"alertname":"A"},"startsAt":"2026-11-21T10:00:00Z"}]}`),
		r("alertmanager", "startsAt not a time", `{"version":"4","status":"firing","alerts":[{"status":"firing","labels":{"alertname":"A"},"startsAt":"yesterday"}]}`),
		r("grafana", "unknown alert status", `{"status":"firing","alerts":[{"status":"burning","labels":{"alertname":"A"},"startsAt":"2026-11-21T10:00:00Z"}]}`),
		r("grafana", "labels of the wrong type", `{"status":"firing","alerts":[{"status":"firing","labels":["alertname"],"startsAt":"2026-11-21T10:00:00Z"}]}`),
		r("generic", "title of the wrong type", `{"alerts":[{"status":"firing","title":42}]}`),
		r("generic", "title too long", `{"title":"`+strings.Repeat("t", 301)+`"}`),
		r("generic", "unknown status", `{"alerts":[{"dedup_key":"k1","status":"burning","title":"Disk full"}]}`),
	)
}

// slackMatrix: POST /slack/{commands,events,interactivity}.
func slackMatrix(now time.Time) []badRequest {
	const form = "application/x-www-form-urlencoded"
	command := []byte(url.Values{"command": {"/incident"}, "text": {"declare Bad input sev1"}, "user_id": {"U01ALICE"},
		"channel_id": {"C000BAD"}, "trigger_id": {"T-bad-1"}, "team_id": {slackfake.DefaultTeamID}}.Encode())
	event := []byte(`{"type":"event_callback","event_id":"Ev0BAD","team_id":"` + slackfake.DefaultTeamID +
		`","event":{"type":"reaction_added","user":"U01ALICE","reaction":"pushpin","item":{"type":"message","channel":"C000BAD","ts":"1.000001"}}}`)
	interaction := []byte(url.Values{"payload": {`{"type":"block_actions","user":{"id":"U01ALICE"},"actions":[{"action_id":"incident_ack","value":"1"}]}`}}.Encode())

	var m []badRequest
	for _, ep := range []struct {
		path, ct string
		valid    []byte
		bad      map[string][]byte // signed, but not what the endpoint reads
	}{
		{"/slack/commands", form, command, map[string][]byte{
			"not a form":           []byte("command=%zz&text=%"),
			"no command field":     []byte("text=declare+x&user_id=U01ALICE"),
			"empty body":           nil,
			"JSON instead of form": []byte(`{"command":"/incident","text":"declare x"}`),
		}},
		{"/slack/events", "application/json", event, map[string][]byte{
			"not JSON":                           []byte("type=event_callback"),
			"no type":                            []byte(`{"event":{"type":"reaction_added"}}`),
			"url_verification without challenge": []byte(`{"type":"url_verification"}`),
			"event_callback of the wrong shape":  []byte(`{"type":"event_callback","event_id":"Ev0SHAPE","event":{"type":"reaction_added","item":"not an object"}}`),
			"event of the wrong type":            []byte(`{"type":"event_callback","event_id":"Ev0NUM","event":42}`),
			"deeply nested":                      deeplyNested(100000),
			"empty body":                         nil,
		}},
		{"/slack/interactivity", form, interaction, map[string][]byte{
			"not a form":                 []byte("payload=%zz"),
			"no payload field":           []byte("type=block_actions"),
			"payload not JSON":           []byte("payload=block_actions"),
			"payload without type":       []byte(url.Values{"payload": {`{"user":{"id":"U01ALICE"}}`}}.Encode()),
			"payload of the wrong shape": []byte(url.Values{"payload": {`{"type":"block_actions","actions":"all"}`}}.Encode()),
			"empty body":                 nil,
		}},
	} {
		signed := slackHeader(ep.ct, SigningSecret, now, ep.valid)
		r := func(name string, h http.Header, body []byte, want int) badRequest {
			return badRequest{name: ep.path + ": " + name, path: ep.path, header: h, body: body, want: want}
		}
		tampered := append(bytes.Clone(ep.valid), '&')
		m = append(m,
			r("unsigned", http.Header{"Content-Type": {ep.ct}}, ep.valid, 401),
			r("no signature", withHeader(signed, "X-Slack-Signature", ""), ep.valid, 401),
			r("no timestamp", withHeader(signed, "X-Slack-Request-Timestamp", ""), ep.valid, 401),
			r("signed with another secret", slackHeader(ep.ct, "not-the-secret", now, ep.valid), ep.valid, 401),
			r("stale timestamp (6 minutes old)", slackHeader(ep.ct, SigningSecret, now.Add(-6*time.Minute), ep.valid), ep.valid, 401),
			r("timestamp 6 minutes ahead", slackHeader(ep.ct, SigningSecret, now.Add(6*time.Minute), ep.valid), ep.valid, 401),
			r("timestamp not a number", withHeader(signed, "X-Slack-Request-Timestamp", "yesterday"), ep.valid, 401),
			r("timestamp overflows", withHeader(signed, "X-Slack-Request-Timestamp", "99999999999999999999999"), ep.valid, 401),
			r("signature without v0=", withHeader(signed, "X-Slack-Signature",
				strings.TrimPrefix(signed.Get("X-Slack-Signature"), "v0=")), ep.valid, 401),
			r("signature not hex", withHeader(signed, "X-Slack-Signature", "v0=zz"), ep.valid, 401),
			r("body changed after signing", signed, tampered, 401),
			r("oversized", slackHeader(ep.ct, SigningSecret, now, oversized(bodyLimit)), oversized(bodyLimit), 413),
		)
		for name, body := range ep.bad {
			m = append(m, r("signed, "+name, slackHeader(ep.ct, SigningSecret, now, body), body, 400))
		}
	}
	return m
}

// deployHookMatrix: POST /hooks/deploy, /hooks/deploy/rollback and
// /hooks/github.
func deployHookMatrix(t testing.TB) []badRequest {
	ok := bearer(WebhookToken)
	r := func(name, path string, h http.Header, body []byte, want int) badRequest {
		return badRequest{name: path + ": " + name, path: path, header: h, body: body, want: want}
	}
	deploy := func(fields string) []byte {
		return []byte(`{"service":"search","environment":"production","id":"bad-1","ref":"v1","status":"success"` + fields + `}`)
	}
	valid := deploy("")
	m := []badRequest{
		r("no token", "/hooks/deploy", http.Header{"Content-Type": {"application/json"}}, valid, 401),
		r("wrong token", "/hooks/deploy", bearer("wrong"), valid, 401),
		r("API token", "/hooks/deploy", bearer(APIToken), valid, 401),
		r("empty body", "/hooks/deploy", ok, nil, 400),
		r("not JSON", "/hooks/deploy", ok, []byte("service=search"), 400),
		r("truncated JSON", "/hooks/deploy", ok, valid[:len(valid)-5], 400),
		r("a JSON array", "/hooks/deploy", ok, []byte(`[`+string(valid)+`]`), 400),
		r("service of the wrong type", "/hooks/deploy", ok, []byte(`{"service":7,"ref":"v1","status":"success"}`), 400),
		r("no service", "/hooks/deploy", ok, []byte(`{"ref":"v1","status":"success"}`), 400),
		r("unknown service", "/hooks/deploy", ok, []byte(`{"service":"nope","ref":"v1","status":"success"}`), 400),
		r("no ref nor sha", "/hooks/deploy", ok, []byte(`{"service":"search","status":"success"}`), 400),
		r("unknown status", "/hooks/deploy", ok, deploy(`,"status":"exploded"`), 400),
		r("a script URL", "/hooks/deploy", ok, deploy(`,"url":"javascript:alert(1)"`), 400),
		r("started_at not a time", "/hooks/deploy", ok, deploy(`,"started_at":"yesterday"`), 400),
		r("finished before started", "/hooks/deploy", ok, deploy(`,"started_at":"2026-11-21T10:00:00Z","finished_at":"2026-11-21T09:00:00Z"`), 400),
		r("description too long", "/hooks/deploy", ok, deploy(`,"description":"`+strings.Repeat("d", 3000)+`"`), 400),
		r("id too long", "/hooks/deploy", ok, []byte(`{"service":"search","id":"`+strings.Repeat("i", 300)+`","ref":"v1","status":"success"}`), 400),
		r("deeply nested", "/hooks/deploy", ok, deeplyNested(100000), 400),
		r("oversized", "/hooks/deploy", ok, oversized(bodyLimit), 413),
	}

	const cb = "/hooks/deploy/rollback"
	callback := []byte(`{"key":"inc-1/rollback-1","service":"search","status":"running"}`)
	signed := func(secret string, body []byte) http.Header {
		return http.Header{"Content-Type": {"application/json"}, webhook.SignatureHeader: {webhook.Sign([]byte(secret), body)}}
	}
	checkoutCallback := []byte(`{"key":"inc-1/rollback-1","service":"checkout","status":"running"}`)
	m = append(m,
		r("unsigned", cb, http.Header{"Content-Type": {"application/json"}}, callback, 401),
		r("unsigned garbage", cb, http.Header{"Content-Type": {"application/json"}}, []byte("garbage"), 401),
		r("signed with another secret", cb, signed("not-the-secret", callback), callback, 401),
		r("signature not hex", cb, withHeader(signed(RollbackSecret, callback), webhook.SignatureHeader, "sha256=zz"), callback, 401),
		r("signature of another body", cb, signed(RollbackSecret, checkoutCallback), callback, 401),
		r("a service without a rollback webhook", cb, signed(RollbackSecret, checkoutCallback), checkoutCallback, 401),
		r("signed, not JSON", cb, signed(RollbackSecret, []byte("garbage")), []byte("garbage"), 400),
		r("signed, unknown status", cb, signed(RollbackSecret, []byte(`{"key":"k","service":"search","status":"exploded"}`)),
			[]byte(`{"key":"k","service":"search","status":"exploded"}`), 400),
		r("signed, unknown rollback", cb, signed(RollbackSecret, callback), callback, 404),
		r("empty body", cb, signed(RollbackSecret, nil), nil, 400),
		r("oversized", cb, signed(RollbackSecret, oversized(bodyLimit)), oversized(bodyLimit), 413),
	)

	const gh = "/hooks/github"
	ds := deploymentStatus(t)
	good := githubHeader("deployment_status", "bad-delivery-1", GitHubWebhookSecret, ds)
	form := []byte(url.Values{"other": {"x"}}.Encode())
	m = append(m,
		r("unsigned", gh, withHeader(good, "X-Hub-Signature-256", ""), ds, 401),
		r("signed with another secret", gh, githubHeader("deployment_status", "d", "not-the-secret", ds), ds, 401),
		r("SHA-1 signature only", gh, withHeader(good, "X-Hub-Signature-256", "", "X-Hub-Signature", "sha1=0123456789abcdef0123456789abcdef01234567"), ds, 401),
		r("signature of another body", gh, good, append(bytes.Clone(ds), ' '), 401),
		r("signed, no event header", gh, githubHeader("", "d", GitHubWebhookSecret, ds), ds, 400),
		r("signed, not JSON", gh, githubHeader("deployment_status", "d", GitHubWebhookSecret, []byte("garbage")), []byte("garbage"), 400),
		r("signed, an empty object", gh, githubHeader("deployment_status", "d", GitHubWebhookSecret, []byte("{}")), []byte("{}"), 400),
		r("signed, fields of the wrong type", gh, githubHeader("deployment_status", "d", GitHubWebhookSecret, []byte(`{"deployment":"x"}`)), []byte(`{"deployment":"x"}`), 400),
		r("signed form without payload", gh, withHeader(githubHeader("deployment_status", "d", GitHubWebhookSecret, form),
			"Content-Type", "application/x-www-form-urlencoded"), form, 400),
		r("oversized", gh, githubHeader("deployment_status", "d", GitHubWebhookSecret, oversized(bodyLimit)), oversized(bodyLimit), 413),
	)
	return m
}

// send sends a matrix request and checks its answer: the wanted 4xx with
// an error message (JSON {"error": "..."} when the answer is JSON).
func send(t *testing.T, w *Warroom, c badRequest) {
	t.Helper()
	method := c.method
	if method == "" {
		method = http.MethodPost
	}
	status, body, err := w.HTTP(method, c.path, c.header, c.body)
	if err != nil {
		t.Errorf("%s: %v", c.name, err)
		return
	}
	switch {
	case status >= 500:
		t.Errorf("%s: %d (a server error) %s", c.name, status, excerpt(body))
	case status != c.want:
		t.Errorf("%s: %d, want %d: %s", c.name, status, c.want, excerpt(body))
	}
	msg := strings.TrimSpace(string(body))
	var e struct {
		Error *string `json:"error"`
	}
	if strings.HasPrefix(msg, "{") {
		if json.Unmarshal(body, &e) != nil || e.Error == nil || *e.Error == "" {
			t.Errorf("%s: %d with a JSON answer that has no error: %s", c.name, status, excerpt(body))
		}
	} else if msg == "" {
		t.Errorf("%s: %d with an empty answer", c.name, status)
	}
}

func excerpt(b []byte) string {
	if len(b) > 300 {
		return string(b[:300]) + "..."
	}
	return string(b)
}

// TestBadInput sends the matrix to a running Warroom that holds an
// incident (declared by an alert) and deploys, and checks that nothing
// changed and that it kept serving.
func TestBadInput(t *testing.T) {
	t.Parallel()
	w := Start(t, Options{Config: faultConfig(t)})

	// What there is to protect: an incident, its alert, two deploys.
	if st, body, err := w.PostAlerts("alertmanager", AlertmanagerBody("{}:{alertname=\"CheckoutDown\"}", "firing",
		time.Now().Add(-time.Minute), Alert{Fingerprint: "f1"})); err != nil || st != http.StatusOK {
		t.Fatalf("baseline alert: %d %s %v", st, body, err)
	}
	if st, body, _ := w.HTTP(http.MethodPost, "/hooks/deploy", bearer(WebhookToken),
		[]byte(`{"service":"search","environment":"production","id":"d-1","ref":"v1.0.0","status":"success"}`)); st != http.StatusOK {
		t.Fatalf("baseline deploy: %d %s", st, body)
	}
	ds := deploymentStatus(t)
	if st, body, _ := w.HTTP(http.MethodPost, "/hooks/github", githubHeader("deployment_status", "baseline", GitHubWebhookSecret, ds), ds); st != http.StatusOK {
		t.Fatalf("baseline GitHub deployment: %d %s", st, body)
	}
	Eventually(t, 15*time.Second, "the incident is declared", func() (bool, string) {
		incs := w.Incidents()
		return len(incs) == 1 && incs[0].Channel.ID != "", fmt.Sprintf("incidents: %+v", incs)
	})
	before := settled(t, w, 15*time.Second)
	if len(before.Incidents) != 1 || before.Incidents[0].Alerts != 1 || before.Deploys["search"] != 1 || before.Deploys["checkout"] != 1 {
		t.Fatalf("baseline: %+v", before)
	}

	for _, batch := range []struct {
		name     string
		requests []badRequest
	}{
		{"api", apiMatrix()},
		{"alert hooks", alertHookMatrix()},
		{"slack", slackMatrix(time.Now())},
		{"deploy hooks", deployHookMatrix(t)},
	} {
		t.Run(batch.name, func(t *testing.T) {
			for _, c := range batch.requests {
				send(t, w, c)
			}
			checkServing(t, w)
		})
	}

	after := settled(t, w, 15*time.Second)
	if !reflect.DeepEqual(before, after) {
		t.Errorf("bad input changed what Warroom holds:\nbefore %+v\nafter  %+v", before, after)
	}
	fivexx, panicked := serverErrors(t, w)
	if len(fivexx) > 0 {
		t.Errorf("5xx answers in warroom_http_requests_total: %v", fivexx)
	}
	if panicked {
		t.Error("the log shows a panic")
	}
	checkServing(t, w)
}
