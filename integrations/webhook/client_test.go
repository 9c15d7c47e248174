package webhook_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/warroomhq/warroom/integrations/webhook"
	"github.com/warroomhq/warroom/internal/webhookfake"
	"github.com/warroomhq/warroom/jobs"
)

var now = time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)

func newFake(t *testing.T, opts ...webhookfake.Option) *webhookfake.Fake {
	t.Helper()
	f := webhookfake.New(opts...)
	t.Cleanup(f.Close)
	return f
}

func page() webhook.PagePayload {
	return webhook.PagePayload{
		Event: webhook.EventPageTriggered,
		Incident: webhook.PageIncident{
			ID: 42, Title: "Checkout is down", Severity: "sev1", Service: "checkout",
			Status: "investigating", URL: "https://acme.slack.com/archives/C042", Channel: "#inc-42-checkout",
		},
		Page: webhook.PageInfo{
			ID: 7, State: "triggered", Policy: "payments", Step: 1, Round: 1,
			Targets: []string{"schedule:payments-primary"}, People: []string{"alice"}, DedupKey: "warroom-inc-42",
		},
		At: time.Date(2026, 11, 21, 11, 0, 0, 0, time.FixedZone("CET", 3600)),
	}
}

func TestASignedPageIsDeliveredOnceWhateverTheRetries(t *testing.T) {
	f := newFake(t)
	c := &webhook.Client{Now: func() time.Time { return now }}
	body, err := page().Marshal()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for range 3 { // the job runs again after a lost answer, a restart...
		if err := c.Post(ctx, f.URL(), f.Secret(), webhook.EventPageTriggered, "page-7-step-1-round-1", body); err != nil {
			t.Fatal(err)
		}
	}
	ds := f.Deliveries()
	if len(ds) != 1 || f.Duplicates() != 2 || len(f.Refused()) != 0 {
		t.Fatalf("%d deliveries, %d duplicates, %d refused", len(ds), f.Duplicates(), len(f.Refused()))
	}
	d := ds[0]
	if d.Event != "page.triggered" || d.DeliveryID != "page-7-step-1-round-1" || string(d.Body) != string(body) {
		t.Errorf("delivery %+v", d)
	}
	var got webhook.PagePayload
	if err := d.Decode(&got); err != nil {
		t.Fatal(err)
	}
	want := page()
	want.At = want.At.UTC()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("decoded\n %+v\nwant\n %+v", got, want)
	}
	h := f.Requests()[0].Header
	for k, v := range map[string]string{
		"Content-Type":        "application/json",
		"User-Agent":          webhook.DefaultUserAgent,
		"X-Warroom-Event":     "page.triggered",
		"X-Warroom-Delivery":  "page-7-step-1-round-1",
		"X-Warroom-Signature": webhook.Sign([]byte(webhookfake.Secret), body),
	} {
		if h.Get(k) != v {
			t.Errorf("%s: %q, want %q", k, h.Get(k), v)
		}
	}
}

func TestAReceiverWithAnotherSecretRefuses(t *testing.T) {
	f := newFake(t, webhookfake.WithSecret([]byte("the receiver's secret")))
	secret := []byte("warroom's-outdated-secret")
	err := (&webhook.Client{}).Post(context.Background(), f.URL(), secret, webhook.EventPageTriggered, "d1", []byte(`{"a":1}`))
	if !jobs.IsPermanent(err) || !strings.Contains(err.Error(), "refused it (401): {\"error\":\"bad signature\"}") {
		t.Fatalf("Post: %v", err)
	}
	if strings.Contains(err.Error(), string(secret)) {
		t.Fatalf("the secret is in %q", err)
	}
	if r := f.Refused(); len(r) != 1 || r[0].Status != 401 || len(f.Deliveries()) != 0 {
		t.Fatalf("refused %+v, deliveries %+v", r, f.Deliveries())
	}
}

func TestErrorsFollowTheJobContract(t *testing.T) {
	for _, tc := range []struct {
		name  string
		fault webhookfake.Fault
		kind  string // permanent, defer, retry
		after time.Duration
		text  string
	}{
		{"429 with Retry-After", webhookfake.Fault{Status: 429, RetryAfter: "12"}, "defer", 12 * time.Second, "rate limited (429)"},
		{"429 without", webhookfake.Fault{Status: 429}, "defer", webhook.RateLimitWait, "429"},
		{"503 with a date", webhookfake.Fault{Status: 503, RetryAfter: "Sat, 21 Nov 2026 10:05:00 GMT"}, "defer", 5 * time.Minute, "unavailable (503)"},
		{"503 without", webhookfake.Fault{Status: 503}, "retry", 0, "answered 503"},
		{"500", webhookfake.Fault{Status: 500, Body: "boom\n\tat line 3"}, "retry", 0, "answered 500: boom at line 3"},
		{"502 with Retry-After", webhookfake.Fault{Status: 502, RetryAfter: "5"}, "retry", 0, "answered 502"},
		{"408", webhookfake.Fault{Status: 408}, "retry", 0, "answered 408"},
		{"400", webhookfake.Fault{Status: 400, Body: strings.Repeat("no! ", 100)}, "permanent", 0, "refused it (400): no! no!"},
		{"404", webhookfake.Fault{Status: 404}, "permanent", 0, `refused it (404): {"error":"Not Found"}`},
		{"410", webhookfake.Fault{Status: 410}, "permanent", 0, "(410)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t)
			f.FailNext(1, tc.fault)
			c := &webhook.Client{Now: func() time.Time { return now }}
			err := c.Post(context.Background(), f.URL(), f.Secret(), "page.triggered", "d1", []byte(`{}`))
			d, deferred := jobs.DeferOf(err)
			kind := "retry"
			switch {
			case err == nil:
				t.Fatal("no error")
			case jobs.IsPermanent(err):
				kind = "permanent"
			case deferred:
				kind = "defer"
			}
			if kind != tc.kind || d != tc.after || !strings.Contains(err.Error(), tc.text) {
				t.Errorf("got %s %v: %v\nwant %s %v with %q", kind, d, err, tc.kind, tc.after, tc.text)
			}
			if len(err.Error()) > 600 {
				t.Errorf("error of %d bytes", len(err.Error()))
			}
			if len(f.Deliveries()) != 0 {
				t.Error("a faulted delivery was processed")
			}
			if err := c.Post(context.Background(), f.URL(), f.Secret(), "page.triggered", "d1", []byte(`{}`)); err != nil {
				t.Errorf("retry: %v", err)
			}
		})
	}
}

func TestBadRequestsArePermanentAndNotSent(t *testing.T) {
	f := newFake(t)
	s := f.Secret()
	for _, tc := range []struct {
		url, event, id string
		secret         []byte
		want           string
	}{
		{"ftp://example.com/hook", "page.triggered", "d", s, `scheme is "ftp"`},
		{"file:///etc/passwd", "page.triggered", "d", s, `scheme is "file"`},
		{"/relative/hook", "page.triggered", "d", s, `scheme is ""`},
		{"http:///nohost", "page.triggered", "d", s, "no host"},
		{"http://exa mple.com/\x7f", "page.triggered", "d", s, "not valid"},
		{f.URL(), "page.triggered", "d", nil, "no secret"},
		{f.URL(), "", "d", s, "event"},
		{f.URL(), "page.triggered", " ", s, "delivery ID"},
		{f.URL(), "page.triggered", "d\r\nX-Evil: 1", s, "delivery ID"},
		{f.URL(), "page\ntriggered", "d", s, "event"},
	} {
		err := (&webhook.Client{}).Post(context.Background(), tc.url, tc.secret, tc.event, tc.id, []byte(`{}`))
		if !jobs.IsPermanent(err) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Post(%q, %q, %q): %v, want a permanent error with %q", tc.url, tc.event, tc.id, err, tc.want)
		}
	}
	if n := len(f.Requests()); n != 0 {
		t.Errorf("%d requests sent", n)
	}
}

func TestRedirectsAreNotFollowed(t *testing.T) {
	f := newFake(t)
	srv := httptest.NewServer(http.RedirectHandler(f.URL()+"?token=t0ken", http.StatusPermanentRedirect))
	defer srv.Close()
	err := (&webhook.Client{}).Post(context.Background(), srv.URL, f.Secret(), "page.triggered", "d", []byte(`{}`))
	if !jobs.IsPermanent(err) || !strings.Contains(err.Error(), "redirects (308 to "+f.URL()+"?…)") || strings.Contains(err.Error(), "t0ken") {
		t.Fatalf("Post: %v", err)
	}
	if len(f.Requests()) != 0 {
		t.Fatal("the redirect was followed")
	}
}

func TestCredentialsStayOutOfErrors(t *testing.T) {
	f := newFake(t)
	secret := f.Secret()
	f.FailNext(1, webhookfake.Fault{Status: 400, Body: "bad secret " + string(secret)})
	err := (&webhook.Client{}).Post(context.Background(), f.URL(), secret, "page.triggered", "d", []byte(`{}`))
	if !jobs.IsPermanent(err) || strings.Contains(err.Error(), string(secret)) || !strings.Contains(err.Error(), "bad secret [redacted]") {
		t.Fatalf("echoed secret: %v", err)
	}

	// A URL with credentials in its user information and query, to a port
	// where nobody listens: the network error must not quote them.
	dead := httptest.NewServer(http.NotFoundHandler())
	host := dead.Listener.Addr().String()
	dead.Close()
	err = (&webhook.Client{}).Post(context.Background(), "http://user:pa55word@"+host+"/hook?token=t0ken#frag",
		secret, "page.triggered", "d", []byte(`{}`))
	if err == nil || jobs.IsPermanent(err) {
		t.Fatalf("network error: %v", err)
	}
	for _, leak := range []string{"pa55word", "user", "t0ken", "frag"} {
		if strings.Contains(err.Error(), leak) {
			t.Errorf("%q is in %q", leak, err)
		}
	}
	if !strings.Contains(err.Error(), "http://"+host+"/hook?…") {
		t.Errorf("error %q does not say where", err)
	}
}

func TestALostAnswerIsRetriedAndDeduplicated(t *testing.T) {
	f := newFake(t)
	arrived := make(chan struct{}, 1)
	f.FailNext(1, webhookfake.Fault{Hang: true, Apply: true, Arrived: arrived})
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-arrived; cancel() }()
	c := &webhook.Client{UserAgent: "Warroom-Test"}
	err := c.Post(ctx, f.URL(), f.Secret(), "page.acknowledged", "page-7-ack", []byte(`{"event":"page.acknowledged"}`))
	if err == nil || jobs.IsPermanent(err) || !errors.Is(err, context.Canceled) {
		t.Fatalf("Post: %v, want a retryable cancellation", err)
	}
	if err := c.Post(context.Background(), f.URL(), f.Secret(), "page.acknowledged", "page-7-ack", []byte(`{"event":"page.acknowledged"}`)); err != nil {
		t.Fatal(err)
	}
	rs := f.Requests()
	if len(f.Deliveries()) != 1 || f.Duplicates() != 1 || len(rs) != 2 || !rs[0].Processed || !rs[1].Duplicate ||
		rs[1].Header.Get("User-Agent") != "Warroom-Test" {
		t.Fatalf("deliveries %+v, requests %+v", f.Deliveries(), rs)
	}
}
