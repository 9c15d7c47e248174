package bot

import (
	"strings"
	"testing"

	"github.com/warroomhq/warroom/incidents"
)

func TestRenderAlertsEscapesAndLinksSafely(t *testing.T) {
	r := newTestRenderer()
	inc := &incidents.Incident{ID: 7}
	alerts := []incidents.StoredAlert{
		{Alert: incidents.Alert{Status: incidents.AlertFiring, Title: "Disk <!here> full",
			Labels:     map[string]string{"alertname": "DiskFull", "instance": "db-1"},
			RunbookURL: "https://runbooks.example.com/disk|evil>", Links: []incidents.Link{{Title: "x>y", URL: "javascript:alert(1)"}}}},
		{Alert: incidents.Alert{Status: incidents.AlertResolved, Labels: map[string]string{"alertname": "DiskFull"}}},
	}
	text, _ := r.Alerts(inc, incidents.AlertCounts{Firing: 1, Resolved: 4}, alerts)
	for _, want := range []string{
		"*Alerts of INC-7*: 1 firing · 4 resolved",
		":red_circle: *DiskFull* on db-1: Disk &lt;!here&gt; full",
		"<https://runbooks.example.com/disk%7Cevil%3E|runbook>",
		" · x&gt;y", // not a link: not http(s)
		":large_green_circle: *DiskFull*",
		"and 3 more",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("alerts text lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "<!here>") || strings.Contains(text, "javascript:") {
		t.Errorf("unsafe text: %s", text)
	}
	if text, _ := r.Alerts(inc, incidents.AlertCounts{}, nil); !strings.Contains(text, "no alerts") {
		t.Errorf("no alerts: %q", text)
	}
}
