package e2e

import (
	"encoding/json"
	"time"
)

// Alert is one alert of an Alertmanager webhook body.
type Alert struct {
	Fingerprint string
	// Labels; AlertmanagerBody fills in alertname, service "checkout",
	// severity "critical" and env "prod" where missing.
	Labels      map[string]string
	Annotations map[string]string // default: summary "<alertname> is firing"
}

// AlertmanagerBody is an Alertmanager (version 4) webhook body for group
// groupKey with status "firing" or "resolved": every alert has that status
// and starts at startsAt (a resolved one ends 10 minutes later).
func AlertmanagerBody(groupKey, status string, startsAt time.Time, alerts ...Alert) []byte {
	out := make([]map[string]any, len(alerts))
	for i, a := range alerts {
		labels := map[string]string{"alertname": "CheckoutDown", "service": "checkout", "severity": "critical", "env": "prod"}
		for k, v := range a.Labels {
			labels[k] = v
		}
		ann := a.Annotations
		if ann == nil {
			ann = map[string]string{"summary": labels["alertname"] + " is firing"}
		}
		end := "0001-01-01T00:00:00Z"
		if status == "resolved" {
			end = startsAt.Add(10 * time.Minute).UTC().Format(time.RFC3339)
		}
		out[i] = map[string]any{
			"status": status, "fingerprint": a.Fingerprint, "labels": labels, "annotations": ann,
			"startsAt": startsAt.UTC().Format(time.RFC3339), "endsAt": end,
			"generatorURL": "https://prometheus.example.com/graph",
		}
	}
	b, err := json.Marshal(map[string]any{
		"version": "4", "groupKey": groupKey, "status": status, "receiver": "warroom",
		"externalURL": "https://alertmanager.example.com", "alerts": out,
		"groupLabels": map[string]string{}, "commonLabels": map[string]string{}, "commonAnnotations": map[string]string{},
	})
	if err != nil {
		panic(err) // maps of strings always marshal
	}
	return b
}

// Incident is an incident as GET /api/incidents answers it (the fields
// the tests read).
type Incident struct {
	ID       string `json:"id"`
	Number   int    `json:"number"`
	Title    string `json:"title"`
	Severity string `json:"severity"`
	Status   string `json:"status"`
	Service  string `json:"service"`
	Channel  struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"channel"`
	AcknowledgedAt *time.Time `json:"acknowledged_at"`
	ResolvedAt     *time.Time `json:"resolved_at"`
	Postmortem     *struct {
		Repository  string `json:"repository"`
		PullRequest int    `json:"pull_request"`
		URL         string `json:"url"`
		State       string `json:"state"`
	} `json:"postmortem"`
}

// Incidents returns every incident (GET /api/incidents?status=all&limit=1000),
// newest first; a status other than 200 fails the test.
func (w *Warroom) Incidents() []Incident {
	w.t.Helper()
	var out struct {
		Incidents []Incident `json:"incidents"`
	}
	if st := w.API("/api/incidents?status=all&limit=1000", &out); st != 200 {
		w.t.Fatalf("e2e: GET /api/incidents: %d", st)
	}
	return out.Incidents
}

// TimelineEvent is an event of GET /api/incidents/{id}/timeline.
type TimelineEvent struct {
	ID    int64          `json:"id"`
	At    string         `json:"at"`
	Kind  string         `json:"kind"`
	Actor string         `json:"actor"`
	Text  string         `json:"text"`
	Data  map[string]any `json:"data"`
}

// Timeline returns an incident's timeline (id such as "INC-1" or "1"),
// oldest first; a status other than 200 fails the test.
func (w *Warroom) Timeline(id string) []TimelineEvent {
	w.t.Helper()
	var out struct {
		Events []TimelineEvent `json:"events"`
	}
	if st := w.API("/api/incidents/"+id+"/timeline", &out); st != 200 {
		w.t.Fatalf("e2e: GET /api/incidents/%s/timeline: %d", id, st)
	}
	return out.Events
}

// IncidentAlerts is GET /api/incidents/{id}/alerts (the fields the tests
// read).
type IncidentAlerts struct {
	Incident string `json:"incident"`
	Firing   int    `json:"firing"`
	Resolved int    `json:"resolved"`
	Alerts   []struct {
		Source      string `json:"source"`
		Fingerprint string `json:"fingerprint"`
		Name        string `json:"name"`
		Status      string `json:"status"`
	} `json:"alerts"`
}

// Alerts returns an incident's alerts (up to 1000); a status other than
// 200 fails the test.
func (w *Warroom) Alerts(id string) IncidentAlerts {
	w.t.Helper()
	var out IncidentAlerts
	if st := w.API("/api/incidents/"+id+"/alerts?limit=1000", &out); st != 200 {
		w.t.Fatalf("e2e: GET /api/incidents/%s/alerts: %d", id, st)
	}
	return out
}
