// Package generic reads Warroom's own alert format, for senders that are
// neither Alertmanager nor Grafana: a cron job, a CI pipeline, an uptime
// checker, a script.
//
// POST one alert as a JSON object, or several as {"alerts": [...]} (at most
// 1000), to /hooks/generic with the webhook token:
//
//	curl -sS https://warroom.example.com/hooks/generic \
//	  -H "Authorization: Bearer $WARROOM_WEBHOOK_TOKEN" \
//	  -H "Content-Type: application/json" \
//	  -d '{"title": "Checkout error rate above 5%", "severity": "critical",
//	       "service": "checkout", "dedup_key": "checkout-error-rate"}'
//
// and, when it is over, the same key with "status": "resolved":
//
//	curl -sS https://warroom.example.com/hooks/generic \
//	  -H "Authorization: Bearer $WARROOM_WEBHOOK_TOKEN" \
//	  -H "Content-Type: application/json" \
//	  -d '{"title": "Checkout error rate above 5%", "status": "resolved",
//	       "dedup_key": "checkout-error-rate"}'
//
// An alert has these fields; only title is required:
//
//	{
//	  "title": "Checkout error rate above 5%",   // required, at most 300 characters
//	  "status": "firing",                         // "firing" (default) or "resolved"
//	  "severity": "critical",                     // copied to labels.severity (mapped by alerts.severity_map)
//	  "service": "checkout",                      // copied to labels.service
//	  "dedup_key": "checkout-error-rate",         // the same key is the same alert; default: derived from title, service and labels
//	  "group_key": "checkout",                    // alerts with the same group key share one incident; default: the dedup key
//	  "labels": {"env": "prod"},                  // string values; routes match on them
//	  "description": "5.3% of requests failed in the last 5 minutes",
//	  "runbook_url": "https://runbooks.example.com/checkout/errors",
//	  "source_url": "https://ci.example.com/jobs/42",               // the page that raised the alert
//	  "links": [{"title": "Dashboard", "url": "https://grafana.example.com/d/checkout"}],
//	  "starts_at": "2026-11-21T10:00:00Z",        // RFC 3339; default: when Warroom received it
//	  "ends_at": "2026-11-21T10:30:00Z"           // RFC 3339
//	}
//
// The rules:
//
//   - title is trimmed and must not be empty.
//   - severity and service are copied into the labels "severity" and
//     "service" unless the labels have them already. A route, or
//     alerts.severity_map, turns the severity into sev1..sev4.
//   - dedup_key names the alert: an alert with a key that Warroom has seen
//     updates that alert, and "resolved" resolves it. Without one, the key is
//     "sha256:" and the hex SHA-256 of the title and the labels (service
//     included, severity left out), so the same title, service and labels are
//     the same alert, and a change of severity updates it rather than opening
//     another. dedup_key and group_key are at most 255 characters.
//   - group_key puts alerts together: alerts with the same group key belong to
//     the same incident. Without one, each alert is its own group. A route's
//     group_by overrides both.
//   - runbook_url, source_url and every link's url must be http or https
//     URLs. A link without a title is called "Link".
//   - starts_at tells a retried request from news: an alert whose starts_at
//     is earlier than the one Warroom has, or a firing alert with the
//     starts_at of one that was resolved, changes nothing. When an alert fires
//     again after it was resolved, send a later starts_at, or none.
//   - Unknown fields are ignored.
//
// A body that breaks a rule is refused whole with 400 and
// {"error": "..."}, a sentence that names the field, for example
// field "alerts[2].status" must be "firing" or "resolved", not "ok".
package generic

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/warroomhq/warroom/incidents"
	"github.com/warroomhq/warroom/integrations/internal/alertjson"
)

// Limits of the format.
const (
	MaxAlerts      = 1000 // alerts in one body
	MaxTitleLength = 300  // characters of a title
	MaxKeyLength   = 255  // characters of a dedup or group key
)

// envelope tells a list of alerts from a single one.
type envelope struct {
	Alerts json.RawMessage `json:"alerts"`
	Title  json.RawMessage `json:"title"`
}

type alert struct {
	Title       string            `json:"title"`
	Status      string            `json:"status"`
	Severity    string            `json:"severity"`
	Service     string            `json:"service"`
	DedupKey    string            `json:"dedup_key"`
	GroupKey    string            `json:"group_key"`
	Labels      map[string]any    `json:"labels"`
	Description string            `json:"description"`
	RunbookURL  string            `json:"runbook_url"`
	SourceURL   string            `json:"source_url"`
	Links       []json.RawMessage `json:"links"` // decoded one by one, so errors name the index
	StartsAt    string            `json:"starts_at"`
	EndsAt      string            `json:"ends_at"`
}

type link struct {
	Title string `json:"title"`
	URL   string `json:"url"`
}

// Parse converts a body of the generic format to a batch. Its errors are
// *incidents.ValidationError, the sender's fault, with a message for the
// sender.
func Parse(body []byte) (*incidents.AlertBatch, error) {
	trimmed := bytes.TrimSpace(body)
	switch {
	case len(trimmed) == 0:
		return nil, alertjson.Invalid("body", `body is empty; send an alert such as {"title": "Checkout is down"}`)
	case trimmed[0] == '[':
		return nil, alertjson.Invalid("body", `body must be a JSON object, not a list; send several alerts as {"alerts": [...]}`)
	}
	var env envelope
	if err := alertjson.Decode(body, "", &env); err != nil {
		return nil, err
	}
	raws := []json.RawMessage{body}
	prefix := func(int) string { return "" }
	if env.Alerts != nil {
		if env.Title != nil {
			return nil, alertjson.Invalid("title", `body has both "alerts" and "title"; send one alert, or a list of alerts in "alerts"`)
		}
		raws = nil
		if err := alertjson.Decode(env.Alerts, "alerts", &raws); err != nil {
			return nil, err
		}
		prefix = func(i int) string { return fmt.Sprintf("alerts[%d]", i) }
	}
	switch {
	case len(raws) == 0:
		return nil, alertjson.Invalid("alerts", "body has no alerts")
	case len(raws) > MaxAlerts:
		return nil, alertjson.Invalid("alerts", fmt.Sprintf("body has %d alerts; send at most %d in one body", len(raws), MaxAlerts))
	}
	b := &incidents.AlertBatch{
		Source: incidents.SourceGeneric,
		Alerts: make([]incidents.Alert, 0, len(raws)),
		Raw:    body,
	}
	for i, raw := range raws {
		a, err := parseAlert(prefix(i), raw)
		if err != nil {
			return nil, err
		}
		b.Alerts = append(b.Alerts, a)
	}
	return b, nil
}

// parseAlert converts the alert at prefix ("" for a body of one alert).
func parseAlert(prefix string, raw json.RawMessage) (incidents.Alert, error) {
	field := func(name string) string {
		if prefix == "" {
			return name
		}
		return prefix + "." + name
	}
	var in alert
	if err := alertjson.Decode(raw, prefix, &in); err != nil {
		return incidents.Alert{}, err
	}
	title := strings.TrimSpace(in.Title)
	switch n := utf8.RuneCountInString(title); {
	case n == 0:
		return incidents.Alert{}, alertjson.Invalid(field("title"), fmt.Sprintf("field %q is missing; every alert needs a title", field("title")))
	case n > MaxTitleLength:
		return incidents.Alert{}, alertjson.Invalid(field("title"), fmt.Sprintf("field %q has %d characters; at most %d are allowed", field("title"), n, MaxTitleLength))
	}
	status := incidents.AlertFiring
	if in.Status != "" {
		var err error
		if status, err = alertjson.ParseStatus(field("status"), in.Status); err != nil {
			return incidents.Alert{}, err
		}
	}
	labels, err := alertjson.StringMap(field("labels"), in.Labels)
	if err != nil {
		return incidents.Alert{}, err
	}
	if _, ok := labels[""]; ok {
		return incidents.Alert{}, alertjson.Invalid(field("labels"), fmt.Sprintf("field %q has a label with an empty name", field("labels")))
	}
	for name, v := range map[string]string{"severity": in.Severity, "service": in.Service} {
		if v = strings.TrimSpace(v); v != "" && labels[name] == "" {
			labels[name] = v
		}
	}
	dedupKey, err := key(field("dedup_key"), in.DedupKey)
	if err != nil {
		return incidents.Alert{}, err
	}
	if dedupKey == "" {
		dedupKey = DedupKey(title, labels)
	}
	groupKey, err := key(field("group_key"), in.GroupKey)
	if err != nil {
		return incidents.Alert{}, err
	}
	if groupKey == "" {
		groupKey = dedupKey
	}
	runbookURL, err := optionalURL(field("runbook_url"), in.RunbookURL)
	if err != nil {
		return incidents.Alert{}, err
	}
	sourceURL, err := optionalURL(field("source_url"), in.SourceURL)
	if err != nil {
		return incidents.Alert{}, err
	}
	startsAt, err := alertjson.ParseTime(field("starts_at"), in.StartsAt)
	if err != nil {
		return incidents.Alert{}, err
	}
	endsAt, err := alertjson.ParseTime(field("ends_at"), in.EndsAt)
	if err != nil {
		return incidents.Alert{}, err
	}
	a := incidents.Alert{
		Fingerprint:  dedupKey,
		GroupKey:     groupKey,
		Status:       status,
		Labels:       labels,
		Annotations:  map[string]string{},
		Title:        title,
		Description:  strings.TrimSpace(in.Description),
		StartsAt:     startsAt,
		EndsAt:       endsAt,
		GeneratorURL: sourceURL,
		RunbookURL:   runbookURL,
	}
	for i, raw := range in.Links {
		at := field(fmt.Sprintf("links[%d]", i))
		var l link
		if err := alertjson.Decode(raw, at, &l); err != nil {
			return incidents.Alert{}, err
		}
		if strings.TrimSpace(l.URL) == "" {
			return incidents.Alert{}, alertjson.Invalid(at+".url", fmt.Sprintf("field %q is missing; a link needs an http or https URL", at+".url"))
		}
		u, err := optionalURL(at+".url", l.URL)
		if err != nil {
			return incidents.Alert{}, err
		}
		a.Links = append(a.Links, incidents.Link{Title: alertjson.FirstNonEmpty(l.Title, "Link"), URL: u})
	}
	return a, nil
}

// DedupKey is the dedup key of an alert that came without one: "sha256:"
// and the hex SHA-256 of the title and the labels other than severity,
// sorted by name, each string followed by the byte 0xff (which UTF-8 text
// never has).
func DedupKey(title string, labels map[string]string) string {
	h := sha256.New()
	sep := []byte{0xff}
	_, _ = io.WriteString(h, title)
	_, _ = h.Write(sep)
	for _, name := range slices.Sorted(maps.Keys(labels)) {
		if name == "severity" {
			continue
		}
		_, _ = io.WriteString(h, name)
		_, _ = h.Write(sep)
		_, _ = io.WriteString(h, labels[name])
		_, _ = h.Write(sep)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

// key trims a dedup or group key and checks its length.
func key(field, s string) (string, error) {
	s = strings.TrimSpace(s)
	if n := utf8.RuneCountInString(s); n > MaxKeyLength {
		return "", alertjson.Invalid(field, fmt.Sprintf("field %q has %d characters; at most %d are allowed", field, n, MaxKeyLength))
	}
	return s, nil
}

// optionalURL checks that s is empty or an http or https URL.
func optionalURL(field, s string) (string, error) {
	if strings.TrimSpace(s) == "" {
		return "", nil
	}
	u, ok := alertjson.HTTPURL(s)
	if !ok {
		return "", alertjson.Invalid(field, fmt.Sprintf("field %q must be an http or https URL, not %s", field, alertjson.Quote(s)))
	}
	return u, nil
}
