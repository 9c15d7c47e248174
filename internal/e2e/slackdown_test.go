package e2e

// Slack down (issue 9, "Faults"): the Slack fake answers 5xx, then stops
// answering, for a while. Incidents are still declared and recorded,
// PagerDuty pages still go out (also while Slack hangs: Slack's jobs have a
// lane of their own that leaves a worker free), and when Slack is back
// every pending message arrives, in order per channel, once.

import (
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/warroomhq/warroom/internal/slackfake"
)

// postKey is the key Warroom puts in a message's metadata, "" if none.
func postKey(m slackfake.Message) string {
	if m.Metadata == nil {
		return ""
	}
	k, _ := m.Metadata.EventPayload["key"].(string)
	return k
}

// checkOncePerKeyInOrder checks every message Slack holds: no metadata key
// is posted twice, and in each channel the timeline posts
// ("INC-n:event:<id>") come in the order of their timeline events. It
// returns how many timeline posts it checked.
func checkOncePerKeyInOrder(t *testing.T, w *Warroom) (timelinePosts int) {
	t.Helper()
	seen := map[string]string{} // key → channel and ts
	for _, c := range w.Slack.Channels() {
		msgs := w.Slack.Messages(c.ID)
		sort.SliceStable(msgs, func(i, j int) bool { return tsLess(msgs[i].TS, msgs[j].TS) })
		lastEvent := map[string]int64{} // incident → last event ID posted
		for _, m := range msgs {
			k := postKey(m)
			if k == "" {
				continue
			}
			if where, dup := seen[k]; dup {
				t.Errorf("message %q posted twice: %s and #%s %s", k, where, c.Name, m.TS)
			}
			seen[k] = "#" + c.Name + " " + m.TS
			inc, rest, ok := strings.Cut(k, ":event:")
			if !ok {
				continue
			}
			id, err := strconv.ParseInt(rest, 10, 64)
			if err != nil {
				t.Errorf("message key %q: %v", k, err)
				continue
			}
			timelinePosts++
			if id <= lastEvent[inc] {
				t.Errorf("#%s: %s posted after the post of event %d: out of order", c.Name, k, lastEvent[inc])
			}
			lastEvent[inc] = id
		}
	}
	return timelinePosts
}

// tsLess orders Slack timestamps ("1795296636.000002").
func tsLess(a, b string) bool {
	as, au, _ := strings.Cut(a, ".")
	bs, bu, _ := strings.Cut(b, ".")
	if len(as) != len(bs) {
		return len(as) < len(bs)
	}
	if as != bs {
		return as < bs
	}
	return au < bu
}

// faultedCalls counts the calls the Slack fake answered with a fault.
func faultedCalls(w *Warroom, methods ...string) int {
	n := 0
	for _, c := range w.Slack.Calls(methods...) {
		if c.Faulted {
			n++
		}
	}
	return n
}

func TestSlackDown(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary for about 15 s")
	}
	t.Parallel()
	w := Start(t, Options{Config: faultConfig(t)})
	alice := w.Users["alice"]

	// 1. Slack answers 503 to everything. An alert declares an incident:
	// it is recorded, and PagerDuty is paged, while Slack is down.
	w.Slack.Down(slackfake.Fault{Status: http.StatusServiceUnavailable})
	if st, body, err := w.PostAlerts("alertmanager", AlertmanagerBody("g-down-1", "firing", time.Now().Add(-time.Minute),
		Alert{Fingerprint: "down-1", Labels: map[string]string{"alertname": "CheckoutDown"}})); err != nil || st != http.StatusOK {
		t.Fatalf("the alert while Slack is down: %d %s %v", st, body, err)
	}
	Eventually(t, 15*time.Second, "INC-1 is recorded and paged through PagerDuty while Slack is down", func() (bool, string) {
		incs := w.Incidents()
		acts := w.PagerDuty.Actions("warroom-inc-1")
		return len(incs) == 1 && slices.Contains(acts, "trigger"), fmt.Sprintf("%s; PagerDuty %v", summary(incs), acts)
	})
	Eventually(t, 15*time.Second, "Warroom tried Slack and was refused", func() (bool, string) {
		n := faultedCalls(w, "conversations.create")
		return n >= 2, fmt.Sprintf("%d refused conversations.create", n)
	})
	if began, ended := w.Slack.Outage(); began.IsZero() || !ended.IsZero() {
		t.Fatalf("the outage: %v to %v", began, ended)
	}
	if chans := w.Slack.Channels(); slices.ContainsFunc(chans, func(c slackfake.Channel) bool { return strings.HasPrefix(c.Name, "inc-") }) {
		t.Fatalf("an incident channel exists while Slack is down: %+v", chans)
	}

	// 2. Slack is back: the channel is created, announced and set up, and
	// alice's page reaches her by DM, once.
	w.Slack.Recover()
	var inc Incident
	Eventually(t, 30*time.Second, "INC-1 gets its channel and announcement once Slack is back", func() (bool, string) {
		incs := w.Incidents()
		if len(incs) != 1 || incs[0].Channel.ID == "" {
			return false, summary(incs)
		}
		inc = incs[0]
		return anyText(w.Slack.Messages("incidents"), inc.ID), texts(w.Slack.Messages("incidents"))
	})
	Eventually(t, 30*time.Second, "alice's page reaches her by DM", func() (bool, string) {
		_, _, ok := FindButton(w.Slack.DirectMessages(alice), "page_ack")
		return ok, texts(w.Slack.DirectMessages(alice))
	})
	settled(t, w, 30*time.Second)
	checkOncePerKeyInOrder(t, w)
	posts := len(w.Slack.Messages(inc.Channel.ID))

	// 3. Slack stops answering: calls hang. People keep working in the
	// channel (slash commands need no Slack call), and a second alert
	// declares INC-2, which is recorded and paged.
	w.Slack.Hang(http.StatusGatewayTimeout)
	w.Slack.Join(inc.Channel.ID, alice)
	for _, text := range []string{"note alpha: the load balancer drops requests", "status identified",
		"note bravo: rolled back the config", "sev 2", "note charlie: error rate is falling", "status monitoring"} {
		if resp := w.Command(alice, inc.Channel.ID, text); resp.Status != http.StatusOK || strings.Contains(string(resp.Body), ":warning:") {
			t.Fatalf("/incident %s while Slack hangs: %d %s", text, resp.Status, resp.Body)
		}
	}
	if st, body, err := w.PostAlerts("alertmanager", AlertmanagerBody("g-down-2", "firing", time.Now().Add(-time.Minute),
		Alert{Fingerprint: "down-2", Labels: map[string]string{"alertname": "PaymentsDown"}})); err != nil || st != http.StatusOK {
		t.Fatalf("the alert while Slack hangs: %d %s %v", st, body, err)
	}
	Eventually(t, 15*time.Second, "INC-2 is recorded while Slack hangs", func() (bool, string) {
		incs := w.Incidents()
		return len(incs) == 2, summary(incs)
	})
	// Its page goes out while Slack still hangs: Slack's calls hold at
	// most all workers but one (the Slack job lane).
	Eventually(t, 15*time.Second, "INC-2 is paged through PagerDuty while Slack hangs", func() (bool, string) {
		acts := w.PagerDuty.Actions("warroom-inc-2")
		return slices.Contains(acts, "trigger"), fmt.Sprintf("PagerDuty %v", acts)
	})
	var got Incident
	w.API("/api/incidents/"+inc.ID, &got)
	if got.Status != "monitoring" || got.Severity != "sev2" {
		t.Fatalf("INC-1 while Slack hangs: %s %s, want monitoring and sev2", got.Status, got.Severity)
	}
	if n := len(w.Slack.Messages(inc.Channel.ID)); n != posts {
		t.Fatalf("%d messages in #%s while Slack hangs, was %d", n, inc.Channel.Name, posts)
	}

	// 4. Slack is back: every pending message arrives, in order, once.
	w.Slack.Recover()
	Eventually(t, 30*time.Second, "the notes and changes made while Slack hung are posted", func() (bool, string) {
		msgs := w.Slack.Messages(inc.Channel.ID)
		for _, want := range []string{"alpha:", "bravo:", "charlie:", "to *identified*", "to *monitoring*"} {
			if !anyText(msgs, want) {
				return false, "no " + want + " yet: " + texts(msgs)
			}
		}
		return true, ""
	})
	Eventually(t, 30*time.Second, "INC-2 gets its channel and its PagerDuty page once Slack is back", func() (bool, string) {
		incs := w.Incidents()
		acts := w.PagerDuty.Actions("warroom-inc-2")
		return len(incs) == 2 && incs[0].Channel.ID != "" && incs[1].Channel.ID != "" && slices.Equal(acts, []string{"trigger"}),
			fmt.Sprintf("%s; PagerDuty %v", summary(incs), acts)
	})
	settled(t, w, 30*time.Second)
	if n := checkOncePerKeyInOrder(t, w); n < 6 {
		t.Errorf("%d timeline posts with their keys, want the 6 changes made while Slack hung at least", n)
	}
	msgs := w.Slack.Messages(inc.Channel.ID)
	order := []string{}
	for _, m := range msgs {
		for _, want := range []string{"alpha:", "to *identified*", "bravo:", "charlie:", "to *monitoring*"} {
			if strings.Contains(m.Text, want) {
				order = append(order, want)
			}
		}
	}
	if want := []string{"alpha:", "to *identified*", "bravo:", "charlie:", "to *monitoring*"}; !slices.Equal(order, want) {
		t.Errorf("#%s shows %v, want %v:\n%s", inc.Channel.Name, order, want, texts(msgs))
	}
	checkServing(t, w)
	if fivexx, panicked := serverErrors(t, w); len(fivexx) > 0 || panicked {
		t.Errorf("5xx answers %v, panic in the log: %v", fivexx, panicked)
	}
}
