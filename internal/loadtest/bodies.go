package loadtest

import (
	"encoding/json"
	"fmt"
	"time"
)

// Sources are the alert webhook formats the load test can send, each to
// /hooks/<source>.
var Sources = []string{"alertmanager", "grafana", "generic"}

// maxGenericAlerts is the most alerts Warroom takes in one generic body.
const maxGenericAlerts = 1000

// spec describes one body: which group, which alerts, firing or resolved.
type spec struct {
	run    string    // the run's ID, in every title, group key and fingerprint
	group  int       // the alert group, 0..Groups-1
	body   int       // the firing body's number, which makes its alerts' fingerprints
	first  int       // the first alert of that body in this spec
	n      int       // how many alerts
	status string    // "firing" or "resolved"
	starts time.Time // every alert's startsAt
	ends   time.Time // endsAt of resolved alerts
	sev    string    // the severity label
	svc    string    // the service label, if any
}

// Title is the title of group's alerts, and so of its incident.
func Title(run string, group int) string {
	return fmt.Sprintf("Load test %s group %d", run, group)
}

func (s spec) title() string            { return Title(s.run, s.group) }
func (s spec) fingerprint(i int) string { return fmt.Sprintf("lt-%s-%d-%d", s.run, s.body, s.first+i) }
func (s spec) groupName() string        { return fmt.Sprintf("%d", s.group) }

// labels are alert i's labels. env=prod keeps the example config's route
// for non-production alerts (declare: false) from matching.
func (s spec) labels(i int) map[string]string {
	l := map[string]string{
		"alertname": "LoadTest",
		"lt_run":    s.run,
		"lt_group":  s.groupName(),
		"instance":  fmt.Sprintf("host-%d-%d:9100", s.body, s.first+i),
		"severity":  s.sev,
		"env":       "prod",
	}
	if s.svc != "" {
		l["service"] = s.svc
	}
	return l
}

func (s spec) annotations() map[string]string {
	return map[string]string{
		"summary":     s.title(),
		"description": "Synthetic alert sent by warroom loadtest.",
		"runbook_url": "https://runbooks.example.com/load-test",
	}
}

func (s spec) endsAt() string {
	if s.status == "resolved" {
		return s.ends.UTC().Format(time.RFC3339Nano)
	}
	return "0001-01-01T00:00:00Z"
}

// amAlert is an alert in Alertmanager's webhook (version 4), which Grafana's
// webhook extends.
type amAlert struct {
	Status       string            `json:"status"`
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     string            `json:"startsAt"`
	EndsAt       string            `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL"`
	Fingerprint  string            `json:"fingerprint"`
	// Grafana only.
	SilenceURL   string             `json:"silenceURL,omitempty"`
	DashboardURL string             `json:"dashboardURL,omitempty"`
	PanelURL     string             `json:"panelURL,omitempty"`
	Values       map[string]float64 `json:"values,omitempty"`
	ValueString  string             `json:"valueString,omitempty"`
}

// amMessage is Alertmanager's webhook body (version "4"); Grafana's
// (version "1") adds orgId, title, state and message.
type amMessage struct {
	Receiver          string            `json:"receiver"`
	Status            string            `json:"status"`
	Alerts            []amAlert         `json:"alerts"`
	GroupLabels       map[string]string `json:"groupLabels"`
	CommonLabels      map[string]string `json:"commonLabels"`
	CommonAnnotations map[string]string `json:"commonAnnotations"`
	ExternalURL       string            `json:"externalURL"`
	Version           string            `json:"version"`
	GroupKey          string            `json:"groupKey"`
	TruncatedAlerts   int               `json:"truncatedAlerts"`
	// Grafana only.
	OrgID   int    `json:"orgId,omitempty"`
	Title   string `json:"title,omitempty"`
	State   string `json:"state,omitempty"`
	Message string `json:"message,omitempty"`
}

type genericAlert struct {
	Title       string            `json:"title"`
	Status      string            `json:"status"`
	Severity    string            `json:"severity"`
	Service     string            `json:"service,omitempty"`
	DedupKey    string            `json:"dedup_key"`
	GroupKey    string            `json:"group_key"`
	Labels      map[string]string `json:"labels"`
	Description string            `json:"description"`
	RunbookURL  string            `json:"runbook_url"`
	StartsAt    string            `json:"starts_at"`
	EndsAt      string            `json:"ends_at,omitempty"`
}

// encode returns the body of s in source's format.
func encode(source string, s spec) ([]byte, error) {
	switch source {
	case "alertmanager", "grafana":
		return json.Marshal(amBody(source, s))
	case "generic":
		alerts := make([]genericAlert, s.n)
		for i := range alerts {
			labels := s.labels(i)
			delete(labels, "severity") // the severity field sets it
			delete(labels, "service")
			alerts[i] = genericAlert{
				Title: s.title(), Status: s.status, Severity: s.sev, Service: s.svc,
				DedupKey: s.fingerprint(i), GroupKey: "loadtest-" + s.run + "-" + s.groupName(),
				Labels: labels, Description: "Synthetic alert sent by warroom loadtest.",
				RunbookURL: "https://runbooks.example.com/load-test",
				StartsAt:   s.starts.UTC().Format(time.RFC3339Nano),
			}
			if s.status == "resolved" {
				alerts[i].EndsAt = s.endsAt()
			}
		}
		return json.Marshal(map[string]any{"alerts": alerts})
	}
	return nil, fmt.Errorf("unknown source %q: use alertmanager, grafana or generic", source)
}

func amBody(source string, s spec) amMessage {
	group := map[string]string{"alertname": "LoadTest", "lt_run": s.run, "lt_group": s.groupName()}
	m := amMessage{
		Receiver: "warroom", Status: s.status, Alerts: make([]amAlert, s.n),
		GroupLabels: group, CommonLabels: map[string]string{"alertname": "LoadTest", "lt_run": s.run, "lt_group": s.groupName(), "severity": s.sev, "env": "prod"},
		CommonAnnotations: s.annotations(),
		ExternalURL:       "https://alertmanager.example.com",
		Version:           "4",
		GroupKey:          fmt.Sprintf(`{}/{lt_run=%q}:{alertname="LoadTest", lt_group=%q}`, s.run, s.groupName()),
	}
	for i := range m.Alerts {
		m.Alerts[i] = amAlert{
			Status: s.status, Labels: s.labels(i), Annotations: s.annotations(),
			StartsAt: s.starts.UTC().Format(time.RFC3339Nano), EndsAt: s.endsAt(),
			GeneratorURL: "https://prometheus.example.com/graph?g0.expr=up+%3D%3D+0",
			Fingerprint:  s.fingerprint(i),
		}
	}
	if source == "grafana" {
		m.Version, m.OrgID, m.ExternalURL = "1", 1, "https://grafana.example.com/"
		m.GroupKey = fmt.Sprintf(`{}/{__grafana_receiver__="warroom"}:{alertname="LoadTest", lt_group=%q, lt_run=%q}`, s.groupName(), s.run)
		m.State, m.Title = "alerting", fmt.Sprintf("[FIRING:%d] %s", s.n, s.title())
		if s.status == "resolved" {
			m.State, m.Title = "ok", "[RESOLVED] "+s.title()
		}
		m.Message = "Synthetic alerts sent by warroom loadtest."
		for i := range m.Alerts {
			a := &m.Alerts[i]
			a.GeneratorURL = "https://grafana.example.com/alerting/grafana/load-test/view?orgId=1"
			a.DashboardURL = "https://grafana.example.com/d/load-test?orgId=1"
			a.PanelURL = "https://grafana.example.com/d/load-test?orgId=1&viewPanel=4"
			a.SilenceURL = "https://grafana.example.com/alerting/silence/new?matcher=lt_run%3D" + s.run
			a.Values = map[string]float64{"B": 97.5, "C": 1}
			a.ValueString = "[ var='B' value=97.5 ], [ var='C' value=1 ]"
		}
	}
	return m
}
