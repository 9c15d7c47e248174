package pagerdutyfake

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// post sends body to the fake and decodes its answer.
func post(t *testing.T, f *Fake, body string) (int, http.Header, answer) {
	t.Helper()
	resp, err := http.Post(f.URL(), "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var a answer
	if err := json.Unmarshal(b, &a); err != nil {
		t.Fatalf("answer %q: %v", b, err)
	}
	return resp.StatusCode, resp.Header, a
}

const (
	k       = RoutingKey
	trigger = `{"routing_key":"` + k + `","event_action":"trigger","dedup_key":"d1","payload":{"summary":"s","source":"src","severity":"error"}}`
	ack     = `{"routing_key":"` + k + `","event_action":"acknowledge","dedup_key":"d1"}`
	resolve = `{"routing_key":"` + k + `","event_action":"resolve","dedup_key":"d1"}`
)

func TestValidatesLikePagerDuty(t *testing.T) {
	f := New()
	defer f.Close()
	long := strings.Repeat("x", 1025)
	for _, tc := range []struct {
		body   string
		status string
		errs   []string
	}{
		{`not json`, "Unrecognized object", []string{"JSON parse error"}},
		{`["a"]`, "Unrecognized object", []string{"JSON parse error"}},
		{`{}`, "invalid event", []string{"'routing_key' is missing or blank", "'event_action' is missing or blank"}},
		{`{"routing_key":"abc","event_action":"resolve","dedup_key":"d"}`, "invalid event",
			[]string{"Length of 'routing_key' is incorrect (should be 32 characters)"}},
		{`{"routing_key":"` + k + `","event_action":"snooze"}`, "invalid event",
			[]string{"'event_action' is invalid (must be one of: trigger, acknowledge, resolve)"}},
		{`{"routing_key":"` + k + `","event_action":"acknowledge"}`, "invalid event",
			[]string{"'dedup_key' is missing or blank (required for acknowledge and resolve events)"}},
		{`{"routing_key":"` + k + `","event_action":"resolve","dedup_key":"` + strings.Repeat("d", 256) + `"}`, "invalid event",
			[]string{"Length of 'dedup_key' is incorrect (should be at most 255 characters)"}},
		{`{"routing_key":"` + k + `","event_action":"trigger"}`, "invalid event",
			[]string{"'payload' is missing (required for trigger events)"}},
		{`{"routing_key":"` + k + `","event_action":"trigger","payload":[]}`, "invalid event", []string{"'payload' is not an object"}},
		{`{"routing_key":"` + k + `","event_action":"trigger","payload":{"summary":" ","severity":"sev1"}}`, "invalid event",
			[]string{"'payload.summary' is missing or blank", "'payload.source' is missing or blank",
				"'payload.severity' is invalid (must be one of: critical, error, warning, info)"}},
		{`{"routing_key":"` + k + `","event_action":"trigger","payload":{"summary":"` + long + `","source":"s","severity":"info","timestamp":"yesterday"}}`,
			"invalid event", []string{"Length of 'payload.summary' is incorrect (should be at most 1024 characters)",
				"'payload.timestamp' is not an ISO 8601 timestamp"}},
		{`{"routing_key":"` + k + `","event_action":"trigger","payload":{"summary":"s","source":"s","severity":"info"},"links":[{"text":"t"}]}`,
			"invalid event", []string{"'links.href' is missing or blank"}},
		{`{"routing_key":"` + k + `","event_action":"trigger","payload":{"summary":"s","source":"s","severity":"info"},"links":{}}`,
			"invalid event", []string{"'links' is not an array of objects"}},
		{`{"routing_key":"` + k + `","event_action":"trigger","payload":{"summary":"s","source":"s","severity":"info","custom_details":{"x":"` +
			strings.Repeat("x", 512<<10) + `"}}}`, "invalid event", []string{"Event object is larger than 512 KB"}},
	} {
		status, _, a := post(t, f, tc.body)
		if status != 400 || a.Status != tc.status || strings.Join(a.Errors, "|") != strings.Join(tc.errs, "|") {
			t.Errorf("%.80s: %d %+v, want 400 %q %q", tc.body, status, a, tc.status, tc.errs)
		}
	}
	if n := len(f.Events()); n != 14 {
		t.Errorf("%d events recorded", n)
	}
	for _, e := range f.Events() {
		if e.Accepted() {
			t.Errorf("invalid event %.60s accepted", e.Body)
		}
	}
}

func TestAlertsFollowTriggerAcknowledgeResolve(t *testing.T) {
	f := New()
	defer f.Close()
	for _, tc := range []struct {
		body  string
		state State
	}{
		{ack, StateNone}, // no alert yet: dropped
		{trigger, StateTriggered},
		{strings.Replace(ack, k, strings.Repeat("9", 32), 1), StateTriggered}, // other routing key: dropped
		{ack, StateAcknowledged},
		{trigger, StateAcknowledged}, // added to the open alert
		{resolve, StateResolved},
		{ack, StateResolved}, // too late: dropped
		{trigger, StateTriggered},
	} {
		status, _, a := post(t, f, tc.body)
		if status != 202 || a.Status != "success" || a.Message != "Event processed" || a.DedupKey != "d1" {
			t.Fatalf("%s: %d %+v", tc.body, status, a)
		}
		if s := f.State("d1"); s != tc.state {
			t.Fatalf("after %s: state %q, want %q", tc.body, s, tc.state)
		}
	}
	as := f.Alerts("d1")
	if len(as) != 2 || as[0].Triggers != 2 || as[0].State != StateResolved || as[1].Triggers != 1 ||
		as[0].Summary != "s" || as[0].Source != "src" || as[0].Severity != "error" {
		t.Fatalf("alerts %+v", as)
	}
	if got := strings.Join(f.Actions("d1"), ","); got != "trigger,acknowledge,trigger,resolve,trigger" {
		t.Errorf("actions %s", got)
	}
	if n := len(f.Accepted("d1")); n != 8 {
		t.Errorf("%d accepted events", n)
	}
}

func TestATriggerWithoutDedupKeyGetsOne(t *testing.T) {
	f := New()
	defer f.Close()
	body := strings.Replace(trigger, `"dedup_key":"d1",`, "", 1)
	_, _, a1 := post(t, f, body)
	_, _, a2 := post(t, f, body)
	if a1.DedupKey == "" || a1.DedupKey == a2.DedupKey || f.State(a1.DedupKey) != StateTriggered {
		t.Fatalf("keys %q %q", a1.DedupKey, a2.DedupKey)
	}
}

func TestFaults(t *testing.T) {
	f := New()
	defer f.Close()
	f.FailNext(2, Fault{Status: 429, RetryAfter: "30"})
	f.FailNext(1, Fault{Status: 500, Apply: true})
	for i := range 2 {
		status, h, a := post(t, f, trigger)
		if status != 429 || h.Get("Retry-After") != "30" || a.Status != "throttle event" {
			t.Fatalf("call %d: %d %v %+v", i, status, h, a)
		}
	}
	if f.State("d1") != StateNone {
		t.Fatal("a throttled event changed state")
	}
	if status, _, _ := post(t, f, trigger); status != 500 || f.State("d1") != StateTriggered {
		t.Fatalf("lost answer: %d, state %q", status, f.State("d1"))
	}
	if status, _, _ := post(t, f, ack); status != 202 {
		t.Fatalf("after the faults: %d", status)
	}
	ev := f.Events()
	if len(ev) != 4 || !ev[0].Faulted || ev[0].Accepted() || !ev[2].Faulted || !ev[2].Accepted() || ev[3].Faulted {
		t.Fatalf("events %+v", ev)
	}
}

func TestAHangEndsWhenTheClientGivesUpOrTheFakeCloses(t *testing.T) {
	f := New()
	arrived := make(chan struct{}, 2)
	f.FailNext(2, Fault{Hang: true, Arrived: arrived})
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-arrived; cancel() }()
	req, _ := http.NewRequestWithContext(ctx, "POST", f.URL(), strings.NewReader(trigger))
	if _, err := http.DefaultClient.Do(req); err == nil {
		t.Fatal("a hung call answered")
	}
	done := make(chan error)
	go func() {
		_, err := http.Post(f.URL(), "application/json", strings.NewReader(trigger))
		done <- err
	}()
	<-arrived
	f.Close() // must not wait forever for the hung handler
	if err := <-done; err == nil {
		t.Fatal("a hung call answered after Close")
	}
}

func TestWrongPathAndMethod(t *testing.T) {
	f := New()
	defer f.Close()
	resp, err := http.Get(f.URL())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 405 {
		t.Errorf("GET: %d", resp.StatusCode)
	}
	resp, err = http.Post(strings.TrimSuffix(f.URL(), Path)+"/v1/enqueue", "application/json", strings.NewReader(trigger))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 || f.State("d1") != StateNone {
		t.Errorf("wrong path: %d", resp.StatusCode)
	}
}

func TestWithClockDatesAlerts(t *testing.T) {
	at := time.Date(2027, 1, 2, 3, 4, 5, 0, time.UTC)
	f := New(WithClock(func() time.Time { return at }))
	defer f.Close()
	post(t, f, trigger)
	if a, ok := f.Alert("d1"); !ok || !a.Created.Equal(at) || !f.Events()[0].At.Equal(at) {
		t.Fatalf("alert %+v", a)
	}
}
