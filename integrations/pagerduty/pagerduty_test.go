package pagerduty_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/warroomhq/warroom/integrations/pagerduty"
	"github.com/warroomhq/warroom/internal/pagerdutyfake"
	"github.com/warroomhq/warroom/jobs"
)

var now = time.Date(2026, 11, 21, 10, 30, 0, 0, time.UTC)

const key = pagerdutyfake.RoutingKey

func newClient(t *testing.T) (*pagerduty.Client, *pagerdutyfake.Fake) {
	t.Helper()
	f := pagerdutyfake.New()
	t.Cleanup(f.Close)
	return &pagerduty.Client{URL: f.URL(), Now: func() time.Time { return now }}, f
}

func trigger() pagerduty.Event {
	return pagerduty.Event{
		RoutingKey: key,
		Action:     pagerduty.Trigger,
		DedupKey:   pagerduty.DedupKey(42),
		Summary:    "[sev1] Checkout is down",
		Source:     "checkout",
		Severity:   pagerduty.SeverityFor("sev1"),
		Component:  "api",
		Group:      "payments",
		Class:      "incident",
		CustomDetails: map[string]any{
			"incident": 42, "lead": "alice", "channel": "#inc-42-checkout",
		},
		Links:     []pagerduty.Link{{Href: "https://slack.example.com/archives/C42", Text: "Slack channel"}},
		Timestamp: time.Date(2026, 11, 21, 11, 29, 58, 315e6, time.FixedZone("CET", 3600)),
		ClientURL: "https://warroom.example.com/incidents/42",
	}
}

func TestTriggerAcknowledgeResolveSendExactlyTheDocumentedJSON(t *testing.T) {
	c, f := newClient(t)
	ctx := context.Background()
	dk := pagerduty.DedupKey(42)

	got, err := c.Send(ctx, trigger())
	if err != nil || got != dk {
		t.Fatalf("trigger: %q, %v", got, err)
	}
	if s := f.State(dk); s != pagerdutyfake.StateTriggered {
		t.Fatalf("after trigger: state %q", s)
	}
	for _, a := range []pagerduty.Action{pagerduty.Acknowledge, pagerduty.Resolve} {
		// Acknowledge and resolve carry only the key: the payload fields
		// set here must not be sent.
		e := trigger()
		e.Action = a
		if got, err := c.Send(ctx, e); err != nil || got != dk {
			t.Fatalf("%s: %q, %v", a, got, err)
		}
	}

	events := f.Events()
	want := []string{
		`{"routing_key":"` + key + `","event_action":"trigger","dedup_key":"warroom-inc-42",` +
			`"payload":{"summary":"[sev1] Checkout is down","source":"checkout","severity":"critical",` +
			`"timestamp":"2026-11-21T10:29:58.315Z","component":"api","group":"payments","class":"incident",` +
			`"custom_details":{"channel":"#inc-42-checkout","incident":42,"lead":"alice"}},` +
			`"client":"Warroom","client_url":"https://warroom.example.com/incidents/42",` +
			`"links":[{"href":"https://slack.example.com/archives/C42","text":"Slack channel"}]}`,
		`{"routing_key":"` + key + `","event_action":"acknowledge","dedup_key":"warroom-inc-42"}`,
		`{"routing_key":"` + key + `","event_action":"resolve","dedup_key":"warroom-inc-42"}`,
	}
	if len(events) != len(want) {
		t.Fatalf("%d events, want %d", len(events), len(want))
	}
	for i, e := range events {
		if string(e.Body) != want[i] {
			t.Errorf("event %d:\n got %s\nwant %s", i, e.Body, want[i])
		}
		if ct := e.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("event %d: Content-Type %q", i, ct)
		}
		if e.Status != http.StatusAccepted {
			t.Errorf("event %d: status %d %v", i, e.Status, e.Errors)
		}
	}
	if a := f.Actions(dk); strings.Join(a, ",") != "trigger,acknowledge,resolve" {
		t.Errorf("actions %v", a)
	}
	if s := f.State(dk); s != pagerdutyfake.StateResolved {
		t.Errorf("after resolve: state %q", s)
	}
}

func TestTriggerDefaultsItsTimestampAndReturnsPagerDutysKey(t *testing.T) {
	c, f := newClient(t)
	e := trigger()
	e.DedupKey, e.Timestamp, e.CustomDetails, e.Links, e.ClientURL = "", time.Time{}, nil, nil, ""
	got, err := c.Send(context.Background(), e)
	if err != nil || got == "" {
		t.Fatalf("Send = %q, %v", got, err)
	}
	if f.State(got) != pagerdutyfake.StateTriggered {
		t.Fatalf("the returned key %q is not the fake's alert", got)
	}
	body := string(f.Events()[0].Body)
	if !strings.Contains(body, `"timestamp":"2026-11-21T10:30:00.000Z"`) ||
		strings.Contains(body, "dedup_key") || strings.Contains(body, "links") || strings.Contains(body, "client") {
		t.Errorf("body %s", body)
	}
}

func TestSummaryIsCutToPagerDutysLimit(t *testing.T) {
	c, f := newClient(t)
	e := trigger()
	e.Summary = strings.Repeat("é", 3000)
	if _, err := c.Send(context.Background(), e); err != nil {
		t.Fatal(err)
	}
	sum, _ := f.Events()[0].Payload["summary"].(string)
	if n := utf8.RuneCountInString(sum); n != pagerduty.MaxSummary || !strings.HasSuffix(sum, "é…") {
		t.Errorf("summary of %d characters ending %q", n, sum[len(sum)-8:])
	}
}

func TestOversizedCustomDetailsAreDroppedNotThePage(t *testing.T) {
	c, f := newClient(t)
	e := trigger()
	e.CustomDetails = map[string]any{"log": strings.Repeat("x", pagerduty.MaxEventSize)}
	if _, err := c.Send(context.Background(), e); err != nil {
		t.Fatal(err)
	}
	ev := f.Events()[0]
	cd, _ := ev.Payload["custom_details"].(map[string]any)
	if note, _ := cd["note"].(string); !strings.Contains(note, "512 KB") || len(ev.Body) > pagerduty.MaxEventSize {
		t.Errorf("custom details %v, body %d bytes", cd, len(ev.Body))
	}
}

func TestInvalidEventsArePermanentAndNotSent(t *testing.T) {
	c, f := newClient(t)
	mod := func(m func(*pagerduty.Event)) pagerduty.Event { e := trigger(); m(&e); return e }
	for _, tc := range []struct {
		e    pagerduty.Event
		want string
	}{
		{mod(func(e *pagerduty.Event) { e.RoutingKey = " " }), "no routing key"},
		{mod(func(e *pagerduty.Event) { e.Action = "snooze" }), `action "snooze" is not trigger`},
		{mod(func(e *pagerduty.Event) { e.Action, e.DedupKey = pagerduty.Acknowledge, "" }), "acknowledge event needs the trigger's dedup key"},
		{mod(func(e *pagerduty.Event) { e.Action, e.DedupKey = pagerduty.Resolve, "" }), "resolve event needs the trigger's dedup key"},
		{mod(func(e *pagerduty.Event) { e.Summary = "" }), "needs a summary"},
		{mod(func(e *pagerduty.Event) { e.Source = "" }), "needs a source"},
		{mod(func(e *pagerduty.Event) { e.Severity = "sev1" }), `severity "sev1" is not critical`},
		{mod(func(e *pagerduty.Event) { e.DedupKey = strings.Repeat("k", 256) }), "256 characters, more than PagerDuty's 255"},
		{mod(func(e *pagerduty.Event) { e.Links = []pagerduty.Link{{Text: "x"}} }), `link "x" has no href`},
		{mod(func(e *pagerduty.Event) { e.CustomDetails = map[string]any{"f": func() {}} }), "encoding"},
		{mod(func(e *pagerduty.Event) { e.Links = []pagerduty.Link{{Href: strings.Repeat("h", 600<<10)}} }), "more than PagerDuty's 524288"},
	} {
		_, err := c.Send(context.Background(), tc.e)
		if !jobs.IsPermanent(err) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Send: %v, want a permanent error with %q", err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), key) {
			t.Errorf("the routing key is in %q", err)
		}
	}
	if n := len(f.Events()); n != 0 {
		t.Errorf("%d invalid events were sent", n)
	}
}

func TestPagerDutysRefusalIsPermanentWithItsMessage(t *testing.T) {
	c, _ := newClient(t)
	e := trigger()
	e.RoutingKey = "short-key"
	_, err := c.Send(context.Background(), e)
	want := "PagerDuty refused it (400): invalid event: Event object is invalid: Length of 'routing_key' is incorrect (should be 32 characters)"
	if !jobs.IsPermanent(err) || !strings.Contains(err.Error(), want) {
		t.Fatalf("Send: %v\nwant a permanent error with %q", err, want)
	}
}

func TestErrorsFollowTheJobContract(t *testing.T) {
	const (
		permanent = "permanent"
		deferred  = "defer"
		retry     = "retry"    // plain error: backoff
		retryAt   = "retry-at" // jobs.RetryAfter
	)
	for _, tc := range []struct {
		name  string
		fault pagerdutyfake.Fault
		kind  string
		after time.Duration
		text  string
	}{
		{"429 with Retry-After", pagerdutyfake.Fault{Status: 429, RetryAfter: "17"}, deferred, 17 * time.Second, "rate limited (429)"},
		{"429 with a date", pagerdutyfake.Fault{Status: 429, RetryAfter: "Sat, 21 Nov 2026 10:33:00 GMT"}, deferred, 3 * time.Minute, "429"},
		{"429 without Retry-After", pagerdutyfake.Fault{Status: 429}, deferred, pagerduty.RateLimitWait, "429"},
		{"429 with Retry-After 0", pagerdutyfake.Fault{Status: 429, RetryAfter: "0"}, deferred, time.Second, "429"},
		{"500", pagerdutyfake.Fault{Status: 500}, retry, 0, "PagerDuty answered 500: error: Internal Server Error"},
		{"502 not JSON", pagerdutyfake.Fault{Status: 502, Body: "<html>\n<b>Bad gateway</b>\n</html>"}, retry, 0, "answered 502: <html> <b>Bad gateway</b> </html>"},
		{"503 with Retry-After", pagerdutyfake.Fault{Status: 503, RetryAfter: "40"}, retryAt, 40 * time.Second, "answered 503"},
		{"408", pagerdutyfake.Fault{Status: 408}, retry, 0, "408"},
		{"400", pagerdutyfake.Fault{Status: 400, Body: `{"status":"invalid event","message":"Event object is invalid","errors":["a","b"]}`}, permanent, 0, "(400): invalid event: Event object is invalid: a; b"},
		{"404", pagerdutyfake.Fault{Status: 404}, permanent, 0, "answered 404: error: Not Found: check the events URL"},
		{"413", pagerdutyfake.Fault{Status: 413}, permanent, 0, "413"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, f := newClient(t)
			f.FailNext(1, tc.fault)
			_, err := c.Send(context.Background(), trigger())
			if err == nil {
				t.Fatal("no error")
			}
			d, isDefer := jobs.DeferOf(err)
			ra, isRetryAt := jobs.RetryAfterOf(err)
			var kind string
			switch {
			case jobs.IsPermanent(err):
				kind = permanent
			case isDefer:
				kind = deferred
			case isRetryAt:
				kind, d = retryAt, ra
			default:
				kind = retry
			}
			if kind != tc.kind || d != tc.after || !strings.Contains(err.Error(), tc.text) {
				t.Errorf("got %s %v: %v\nwant %s %v with %q", kind, d, err, tc.kind, tc.after, tc.text)
			}
			if f.State(pagerduty.DedupKey(42)) != pagerdutyfake.StateNone {
				t.Error("a faulted event changed the fake")
			}
			// The next attempt goes through.
			if _, err := c.Send(context.Background(), trigger()); err != nil {
				t.Errorf("retry: %v", err)
			}
		})
	}
}

func TestARedirectIsNotFollowed(t *testing.T) {
	srv := httptest.NewServer(http.RedirectHandler("https://elsewhere.example.com/v2/enqueue", http.StatusTemporaryRedirect))
	defer srv.Close()
	c := &pagerduty.Client{URL: srv.URL}
	_, err := c.Send(context.Background(), trigger())
	if !jobs.IsPermanent(err) || !strings.Contains(err.Error(), "redirects (307") {
		t.Fatalf("Send: %v", err)
	}
}

func TestAHungCallIsRetriedAndTheRetryIsHarmless(t *testing.T) {
	c, f := newClient(t)
	arrived := make(chan struct{}, 1)
	// PagerDuty takes the event in, and the answer never comes.
	f.FailNext(1, pagerdutyfake.Fault{Hang: true, Apply: true, Arrived: arrived})
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-arrived; cancel() }()
	_, err := c.Send(ctx, trigger())
	if err == nil || jobs.IsPermanent(err) || !errors.Is(err, context.Canceled) {
		t.Fatalf("Send: %v, want a retryable cancellation", err)
	}
	if _, ok := jobs.DeferOf(err); ok {
		t.Fatalf("Send: %v is deferred", err)
	}
	// The queue runs the job again: the same alert, not a second one.
	if _, err := c.Send(context.Background(), trigger()); err != nil {
		t.Fatal(err)
	}
	as := f.Alerts(pagerduty.DedupKey(42))
	if len(as) != 1 || as[0].Triggers != 2 || as[0].State != pagerdutyfake.StateTriggered {
		t.Fatalf("alerts %+v", as)
	}
}

func TestAClientTimeoutIsRetryable(t *testing.T) {
	c, f := newClient(t)
	arrived := make(chan struct{}, 1)
	f.FailNext(1, pagerdutyfake.Fault{Hang: true, Arrived: arrived})
	ctx, cancel := context.WithCancelCause(context.Background())
	go func() { <-arrived; cancel(context.DeadlineExceeded) }()
	_, err := c.Send(ctx, trigger())
	if err == nil || jobs.IsPermanent(err) || !strings.Contains(err.Error(), "sending the trigger event") {
		t.Fatalf("Send: %v", err)
	}
}

func TestNetworkErrorsAreRetryable(t *testing.T) {
	f := pagerdutyfake.New()
	url := f.URL()
	f.Close()
	c := &pagerduty.Client{URL: url}
	_, err := c.Send(context.Background(), trigger())
	if err == nil || jobs.IsPermanent(err) {
		t.Fatalf("Send: %v", err)
	}
	if _, ok := jobs.DeferOf(err); ok {
		t.Fatalf("Send: %v is deferred", err)
	}
}

func TestTheRoutingKeyNeverAppearsInErrors(t *testing.T) {
	echo := fmt.Sprintf(`{"status":"invalid event","message":"routing key %s is unknown","errors":["%s"]}`, key, key)
	for _, tc := range []struct {
		name  string
		fault pagerdutyfake.Fault
		url   string
	}{
		{"echoed in a 400", pagerdutyfake.Fault{Status: 400, Body: echo}, ""},
		{"echoed in a 500", pagerdutyfake.Fault{Status: 500, Body: echo}, ""},
		{"echoed in a 403 page", pagerdutyfake.Fault{Status: 403, Body: "<p>forbidden: " + key + "</p>"}, ""},
		{"in a misconfigured URL", pagerdutyfake.Fault{}, "http://127.0.0.1:1/v2/enqueue?key=" + key},
		{"in an invalid URL", pagerdutyfake.Fault{}, "http://[::1" + key},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, f := newClient(t)
			if tc.url != "" {
				c.URL = tc.url
			} else {
				f.FailNext(1, tc.fault)
			}
			_, err := c.Send(context.Background(), trigger())
			if err == nil {
				t.Fatal("no error")
			}
			if strings.Contains(err.Error(), key) || !strings.Contains(err.Error(), "[redacted]") {
				t.Fatalf("error %q", err)
			}
			if tc.url == "" && !jobs.IsPermanent(err) && tc.fault.Status < 500 {
				t.Fatalf("error %q lost its kind", err)
			}
		})
	}
}

func TestSeverityFor(t *testing.T) {
	for in, want := range map[string]string{
		"sev1": "critical", "sev2": "error", "sev3": "warning", "sev4": "info",
		"SEV3": "warning", " sev4 ": "info", "": "critical", "sev9": "critical",
	} {
		if got := pagerduty.SeverityFor(in); got != want {
			t.Errorf("SeverityFor(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDedupKey(t *testing.T) {
	if got := pagerduty.DedupKey(1234); got != "warroom-inc-1234" {
		t.Errorf("DedupKey = %q", got)
	}
}
