// Package grafana converts the bodies that Grafana's unified alerting posts
// to a webhook contact point (version "1") to incidents.AlertBatch. Nothing
// outside this package sees Grafana's JSON.
//
// Each alert becomes an incidents.Alert:
//
//   - Fingerprint: the alert's fingerprint; when missing, FNV-64a over the
//     sorted labels, as Alertmanager computes it.
//   - GroupKey: the body's groupKey, the same for every alert of the body.
//   - Title: the summary annotation, else the alertname label, else the
//     body's title, else "Alert <fingerprint>".
//   - Description: the description annotation, else valueString, else the
//     values ("B=97.3, C=1").
//   - RunbookURL: the runbook_url annotation.
//   - GeneratorURL: the alert's generatorURL (the rule in Grafana).
//   - Links: "Dashboard" (dashboardURL), "Panel" (panelURL), "Silence"
//     (silenceURL) and "Image" (imageURL), leaving out empty ones.
//
// Only http and https URLs are kept; anything else is dropped. The batch
// takes the body's title without its state ("[FIRING:1] HighCPU Infra"
// becomes "HighCPU Infra"), receiver and externalURL. The body's state, message and orgId are not read, nor
// are fields that later Grafana releases add.
package grafana

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/warroomhq/warroom/incidents"
	"github.com/warroomhq/warroom/integrations/internal/alertjson"
)

// Version is the webhook version that Parse reads.
const Version = "1"

// message is the body of a Grafana webhook, as far as Warroom reads it.
type message struct {
	Version     string            `json:"version"`
	GroupKey    string            `json:"groupKey"`
	Receiver    string            `json:"receiver"`
	ExternalURL string            `json:"externalURL"`
	Title       string            `json:"title"`
	Alerts      []json.RawMessage `json:"alerts"` // decoded one by one, so errors name the index
}

type alert struct {
	Status       string         `json:"status"`
	Labels       map[string]any `json:"labels"`
	Annotations  map[string]any `json:"annotations"`
	StartsAt     string         `json:"startsAt"`
	EndsAt       string         `json:"endsAt"`
	GeneratorURL string         `json:"generatorURL"`
	Fingerprint  string         `json:"fingerprint"`
	SilenceURL   string         `json:"silenceURL"`
	DashboardURL string         `json:"dashboardURL"`
	PanelURL     string         `json:"panelURL"`
	ImageURL     string         `json:"imageURL"`
	Values       map[string]any `json:"values"`
	ValueString  string         `json:"valueString"`
}

// Parse converts a Grafana webhook body to a batch. Its errors are
// *incidents.ValidationError, the sender's fault, with a message for the
// sender.
func Parse(body []byte) (*incidents.AlertBatch, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, alertjson.Invalid("body", "body is empty; send the JSON that Grafana's webhook contact point posts")
	}
	var m message
	if err := alertjson.Decode(body, "", &m); err != nil {
		return nil, err
	}
	switch m.Version {
	case "", Version:
	case "4":
		return nil, alertjson.Invalid("version", `field "version" is "4", which is Alertmanager's webhook version; send Alertmanager alerts to /hooks/alertmanager`)
	default:
		return nil, alertjson.Invalid("version", fmt.Sprintf(`field "version" is %s, but Warroom reads version "1" of Grafana's webhook`, alertjson.Quote(m.Version)))
	}
	if len(m.Alerts) == 0 {
		return nil, alertjson.Invalid("alerts", "body has no alerts")
	}
	b := &incidents.AlertBatch{
		Source:   incidents.SourceGrafana,
		Receiver: alertjson.UnquoteMeta(m.Receiver),
		Title:    stateless(m.Title),
		Alerts:   make([]incidents.Alert, 0, len(m.Alerts)),
		Raw:      body,
	}
	b.ExternalURL, _ = alertjson.HTTPURL(m.ExternalURL)
	for i, raw := range m.Alerts {
		a, err := parseAlert(fmt.Sprintf("alerts[%d]", i), raw, b.Title)
		if err != nil {
			return nil, err
		}
		a.GroupKey = m.GroupKey
		b.Alerts = append(b.Alerts, a)
	}
	return b, nil
}

// statePrefix is the state Grafana's default title starts with:
// "[FIRING:1] ", "[FIRING:1, RESOLVED:1] ", "[RESOLVED] ".
var statePrefix = regexp.MustCompile(`^\[(?:FIRING|RESOLVED)(?::\d+)?(?:, (?:FIRING|RESOLVED)(?::\d+)?)?\]\s*`)

// stateless is a title without the state Grafana puts in front of it: the
// group's title names the problem, and its first body's state would
// otherwise stick to the incident ("[RESOLVED] HighCPU").
func stateless(title string) string {
	return strings.TrimSpace(statePrefix.ReplaceAllString(strings.TrimSpace(title), ""))
}

// parseAlert converts the alert at field; title is the body's.
func parseAlert(field string, raw json.RawMessage, title string) (incidents.Alert, error) {
	var in alert
	if err := alertjson.Decode(raw, field, &in); err != nil {
		return incidents.Alert{}, err
	}
	// Grafana's errors name a wrong status before wrong labels, annotations
	// or values, which Common.Alert wants checked before it runs.
	if _, err := alertjson.ParseStatus(field+".status", in.Status); err != nil {
		return incidents.Alert{}, err
	}
	labels, err := alertjson.StringMap(field+".labels", in.Labels)
	if err != nil {
		return incidents.Alert{}, err
	}
	annotations, err := alertjson.StringMap(field+".annotations", in.Annotations)
	if err != nil {
		return incidents.Alert{}, err
	}
	values, err := formatValues(field+".values", in.Values)
	if err != nil {
		return incidents.Alert{}, err
	}
	a, err := (&alertjson.Common{Status: in.Status, Labels: labels, Annotations: annotations, StartsAt: in.StartsAt,
		EndsAt: in.EndsAt, GeneratorURL: in.GeneratorURL, Fingerprint: in.Fingerprint}).Alert(field)
	if err != nil {
		return incidents.Alert{}, err
	}
	a.Title = alertjson.FirstNonEmpty(annotations["summary"], labels["alertname"], title, "Alert "+a.Fingerprint)
	a.Description = alertjson.FirstNonEmpty(annotations["description"], in.ValueString, values)
	a.RunbookURL, _ = alertjson.HTTPURL(annotations["runbook_url"])
	for _, l := range []incidents.Link{
		{Title: "Dashboard", URL: in.DashboardURL},
		{Title: "Panel", URL: in.PanelURL},
		{Title: "Silence", URL: in.SilenceURL},
		{Title: "Image", URL: in.ImageURL},
	} {
		if u, ok := alertjson.HTTPURL(l.URL); ok {
			a.Links = append(a.Links, incidents.Link{Title: l.Title, URL: u})
		}
	}
	return a, nil
}

// formatValues writes the values of the alert's queries and expressions as
// "B=97.3, C=1", sorted by name.
func formatValues(field string, values map[string]any) (string, error) {
	pairs := make([]string, 0, len(values))
	for _, name := range slices.Sorted(maps.Keys(values)) {
		switch v := values[name].(type) {
		case float64:
			pairs = append(pairs, name+"="+strconv.FormatFloat(v, 'g', -1, 64))
		case nil:
		default:
			path := field + "." + name
			return "", alertjson.Invalid(path, fmt.Sprintf("field %q must be a number, not %s", path, alertjson.ValueKind(v)))
		}
	}
	return strings.Join(pairs, ", "), nil
}
