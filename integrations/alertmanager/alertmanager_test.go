package alertmanager

import (
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/warroomhq/warroom/incidents"
	"github.com/warroomhq/warroom/integrations/internal/alerttest"
)

func TestParseAlertmanager025(t *testing.T) {
	body := alerttest.ReadBody(t, "v0.25.json")
	got := alerttest.MustParse(t, Parse, body)
	const groupKey = `{}/{team="payments"}:{service="checkout"}`
	alerttest.CheckBatch(t, got, body, incidents.AlertBatch{
		Source:      incidents.SourceAlertmanager,
		Receiver:    "warroom",
		ExternalURL: "http://alertmanager.example.com:9093",
		Title:       "service=checkout", // no common summary: the group labels
		Alerts: []incidents.Alert{{
			Fingerprint: "bc576f6ab8f77a12",
			GroupKey:    groupKey,
			Status:      incidents.AlertFiring,
			Labels:      map[string]string{"alertname": "HighErrorRate", "env": "prod", "namespace": "shop", "service": "checkout", "severity": "critical", "team": "payments"},
			Annotations: map[string]string{
				"dashboard_url": "https://grafana.example.com/d/checkout-red/checkout?orgId=1&var-env=prod",
				"description":   "5.3% of checkout requests failed in the last 5 minutes (threshold 5%).",
				"runbook_url":   "https://runbooks.example.com/checkout/high-error-rate",
				"summary":       "Checkout error rate above 5%",
			},
			Title:        "Checkout error rate above 5%",
			Description:  "5.3% of checkout requests failed in the last 5 minutes (threshold 5%).",
			StartsAt:     alerttest.UTC("2026-11-21T09:58:12.345Z"),
			EndsAt:       time.Time{}, // "0001-01-01T00:00:00Z"
			GeneratorURL: "http://prometheus-0.example.com:9090/graph?g0.expr=sum+by+%28service%29+%28rate%28http_requests_total%7Bcode%3D~%225..%22%2Cservice%3D%22checkout%22%7D%5B5m%5D%29%29+%3E+0.05&g0.tab=1",
			RunbookURL:   "https://runbooks.example.com/checkout/high-error-rate",
			Links: []incidents.Link{
				{Title: "Dashboard", URL: "https://grafana.example.com/d/checkout-red/checkout?orgId=1&var-env=prod"},
				{Title: "Silence", URL: "http://alertmanager.example.com:9093/#/silences/new?filter=%7Balertname%3D%22HighErrorRate%22%2C%20env%3D%22prod%22%2C%20namespace%3D%22shop%22%2C%20service%3D%22checkout%22%2C%20severity%3D%22critical%22%2C%20team%3D%22payments%22%7D"},
			},
		}, {
			Fingerprint:  "4df4bf51fe41a83e",
			GroupKey:     groupKey,
			Status:       incidents.AlertResolved,
			Labels:       map[string]string{"alertname": "HighLatency", "env": "prod", "namespace": "shop", "route": "/api/cart", "service": "checkout", "severity": "warning", "team": "payments"},
			Annotations:  map[string]string{"message": "p99 latency of /api/cart was 2.4s.", "runbook": "https://runbooks.example.com/checkout/high-latency"},
			Title:        "HighLatency",                        // no summary: the alert name
			Description:  "p99 latency of /api/cart was 2.4s.", // no description: the message
			StartsAt:     alerttest.UTC("2026-11-21T09:41:07.81Z"),
			EndsAt:       alerttest.UTC("2026-11-21T10:03:07.81Z"),
			GeneratorURL: "http://prometheus-0.example.com:9090/graph?g0.expr=histogram_quantile%280.99%2C+sum+by+%28le%2C+route%29+%28rate%28http_request_duration_seconds_bucket%7Bservice%3D%22checkout%22%7D%5B5m%5D%29%29%29+%3E+1&g0.tab=1",
			RunbookURL:   "https://runbooks.example.com/checkout/high-latency", // no runbook_url: the runbook
			Links: []incidents.Link{
				{Title: "Silence", URL: "http://alertmanager.example.com:9093/#/silences/new?filter=%7Balertname%3D%22HighLatency%22%2C%20env%3D%22prod%22%2C%20namespace%3D%22shop%22%2C%20route%3D%22%2Fapi%2Fcart%22%2C%20service%3D%22checkout%22%2C%20severity%3D%22warning%22%2C%20team%3D%22payments%22%7D"},
			},
		}},
	})
}

// TestParseCurrentAlertmanager reads a body as Alertmanager 0.34 sends it,
// with notification_reason (0.32) and routeLabels (0.34), which Warroom does
// not read.
func TestParseCurrentAlertmanager(t *testing.T) {
	body := alerttest.ReadBody(t, "v0.34.json")
	got := alerttest.MustParse(t, Parse, body)
	const groupKey = `{}/{namespace=~"shop|cart"}:{alertname="KubePodCrashLooping", namespace="shop"}`
	const runbook = "https://runbooks.prometheus-operator.dev/runbooks/kubernetes/kubepodcrashlooping"
	const generator = "https://prometheus.example.com/graph?g0.expr=max_over_time%28kube_pod_container_status_waiting_reason%7Bjob%3D%22kube-state-metrics%22%2Creason%3D%22CrashLoopBackOff%22%7D%5B5m%5D%29+%3E%3D+1&g0.tab=1"
	labels := func(pod, container string) map[string]string {
		return map[string]string{"alertname": "KubePodCrashLooping", "container": container, "job": "kube-state-metrics", "namespace": "shop", "pod": pod,
			"prometheus": "monitoring/k8s", "reason": "CrashLoopBackOff", "severity": "warning", "team": "payments"}
	}
	silence := func(pod, container string) incidents.Link {
		filter := `{alertname="KubePodCrashLooping", container="` + container + `", job="kube-state-metrics", namespace="shop", pod="` + pod +
			`", prometheus="monitoring/k8s", reason="CrashLoopBackOff", severity="warning", team="payments"}`
		return incidents.Link{Title: "Silence", URL: "https://alertmanager.example.com/#/silences/new?filter=" + strings.ReplaceAll(url.QueryEscape(filter), "+", "%20")}
	}
	alerttest.CheckBatch(t, got, body, incidents.AlertBatch{
		Source:      incidents.SourceAlertmanager,
		Receiver:    "warroom",
		ExternalURL: "https://alertmanager.example.com", // without the trailing slash
		Title:       "Pod is crash looping.",            // the common summary
		Alerts: []incidents.Alert{{
			Fingerprint: "ee4e0b0965155179",
			GroupKey:    groupKey,
			Status:      incidents.AlertFiring,
			Labels:      labels("checkout-worker-7d9c5b8f6-x2x4q", "worker"),
			Annotations: map[string]string{
				"description": `Pod shop/checkout-worker-7d9c5b8f6-x2x4q (worker) is in waiting state (reason: "CrashLoopBackOff").`,
				"runbook_url": runbook,
				"summary":     "Pod is crash looping.",
			},
			Title:        "Pod is crash looping.",
			Description:  `Pod shop/checkout-worker-7d9c5b8f6-x2x4q (worker) is in waiting state (reason: "CrashLoopBackOff").`,
			StartsAt:     alerttest.UTC("2026-11-21T10:12:31.409Z"),
			GeneratorURL: generator,
			RunbookURL:   runbook,
			Links:        []incidents.Link{silence("checkout-worker-7d9c5b8f6-x2x4q", "worker")},
		}, {
			Fingerprint: "449e93d1dbbd89d8",
			GroupKey:    groupKey,
			Status:      incidents.AlertResolved,
			Labels:      labels("checkout-api-5f6d8c7b9-kq2lp", "api"),
			Annotations: map[string]string{
				"description": `Pod shop/checkout-api-5f6d8c7b9-kq2lp (api) is in waiting state (reason: "CrashLoopBackOff").`,
				"runbook_url": runbook,
				"summary":     "Pod is crash looping.",
			},
			Title:        "Pod is crash looping.",
			Description:  `Pod shop/checkout-api-5f6d8c7b9-kq2lp (api) is in waiting state (reason: "CrashLoopBackOff").`,
			StartsAt:     alerttest.UTC("2026-11-21T10:02:31.409Z"),
			EndsAt:       alerttest.UTC("2026-11-21T10:17:01.409Z"), // sent as 11:17:01.409+01:00
			GeneratorURL: generator,
			RunbookURL:   runbook,
			Links:        []incidents.Link{silence("checkout-api-5f6d8c7b9-kq2lp", "api")},
		}},
	})
}

// TestComputedFingerprintIgnoresOrder parses alerts without a fingerprint, as
// very old senders post them: the same labels in any order give the same
// fingerprint.
func TestComputedFingerprintIgnoresOrder(t *testing.T) {
	orders := []string{
		`"alertname":"HighErrorRate","env":"prod","namespace":"shop","service":"checkout","severity":"critical","team":"payments"`,
		`"team":"payments","severity":"critical","service":"checkout","namespace":"shop","env":"prod","alertname":"HighErrorRate"`,
		`"namespace":"shop","alertname":"HighErrorRate","team":"payments","env":"prod","severity":"critical","service":"checkout"`,
	}
	for _, labels := range orders {
		for range 20 { // map iteration order varies from run to run
			b := alerttest.MustParse(t, Parse, []byte(`{"alerts":[{"status":"firing","labels":{`+labels+`}}]}`))
			if got := b.Alerts[0].Fingerprint; got != "bc576f6ab8f77a12" {
				t.Fatalf("labels {%s}: fingerprint %s, want bc576f6ab8f77a12 as Alertmanager computes it", labels, got)
			}
		}
	}
}

func TestParseFallbacksAndSanitising(t *testing.T) {
	body := []byte(`{
		"receiver": "team\\.db\\+ops",
		"externalURL": "javascript:alert(1)",
		"commonAnnotations": {"summary": "  Disk almost full  "},
		"groupLabels": {"alertname": "DiskFull"},
		"groupKey": "{}:{}",
		"alerts": [{
			"status": "firing",
			"labels": {},
			"annotations": {
				"dashboard": "javascript:alert(1)",
				"dashboard_url": "HTTPS://grafana.example.com/d/disk",
				"grafana_url": "https://grafana.example.com/d/disk",
				"runbook_url": "see the wiki",
				"runbook": "/relative/runbook",
				"description": "",
				"message": "only 2% left",
				"owner": null
			},
			"generatorURL": "ftp://prometheus/graph",
			"startsAt": "",
			"endsAt": "0001-01-01T00:00:00Z",
			"fingerprint": "  "
		}]
	}`)
	b := alerttest.MustParse(t, Parse, body)
	if b.Receiver != "team.db+ops" {
		t.Errorf("Receiver = %q, want the name without Alertmanager's regexp quoting", b.Receiver)
	}
	if b.ExternalURL != "" {
		t.Errorf("ExternalURL = %q, want a javascript: URL dropped", b.ExternalURL)
	}
	if b.Title != "Disk almost full" {
		t.Errorf("batch Title = %q, want the common summary", b.Title)
	}
	a := b.Alerts[0]
	if a.Fingerprint != "cbf29ce484222325" || a.Title != "Alert cbf29ce484222325" {
		t.Errorf("Fingerprint, Title = %q, %q; want the fingerprint of no labels, and a title from it", a.Fingerprint, a.Title)
	}
	if a.Description != "only 2% left" {
		t.Errorf("Description = %q, want the message when description is blank", a.Description)
	}
	if a.RunbookURL != "" || a.GeneratorURL != "" {
		t.Errorf("RunbookURL, GeneratorURL = %q, %q; want URLs that are not http(s) dropped", a.RunbookURL, a.GeneratorURL)
	}
	want := []incidents.Link{{Title: "Dashboard", URL: "https://grafana.example.com/d/disk"}}
	if !reflect.DeepEqual(a.Links, want) {
		t.Errorf("Links = %v, want %v (no javascript:, no duplicate, no silence without an external URL)", a.Links, want)
	}
	if !a.StartsAt.IsZero() || !a.EndsAt.IsZero() {
		t.Errorf("StartsAt, EndsAt = %v, %v; want zero", a.StartsAt, a.EndsAt)
	}
	if a.Labels == nil || len(a.Annotations) != 7 {
		t.Errorf("Labels = %#v, Annotations = %#v; want an empty map and the annotations without the null one", a.Labels, a.Annotations)
	}
	if a.GroupKey != "{}:{}" {
		t.Errorf("GroupKey = %q", a.GroupKey)
	}
}

func TestParseMinimalAlert(t *testing.T) {
	// No version, no labels or annotations objects at all.
	b := alerttest.MustParse(t, Parse, []byte(`{"alerts":[{"status":"resolved"}]}`))
	a := b.Alerts[0]
	if a.Labels == nil || a.Annotations == nil {
		t.Errorf("Labels, Annotations = %#v, %#v; want empty maps", a.Labels, a.Annotations)
	}
	if a.Links != nil || b.Title != "" {
		t.Errorf("Links = %v, batch Title = %q; want none", a.Links, b.Title)
	}
}

func TestSilenceURLQuotesLabels(t *testing.T) {
	got := silenceURL("https://am.example.com", map[string]string{"alertname": `Disk "full"`, "le": "0.5", "host.name": "a&b=c d+e"})
	const prefix = "https://am.example.com/#/silences/new?filter="
	if !strings.HasPrefix(got, prefix) || strings.ContainsAny(got[len(prefix):], " &+\"") {
		t.Fatalf("silenceURL = %q; want the filter escaped", got)
	}
	filter, err := url.PathUnescape(got[len(prefix):])
	if err != nil {
		t.Fatal(err)
	}
	if want := `{alertname="Disk \"full\"", "host.name"="a&b=c d+e", le="0.5"}`; filter != want {
		t.Errorf("filter = %s, want %s", filter, want)
	}
}

func TestParseErrors(t *testing.T) {
	const ok = `{"status":"firing","labels":{"alertname":"A"}}`
	for _, c := range []struct {
		name  string
		body  string
		field string
		want  string
	}{
		{"empty body", ``, "body", "body is empty"},
		{"blank body", " \n\t", "body", "body is empty"},
		// Byte 60, counting from 1, is the "}".
		{"bad JSON", `{"alerts": [` + ok + `,}`, "body", "body is not valid JSON at byte 60: invalid character '}'"},
		{"cut short", `{"alerts": [`, "body", "body is not valid JSON at byte 12: unexpected end of JSON input"},
		{"trailing data", `{"alerts": [` + ok + `]} {}`, "body", "body is not valid JSON at byte"},
		{"array body", `[` + ok + `]`, "body", "body must be a JSON object, not a list"},
		{"string body", `"alerts"`, "body", "body must be a JSON object, not a string"},
		{"version number", `{"version": 4, "alerts": [` + ok + `]}`, "version", `field "version" must be a string, not a number`},
		{"old version", `{"version": "3", "alerts": [` + ok + `]}`, "version", `field "version" is "3", but Warroom reads version "4" of Alertmanager's webhook`},
		{"grafana body", `{"version": "1", "alerts": [` + ok + `]}`, "version", `Grafana's webhook version`},
		{"no alerts field", `{"version": "4"}`, "alerts", "body has no alerts"},
		{"null alerts", `{"alerts": null}`, "alerts", "body has no alerts"},
		{"empty alerts", `{"alerts": []}`, "alerts", "body has no alerts"},
		{"alerts object", `{"alerts": {"status": "firing"}}`, "alerts", `field "alerts" must be a list, not an object`},
		{"alert number", `{"alerts": [` + ok + `, 7]}`, "alerts[1]", `field "alerts[1]" must be an object, not a number`},
		{"status pending", `{"alerts": [` + ok + `,` + ok + `, {"status": "pending"}]}`, "alerts[2].status", `field "alerts[2].status" must be "firing" or "resolved", not "pending"`},
		{"status missing", `{"alerts": [{"labels": {}}]}`, "alerts[0].status", `field "alerts[0].status" is missing; it must be "firing" or "resolved"`},
		{"status bool", `{"alerts": [{"status": true}]}`, "alerts[0].status", `field "alerts[0].status" must be a string, not true or false`},
		{"long status", `{"alerts": [{"status": "` + strings.Repeat("x", 500) + `"}]}`, "alerts[0].status", `not "` + strings.Repeat("x", 64) + `…"`},
		{"labels list", `{"alerts": [{"status": "firing", "labels": ["a"]}]}`, "alerts[0].labels", `field "alerts[0].labels" must be an object, not a list`},
		{"label number", `{"alerts": [{"status": "firing", "labels": {"alertname": "A", "replica": 2}}]}`, "alerts[0].labels.replica", `field "alerts[0].labels.replica" must be a string, not a number`},
		{"annotation object", `{"alerts": [{"status": "firing", "annotations": {"summary": {"text": "x"}}}]}`, "alerts[0].annotations.summary", `field "alerts[0].annotations.summary" must be a string, not an object`},
		{"group label bool", `{"groupLabels": {"alertname": false}, "alerts": [` + ok + `]}`, "groupLabels.alertname", `field "groupLabels.alertname" must be a string, not true or false`},
		{"common annotations string", `{"commonAnnotations": "x", "alerts": [` + ok + `]}`, "commonAnnotations", `field "commonAnnotations" must be an object, not a string`},
		// Wrong labels or annotations are named before a wrong status.
		{"labels before status", `{"alerts": [{"status": "ok", "labels": {"zone": 1}}]}`, "alerts[0].labels.zone", `must be a string, not a number`},
		{"startsAt word", `{"alerts": [{"status": "firing", "startsAt": "yesterday"}]}`, "alerts[0].startsAt", `field "alerts[0].startsAt" is not an RFC 3339 time: "yesterday"`},
		{"endsAt with a space", `{"alerts": [{"status": "resolved", "endsAt": "2026-11-21 10:00:00"}]}`, "alerts[0].endsAt", `field "alerts[0].endsAt" is not an RFC 3339 time: "2026-11-21 10:00:00"`},
		{"startsAt number", `{"alerts": [{"status": "firing", "startsAt": 1700000000}]}`, "alerts[0].startsAt", `field "alerts[0].startsAt" must be a string, not a number`},
		{"fingerprint number", `{"alerts": [{"status": "firing", "fingerprint": 12}]}`, "alerts[0].fingerprint", `field "alerts[0].fingerprint" must be a string, not a number`},
	} {
		t.Run(c.name, func(t *testing.T) {
			b, err := Parse([]byte(c.body))
			alerttest.CheckInvalid(t, b, err, c.field, c.want)
		})
	}
}

func TestParseIgnoresUnknownAndUnreadFields(t *testing.T) {
	b := alerttest.MustParse(t, Parse, []byte(`{
		"version": "4",
		"truncatedAlerts": "a few",
		"status": 3,
		"commonLabels": [1, 2],
		"notification_reason": {"future": true},
		"routeLabels": {"oncall": "primary"},
		"alerts": [{"status": "firing", "labels": {"alertname": "A"}, "silencedBy": ["x"], "value": 3.5}]
	}`))
	if len(b.Alerts) != 1 || b.Alerts[0].Title != "A" {
		t.Errorf("alerts = %+v", b.Alerts)
	}
}
