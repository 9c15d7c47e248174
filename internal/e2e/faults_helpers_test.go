package e2e

// Helpers of the fault tests (badinput_test.go, slackdown_test.go,
// ratelimit_test.go): a config with every inbound hook turned on, a
// snapshot of what Warroom holds, and the check that it still serves.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The secrets of the hooks that examples/warroom.yaml leaves off, which
// faultConfig turns on.
const (
	GitHubWebhookSecret = "e2e-github-webhook-secret"
	RollbackSecret      = "e2e-rollback-secret"
)

// faultConfig is Config with every inbound endpoint on: the GitHub webhook
// (github.webhook_secret) and a second service, search, whose deploys come
// from POST /hooks/deploy and whose rollbacks go to a webhook (so that
// POST /hooks/deploy/rollback has a secret to verify with). Escalation is
// slowed (the second step after 2 minutes), so that nothing happens on
// its own while a test runs. More old/new pairs may follow.
func faultConfig(t testing.TB, replacements ...string) []byte {
	t.Helper()
	return Config(t, append([]string{
		"webhook_secret: ${GITHUB_WEBHOOK_SECRET}",
		"webhook_secret: " + GitHubWebhookSecret,
		"after: 4s", "after: 2m",
		"after: 8s", "after: 4m",
		"\nservices:\n",
		"\nservices:\n" +
			"  search:\n" +
			"    repository: acme/search\n" +
			"    deploys: { webhook: { environment: production } }\n" +
			"    rollback: { webhook: { url: \"http://127.0.0.1:9/rollback\", secret: " + RollbackSecret + " } }\n",
	}, replacements...)...)
}

// state is what Warroom holds, as read from outside: the incidents with
// their timelines and alerts (through the API), each service's deploys,
// and what reached Slack and PagerDuty.
type state struct {
	Incidents []incidentState
	Deploys   map[string]int // by service: GET /api/services/{s}/deploys
	Messages  int            // messages in every Slack channel
	Channels  int
	Pages     int // PagerDuty events accepted
	// AlertsChanged counts alerts that were new or changed when they
	// arrived (warroom_alerts_received_total), whether or not an incident
	// holds them.
	AlertsChanged int
}

type incidentState struct {
	ID, Status, Severity, Title string
	Acknowledged, Resolved      bool
	Timeline, Alerts            int
}

// snapshot reads the state.
func snapshot(t testing.TB, w *Warroom) state {
	t.Helper()
	var s state
	for _, inc := range w.Incidents() {
		is := incidentState{ID: inc.ID, Status: inc.Status, Severity: inc.Severity, Title: inc.Title,
			Acknowledged: inc.AcknowledgedAt != nil, Resolved: inc.ResolvedAt != nil}
		var tl struct {
			Events []json.RawMessage `json:"events"`
		}
		if st := w.API("/api/incidents/"+inc.ID+"/timeline", &tl); st != http.StatusOK {
			t.Fatalf("GET timeline of %s: %d", inc.ID, st)
		}
		var al struct {
			Alerts []json.RawMessage `json:"alerts"`
		}
		if st := w.API("/api/incidents/"+inc.ID+"/alerts?limit=1000", &al); st != http.StatusOK {
			t.Fatalf("GET alerts of %s: %d", inc.ID, st)
		}
		is.Timeline, is.Alerts = len(tl.Events), len(al.Alerts)
		s.Incidents = append(s.Incidents, is)
	}
	s.Deploys = map[string]int{}
	for name := range w.Cfg.Services {
		var d struct {
			Deploys []json.RawMessage `json:"deploys"`
		}
		if st := w.API("/api/services/"+name+"/deploys?limit=100", &d); st != http.StatusOK {
			t.Fatalf("GET deploys of %s: %d", name, st)
		}
		s.Deploys[name] = len(d.Deploys)
	}
	for _, c := range w.Slack.Channels() {
		s.Channels++
		s.Messages += len(w.Slack.Messages(c.ID))
	}
	for _, e := range w.PagerDuty.Events() {
		if e.Accepted() {
			s.Pages++
		}
	}
	for labels, n := range metric(t, w, "warroom_alerts_received_total") {
		if strings.Contains(labels, `kind="new"`) || strings.Contains(labels, `kind="changed"`) {
			s.AlertsChanged += int(n)
		}
	}
	return s
}

// metric reads a metric's series from GET /metrics: value by label set
// (as the exposition writes it, without braces).
func metric(t testing.TB, w *Warroom, name string) map[string]float64 {
	t.Helper()
	st, body, err := w.HTTP(http.MethodGet, "/metrics", nil, nil)
	if err != nil || st != http.StatusOK {
		t.Fatalf("GET /metrics: %d %v", st, err)
	}
	out := map[string]float64{}
	re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + `(?:\{([^}]*)\})? (\S+)$`)
	for _, m := range re.FindAllStringSubmatch(string(body), -1) {
		n, err := strconv.ParseFloat(m[2], 64)
		if err != nil {
			t.Fatalf("metric %s{%s}: %q", name, m[1], m[2])
		}
		out[m[1]] = n
	}
	return out
}

// quietFor is how long the state must stay the same to count as settled:
// well beyond Warroom's pacing of posts to one Slack channel (one a
// second), so that a post held back by it is waited for, even on a busy
// machine.
const quietFor = 2 * time.Second

// settled waits until the state has stayed the same for quietFor (the jobs
// that earlier requests caused have run), and returns it.
func settled(t testing.TB, w *Warroom, timeout time.Duration) state {
	t.Helper()
	last, since := snapshot(t, w), time.Now()
	Eventually(t, timeout, "Warroom settles", func() (bool, string) {
		s := snapshot(t, w)
		if !reflect.DeepEqual(s, last) {
			last, since = s, time.Now()
		}
		return time.Since(since) >= quietFor, fmt.Sprintf("still changing: %+v", last)
	})
	return last
}

// checkServing checks that the process is still running and answers
// GET /healthz with 200.
func checkServing(t testing.TB, w *Warroom) {
	t.Helper()
	if !w.Running() {
		t.Fatal("warroom has exited")
	}
	st, body, err := w.HTTP(http.MethodGet, "/healthz", nil, nil)
	if err != nil || st != http.StatusOK {
		t.Fatalf("GET /healthz: %d %s %v", st, body, err)
	}
}

// serverErrors returns the counts of 5xx answers in
// warroom_http_requests_total, by route and code, and whether the log
// shows a recovered panic.
func serverErrors(t testing.TB, w *Warroom) (fivexx map[string]int, panicked bool) {
	t.Helper()
	fivexx = map[string]int{}
	server := regexp.MustCompile(`code="5\d\d"`)
	for labels, n := range metric(t, w, "warroom_http_requests_total") {
		if server.MatchString(labels) && n > 0 {
			fivexx[labels] = int(n)
		}
	}
	logs := w.Logs()
	panicked = strings.Contains(logs, "panic serving http") || strings.Contains(logs, "\ngoroutine ") ||
		strings.Contains(logs, "fatal error:")
	return fivexx, panicked
}
