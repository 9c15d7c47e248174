package incidents

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// AlertStatus is whether an alert is firing.
type AlertStatus string

// The statuses of an alert.
const (
	AlertFiring   AlertStatus = "firing"
	AlertResolved AlertStatus = "resolved"
)

// Valid reports whether s is firing or resolved.
func (s AlertStatus) Valid() bool { return s == AlertFiring || s == AlertResolved }

// The sources of alerts that Warroom accepts.
const (
	SourceAlertmanager = "alertmanager"
	SourceGrafana      = "grafana"
	SourceGeneric      = "generic"
)

// Link is a named link that came with an alert (a dashboard, a silence).
type Link struct {
	Title string `json:"title"`
	URL   string `json:"url"`
}

// Alert is one alert as a source reported it. Adapters convert vendor
// payloads to it at the edge; the domain never sees Alertmanager's or
// Grafana's JSON.
type Alert struct {
	// Fingerprint identifies the alert within its source: Alertmanager's and
	// Grafana's fingerprint, or the generic format's dedup key. The same
	// fingerprint arriving again is the same alert.
	Fingerprint string
	// GroupKey is the sender's group (Alertmanager's groupKey); empty when
	// the sender has none. A route's group_by overrides it.
	GroupKey string
	Status   AlertStatus
	// Labels identify the alert; routes match on them. The generic format's
	// service and severity fields are copied into "service" and "severity"
	// when the labels do not have them.
	Labels      map[string]string
	Annotations map[string]string
	// Title is a one-line name: the summary annotation, or the alert name.
	Title        string
	Description  string
	StartsAt     time.Time
	EndsAt       time.Time
	GeneratorURL string
	RunbookURL   string
	Links        []Link
}

// Name is the alert's "alertname" label, or its title.
func (a *Alert) Name() string {
	if n := a.Labels["alertname"]; n != "" {
		return n
	}
	return a.Title
}

// AlertBatch is one webhook body: the alerts it carried, and the body itself
// for audit.
type AlertBatch struct {
	Source string
	// Receiver and ExternalURL say where it came from (Alertmanager's
	// receiver and its URL); both may be empty.
	Receiver    string
	ExternalURL string
	// Title names the batch's group (Grafana's title, Alertmanager's common
	// summary); the first alert's title is used when empty.
	Title  string
	Alerts []Alert
	// Raw is the body as received.
	Raw []byte
}

// Validate reports what is wrong with a batch that an adapter built.
func (b *AlertBatch) Validate() error {
	if b.Source == "" {
		return &ValidationError{Field: "source", Msg: "an alert batch needs a source"}
	}
	for i := range b.Alerts {
		a := &b.Alerts[i]
		switch {
		case a.Fingerprint == "":
			return &ValidationError{Field: fmt.Sprintf("alerts[%d]", i), Msg: fmt.Sprintf("alert %d has no fingerprint or dedup key", i)}
		case !a.Status.Valid():
			return &ValidationError{Field: fmt.Sprintf("alerts[%d].status", i), Msg: fmt.Sprintf("alert %d has status %q; use firing or resolved", i, a.Status)}
		}
	}
	return nil
}

// LabelMatcher tests one label's value (empty when the label is missing).
// config.Matcher implements it.
type LabelMatcher interface {
	Matches(value string) bool
}

// Condition is one label test of a route.
type Condition struct {
	Label   string
	Matcher LabelMatcher
}

// AlertRoute sends matching alerts to a service, and may set their severity,
// whether they declare an incident, and how they are grouped.
type AlertRoute struct {
	// Conditions must all hold; none matches every alert.
	Conditions []Condition
	Service    string
	Severity   Severity // empty: from the severity label
	Declare    *bool    // nil: by severity
	GroupBy    []string // empty: the sender's group key
}

// Matches reports whether every condition holds for labels.
func (r *AlertRoute) Matches(labels map[string]string) bool {
	for _, c := range r.Conditions {
		if !c.Matcher.Matches(labels[c.Label]) {
			return false
		}
	}
	return true
}

// AlertPolicy is how alerts become incidents: routing, severity mapping,
// the declaration threshold and reopening.
type AlertPolicy struct {
	// SeverityLabel is the label whose value SeverityMap translates
	// (default "severity").
	SeverityLabel string
	// SeverityMap maps lower-cased label values to severities. Values that
	// are severities already ("sev2", "2") need no entry.
	SeverityMap map[string]Severity
	// DefaultSeverity is used when an alert's severity label is missing or
	// unknown (default sev3).
	DefaultSeverity Severity
	// DeclareAtOrAbove is the lowest severity that declares an incident
	// (default sev2).
	DeclareAtOrAbove Severity
	// ReopenWithin: a group that fires again this soon after its incident
	// was resolved reopens it; 0 never reopens.
	ReopenWithin time.Duration
	// Routes are tried in order; the first that matches wins.
	Routes []AlertRoute
	// KeepBodies is how long raw webhook bodies are kept for audit
	// (default 30 days); alerts and their changes are kept regardless.
	KeepBodies time.Duration
}

// Routed is where the policy sends one alert.
type Routed struct {
	Route    int // index of the matching route, -1 when none matched
	Service  string
	Severity Severity
	Declare  bool
	// Group is the key of the alert's group: "route:<n>:<labels>" for a
	// route's group_by, "<source>:<group key>" for the sender's group, and
	// "<source>:alert:<fingerprint>" for an alert that came without one.
	Group string
}

func (p *AlertPolicy) withDefaults() {
	if p.SeverityLabel == "" {
		p.SeverityLabel = "severity"
	}
	if !p.DefaultSeverity.Valid() {
		p.DefaultSeverity = Sev3
	}
	if !p.DeclareAtOrAbove.Valid() {
		p.DeclareAtOrAbove = Sev2
	}
	if p.KeepBodies <= 0 {
		p.KeepBodies = 30 * 24 * time.Hour
	}
}

// Route applies the policy to one alert from source.
func (p *AlertPolicy) Route(source string, a *Alert) Routed {
	r := Routed{Route: -1, Service: a.Labels["service"]}
	var route *AlertRoute
	for i := range p.Routes {
		if p.Routes[i].Matches(a.Labels) {
			route, r.Route = &p.Routes[i], i
			break
		}
	}
	r.Severity = p.severity(a)
	if route != nil {
		if route.Service != "" {
			r.Service = route.Service
		}
		if route.Severity != "" {
			r.Severity = route.Severity
		}
	}
	r.Declare = r.Severity.AtLeast(p.DeclareAtOrAbove)
	if route != nil && route.Declare != nil {
		r.Declare = *route.Declare
	}
	switch {
	case route != nil && len(route.GroupBy) > 0:
		var b strings.Builder
		fmt.Fprintf(&b, "route:%d:", r.Route)
		for i, l := range route.GroupBy {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, "%s=%q", l, a.Labels[l])
		}
		r.Group = b.String()
	case a.GroupKey != "":
		r.Group = source + ":" + a.GroupKey
	default:
		r.Group = source + ":alert:" + a.Fingerprint
	}
	return r
}

// severity maps the alert's severity label.
func (p *AlertPolicy) severity(a *Alert) Severity {
	v := strings.ToLower(strings.TrimSpace(a.Labels[p.SeverityLabel]))
	if v == "" {
		return p.DefaultSeverity
	}
	if s, ok := p.SeverityMap[v]; ok && s.Valid() {
		return s
	}
	if s, err := ParseSeverity(v); err == nil {
		return s
	}
	return p.DefaultSeverity
}

// StoredAlert is an alert as Warroom keeps it: the latest content the source
// sent, where it was routed, and what Warroom did with it.
type StoredAlert struct {
	ID     int64
	Source string
	Alert
	GroupID    int64
	IncidentID ID // the incident it was last attached to; 0 when none
	Service    string
	Severity   Severity
	Declare    bool
	FirstSeen  time.Time // first received
	LastSeen   time.Time // last received
	ChangedAt  time.Time // last change of status
	Received   int       // how many times it arrived
}

// AlertChange is one change of an alert's status (or its first arrival),
// waiting to be applied to its group's incident.
type AlertChange struct {
	ID      int64
	AlertID int64
	GroupID int64
	BodyID  int64
	At      time.Time
	Status  AlertStatus // the status it changed to
	// First is true when this is the alert's first arrival.
	First bool
	// Name and Alert are the alert's name and the alert as it is now,
	// filled in by AlertTx.PendingAlertChanges.
	Name  string
	Alert *StoredAlert
}

// AlertGroup is the alerts that belong to one incident at a time: one open
// incident per group.
type AlertGroup struct {
	ID    int64
	Key   string // Routed.Group
	Title string
	// Service is the service of its first alert that had one.
	Service string
	// IncidentID is the incident of the current or last episode; 0 when
	// none was declared.
	IncidentID ID
	// Episode counts the times the group started firing anew (not counting
	// reopenings). Declarations from the group are keyed by it.
	Episode int
	// Active is true while the current episode lasts: alerts are firing,
	// or its incident is open.
	Active bool
	// EpisodeStart is when the current episode started.
	EpisodeStart time.Time
	// Pending is true while a job to process its changes is queued; Gen
	// numbers those jobs.
	Pending   bool
	Gen       int64
	FirstSeen time.Time
	UpdatedAt time.Time
}

// AlertCounts is how many of an incident's (or a group's) alerts are firing
// and resolved, with the most frequent names.
type AlertCounts struct {
	Firing   int
	Resolved int
	// Names are alert names with their firing and total counts, most
	// firing first, at most the limit asked for.
	Names []NameCount
}

// Total is Firing plus Resolved.
func (c AlertCounts) Total() int { return c.Firing + c.Resolved }

// NameCount is how many alerts of one name there are.
type NameCount struct {
	Name   string
	Firing int
	Total  int
}

// SortNames orders names most firing first, then most total, then by name.
func SortNames(names []NameCount) {
	sort.Slice(names, func(i, j int) bool {
		a, b := names[i], names[j]
		if a.Firing != b.Firing {
			return a.Firing > b.Firing
		}
		if a.Total != b.Total {
			return a.Total > b.Total
		}
		return a.Name < b.Name
	})
}

// AlertBody is a webhook body kept for audit.
type AlertBody struct {
	ID         int64
	Source     string
	ReceivedAt time.Time
	Alerts     int
	Raw        []byte
}

// IngestResult says what one body did.
type IngestResult struct {
	BodyID   int64 `json:"body_id"`
	Alerts   int   `json:"alerts"`   // alerts in the body
	New      int   `json:"new"`      // seen for the first time
	Changed  int   `json:"changed"`  // changed status (resolved, or fired again)
	Repeated int   `json:"repeated"` // arrived again unchanged
	// Stale counts alerts older than what is stored (a retried body that
	// arrives after a newer one); they are kept as received but change
	// nothing.
	Stale  int `json:"stale"`
	Groups int `json:"groups"` // groups the alerts belong to
}
