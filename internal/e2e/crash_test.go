package e2e

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/warroomhq/warroom/internal/slackfake"
)

// TestCrashMidStorm kills the process with SIGKILL in the middle of an
// alert storm (2,000 alerts in 200 bodies over 8 groups, sent 16 at a
// time), while Slack answers slowly (so Slack jobs are pending), two
// postmortem pull requests are being opened against a slow GitHub, and an
// escalation runs; then starts it again on the same database. Afterwards:
// every alert whose body was answered 2xx is in the database; every
// incident, channel, message (by its metadata key), page and pull request
// exists exactly once; and the escalation's next steps fire after the
// restart, once each, on time.
func TestCrashMidStorm(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary through a storm and a crash (about 30 s)")
	}
	// Steps at 0s, 30s and 40s, no repeat: the crash falls between the
	// first and the second, with room for a slow machine (the set-up before
	// the kill waits on the wall clock for channels, a DM and a slow GitHub).
	w := Start(t, Options{Config: Config(t, "after: 4s", "after: 30s", "after: 8s", "after: 40s", "repeat: 2", "repeat: 0")})
	alice, bob, dave := w.Users["alice"], w.Users["bob"], w.Users["dave"]
	start := time.Now().Add(-time.Minute)
	search := func(name string) Alert {
		return Alert{Fingerprint: "fp-" + name, Labels: map[string]string{"alertname": name, "service": "search"}}
	}

	// Before the storm: a checkout incident whose page escalates, and two
	// search incidents to resolve.
	for _, b := range [][]byte{
		AlertmanagerBody("g-page", "firing", start, Alert{Fingerprint: "fp-page"}),
		AlertmanagerBody("g-pm-1", "firing", start, search("IndexStale1")),
		AlertmanagerBody("g-pm-2", "firing", start, search("IndexStale2")),
	} {
		if st, body, err := w.PostAlerts("alertmanager", b); err != nil || st != 200 {
			t.Fatalf("posting an alert: %d %s %v", st, body, err)
		}
	}
	byTitle := map[string]Incident{}
	Eventually(t, 20*time.Second, "three incidents with channels", func() (bool, string) {
		incs := w.Incidents()
		for _, inc := range incs {
			if inc.Channel.ID == "" {
				return false, summary(incs)
			}
			byTitle[inc.Title] = inc
		}
		return len(incs) == 3, summary(incs)
	})
	paged, pm1, pm2 := findTitle(t, byTitle, "CheckoutDown"), findTitle(t, byTitle, "IndexStale1"), findTitle(t, byTitle, "IndexStale2")
	Eventually(t, 10*time.Second, "alice is paged (step 1)", func() (bool, string) {
		return len(w.Slack.DirectMessages(alice)) == 1, texts(w.Slack.DirectMessages(alice))
	})

	// Slack and GitHub slow down; the two search incidents are resolved,
	// which opens their postmortems' pull requests (sev1).
	w.Slack.SetFaultFunc(func(string, int) slackfake.Fault { return slackfake.Fault{Delay: 100 * time.Millisecond} })
	w.SetGitHubLatency(300 * time.Millisecond)
	for _, inc := range []Incident{pm1, pm2} {
		if resp := w.Command(alice, inc.Channel.ID, "resolve index rebuilt"); resp.Status != 200 {
			t.Fatalf("/incident resolve in %s: %d %s", inc.ID, resp.Status, resp.Body)
		}
	}
	Eventually(t, 10*time.Second, "a postmortem pull request is under way", func() (bool, string) {
		for _, c := range w.GitHub.Calls() {
			if strings.Contains(c.Path, "/repos/acme/postmortems/") {
				return true, ""
			}
		}
		return false, "no call to acme/postmortems"
	})

	// The storm: 8 groups of 25 bodies of 10 alerts, 16 senders. The
	// process is killed once half the bodies are answered.
	const groups, bodiesPerGroup, alertsPerBody, senders = 8, 25, 10, 16
	type storm struct {
		group int
		body  []byte
		fps   []string
	}
	var bodies []storm
	for b := range bodiesPerGroup {
		for g := range groups {
			s := storm{group: g}
			var alerts []Alert
			for a := range alertsPerBody {
				fp := fmt.Sprintf("fp-storm-%d-%d-%d", g, b, a)
				s.fps = append(s.fps, fp)
				alerts = append(alerts, Alert{Fingerprint: fp, Labels: map[string]string{
					"alertname": fmt.Sprintf("SearchShard%dDown", g), "service": "search", "shard": strconv.Itoa(b*alertsPerBody + a)}})
			}
			s.body = AlertmanagerBody(fmt.Sprintf("g-storm-%d", g), "firing", start, alerts...)
			bodies = append(bodies, s)
		}
	}
	var (
		next, answered atomic.Int64
		stop           atomic.Bool
		mu             sync.Mutex
		committed      = map[int][]string{} // group -> fingerprints of bodies answered 2xx
		refused        []string             // answers other than 2xx, while running
		wg             sync.WaitGroup
		half           = make(chan struct{})
		halfOnce       sync.Once
	)
	for range senders {
		wg.Go(func() {
			for !stop.Load() {
				i := int(next.Add(1)) - 1
				if i >= len(bodies) {
					return
				}
				st, body, err := w.PostAlerts("alertmanager", bodies[i].body)
				if err != nil {
					continue // the process died with the request in flight
				}
				mu.Lock()
				if st/100 == 2 {
					committed[bodies[i].group] = append(committed[bodies[i].group], bodies[i].fps...)
				} else {
					refused = append(refused, fmt.Sprintf("%d %s", st, body))
				}
				mu.Unlock()
				if answered.Add(1) >= int64(len(bodies)/2) {
					halfOnce.Do(func() { close(half) })
				}
			}
		})
	}
	select {
	case <-half:
	case <-time.After(30 * time.Second):
		t.Fatalf("half the storm was not answered within 30s (%d bodies)", answered.Load())
	}
	w.Kill()
	killedAt := time.Now()
	stop.Store(true)
	wg.Wait()
	mu.Lock()
	nCommitted := 0
	for _, fps := range committed {
		nCommitted += len(fps)
	}
	t.Logf("killed after %d of %d bodies were answered (%d alerts answered 2xx); at the kill Slack had %d calls, "+
		"acme/postmortems %d pull requests, %d refused answers", answered.Load(), len(bodies), nCommitted,
		len(w.Slack.Calls()), len(w.GitHub.PullRequests("acme/postmortems")), len(refused))
	if len(refused) > 0 {
		t.Errorf("storm bodies refused while the process ran: %v", refused[:min(3, len(refused))])
	}
	mu.Unlock()

	w.Restart()
	t.Logf("restarted %s after the kill", time.Since(killedAt).Round(time.Millisecond))
	w.Slack.SetFaultFunc(func(string, int) slackfake.Fault { return slackfake.Fault{Delay: 20 * time.Millisecond} })
	w.SetGitHubLatency(50 * time.Millisecond)

	// Everything settles: one incident per storm group with an answered
	// body, every channel, both pull requests, the escalation's last step
	// and no job left.
	var incs []Incident
	Eventually(t, 90*time.Second, "the work of the storm and the escalation is done", func() (bool, string) {
		incs = w.Incidents()
		if len(incs) != 3+len(committed) {
			return false, fmt.Sprintf("%d incidents, want %d: %s", len(incs), 3+len(committed), summary(incs))
		}
		for _, inc := range incs {
			if inc.Channel.ID == "" {
				return false, inc.ID + " has no channel"
			}
		}
		if n := count(w.Timeline(paged.ID), "page.escalated"); n < 2 {
			return false, fmt.Sprintf("%d escalations of %s", n, paged.ID)
		}
		if n := len(w.GitHub.PullRequests("acme/postmortems")); n < 2 {
			return false, fmt.Sprintf("%d pull requests", n)
		}
		pending, running := jobGauges(w)
		return pending == "0" && running == "0", fmt.Sprintf("jobs pending %v, running %v", pending, running)
	})

	// Every alert answered 2xx is in the database, in its group's one
	// incident.
	stormIncidents := map[int]Incident{}
	for _, inc := range incs {
		var g int
		if _, err := fmt.Sscanf(inc.Title, "SearchShard%dDown", &g); err == nil {
			if prev, dup := stormIncidents[g]; dup {
				t.Errorf("group %d has two incidents: %s and %s", g, prev.ID, inc.ID)
			}
			stormIncidents[g] = inc
		}
	}
	for g, fps := range committed {
		inc, ok := stormIncidents[g]
		if !ok {
			t.Errorf("group g-storm-%d had %d alerts answered 2xx and no incident", g, len(fps))
			continue
		}
		stored := map[string]bool{}
		for _, a := range w.Alerts(inc.ID).Alerts {
			stored[a.Fingerprint] = true
		}
		missing := 0
		for _, fp := range fps {
			if !stored[fp] {
				missing++
			}
		}
		if missing > 0 {
			t.Errorf("%s (g-storm-%d): %d of the %d alerts answered 2xx are not in the database", inc.ID, g, missing, len(fps))
		}
	}

	// Every channel exists once: one created per incident, each the
	// incident's.
	if n := carriedOut(w.Slack, "conversations.create"); n != len(incs) {
		t.Errorf("%d channels created in Slack for %d incidents", n, len(incs))
	}
	for _, inc := range incs {
		var same []string
		for _, ch := range w.Slack.Channels() {
			if strings.HasPrefix(ch.Name, fmt.Sprintf("inc-%d-", inc.Number)) {
				same = append(same, ch.ID)
			}
		}
		if len(same) != 1 || same[0] != inc.Channel.ID {
			t.Errorf("%s: channels %v in Slack, the API says %s", inc.ID, same, inc.Channel.ID)
		}
	}

	// Every message exists once, by its metadata key, in channels and DMs;
	// every post Slack accepted is one of them.
	keyed, posts := 0, carriedOut(w.Slack, "chat.postMessage")
	var all []slackfake.Message
	for _, ch := range w.Slack.Channels() {
		all = append(all, w.Slack.Messages(ch.ID)...)
	}
	for _, u := range slices.Sorted(maps.Values(w.Users)) {
		all = append(all, w.Slack.DirectMessages(u)...)
	}
	seen := map[string]int{}
	for _, m := range all {
		if m.Metadata == nil || m.User != w.Slack.BotUser() {
			continue
		}
		keyed++
		seen[m.Channel+" "+fmt.Sprint(m.Metadata.EventPayload["key"])]++
	}
	for k, n := range seen {
		if n > 1 {
			t.Errorf("message %s posted %d times", k, n)
		}
	}
	if keyed != posts {
		t.Errorf("%d messages with a key, %d posts accepted by Slack", keyed, posts)
	}
	for _, inc := range incs {
		if !anyText(w.Slack.Messages("incidents"), inc.ID) {
			t.Errorf("%s was not announced in #incidents", inc.ID)
		}
	}

	// The page exists once in PagerDuty; each pull request once.
	dedup := fmt.Sprintf("warroom-inc-%d", paged.Number)
	if a := w.PagerDuty.Alerts(dedup); len(a) != 1 {
		t.Errorf("%d PagerDuty alerts for %s, want 1", len(a), dedup)
	}
	prs := w.GitHub.PullRequests("acme/postmortems")
	if len(prs) != 2 {
		t.Errorf("%d postmortem pull requests, want 2: %+v", len(prs), prs)
	}
	for _, inc := range []Incident{pm1, pm2} {
		var got Incident
		w.API("/api/incidents/"+inc.ID, &got)
		n := 0
		for _, pr := range prs {
			if strings.Contains(pr.Title, inc.ID+" ") || strings.Contains(pr.Title, inc.ID+":") {
				n++
			}
		}
		if n != 1 || got.Postmortem == nil || got.Postmortem.PullRequest == 0 {
			t.Errorf("%s: %d pull requests name it; the API's postmortem %+v", inc.ID, n, got.Postmortem)
		}
	}

	// The escalation went on: steps 2 and 3 each ran once, after their
	// deadline and within 10 s of it, and their people were notified once.
	steps := map[float64]int{}
	for _, ev := range w.Timeline(paged.ID) {
		if ev.Kind != "page.escalated" {
			continue
		}
		step, _ := ev.Data["step"].(float64)
		steps[step]++
		at, err1 := time.Parse(time.RFC3339Nano, ev.At)
		due, err2 := time.Parse(time.RFC3339, fmt.Sprint(ev.Data["due_at"]))
		if err1 != nil || err2 != nil {
			t.Errorf("page.escalated at %q due %q: %v %v", ev.At, ev.Data["due_at"], err1, err2)
			continue
		}
		late := at.Sub(due)
		if due.Before(killedAt) {
			t.Errorf("step %v was due at %s, before the kill at %s: the crash fell elsewhere than planned", step, due, killedAt)
		}
		if late < -time.Second || late > 10*time.Second {
			t.Errorf("step %v ran %s after its deadline", step, late)
		}
	}
	if steps[2] != 1 || steps[3] != 1 || len(steps) != 2 {
		t.Errorf("escalation steps run: %v, want steps 2 and 3 once each", steps)
	}
	if n := len(w.Slack.DirectMessages(bob)); n != 1 {
		t.Errorf("bob got %d DMs, want 1 (step 2)", n)
	}
	if n := len(w.Slack.DirectMessages(dave)); n != 1 {
		t.Errorf("dave got %d DMs, want 1 (step 3)", n)
	}
	if n := len(w.Slack.DirectMessages(alice)); n != 2 {
		t.Errorf("alice got %d DMs, want 2 (steps 1 and 2)", n)
	}
	if n := len(w.Slack.Messages("payments")); n != 1 {
		t.Errorf("#payments has %d messages, want 1 (step 3): %s", n, texts(w.Slack.Messages("payments")))
	}
	w.Stop()
}

func findTitle(t *testing.T, byTitle map[string]Incident, part string) Incident {
	t.Helper()
	for title, inc := range byTitle {
		if strings.Contains(title, part) {
			return inc
		}
	}
	t.Fatalf("no incident titled with %q among %v", part, slices.Collect(maps.Keys(byTitle)))
	return Incident{}
}

// jobGauges reads warroom_jobs{state="pending"} and {state="running"}
// from /metrics.
func jobGauges(w *Warroom) (pending, running string) {
	st, body, err := w.HTTP(http.MethodGet, "/metrics", nil, nil)
	if err != nil || st != 200 {
		return "?", "?"
	}
	for _, line := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, `warroom_jobs{state="pending"} `); ok {
			pending = v
		}
		if v, ok := strings.CutPrefix(line, `warroom_jobs{state="running"} `); ok {
			running = v
		}
	}
	return pending, running
}

// carriedOut counts the calls of method that Slack carried out: answered
// ok, including those whose answer was only delayed (CountCalls leaves out
// every call a fault touched).
func carriedOut(f *slackfake.Fake, method string) int {
	n := 0
	for _, c := range f.Calls(method) {
		if c.Status == http.StatusOK && c.Error == "" {
			n++
		}
	}
	return n
}
