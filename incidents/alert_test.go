package incidents_test

import (
	"regexp"
	"testing"

	"github.com/warroomhq/warroom/incidents"
)

// testMatcher is a label test as config.Matcher makes them.
type testMatcher func(string) bool

func (m testMatcher) Matches(v string) bool { return m(v) }

func eq(label, want string) incidents.Condition {
	return incidents.Condition{Label: label, Matcher: testMatcher(func(v string) bool { return v == want })}
}

func ne(label, not string) incidents.Condition {
	return incidents.Condition{Label: label, Matcher: testMatcher(func(v string) bool { return v != not })}
}

func re(label, pattern string) incidents.Condition {
	rx := regexp.MustCompile(pattern)
	return incidents.Condition{Label: label, Matcher: testMatcher(rx.MatchString)}
}

func boolp(b bool) *bool { return &b }

// examplePolicy is the alerts section of examples/warroom.yaml, plus a route
// with group_by.
func examplePolicy() incidents.AlertPolicy {
	return incidents.AlertPolicy{
		SeverityLabel:    "severity",
		SeverityMap:      map[string]incidents.Severity{"critical": incidents.Sev1, "error": incidents.Sev2, "warning": incidents.Sev3, "info": incidents.Sev4},
		DeclareAtOrAbove: incidents.Sev2,
		Routes: []incidents.AlertRoute{
			{Conditions: []incidents.Condition{eq("service", "checkout")}, Service: "checkout"},
			{Conditions: []incidents.Condition{re("alertname", "^Payments.*")}, Service: "checkout", Severity: incidents.Sev1},
			{Conditions: []incidents.Condition{ne("env", "prod")}, Declare: boolp(false)},
			{Conditions: []incidents.Condition{eq("team", "storage")}, Service: "storage", GroupBy: []string{"cluster", "alertname"}},
		},
	}
}

func TestAlertPolicyRoutes(t *testing.T) {
	p := examplePolicy()
	// Route applies defaults itself only through NewAlertService; set them.
	p.DefaultSeverity = incidents.Sev3
	cases := []struct {
		name   string
		labels map[string]string
		group  string
		want   incidents.Routed
	}{
		{"equality sets the service, the label maps the severity",
			map[string]string{"service": "checkout", "severity": "critical", "env": "prod"}, "{}:{alertname=\"X\"}",
			incidents.Routed{Route: 0, Service: "checkout", Severity: incidents.Sev1, Declare: true, Group: "alertmanager:{}:{alertname=\"X\"}"}},
		{"first match wins over a later route's severity",
			map[string]string{"service": "checkout", "alertname": "PaymentsDown", "severity": "warning", "env": "prod"}, "g",
			incidents.Routed{Route: 0, Service: "checkout", Severity: incidents.Sev3, Declare: false, Group: "alertmanager:g"}},
		{"regexp route overrides the severity",
			map[string]string{"alertname": "PaymentsLatency", "severity": "info", "env": "prod"}, "g",
			incidents.Routed{Route: 1, Service: "checkout", Severity: incidents.Sev1, Declare: true, Group: "alertmanager:g"}},
		{"negation route stops declaring",
			map[string]string{"alertname": "DiskFull", "severity": "critical", "env": "staging"}, "g",
			incidents.Routed{Route: 2, Severity: incidents.Sev1, Declare: false, Group: "alertmanager:g"}},
		{"a missing label is the empty value, which != prod matches",
			map[string]string{"alertname": "DiskFull", "severity": "critical"}, "g",
			incidents.Routed{Route: 2, Severity: incidents.Sev1, Declare: false, Group: "alertmanager:g"}},
		{"no route: severity from a sevN label, service from the label",
			map[string]string{"alertname": "X", "severity": "SEV2", "env": "prod", "service": "search"}, "g",
			incidents.Routed{Route: -1, Service: "search", Severity: incidents.Sev2, Declare: true, Group: "alertmanager:g"}},
		{"unknown severity is the default, below the threshold",
			map[string]string{"alertname": "X", "severity": "page-me", "env": "prod"}, "g",
			incidents.Routed{Route: -1, Severity: incidents.Sev3, Declare: false, Group: "alertmanager:g"}},
		{"group_by labels make the group, whatever the sender's group",
			map[string]string{"alertname": "NodeDown", "team": "storage", "cluster": "eu-1", "env": "prod", "severity": "error"}, "sender-group",
			incidents.Routed{Route: 3, Service: "storage", Severity: incidents.Sev2, Declare: true, Group: `route:3:cluster="eu-1",alertname="NodeDown"`}},
		{"no sender group: the alert is its own group",
			map[string]string{"alertname": "X", "env": "prod"}, "",
			incidents.Routed{Route: -1, Severity: incidents.Sev3, Group: "alertmanager:alert:fp1"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := &incidents.Alert{Fingerprint: "fp1", GroupKey: c.group, Status: incidents.AlertFiring, Labels: c.labels}
			got := p.Route(incidents.SourceAlertmanager, a)
			if got != c.want {
				t.Errorf("Route = %+v\nwant    %+v", got, c.want)
			}
		})
	}
}

func TestAlertBatchValidate(t *testing.T) {
	ok := incidents.AlertBatch{Source: "generic", Alerts: []incidents.Alert{{Fingerprint: "a", Status: incidents.AlertFiring}}}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string]incidents.AlertBatch{
		"no source":      {Alerts: ok.Alerts},
		"no fingerprint": {Source: "generic", Alerts: []incidents.Alert{{Status: incidents.AlertFiring}}},
		"bad status":     {Source: "generic", Alerts: []incidents.Alert{{Fingerprint: "a", Status: "pending"}}},
	} {
		if err := b.Validate(); err == nil || !incidents.IsUserError(err) {
			t.Errorf("%s: Validate = %v, want a validation error", name, err)
		}
	}
}
