package alertjson_test

import (
	"errors"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/warroomhq/warroom/incidents"
	"github.com/warroomhq/warroom/integrations/internal/alertjson"
)

// checkInvalid fails unless err is an *incidents.ValidationError for field
// with message msg, on one line. An empty field wants no error.
func checkInvalid(t *testing.T, err error, field, msg string) {
	t.Helper()
	if field == "" {
		if err != nil {
			t.Fatalf("error %v, want none", err)
		}
		return
	}
	var ve *incidents.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("error %T %v, want *incidents.ValidationError", err, err)
	}
	if ve.Field != field || ve.Msg != msg {
		t.Errorf("error (field %q) %q; want (field %q) %q", ve.Field, ve.Msg, field, msg)
	}
	if strings.Contains(ve.Msg, "\n") {
		t.Errorf("error %q has more than one line", ve.Msg)
	}
}

func TestDecodeErrorsNameTheField(t *testing.T) {
	type alert struct {
		Status string            `json:"status"`
		Labels map[string]string `json:"labels"`
		Links  []string          `json:"links"`
		Count  int               `json:"count"`
	}
	for _, c := range []struct {
		name  string
		data  string
		at    string // where data sits in the body
		field string // "" for no error
		msg   string
	}{
		{"valid", `{"status": "firing", "labels": {"a": "b"}}`, "alerts[0]", "", ""},
		{"unknown fields", `{"status": "firing", "x": [1, {}]}`, "", "", ""},
		{"bad JSON", `{"status": }`, "", "body", "body is not valid JSON at byte 12: invalid character '}' looking for beginning of value"},
		{"cut short", `{"status": "fir`, "alerts[3]", "body", "body is not valid JSON at byte 15: unexpected end of JSON input"},
		{"body list", `[{}]`, "", "body", "body must be a JSON object, not a list"},
		{"body number", `-1`, "", "body", "body must be a JSON object, not a number"},
		{"element string", `"x"`, "alerts[1]", "alerts[1]", `field "alerts[1]" must be an object, not a string`},
		{"top-level field", `{"status": 1}`, "", "status", `field "status" must be a string, not a number`},
		{"nested field", `{"status": true}`, "alerts[2]", "alerts[2].status", `field "alerts[2].status" must be a string, not true or false`},
		{"object wanted", `{"labels": ["a"]}`, "alerts[0]", "alerts[0].labels", `field "alerts[0].labels" must be an object, not a list`},
		{"list wanted", `{"links": {}}`, "alerts[0]", "alerts[0].links", `field "alerts[0].links" must be a list, not an object`},
		{"number wanted", `{"count": "7"}`, "alerts[0]", "alerts[0].count", `field "alerts[0].count" must be a number, not a string`},
	} {
		t.Run(c.name, func(t *testing.T) {
			var v alert
			checkInvalid(t, alertjson.Decode([]byte(c.data), c.at, &v), c.field, c.msg)
		})
	}
}

func TestStringMap(t *testing.T) {
	for _, c := range []struct {
		name  string
		in    map[string]any
		want  map[string]string
		field string // of the error; "" for none
		msg   string
	}{
		{"nil", nil, map[string]string{}, "", ""},
		{"strings", map[string]any{"env": "prod", "": "x"}, map[string]string{"env": "prod", "": "x"}, "", ""},
		{"null dropped", map[string]any{"env": "prod", "team": nil}, map[string]string{"env": "prod"}, "", ""},
		{"number", map[string]any{"replica": 2.0}, nil, "labels.replica", `field "labels.replica" must be a string, not a number`},
		{"bool", map[string]any{"page": false}, nil, "labels.page", `field "labels.page" must be a string, not true or false`},
		{"list", map[string]any{"teams": []any{"a"}}, nil, "labels.teams", `field "labels.teams" must be a string, not a list`},
		{"object", map[string]any{"owner": map[string]any{}}, nil, "labels.owner", `field "labels.owner" must be a string, not an object`},
		// The first wrong value in name order, whatever the map's order.
		{"several wrong", map[string]any{"z": 1.0, "b": true, "a": "ok", "c": []any{}}, nil, "labels.b", `field "labels.b" must be a string, not true or false`},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := alertjson.StringMap("labels", c.in)
			checkInvalid(t, err, c.field, c.msg)
			if c.field != "" {
				if got != nil {
					t.Errorf("StringMap = %v with an error", got)
				}
				return
			}
			if got == nil || len(got) != len(c.want) {
				t.Fatalf("StringMap = %#v, want %v", got, c.want)
			}
			for k, v := range c.want {
				if g, ok := got[k]; !ok || g != v {
					t.Errorf("StringMap[%q] = %q, %v; want %q", k, g, ok, v)
				}
			}
		})
	}
}

func TestParseStatus(t *testing.T) {
	for _, c := range []struct {
		in    string
		want  incidents.AlertStatus
		field string // of the error; "" for none
		msg   string
	}{
		{"firing", incidents.AlertFiring, "", ""},
		{"resolved", incidents.AlertResolved, "", ""},
		{"", "", "alerts[0].status", `field "alerts[0].status" is missing; it must be "firing" or "resolved"`},
		{"Firing", "", "alerts[0].status", `field "alerts[0].status" must be "firing" or "resolved", not "Firing"`},
		{" firing", "", "alerts[0].status", `field "alerts[0].status" must be "firing" or "resolved", not " firing"`},
		{"ok\n", "", "alerts[0].status", `field "alerts[0].status" must be "firing" or "resolved", not "ok\n"`},
	} {
		got, err := alertjson.ParseStatus("alerts[0].status", c.in)
		checkInvalid(t, err, c.field, c.msg)
		if got != c.want {
			t.Errorf("ParseStatus(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestParseTime(t *testing.T) {
	for _, c := range []struct {
		in    string
		want  time.Time // in UTC; the zero time for none
		field string    // of the error; "" for none
		msg   string
	}{
		{"", time.Time{}, "", ""},
		{"0001-01-01T00:00:00Z", time.Time{}, "", ""}, // Alertmanager's endsAt of a firing alert
		{"0001-01-01T00:00:00.000Z", time.Time{}, "", ""},
		{"2026-11-21T10:00:00Z", time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC), "", ""},
		{"2026-11-21T11:17:01.409+01:00", time.Date(2026, 11, 21, 10, 17, 1, 409e6, time.UTC), "", ""},
		{"2026-11-21T10:00:00.123456789Z", time.Date(2026, 11, 21, 10, 0, 0, 123456789, time.UTC), "", ""},
		{"yesterday", time.Time{}, "alerts[0].startsAt", `field "alerts[0].startsAt" is not an RFC 3339 time: "yesterday" (use a time like "2026-11-21T10:00:00Z")`},
		{"2026-11-21 10:00:00", time.Time{}, "alerts[0].startsAt", `field "alerts[0].startsAt" is not an RFC 3339 time: "2026-11-21 10:00:00" (use a time like "2026-11-21T10:00:00Z")`},
		{"2026-11-21", time.Time{}, "alerts[0].startsAt", `field "alerts[0].startsAt" is not an RFC 3339 time: "2026-11-21" (use a time like "2026-11-21T10:00:00Z")`},
		{" 2026-11-21T10:00:00Z", time.Time{}, "alerts[0].startsAt", `field "alerts[0].startsAt" is not an RFC 3339 time: " 2026-11-21T10:00:00Z" (use a time like "2026-11-21T10:00:00Z")`},
	} {
		got, err := alertjson.ParseTime("alerts[0].startsAt", c.in)
		checkInvalid(t, err, c.field, c.msg)
		switch {
		case !got.Equal(c.want) || got.IsZero() != c.want.IsZero():
			t.Errorf("ParseTime(%q) = %v, want %v", c.in, got, c.want)
		case !got.IsZero() && got.Location() != time.UTC:
			t.Errorf("ParseTime(%q) = %v in %v, want UTC", c.in, got, got.Location())
		case got.IsZero() && got != (time.Time{}):
			t.Errorf("ParseTime(%q) = %#v, want time.Time{}", c.in, got)
		}
	}
}

func TestCommonAlert(t *testing.T) {
	labels := map[string]string{"a": "b"}
	annotations := map[string]string{"summary": "s"}
	for _, c := range []struct {
		name  string
		in    alertjson.Common
		want  incidents.Alert
		field string // of the error; "" for none
		msg   string
	}{
		{"all fields", alertjson.Common{Status: "resolved", Labels: labels, Annotations: annotations,
			StartsAt: "2026-11-21T11:00:00+01:00", EndsAt: "2026-11-21T10:30:00.5Z", GeneratorURL: " HTTP://prom:9090/graph ", Fingerprint: " 0f1e2d3c4b5a6978 "},
			incidents.Alert{Fingerprint: "0f1e2d3c4b5a6978", Status: incidents.AlertResolved, Labels: labels, Annotations: annotations,
				StartsAt: time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC), EndsAt: time.Date(2026, 11, 21, 10, 30, 0, 5e8, time.UTC), GeneratorURL: "http://prom:9090/graph"},
			"", ""},
		{"computed fingerprint", alertjson.Common{Status: "firing", Labels: labels, Fingerprint: " ", GeneratorURL: "javascript:alert(1)", EndsAt: "0001-01-01T00:00:00Z"},
			incidents.Alert{Fingerprint: "d2b371819297f98a", Status: incidents.AlertFiring, Labels: labels, Annotations: map[string]string{}}, "", ""},
		{"no maps", alertjson.Common{Status: "firing"},
			incidents.Alert{Fingerprint: "cbf29ce484222325", Status: incidents.AlertFiring, Labels: map[string]string{}, Annotations: map[string]string{}}, "", ""},
		// Status, startsAt, endsAt: the first wrong one is named.
		{"status first", alertjson.Common{Status: "ok", StartsAt: "x", EndsAt: "y"}, incidents.Alert{},
			"alerts[1].status", `field "alerts[1].status" must be "firing" or "resolved", not "ok"`},
		{"then startsAt", alertjson.Common{Status: "firing", StartsAt: "x", EndsAt: "y"}, incidents.Alert{},
			"alerts[1].startsAt", `field "alerts[1].startsAt" is not an RFC 3339 time: "x" (use a time like "2026-11-21T10:00:00Z")`},
		{"then endsAt", alertjson.Common{Status: "firing", EndsAt: "y"}, incidents.Alert{},
			"alerts[1].endsAt", `field "alerts[1].endsAt" is not an RFC 3339 time: "y" (use a time like "2026-11-21T10:00:00Z")`},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := c.in.Alert("alerts[1]")
			checkInvalid(t, err, c.field, c.msg)
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("Alert =\n %#v\nwant\n %#v", got, c.want)
			}
		})
	}
}

func TestHTTPURL(t *testing.T) {
	for _, c := range []struct {
		in, want string // want "" for refused
	}{
		{"https://grafana.example.com/d/checkout?orgId=1#panel", "https://grafana.example.com/d/checkout?orgId=1#panel"},
		{"http://am:9093/", "http://am:9093/"},
		{"  https://runbooks.example.com/x \n", "https://runbooks.example.com/x"},
		{"HTTPS://Example.COM/Path", "https://Example.COM/Path"},
		{"hTtP://x", "http://x"},
		{"", ""},
		{"   ", ""},
		{"/d/checkout", ""},
		{"grafana.example.com/d/checkout", ""},
		{"//grafana.example.com/d/checkout", ""},
		{"javascript:alert(1)", ""},
		{"JavaScript://example.com/%0Aalert(1)", ""},
		{"data:text/html,<script>", ""},
		{"ftp://example.com/file", ""},
		{"mailto:oncall@example.com", ""},
		{"http:///path", ""},
		{"https://exa mple.com/", ""},
		{"http://[::1", ""},
	} {
		got, ok := alertjson.HTTPURL(c.in)
		if got != c.want || ok != (c.want != "") {
			t.Errorf("HTTPURL(%q) = %q, %v; want %q, %v", c.in, got, ok, c.want, c.want != "")
		}
	}
}

func TestFirstNonEmpty(t *testing.T) {
	for _, c := range []struct {
		in   []string
		want string
	}{
		{nil, ""},
		{[]string{"", " \t\n", ""}, ""},
		{[]string{"a", "b"}, "a"},
		{[]string{"", "  High CPU \n", "b"}, "High CPU"},
	} {
		if got := alertjson.FirstNonEmpty(c.in...); got != c.want {
			t.Errorf("FirstNonEmpty(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestQuote(t *testing.T) {
	for _, c := range []struct {
		in, want string
	}{
		{"", `""`},
		{"ok", `"ok"`},
		{"a\"b\n", `"a\"b\n"`},
		{strings.Repeat("x", 64), `"` + strings.Repeat("x", 64) + `"`},
		{strings.Repeat("x", 65), `"` + strings.Repeat("x", 64) + `…"`},
		// 64 characters, not bytes, and never half a character.
		{strings.Repeat("é", 100), `"` + strings.Repeat("é", 64) + `…"`},
	} {
		if got := alertjson.Quote(c.in); got != c.want {
			t.Errorf("Quote(%q) = %s, want %s", c.in, got, c.want)
		}
	}
}

// TestFingerprintMatchesAlertmanager checks Fingerprint against fingerprints
// that Prometheus' model.LabelSet.Fingerprint computed: those that
// Alertmanager 0.25 and 0.34 sent in the bodies in
// integrations/alertmanager/testdata, and known values.
func TestFingerprintMatchesAlertmanager(t *testing.T) {
	for _, c := range []struct {
		labels map[string]string
		want   string
	}{
		{map[string]string{}, "cbf29ce484222325"},
		{nil, "cbf29ce484222325"},
		{map[string]string{"a": "b"}, "d2b371819297f98a"},
		{map[string]string{ // v0.25.json
			"alertname": "HighErrorRate", "env": "prod", "namespace": "shop",
			"service": "checkout", "severity": "critical", "team": "payments",
		}, "bc576f6ab8f77a12"},
		{map[string]string{ // v0.25.json
			"alertname": "HighLatency", "env": "prod", "namespace": "shop", "route": "/api/cart",
			"service": "checkout", "severity": "warning", "team": "payments",
		}, "4df4bf51fe41a83e"},
		{map[string]string{ // v0.34.json
			"alertname": "KubePodCrashLooping", "container": "worker", "job": "kube-state-metrics",
			"namespace": "shop", "pod": "checkout-worker-7d9c5b8f6-x2x4q", "prometheus": "monitoring/k8s",
			"reason": "CrashLoopBackOff", "severity": "warning", "team": "payments",
		}, "ee4e0b0965155179"},
		{map[string]string{ // v0.34.json
			"alertname": "KubePodCrashLooping", "container": "api", "job": "kube-state-metrics",
			"namespace": "shop", "pod": "checkout-api-5f6d8c7b9-kq2lp", "prometheus": "monitoring/k8s",
			"reason": "CrashLoopBackOff", "severity": "warning", "team": "payments",
		}, "449e93d1dbbd89d8"},
	} {
		if got := alertjson.Fingerprint(c.labels); got != c.want {
			t.Errorf("Fingerprint(%v) = %s, want %s", c.labels, got, c.want)
		}
	}
}

// TestFingerprintIgnoresMapOrder builds the same labels in every insertion
// order, and fingerprints each map several times, since Go varies a map's
// iteration order from one range to the next.
func TestFingerprintIgnoresMapOrder(t *testing.T) {
	pairs := [][2]string{{"alertname", "HighErrorRate"}, {"env", "prod"}, {"service", "checkout"}, {"team", "payments"}}
	seen := map[string]bool{}
	orders := 0
	var permute func(k int)
	permute = func(k int) {
		if k == len(pairs) {
			orders++
			labels := make(map[string]string, len(pairs))
			for _, p := range pairs {
				labels[p[0]] = p[1]
			}
			for range 5 {
				seen[alertjson.Fingerprint(labels)] = true
			}
			return
		}
		for i := k; i < len(pairs); i++ {
			pairs[k], pairs[i] = pairs[i], pairs[k]
			permute(k + 1)
			pairs[k], pairs[i] = pairs[i], pairs[k]
		}
	}
	permute(0)
	if orders != 24 || len(seen) != 1 {
		t.Errorf("%d orders gave %d fingerprints, want 24 orders and 1: %v", orders, len(seen), seen)
	}
}

// TestFingerprintSeparatesNamesAndValues checks that moving characters between
// a name and its value, or between labels, changes the fingerprint.
func TestFingerprintSeparatesNamesAndValues(t *testing.T) {
	seen := map[string]map[string]string{}
	for _, labels := range []map[string]string{
		{"a": "bc"},
		{"ab": "c"},
		{"a": "b", "c": ""},
		{"a": "", "bc": ""},
		{"a": "b"},
		{"a": "B"},
	} {
		fp := alertjson.Fingerprint(labels)
		if other, ok := seen[fp]; ok {
			t.Errorf("Fingerprint(%v) = Fingerprint(%v) = %s", labels, other, fp)
		}
		seen[fp] = labels
	}
}

func TestUnquoteMeta(t *testing.T) {
	for _, c := range []struct {
		in, want string
	}{
		{"", ""},
		{"team-db", "team-db"},
		{`team\.db`, "team.db"},
		{`a\+b\*c\?d\(e\)f\|g\[h\]i\{j\}k\^l\$m`, "a+b*c?d(e)f|g[h]i{j}k^l$m"},
		{`back\\slash`, `back\slash`},
		{`\d`, `\d`},     // not something QuoteMeta escapes
		{`end\`, `end\`}, // a lone backslash at the end stays
		{`ünï\.cödé`, "ünï.cödé"},
	} {
		if got := alertjson.UnquoteMeta(c.in); got != c.want {
			t.Errorf("UnquoteMeta(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	for _, s := range []string{"team.db", `a\b`, "[ops] (eu)|{x}^$*+?", "plain", ""} {
		if got := alertjson.UnquoteMeta(regexp.QuoteMeta(s)); got != s {
			t.Errorf("UnquoteMeta(regexp.QuoteMeta(%q)) = %q", s, got)
		}
	}
}
