package e2e

import (
	"bytes"
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

	"github.com/warroomhq/warroom/integrations/webhook"
	"github.com/warroomhq/warroom/internal/pagerdutyfake"
	"github.com/warroomhq/warroom/internal/slackfake"
	"github.com/warroomhq/warroom/internal/webhookfake"
)

// TestCrashMidStorm kills the process with SIGKILL in the middle of an
// alert storm (2,000 alerts in 200 bodies over 8 groups, sent 16 at a
// time), while Slack answers slowly (so Slack jobs are pending), two
// postmortem pull requests are being opened against a slow GitHub, and an
// escalation runs; then starts it again on the same database. Afterwards:
// every alert whose body was answered 2xx is in the database; every
// incident, channel, message (by its metadata key), page and pull request
// exists exactly once; and the escalation's next steps fire after the
// restart, once each, on time. The page's PagerDuty trigger and webhook
// delivery hang at their receivers (which take them in first, as when an
// answer is lost) until the kill or the sender's timeout: each is sent
// again, and every page event reaches PagerDuty and the webhook receiver
// once, as far as a receiver that dedupes (by dedup key, by
// X-Warroom-Delivery) can tell: see checkDeliveries.
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

	// The page's first PagerDuty event and webhook delivery take effect
	// and then hang: in flight at the kill (PagerDuty's client waits 30 s,
	// the kill comes before the page's step 2 at 30 s), or until the
	// webhook client's 15 s timeout on a slow run.
	w.PagerDuty.FailNext(1, pagerdutyfake.Fault{Hang: true, Apply: true})
	w.Webhook.FailNext(1, webhookfake.Fault{Hang: true, Apply: true})

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

	restartedAt := time.Now()
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

	// The page exists once in PagerDuty, and its events and webhook
	// deliveries arrived once each (see checkDeliveries); each pull
	// request exists once.
	dedup := fmt.Sprintf("warroom-inc-%d", paged.Number)
	if a := w.PagerDuty.Alerts(dedup); len(a) != 1 {
		t.Errorf("%d PagerDuty alerts for %s, want 1", len(a), dedup)
	}
	checkDeliveries(t, w, paged, killedAt, restartedAt)
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

// attempt is one request of a delivery as its receiver saw it.
type attempt struct {
	at time.Time
	// answered is false when the receiver gave no answer (an injected hang
	// that ended with a dropped connection): Warroom cannot know that it
	// got through, and must send it again.
	answered bool
	what     string
}

// redelivered checks the requests of one delivery, in order of arrival.
// Warroom's deliveries are at-least-once: a job is marked done only after
// its receiver's 2xx answer, so a request is sent again after one whose
// answer Warroom did not read. That is one that got no answer, or one in
// flight at the kill: answered, but the process died before it recorded the
// job done (it arrived before the kill and its repeat after the restart).
// Any other repeat is a duplicate Warroom should not have sent. It returns
// the number of repeats of answered requests across the kill, and the
// duplicates.
func redelivered(as []attempt, killedAt, restartedAt time.Time) (acrossKill int, bad []string) {
	for i := 1; i < len(as); i++ {
		prev, cur := as[i-1], as[i]
		switch {
		case !prev.answered:
		case prev.at.Before(killedAt) && cur.at.After(restartedAt):
			acrossKill++
		default:
			bad = append(bad, fmt.Sprintf("%s sent again at %s after an answer at %s (kill at %s)",
				cur.what, cur.at.Format("15:04:05.000"), prev.at.Format("15:04:05.000"), killedAt.Format("15:04:05.000")))
		}
	}
	return acrossKill, bad
}

// arrivals describes attempts by their arrival relative to the kill, as
// "-8.1s (no answer), +0.2s".
func arrivals(as []attempt, killedAt time.Time) string {
	var out []string
	for _, a := range as {
		s := fmt.Sprintf("%+.1fs", a.at.Sub(killedAt).Seconds())
		if !a.answered {
			s += " (no answer)"
		}
		out = append(out, s)
	}
	return fmt.Sprintf("%d requests, at %s from the kill", len(as), strings.Join(out, ", "))
}

// checkDeliveries checks that every event of the crash test's page reached
// PagerDuty and the page webhook's receiver exactly once, as a receiver
// that dedupes sees it. "Exactly once" over HTTP across a kill -9 is
// at-least-once sending with deduplication at the receiver: PagerDuty
// merges events by dedup key (one alert), and a webhook receiver ignores an
// X-Warroom-Delivery it has processed (the README asks it to; webhookfake
// does). So:
//
//   - each expected event was processed once: a trigger per dedup key in
//     PagerDuty; page.triggered (step 1) and page.escalated steps 2 and 3
//     (round 1) at the webhook, each under its own stable delivery ID
//     (a redelivery under another ID would be processed twice);
//   - a request is repeated only as redelivered allows: after a lost
//     answer (the injected hangs), or once per receiver for a request in
//     flight at the kill (a page's deliveries go one at a time);
//   - the injected hangs were sent again (nothing is dropped), a webhook
//     delivery with the same body (so the same signature).
func checkDeliveries(t *testing.T, w *Warroom, paged Incident, killedAt, restartedAt time.Time) {
	t.Helper()
	// PagerDuty: the events of each (dedup key, action).
	pd := map[string][]attempt{}
	var pdKeys []string
	for _, e := range w.PagerDuty.Events() {
		if e.Status == http.StatusBadRequest {
			t.Errorf("PagerDuty refused an event: %v %s", e.Errors, e.Body)
			continue
		}
		k := e.DedupKey + " " + e.Action
		if _, ok := pd[k]; !ok {
			pdKeys = append(pdKeys, k)
		}
		pd[k] = append(pd[k], attempt{at: e.Received, answered: !(e.Faulted && e.Status == 0), what: "PagerDuty " + k})
	}
	dedup := fmt.Sprintf("warroom-inc-%d", paged.Number)
	if want := []string{dedup + " trigger"}; !slices.Equal(pdKeys, want) {
		t.Errorf("PagerDuty events %v, want %v", pdKeys, want)
	}
	pdAcross := 0
	for _, k := range pdKeys {
		across, bad := redelivered(pd[k], killedAt, restartedAt)
		pdAcross += across
		for _, b := range bad {
			t.Error(b)
		}
		t.Logf("PagerDuty %s: %s", k, arrivals(pd[k], killedAt))
	}
	if as := pd[dedup+" trigger"]; len(as) < 2 || as[0].answered {
		t.Errorf("PagerDuty's first trigger hung until the kill and was not sent again: %+v", as)
	}
	if pdAcross > 1 {
		t.Errorf("%d PagerDuty events repeated across the kill after an answer, want at most 1 (one in flight)", pdAcross)
	}
	if a, ok := w.PagerDuty.Alert(dedup); !ok || a.State != pagerdutyfake.StateTriggered {
		t.Errorf("PagerDuty's alert %s: %+v", dedup, a)
	}

	// The webhook: the requests of each delivery ID.
	type step struct {
		event       string
		step, round int
	}
	hooks := map[string][]attempt{}
	bodies := map[string][]byte{}
	for _, r := range w.Webhook.Requests() {
		if r.Refused || (!r.Faulted && r.Status != http.StatusOK) {
			t.Errorf("the webhook receiver answered %d to %s %s (refused: %v)", r.Status, r.Event, r.DeliveryID, r.Refused)
			continue
		}
		if b, ok := bodies[r.DeliveryID]; ok && !bytes.Equal(b, r.Body) {
			t.Errorf("webhook delivery %s sent again with another body:\n%s\n%s", r.DeliveryID, b, r.Body)
		}
		bodies[r.DeliveryID] = r.Body
		hooks[r.DeliveryID] = append(hooks[r.DeliveryID], attempt{at: r.At, answered: !(r.Faulted && r.Status == 0),
			what: "webhook delivery " + r.DeliveryID})
	}
	got := map[step]int{}
	for _, d := range w.Webhook.Deliveries() {
		var p webhook.PagePayload
		if err := d.Decode(&p); err != nil || p.Event != d.Event || p.Incident.ID != int64(paged.Number) {
			t.Errorf("webhook delivery %s (%s): %+v %v; want one of %s", d.DeliveryID, d.Event, p, err, paged.ID)
			continue
		}
		got[step{p.Event, p.Page.Step, p.Page.Round}]++
	}
	want := map[step]int{{webhook.EventPageTriggered, 1, 1}: 1, {webhook.EventPageEscalated, 2, 1}: 1, {webhook.EventPageEscalated, 3, 1}: 1}
	if !maps.Equal(got, want) {
		t.Errorf("page events delivered to the webhook (by delivery ID): %v, want %v", got, want)
	}
	hookAcross := 0
	for _, id := range slices.Sorted(maps.Keys(hooks)) {
		across, bad := redelivered(hooks[id], killedAt, restartedAt)
		hookAcross += across
		for _, b := range bad {
			t.Error(b)
		}
		t.Logf("webhook %s: %s", id, arrivals(hooks[id], killedAt))
	}
	if hookAcross > 1 {
		t.Errorf("%d webhook deliveries repeated across the kill after an answer, want at most 1 (one in flight)", hookAcross)
	}
	hung := 0
	for _, as := range hooks {
		if !as[0].answered {
			hung++
			if len(as) < 2 {
				t.Errorf("the webhook delivery that hung was not sent again: %+v", as)
			}
		}
	}
	if hung != 1 {
		t.Errorf("%d webhook deliveries hung, want 1 (the injected fault)", hung)
	}
}
