package generic

import (
	"fmt"
	"strings"
	"testing"

	"github.com/warroomhq/warroom/incidents"
	"github.com/warroomhq/warroom/integrations/internal/alerttest"
)

func TestParseSingleAlert(t *testing.T) {
	body := alerttest.ReadBody(t, "single.json")
	alerttest.CheckBatch(t, alerttest.MustParse(t, Parse, body), body, incidents.AlertBatch{
		Source: incidents.SourceGeneric,
		Alerts: []incidents.Alert{{
			Fingerprint:  "checkout-error-rate",
			GroupKey:     "checkout",
			Status:       incidents.AlertFiring,
			Labels:       map[string]string{"env": "prod", "region": "eu-west-1", "severity": "critical", "service": "checkout"},
			Annotations:  map[string]string{},
			Title:        "Checkout error rate above 5%",
			Description:  "5.3% of checkout requests failed in the last 5 minutes.",
			StartsAt:     alerttest.UTC("2026-11-21T10:00:00Z"),
			GeneratorURL: "https://synthetics.example.com/checks/checkout-api",
			RunbookURL:   "https://runbooks.example.com/checkout/errors",
			Links: []incidents.Link{
				{Title: "Dashboard", URL: "https://grafana.example.com/d/checkout"},
				{Title: "Link", URL: "https://status.example.com/"},
			},
		}},
	})
}

func TestParseList(t *testing.T) {
	body := alerttest.ReadBody(t, "batch.json")
	const (
		backupKey = "sha256:57b7776f1af015cb55c412dab0aa9401dd344d1f5bbbae4ec2bc5a19fdb085d1"
		diskKey   = "sha256:0da5f9ca52e3d9af84c304b2dc9fc1c9937843cc697faf27fc585ba0b0e53398"
	)
	alerttest.CheckBatch(t, alerttest.MustParse(t, Parse, body), body, incidents.AlertBatch{
		Source: incidents.SourceGeneric,
		Alerts: []incidents.Alert{{
			Fingerprint:  backupKey,
			GroupKey:     backupKey,
			Status:       incidents.AlertFiring,
			Labels:       map[string]string{"env": "prod", "job": "backup-orders-db", "service": "orders", "severity": "error"},
			Annotations:  map[string]string{},
			Title:        "Nightly backup of orders-db failed",
			Description:  "pg_dump exited with status 1: connection refused",
			StartsAt:     alerttest.UTC("2026-11-21T01:00:13Z"), // sent as 02:00:13+01:00
			GeneratorURL: "https://ci.example.com/jobs/backup-orders-db/1287",
		}, {
			Fingerprint: "cert-expiry/shop.example.com",
			GroupKey:    "certificates",
			Status:      incidents.AlertResolved,
			// The labels' own severity and service win over the fields.
			Labels:      map[string]string{"severity": "info", "service": "storefront"},
			Annotations: map[string]string{},
			Title:       "TLS certificate of shop.example.com expires in 7 days",
			StartsAt:    alerttest.UTC("2026-11-14T06:00:00Z"),
			EndsAt:      alerttest.UTC("2026-11-21T06:00:00Z"),
		}, {
			Fingerprint: diskKey,
			GroupKey:    diskKey,
			Status:      incidents.AlertFiring,
			Labels:      map[string]string{},
			Annotations: map[string]string{},
			Title:       "Disk 91% full on build-agent-3",
		}},
	})
}

// TestDedupKeyIsStable pins the default dedup key: changing how it is
// computed would turn every stored alert without a dedup_key into a new one.
func TestDedupKeyIsStable(t *testing.T) {
	const want = "sha256:29088f64299020ddb8ca02706fe7311269f39cdcaa077c84ea5200357cffb8b9"
	same := []string{
		`{"title": "Checkout error rate above 5%", "service": "checkout", "severity": "critical", "labels": {"env": "prod"}}`,
		`{"title": "  Checkout error rate above 5%  ", "labels": {"severity": "critical", "service": "checkout", "env": "prod"}}`,
		`{"labels": {"env": "prod", "service": "checkout"}, "title": "Checkout error rate above 5%", "severity": "warning"}`,
		`{"title": "Checkout error rate above 5%", "service": "checkout", "labels": {"env": "prod"}, "status": "resolved", "description": "over"}`,
	}
	for _, body := range same {
		for range 20 { // map iteration order varies from run to run
			if got := alerttest.MustParse(t, Parse, []byte(body)).Alerts[0].Fingerprint; got != want {
				t.Fatalf("%s: dedup key %s, want %s", body, got, want)
			}
		}
	}
	for _, body := range []string{
		`{"title": "Checkout error rate above 6%", "service": "checkout", "labels": {"env": "prod"}}`,
		`{"title": "Checkout error rate above 5%", "service": "cart", "labels": {"env": "prod"}}`,
		`{"title": "Checkout error rate above 5%", "service": "checkout", "labels": {"env": "staging"}}`,
		`{"title": "Checkout error rate above 5%", "service": "checkout", "labels": {"env": "prod", "region": "eu"}}`,
		`{"title": "Checkout error rate above 5%", "service": "checkout", "labels": {"envprod": ""}}`,
	} {
		if got := alerttest.MustParse(t, Parse, []byte(body)).Alerts[0].Fingerprint; got == want {
			t.Errorf("%s: dedup key %s, want another", body, got)
		}
	}
}

func TestParseLimits(t *testing.T) {
	if b := alerttest.MustParse(t, Parse, []byte(`{"title": "`+strings.Repeat("é", MaxTitleLength)+`"}`)); len([]rune(b.Alerts[0].Title)) != MaxTitleLength {
		t.Errorf("a title of %d characters was changed", MaxTitleLength)
	}
	alerts := strings.TrimSuffix(strings.Repeat(`{"title": "x"},`, MaxAlerts), ",")
	if b := alerttest.MustParse(t, Parse, []byte(`{"alerts": [`+alerts+`]}`)); len(b.Alerts) != MaxAlerts {
		t.Errorf("%d alerts, want %d", len(b.Alerts), MaxAlerts)
	}
	if b := alerttest.MustParse(t, Parse, []byte(`{"title": "x", "dedup_key": "`+strings.Repeat("k", MaxKeyLength)+`"}`)); len(b.Alerts[0].Fingerprint) != MaxKeyLength {
		t.Errorf("a dedup key of %d characters was changed", MaxKeyLength)
	}
}

func TestParseIgnoresUnknownFields(t *testing.T) {
	b := alerttest.MustParse(t, Parse, []byte(`{"title": "x", "priority": "P1", "annotations": {"a": 1}, "extra": {"nested": [1, true]}}`))
	if b.Alerts[0].Title != "x" || len(b.Alerts[0].Annotations) != 0 {
		t.Errorf("alert = %+v", b.Alerts[0])
	}
}

func TestParseSchemeCase(t *testing.T) {
	b := alerttest.MustParse(t, Parse, []byte(`{"title": "x", "runbook_url": " HTTPS://runbooks.example.com/x ", "links": [{"title": " ", "url": "Http://a.example.com"}]}`))
	a := b.Alerts[0]
	if a.RunbookURL != "https://runbooks.example.com/x" || a.Links[0] != (incidents.Link{Title: "Link", URL: "http://a.example.com"}) {
		t.Errorf("RunbookURL %q, Links %v; want trimmed URLs with the scheme in lower case", a.RunbookURL, a.Links)
	}
}

func TestParseErrors(t *testing.T) {
	many := `{"alerts": [` + strings.TrimSuffix(strings.Repeat(`{"title": "x"},`, MaxAlerts+1), ",") + `]}`
	for _, c := range []struct {
		name  string
		body  string
		field string
		want  string
	}{
		{"empty body", ``, "body", "body is empty"},
		{"bad JSON", `{"title": "x",}`, "body", "body is not valid JSON at byte 15: invalid character '}'"},
		{"cut short", `{"title": "x"`, "body", "body is not valid JSON at byte 13: unexpected end of JSON input"},
		{"list body", ` [{"title": "x"}]`, "body", `body must be a JSON object, not a list; send several alerts as {"alerts": [...]}`},
		{"string body", `"x"`, "body", "body must be a JSON object, not a string"},
		{"alerts and title", `{"title": "x", "alerts": [{"title": "y"}]}`, "title", `body has both "alerts" and "title"`},
		{"alerts object", `{"alerts": {"title": "x"}}`, "alerts", `field "alerts" must be a list, not an object`},
		{"alerts null", `{"alerts": null}`, "alerts", "body has no alerts"},
		{"alerts empty", `{"alerts": []}`, "alerts", "body has no alerts"},
		{"too many alerts", many, "alerts", "body has 1001 alerts; send at most 1000 in one body"},
		{"alert string", `{"alerts": [{"title": "x"}, "y"]}`, "alerts[1]", `field "alerts[1]" must be an object, not a string`},
		{"no title", `{"status": "firing"}`, "title", `field "title" is missing; every alert needs a title`},
		{"blank title", `{"alerts": [{"title": "x"}, {"title": " \t"}]}`, "alerts[1].title", `field "alerts[1].title" is missing`},
		{"title number", `{"title": 5}`, "title", `field "title" must be a string, not a number`},
		{"title too long", `{"title": "` + strings.Repeat("a", MaxTitleLength+1) + `"}`, "title", `field "title" has 301 characters; at most 300 are allowed`},
		{"bad status", `{"alerts": [{"title": "x"}, {"title": "y"}, {"title": "z", "status": "ok"}]}`, "alerts[2].status", `field "alerts[2].status" must be "firing" or "resolved", not "ok"`},
		{"status case", `{"title": "x", "status": "Resolved"}`, "status", `field "status" must be "firing" or "resolved", not "Resolved"`},
		{"status bool", `{"title": "x", "status": false}`, "status", `field "status" must be a string, not true or false`},
		{"severity number", `{"title": "x", "severity": 1}`, "severity", `field "severity" must be a string, not a number`},
		{"labels list", `{"title": "x", "labels": ["env=prod"]}`, "labels", `field "labels" must be an object, not a list`},
		{"label number", `{"title": "x", "labels": {"env": "prod", "replica": 2}}`, "labels.replica", `field "labels.replica" must be a string, not a number`},
		{"label empty name", `{"title": "x", "labels": {"": "v"}}`, "labels", `field "labels" has a label with an empty name`},
		{"dedup key too long", `{"title": "x", "dedup_key": "` + strings.Repeat("k", MaxKeyLength+1) + `"}`, "dedup_key", `field "dedup_key" has 256 characters; at most 255 are allowed`},
		{"group key object", `{"title": "x", "group_key": {}}`, "group_key", `field "group_key" must be a string, not an object`},
		{"runbook javascript", `{"title": "x", "runbook_url": "javascript:alert(1)"}`, "runbook_url", `field "runbook_url" must be an http or https URL, not "javascript:alert(1)"`},
		{"source relative", `{"title": "x", "source_url": "/jobs/42"}`, "source_url", `field "source_url" must be an http or https URL, not "/jobs/42"`},
		{"links object", `{"title": "x", "links": {"url": "https://a"}}`, "links", `field "links" must be a list, not an object`},
		{"link string", `{"title": "x", "links": ["https://a.example.com"]}`, "links[0]", `field "links[0]" must be an object, not a string`},
		{"link javascript", `{"alerts": [{"title": "x"}, {"title": "y", "links": [{"title": "ok", "url": "https://a.example.com"}, {"title": "Dashboard", "url": "javascript:alert(1)"}]}]}`,
			"alerts[1].links[1].url", `field "alerts[1].links[1].url" must be an http or https URL, not "javascript:alert(1)"`},
		{"link without url", `{"title": "x", "links": [{"title": "Dashboard"}]}`, "links[0].url", `field "links[0].url" is missing; a link needs an http or https URL`},
		{"link url number", `{"title": "x", "links": [{"url": 1}]}`, "links[0].url", `field "links[0].url" must be a string, not a number`},
		{"starts_at date", `{"title": "x", "starts_at": "21/11/2026"}`, "starts_at", `field "starts_at" is not an RFC 3339 time: "21/11/2026"`},
		{"ends_at number", `{"title": "x", "ends_at": 1795256460}`, "ends_at", `field "ends_at" must be a string, not a number`},
	} {
		t.Run(c.name, func(t *testing.T) {
			b, err := Parse([]byte(c.body))
			alerttest.CheckInvalid(t, b, err, c.field, c.want)
		})
	}
}

// ExampleParse shows the smallest alert.
func ExampleParse() {
	b, err := Parse([]byte(`{"title": "Disk 91% full on build-agent-3", "severity": "warning"}`))
	if err != nil {
		panic(err)
	}
	a := b.Alerts[0]
	fmt.Println(a.Status, a.Labels, a.Fingerprint == a.GroupKey)
	// Output: firing map[severity:warning] true
}
