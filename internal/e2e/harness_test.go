package e2e

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestMain(m *testing.M) { Main(m) }

// TestHarnessStartsStopsAndRestarts: the binary serves on the address it
// logged, answers the API with the harness's token, stops cleanly on
// SIGTERM, and after a restart (and a SIGKILL and another) serves the same
// database on the same address.
func TestHarnessStartsStopsAndRestarts(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	w := Start(t, Options{})
	url := w.URL()
	if strings.HasSuffix(url, ":0") {
		t.Fatalf("URL %s: the bound port was not read", url)
	}
	st, body, err := w.HTTP(http.MethodGet, "/healthz", nil, nil)
	if err != nil || st != http.StatusOK || !strings.Contains(string(body), `"ok"`) {
		t.Fatalf("/healthz: %d %s %v", st, body, err)
	}
	if got := w.Incidents(); len(got) != 0 {
		t.Fatalf("a new database has incidents: %+v", got)
	}
	if st, _, _ := w.HTTP(http.MethodGet, "/api/incidents", nil, nil); st != http.StatusUnauthorized {
		t.Errorf("the API without a token: %d, want 401", st)
	}

	st, body, err = w.PostAlerts("alertmanager", AlertmanagerBody("g-harness", "firing", time.Now().Add(-time.Minute),
		Alert{Fingerprint: "fp-harness"}))
	if err != nil || st != http.StatusOK {
		t.Fatalf("posting an alert: %d %s %v", st, body, err)
	}
	Eventually(t, 20*time.Second, "the alert declares an incident", func() (bool, string) {
		incs := w.Incidents()
		return len(incs) == 1, "incidents: " + summary(incs)
	})

	w.Stop()
	if w.Running() {
		t.Fatal("running after Stop")
	}
	if _, _, err := w.HTTP(http.MethodGet, "/healthz", nil, nil); err == nil {
		t.Fatal("/healthz answers after Stop")
	}
	w.Restart()
	if w.URL() != url {
		t.Errorf("the restart serves on %s, not %s", w.URL(), url)
	}
	if got := w.Incidents(); len(got) != 1 {
		t.Fatalf("after the restart: %s", summary(got))
	}
	w.Kill()
	w.Restart()
	if got := w.Incidents(); len(got) != 1 {
		t.Fatalf("after a SIGKILL and a restart: %s", summary(got))
	}
	if n := strings.Count(w.Logs(), `"msg":"serving http"`); n != 3 {
		t.Errorf("the log has %d starts, want 3", n)
	}
}

// summary prints incidents briefly for failure messages.
func summary(incs []Incident) string {
	var b strings.Builder
	for _, inc := range incs {
		b.WriteString(inc.ID + " " + inc.Severity + " " + inc.Status + " #" + inc.Channel.Name + "; ")
	}
	if b.Len() == 0 {
		return "none"
	}
	return b.String()
}
