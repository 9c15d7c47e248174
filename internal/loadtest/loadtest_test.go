package loadtest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/warroomhq/warroom/incidents"
	"github.com/warroomhq/warroom/integrations/alertmanager"
	"github.com/warroomhq/warroom/integrations/generic"
	"github.com/warroomhq/warroom/integrations/grafana"
)

const testToken = "load-token"

// fakeClock moves only when someone sleeps: SleepUntil sets the time and
// returns at once. It is for runs without an API token: a poller's sleeps
// would move the senders' time too, by as much as the scheduler lets it
// poll while they send. Runs that poll use synctest (see
// TestTimeToChannelFromPollingTheAPI).
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) SleepUntil(ctx context.Context, t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t.After(c.t) {
		c.t = t
	}
	return ctx.Err()
}

// hooks is a stand-in for Warroom's alert hooks: it checks the token,
// parses each body with Warroom's own parser and keeps the batches.
type hooks struct {
	t       *testing.T
	clk     Clock
	mu      sync.Mutex
	batches []*incidents.AlertBatch
	at      []time.Time // when each body arrived, on clk
	status  func(n int) int
	api     http.HandlerFunc
	apiHits atomic.Int64
}

func newHooks(t *testing.T, clk Clock) (*hooks, *httptest.Server) {
	h := &hooks{t: t, clk: clk}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return h, srv
}

func (h *hooks) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/api/") {
		h.apiHits.Add(1)
		if h.api == nil {
			http.NotFound(w, r)
			return
		}
		h.api(w, r)
		return
	}
	parsers := map[string]func([]byte) (*incidents.AlertBatch, error){
		"/hooks/alertmanager": alertmanager.Parse, "/hooks/grafana": grafana.Parse, "/hooks/generic": generic.Parse,
	}
	parse, ok := parsers[r.URL.Path]
	if !ok || r.Method != http.MethodPost {
		http.NotFound(w, r)
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+testToken {
		http.Error(w, `{"error":"unauthorized"}`, http.StatusUnauthorized)
		return
	}
	body, _ := io.ReadAll(r.Body)
	b, err := parse(body)
	if err != nil {
		h.t.Errorf("%s: Warroom's parser refuses the body: %v\n%s", r.URL.Path, err, body)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	h.mu.Lock()
	h.batches = append(h.batches, b)
	h.at = append(h.at, h.clk.Now())
	n := len(h.batches)
	h.mu.Unlock()
	if h.status != nil {
		if code := h.status(n); code != http.StatusOK {
			w.WriteHeader(code)
			return
		}
	}
	fmt.Fprintf(w, `{"status":"ok","alerts":%d}`, len(b.Alerts))
}

func TestBodiesAreValidForWarroomsParsersAndCounted(t *testing.T) {
	for _, source := range Sources {
		t.Run(source, func(t *testing.T) {
			h, srv := newHooks(t, newFakeClock())
			rep, err := Run(context.Background(), Options{URL: srv.URL, Token: testToken, Source: source,
				Bodies: 30, Concurrency: 4, Groups: 4, Batch: []int{1, 3, 7}, Resolve: true, Seed: 7, RunID: "r1",
				Severity: "critical", Service: "checkout", Clock: newFakeClock()})
			if err != nil {
				t.Fatal(err)
			}
			if len(h.batches) != 60 {
				t.Fatalf("the server got %d bodies, want 30 firing and 30 resolving", len(h.batches))
			}
			state := map[string]string{} // fingerprint -> last status
			firing, resolved := 0, 0
			sizes := map[int]bool{}
			groups := map[string]bool{}
			for _, b := range h.batches {
				sizes[len(b.Alerts)] = true
				if b.Source != source {
					t.Fatalf("batch source %q", b.Source)
				}
				for _, a := range b.Alerts {
					title := b.Title
					if title == "" {
						title = a.Title
					}
					if !strings.HasPrefix(title, "Load test r1 group ") || a.Labels["severity"] != "critical" ||
						a.Labels["service"] != "checkout" || a.Labels["env"] != "prod" {
						t.Fatalf("alert %+v in batch titled %q", a, b.Title)
					}
					groups[a.GroupKey] = true
					switch a.Status {
					case incidents.AlertFiring:
						if _, seen := state[a.Fingerprint]; seen {
							t.Fatalf("alert %s fired twice", a.Fingerprint)
						}
						firing++
					case incidents.AlertResolved:
						if state[a.Fingerprint] != "firing" || a.EndsAt.IsZero() {
							t.Fatalf("alert %s resolved before it fired, or without an end", a.Fingerprint)
						}
						resolved++
					}
					state[a.Fingerprint] = string(a.Status)
				}
			}
			if len(groups) != 4 {
				t.Errorf("%d group keys, want 4", len(groups))
			}
			if len(sizes) < 2 {
				t.Errorf("one batch size for 30 bodies of the mix 1,3,7: %v", sizes)
			}
			for n := range sizes {
				if n != 1 && n != 3 && n != 7 {
					t.Errorf("a body of %d alerts, not in the mix", n)
				}
			}
			f := rep.Fire
			if f.Bodies != 30 || f.Alerts != firing || f.Accepted != firing || f.Status["200"] != 30 || f.Failed() != 0 {
				t.Errorf("firing phase %+v; the server saw %d firing alerts", f, firing)
			}
			if rep.Resolve == nil || rep.Resolve.Bodies != 30 || rep.Resolve.Alerts != resolved || resolved != firing {
				t.Errorf("resolve phase %+v; the server saw %d resolutions of %d", rep.Resolve, resolved, firing)
			}
			if rep.Channels != nil || !strings.Contains(rep.ChannelsSkipped, "no API token") || h.apiHits.Load() != 0 {
				t.Errorf("without an API token: %+v %q, %d API requests", rep.Channels, rep.ChannelsSkipped, h.apiHits.Load())
			}
		})
	}
}

func TestSameSeedSameMix(t *testing.T) {
	mix := func(seed uint64, concurrency int) []int {
		h, srv := newHooks(t, newFakeClock())
		if _, err := Run(context.Background(), Options{URL: srv.URL, Token: testToken, Bodies: 40, Concurrency: concurrency,
			Batch: []int{1, 2, 5, 9}, Seed: seed, RunID: "s", Clock: newFakeClock()}); err != nil {
			t.Fatal(err)
		}
		sizes := map[string]int{}
		for _, b := range h.batches {
			// the fingerprint lt-s-<body>-<i> names the body
			sizes[strings.Join(strings.Split(b.Alerts[0].Fingerprint, "-")[:3], "-")] = len(b.Alerts)
		}
		out := make([]int, 40)
		for i := range out {
			out[i] = sizes[fmt.Sprintf("lt-s-%d", i)]
		}
		return out
	}
	a, b, c := mix(3, 1), mix(3, 8), mix(4, 1)
	if !slices.Equal(a, b) {
		t.Errorf("seed 3 made different mixes with 1 and 8 senders:\n%v\n%v", a, b)
	}
	if slices.Equal(a, c) {
		t.Errorf("seeds 3 and 4 made the same mix %v", a)
	}
}

func TestRateLimitOnTheInjectedClock(t *testing.T) {
	clk := newFakeClock()
	start := clk.Now()
	h, srv := newHooks(t, clk)
	const perSecond = 8.0
	rep, err := Run(context.Background(), Options{URL: srv.URL, Token: testToken, Rate: perSecond, Bodies: 41,
		Concurrency: 4, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	if len(h.at) != 41 || rep.Fire.Bodies != 41 {
		t.Fatalf("%d bodies arrived, report says %d; want 41", len(h.at), rep.Fire.Bodies)
	}
	// Never more than one body (the burst) plus the rate times the time
	// since the start: the k-th body (from 0) no earlier than k/8 s.
	at := slices.Clone(h.at)
	slices.SortFunc(at, func(a, b time.Time) int { return a.Compare(b) })
	for k, t0 := range at {
		if min := time.Duration(float64(k) / perSecond * float64(time.Second)); t0.Sub(start) < min-time.Microsecond {
			t.Fatalf("body %d arrived %v after the start, before %v", k, t0.Sub(start), min)
		}
	}
	// And no slower: the clock moved by exactly 40 intervals of 125 ms,
	// with no sender waiting for a token after the last body.
	if got := clk.Now().Sub(start); got != 5*time.Second {
		t.Errorf("the run took %v on the clock, want 5s", got)
	}
	if rep.Fire.Seconds != 5 || rep.Fire.BodiesPerSec != 41.0/5 {
		t.Errorf("phase took %v s at %v bodies/s; want 5 s, 41/5 bodies/s", rep.Fire.Seconds, rep.Fire.BodiesPerSec)
	}
}

func TestDurationStopsSending(t *testing.T) {
	clk := newFakeClock()
	h, srv := newHooks(t, clk)
	rep, err := Run(context.Background(), Options{URL: srv.URL, Token: testToken, Rate: 8, Duration: 2 * time.Second,
		Concurrency: 3, Groups: 5, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	// Bodies at 0, 0.125, ..., 1.875 s; the one due at 2 s is not sent.
	if len(h.batches) != 16 || rep.Fire.Bodies != 16 {
		t.Fatalf("%d bodies in 2 s at 8/s (report: %d), want 16", len(h.batches), rep.Fire.Bodies)
	}
}

func TestFailedAnswersAreCountedByStatus(t *testing.T) {
	h, srv := newHooks(t, newFakeClock())
	h.status = func(n int) int {
		if n%4 == 0 {
			return http.StatusServiceUnavailable
		}
		return http.StatusOK
	}
	rep, err := Run(context.Background(), Options{URL: srv.URL, Token: testToken, Bodies: 20, Batch: []int{2},
		Resolve: true, Clock: newFakeClock()})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Fire.Status["200"] != 15 || rep.Fire.Status["503"] != 5 || rep.Fire.Failed() != 5 || rep.Fire.Accepted != 30 {
		t.Errorf("firing answers %v, accepted %d", rep.Fire.Status, rep.Fire.Accepted)
	}
	// Only the 15 bodies answered 2xx are resolved.
	if rep.Resolve.Bodies != 15 {
		t.Errorf("%d resolution bodies, want 15", rep.Resolve.Bodies)
	}

	// Wrong token: 401 for every body, none resolved.
	rep, err = Run(context.Background(), Options{URL: srv.URL, Token: "wrong", Bodies: 3, Resolve: true, Clock: newFakeClock()})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Fire.Status["401"] != 3 || rep.Resolve.Bodies != 0 {
		t.Errorf("wrong token: %v, %d resolutions", rep.Fire.Status, rep.Resolve.Bodies)
	}

	// Nobody listening: counted as errors, not a failed run.
	srv.Close()
	rep, err = Run(context.Background(), Options{URL: srv.URL, Token: testToken, Bodies: 2, Clock: newFakeClock()})
	if err != nil || rep.Fire.Status["error"] != 2 || rep.Fire.Failed() != 2 {
		t.Errorf("server gone: %v %+v", err, rep)
	}
}

// incidentsJSON answers GET /api/incidents with an incident for each
// group in incs, with a channel where the value is true.
func incidentsJSON(w http.ResponseWriter, run string, incs map[int]bool) {
	var list []map[string]any
	for g, ch := range incs {
		inc := map[string]any{"id": fmt.Sprintf("INC-%d", g+1), "title": Title(run, g), "channel": nil}
		if ch {
			inc["channel"] = map[string]string{"id": fmt.Sprintf("C%d", g), "name": "inc"}
		}
		list = append(list, inc)
	}
	// An incident of another run, and one that is not a load test.
	list = append(list, map[string]any{"title": Title("other", 0), "channel": map[string]string{"id": "C9"}},
		map[string]any{"title": "Checkout is down", "channel": nil})
	json.NewEncoder(w).Encode(map[string]any{"incidents": list, "count": len(list)})
}

// The tests of the poll run the whole load in a synctest bubble, on the
// default wall clock (faked inside the bubble) and an in-memory network:
// the bubble's time moves only when every goroutine (senders, poller,
// server) waits, so each poll lands at an exact time however loaded the
// machine is. (On fakeClock, the poller's sleeps would move the senders'
// clock by as much as the scheduler let it poll before the last body was
// answered.)

func TestTimeToChannelFromPollingTheAPI(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h, url, client := newPipeHooks(t)
		received := make(chan struct{})
		var polls atomic.Int64
		h.status = func(n int) int {
			if n == 6 {
				close(received)
			}
			return http.StatusOK
		}
		h.api = func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Authorization") != "Bearer api" || r.URL.Query().Get("status") != "all" {
				http.Error(w, "unauthorized", http.StatusUnauthorized)
				return
			}
			// Answer only once every body has arrived, so that the first
			// poll sees what the bodies caused.
			<-received
			switch polls.Add(1) {
			case 1: // at 0 s
				incidentsJSON(w, "run", map[int]bool{0: true, 1: false})
			default: // from 0.1 s on; group 2 never gets a channel
				incidentsJSON(w, "run", map[int]bool{0: true, 1: true, 2: false})
			}
		}
		start := time.Now()
		rep, err := Run(context.Background(), Options{URL: url, Client: client, Token: testToken, APIToken: "api",
			Bodies: 6, Groups: 3, RunID: "run", Poll: 100 * time.Millisecond, Wait: 2 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		took := time.Since(start)
		c := rep.Channels
		if c == nil {
			t.Fatalf("no channel report: %s", rep.ChannelsSkipped)
		}
		want := Channels{Groups: 3, Incidents: 3, WithChannel: 2, PollMS: 100,
			ToIncident: Spread{P50: 0, Max: 100}, ToChannel: Spread{P50: 0, Max: 100}}
		if *c != want {
			t.Errorf("channels %+v, want %+v", *c, want)
		}
		// Every body went out at 0 s (no rate limit), so with group 2
		// never getting a channel the poll gave up at the first poll 2 s
		// after the last body: polls at 0, 0.1, ..., 2 s.
		if n := polls.Load(); n != 21 || took != 2*time.Second {
			t.Errorf("%d polls at 100 ms in a run of %v, want 21 polls in 2s", n, took)
		}
		var text strings.Builder
		rep.WriteText(&text)
		if !strings.Contains(text.String(), "3 of 3 groups got an incident, 2 a channel") ||
			!strings.Contains(text.String(), "first alert to channel:  p50 0.00 s, max 0.10 s") {
			t.Errorf("text report:\n%s", text.String())
		}
	})
}

func TestPollingStopsWhenEveryGroupHasAChannel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h, url, client := newPipeHooks(t)
		start := time.Now()
		h.api = func(w http.ResponseWriter, r *http.Request) {
			// Both incidents at once; group 0's channel at 0.5 s, group
			// 1's at 1 s.
			since := time.Since(start)
			incidentsJSON(w, "done", map[int]bool{0: since >= 500*time.Millisecond, 1: since >= time.Second})
		}
		rep, err := Run(context.Background(), Options{URL: url, Client: client, Token: testToken, APIToken: "api",
			Bodies: 4, Groups: 2, RunID: "done", Wait: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		took := time.Since(start)
		want := Channels{Groups: 2, Incidents: 2, WithChannel: 2, PollMS: 100,
			ToIncident: Spread{P50: 0, Max: 0}, ToChannel: Spread{P50: 500, Max: 1000}}
		if rep.Channels == nil || *rep.Channels != want {
			t.Errorf("channels %+v, want %+v", rep.Channels, want)
		}
		// Not at 0.5 s, when one group still had no channel, and not at
		// the end of the hour's wait, but at the poll that saw the last
		// channel: polls at 0, 0.1, ..., 1 s.
		if n := h.apiHits.Load(); n != 11 || took != time.Second {
			t.Errorf("%d polls in a run of %v, want 11 polls in 1s", n, took)
		}
	})
}

func TestPollingStopsOnAWrongAPIToken(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h, url, client := newPipeHooks(t)
		h.api = func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, `{"error":"unauthorized"}`, http.StatusUnauthorized)
		}
		start := time.Now()
		rep, err := Run(context.Background(), Options{URL: url, Client: client, Token: testToken, APIToken: "wrong",
			Bodies: 2, Wait: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Channels == nil || !strings.Contains(rep.Channels.Error, "401") || h.apiHits.Load() != 1 || rep.Channels.Incidents != 0 {
			t.Errorf("%+v after %d API requests", rep.Channels, h.apiHits.Load())
		}
		if took := time.Since(start); took != 0 {
			t.Errorf("the run took %v; a refused token is not worth waiting for", took)
		}
	})
}

func TestBadOptions(t *testing.T) {
	for _, o := range []Options{
		{Bodies: 1},  // no token
		{Token: "t"}, // neither bodies nor duration
		{Token: "t", Bodies: 1, Duration: time.Second}, // both
		{Token: "t", Bodies: 1, Source: "nagios"},      // unknown source
		{Token: "t", Bodies: 1, Rate: -1},              // negative rate
		{Token: "t", Bodies: 1, URL: "127.0.0.1:8080"}, // no scheme
		{Token: "t", Bodies: 1, Source: "generic", Batch: []int{1001}},
	} {
		if _, err := Run(context.Background(), o); err == nil {
			t.Errorf("Run(%+v) accepted bad options", o)
		}
	}
	for _, s := range []string{"", "0", "1,x", "-3", "1,,2"} {
		if _, err := ParseBatch(s); err == nil {
			t.Errorf("ParseBatch(%q) accepted it", s)
		}
	}
	if got, err := ParseBatch("1, 10,100"); err != nil || !slices.Equal(got, []int{1, 10, 100}) {
		t.Errorf("ParseBatch: %v %v", got, err)
	}
}

func TestPercentileIsNearestRank(t *testing.T) {
	var ds []time.Duration
	for i := 1; i <= 200; i++ {
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	for q, want := range map[float64]time.Duration{0.5: 100 * time.Millisecond, 0.9: 180 * time.Millisecond,
		0.99: 198 * time.Millisecond, 1: 200 * time.Millisecond} {
		if got := percentile(ds, q); got != want {
			t.Errorf("p%v = %v, want %v", q*100, got, want)
		}
	}
	if percentile(nil, 0.5) != 0 || percentile(ds[:1], 0.99) != time.Millisecond {
		t.Error("edge cases")
	}
}
