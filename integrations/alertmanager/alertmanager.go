// Package alertmanager converts the bodies that Prometheus Alertmanager's
// webhook receiver posts (webhook_config, version "4") to
// incidents.AlertBatch. Nothing outside this package sees Alertmanager's
// JSON.
//
// Each alert becomes an incidents.Alert:
//
//   - Fingerprint: the alert's fingerprint; senders that omit it get the one
//     Alertmanager itself computes, FNV-64a over the sorted labels.
//   - GroupKey: the body's groupKey, the same for every alert of the body.
//   - Title: the summary annotation, else the alertname label, else
//     "Alert <fingerprint>".
//   - Description: the description annotation, else the message annotation.
//   - RunbookURL: the runbook_url annotation, else the runbook annotation.
//   - GeneratorURL: the alert's generatorURL.
//   - Links: "Dashboard" for the dashboard, dashboard_url and grafana_url
//     annotations, and "Silence" to a new silence of the alert's labels in
//     Alertmanager's UI when the body has an externalURL.
//
// Only http and https URLs are kept; anything else (a relative path, a
// javascript: URL) is dropped and stays visible in the annotations. The batch
// takes the body's receiver and externalURL, and its title is the common
// summary annotation, else the group labels ("service=checkout").
//
// Fields that Parse does not read are ignored, so new Alertmanager releases
// (notification_reason, routeLabels) need no change here.
package alertmanager

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/warroomhq/warroom/incidents"
	"github.com/warroomhq/warroom/integrations/internal/alertjson"
)

// Version is the webhook version that Parse reads.
const Version = "4"

// message is the body of an Alertmanager webhook, as far as Warroom reads it.
type message struct {
	Version           string            `json:"version"`
	GroupKey          string            `json:"groupKey"`
	Receiver          string            `json:"receiver"`
	GroupLabels       map[string]any    `json:"groupLabels"`
	CommonAnnotations map[string]any    `json:"commonAnnotations"`
	ExternalURL       string            `json:"externalURL"`
	Alerts            []json.RawMessage `json:"alerts"` // decoded one by one, so errors name the index
}

type alert struct {
	Status       string         `json:"status"`
	Labels       map[string]any `json:"labels"`
	Annotations  map[string]any `json:"annotations"`
	StartsAt     string         `json:"startsAt"`
	EndsAt       string         `json:"endsAt"`
	GeneratorURL string         `json:"generatorURL"`
	Fingerprint  string         `json:"fingerprint"`
}

// fastMessage is message decoded in one pass, for bodies without mistakes.
type fastMessage struct {
	Version           string             `json:"version"`
	GroupKey          string             `json:"groupKey"`
	Receiver          string             `json:"receiver"`
	GroupLabels       map[string]string  `json:"groupLabels"`
	CommonAnnotations map[string]string  `json:"commonAnnotations"`
	ExternalURL       string             `json:"externalURL"`
	Alerts            []alertjson.Common `json:"alerts"`
}

// Parse converts an Alertmanager webhook body to a batch. Its errors are
// *incidents.ValidationError, the sender's fault, with a message for the
// sender.
//
// A well-formed body is decoded in one pass straight into string maps; only
// a body that fails that is decoded again, alert by alert, to say exactly
// what is wrong.
func Parse(body []byte) (*incidents.AlertBatch, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, alertjson.Invalid("body", "body is empty; send the JSON that Alertmanager's webhook receiver posts")
	}
	// JSON null reads as "" in a string map, where the slow path drops the
	// key; a body with "null" anywhere takes the slow path.
	var fm fastMessage
	if !bytes.Contains(body, []byte("null")) && json.Unmarshal(body, &fm) == nil &&
		(fm.Version == "" || fm.Version == Version) && len(fm.Alerts) > 0 {
		if b, err := parseFast(body, &fm); err == nil {
			return b, nil
		}
	}
	return parseSlow(body)
}

// parseSlow decodes the body alert by alert, so that its errors say where
// the body is wrong.
func parseSlow(body []byte) (*incidents.AlertBatch, error) {
	var m message
	if err := alertjson.Decode(body, "", &m); err != nil {
		return nil, err
	}
	switch m.Version {
	case "", Version:
	case "1":
		return nil, alertjson.Invalid("version", `field "version" is "1", which is Grafana's webhook version; send Grafana alerts to /hooks/grafana`)
	default:
		return nil, alertjson.Invalid("version", fmt.Sprintf(`field "version" is %s, but Warroom reads version "4" of Alertmanager's webhook`, alertjson.Quote(m.Version)))
	}
	if len(m.Alerts) == 0 {
		return nil, alertjson.Invalid("alerts", "body has no alerts")
	}
	groupLabels, err := alertjson.StringMap("groupLabels", m.GroupLabels)
	if err != nil {
		return nil, err
	}
	common, err := alertjson.StringMap("commonAnnotations", m.CommonAnnotations)
	if err != nil {
		return nil, err
	}
	externalURL, _ := alertjson.HTTPURL(m.ExternalURL)
	externalURL = strings.TrimRight(externalURL, "/")
	b := &incidents.AlertBatch{
		Source:      incidents.SourceAlertmanager,
		Receiver:    alertjson.UnquoteMeta(m.Receiver),
		ExternalURL: externalURL,
		Title:       alertjson.FirstNonEmpty(common["summary"], joinLabels(groupLabels)),
		Alerts:      make([]incidents.Alert, 0, len(m.Alerts)),
		Raw:         body,
	}
	for i, raw := range m.Alerts {
		a, err := parseAlert(fmt.Sprintf("alerts[%d]", i), raw, externalURL)
		if err != nil {
			return nil, err
		}
		a.GroupKey = m.GroupKey
		b.Alerts = append(b.Alerts, a)
	}
	return b, nil
}

// parseFast converts a body that decoded in one pass. An error sends Parse
// down the slow path, which says what is wrong.
func parseFast(body []byte, m *fastMessage) (*incidents.AlertBatch, error) {
	externalURL, _ := alertjson.HTTPURL(m.ExternalURL)
	externalURL = strings.TrimRight(externalURL, "/")
	b := &incidents.AlertBatch{
		Source:      incidents.SourceAlertmanager,
		Receiver:    alertjson.UnquoteMeta(m.Receiver),
		ExternalURL: externalURL,
		Title:       alertjson.FirstNonEmpty(m.CommonAnnotations["summary"], joinLabels(m.GroupLabels)),
		Alerts:      make([]incidents.Alert, 0, len(m.Alerts)),
		Raw:         body,
	}
	for i := range m.Alerts {
		a, err := convert(fmt.Sprintf("alerts[%d]", i), &m.Alerts[i], externalURL)
		if err != nil {
			return nil, err
		}
		a.GroupKey = m.GroupKey
		b.Alerts = append(b.Alerts, a)
	}
	return b, nil
}

// parseAlert converts the alert at field; externalURL is the sanitised
// Alertmanager URL, without a trailing slash, or empty.
func parseAlert(field string, raw json.RawMessage, externalURL string) (incidents.Alert, error) {
	var in alert
	if err := alertjson.Decode(raw, field, &in); err != nil {
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
	return convert(field, &alertjson.Common{Status: in.Status, Labels: labels, Annotations: annotations, StartsAt: in.StartsAt,
		EndsAt: in.EndsAt, GeneratorURL: in.GeneratorURL, Fingerprint: in.Fingerprint}, externalURL)
}

// convert checks and converts one decoded alert.
func convert(field string, in *alertjson.Common, externalURL string) (incidents.Alert, error) {
	a, err := in.Alert(field)
	if err != nil {
		return incidents.Alert{}, err
	}
	labels, annotations := a.Labels, a.Annotations
	a.Title = alertjson.FirstNonEmpty(annotations["summary"], labels["alertname"], "Alert "+a.Fingerprint)
	a.Description = alertjson.FirstNonEmpty(annotations["description"], annotations["message"])
	a.RunbookURL = firstURL(annotations["runbook_url"], annotations["runbook"])
	for _, name := range []string{"dashboard", "dashboard_url", "grafana_url"} {
		if u, ok := alertjson.HTTPURL(annotations[name]); ok && !hasLink(a.Links, u) {
			a.Links = append(a.Links, incidents.Link{Title: "Dashboard", URL: u})
		}
	}
	if externalURL != "" && len(labels) > 0 {
		a.Links = append(a.Links, incidents.Link{Title: "Silence", URL: silenceURL(externalURL, labels)})
	}
	return a, nil
}

// silenceURL links to Alertmanager's form for a new silence, filled in with
// matchers of labels, sorted by name.
func silenceURL(externalURL string, labels map[string]string) string {
	var b strings.Builder
	b.WriteByte('{')
	for i, name := range slices.Sorted(maps.Keys(labels)) {
		if i > 0 {
			b.WriteString(", ")
		}
		if legacyLabelName(name) {
			b.WriteString(name)
		} else {
			b.WriteString(strconv.Quote(name)) // UTF-8 matchers (Alertmanager 0.27+) take quoted names
		}
		b.WriteByte('=')
		b.WriteString(strconv.Quote(labels[name]))
	}
	b.WriteByte('}')
	// The filter goes into the URL's fragment, where "+" is not a space.
	filter := strings.ReplaceAll(url.QueryEscape(b.String()), "+", "%20")
	return externalURL + "/#/silences/new?filter=" + filter
}

// legacyLabelName reports whether name matches [a-zA-Z_][a-zA-Z0-9_]*.
func legacyLabelName(name string) bool {
	if name == "" {
		return false
	}
	for i, c := range name {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' && i > 0) {
			return false
		}
	}
	return true
}

// joinLabels writes labels as "name=value" pairs sorted by name.
func joinLabels(labels map[string]string) string {
	pairs := make([]string, 0, len(labels))
	for _, name := range slices.Sorted(maps.Keys(labels)) {
		pairs = append(pairs, name+"="+labels[name])
	}
	return strings.Join(pairs, " ")
}

func hasLink(links []incidents.Link, u string) bool {
	return slices.ContainsFunc(links, func(l incidents.Link) bool { return l.URL == u })
}

// firstURL returns the first of urls that alertjson.HTTPURL accepts, or "".
func firstURL(urls ...string) string {
	for _, s := range urls {
		if u, ok := alertjson.HTTPURL(s); ok {
			return u
		}
	}
	return ""
}
