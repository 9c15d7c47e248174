package e2e

// Rate limits (issue 9, "Faults"): Slack, GitHub and PagerDuty answer 429
// with Retry-After. Nothing is dropped, and Warroom waits as told: the
// next call of the same method (Slack) or route (GitHub) or to the same
// endpoint (PagerDuty) comes no sooner than Retry-After after the 429.

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/warroomhq/warroom/internal/githubfake"
	"github.com/warroomhq/warroom/internal/pagerdutyfake"
	"github.com/warroomhq/warroom/internal/slackfake"
)

// retryAfter is what the fakes tell Warroom to wait.
const retryAfter = 2 * time.Second

// waitSlack is how much sooner than Retry-After a call may come: the
// fakes stamp arrival times, not departure times.
const waitSlack = 100 * time.Millisecond

// inFlight is how soon after a 429 a call may arrive because it was
// already on its way, sent by another worker before the 429 reached
// Warroom: no client can take it back.
const inFlight = 500 * time.Millisecond

// checkWaited checks the arrival times of the calls after a 429 (at
// limited): one came (nothing was dropped), and none came sooner than
// retryAfter, less waitSlack, except those already in flight.
func checkWaited(t *testing.T, what string, limited time.Time, after []time.Time) {
	t.Helper()
	if limited.IsZero() || len(after) == 0 {
		t.Errorf("%s: no 429 (%v) or no call after it (%v)", what, limited, after)
		return
	}
	for _, at := range after {
		switch waited := at.Sub(limited); {
		case waited < inFlight:
			t.Logf("%s: a call %v after the 429 was already in flight", what, waited)
		case waited < retryAfter-waitSlack:
			t.Errorf("%s: a call came %v after the 429, want at least Retry-After %v", what, waited, retryAfter)
		default:
			t.Logf("%s: the next call came %v after the 429 (Retry-After %v)", what, waited.Round(time.Millisecond), retryAfter)
			return
		}
	}
}

// after429 returns the arrival of the first 429 among calls and the
// arrivals of the calls after it.
func after429(statuses []int, arrivals []time.Time) (limited time.Time, after []time.Time) {
	for i, st := range statuses {
		switch {
		case limited.IsZero() && st == http.StatusTooManyRequests:
			limited = arrivals[i]
		case !limited.IsZero():
			after = append(after, arrivals[i])
		}
	}
	return limited, after
}

func TestRateLimits(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary for about 10 s")
	}
	t.Parallel()
	w := Start(t, Options{Config: faultConfig(t)})
	alice := w.Users["alice"]
	const repo = "acme/checkout"
	now := time.Now().UTC().Truncate(time.Second)
	w.GitHub.AddDeployment(repo, githubfake.Deployment{Ref: "v1.4.2", SHA: "c0ffee1234567890abcdef1234567890abcdef12",
		Environment: "production", Creator: "deploy-bot", CreatedAt: now.Add(-24 * time.Minute),
		Statuses: []githubfake.DeploymentStatus{{State: "success", CreatedAt: now.Add(-20 * time.Minute)}}})

	// The first call of each kind is rate limited.
	slack429 := slackfake.Fault{Status: http.StatusTooManyRequests, RetryAfter: retryAfter}
	w.Slack.FailNext("conversations.create", 1, slack429)
	w.Slack.FailNext("chat.postMessage", 1, slack429)
	w.GitHub.FailNext(githubfake.RouteListDeployments, githubfake.Fault{Status: http.StatusTooManyRequests,
		Header: http.Header{"Retry-After": {fmt.Sprint(int(retryAfter / time.Second))}}})
	w.PagerDuty.FailNext(1, pagerdutyFault429())

	if st, body, err := w.PostAlerts("alertmanager", AlertmanagerBody("g-limits", "firing", now.Add(-time.Minute),
		Alert{Fingerprint: "limits-1", Labels: map[string]string{"alertname": "CheckoutDown"}})); err != nil || st != http.StatusOK {
		t.Fatalf("the alert: %d %s %v", st, body, err)
	}

	// Nothing is dropped: the channel, its announcement, alice's page by
	// DM and PagerDuty, and the recent deploys from GitHub all arrive.
	var inc Incident
	Eventually(t, 30*time.Second, "INC-1 gets its channel and announcement", func() (bool, string) {
		incs := w.Incidents()
		if len(incs) != 1 || incs[0].Channel.ID == "" {
			return false, summary(incs)
		}
		inc = incs[0]
		return anyText(w.Slack.Messages("incidents"), inc.ID), texts(w.Slack.Messages("incidents"))
	})
	Eventually(t, 30*time.Second, "alice is paged by DM and through PagerDuty", func() (bool, string) {
		_, _, dm := FindButton(w.Slack.DirectMessages(alice), "page_ack")
		acts := w.PagerDuty.Actions("warroom-inc-1")
		return dm && slices.Equal(acts, []string{"trigger"}), fmt.Sprintf("DM %v, PagerDuty %v", dm, acts)
	})
	Eventually(t, 30*time.Second, "the channel shows the recent deploys read from GitHub", func() (bool, string) {
		msgs := w.Slack.Messages(inc.Channel.ID)
		for _, m := range msgs {
			if strings.Contains(m.Text+string(m.Blocks), "v1.4.2") {
				return true, ""
			}
		}
		return false, texts(msgs)
	})
	settled(t, w, 30*time.Second)
	if n := len(slices.DeleteFunc(w.Slack.Channels(), func(c slackfake.Channel) bool { return !strings.HasPrefix(c.Name, "inc-") })); n != 1 {
		t.Errorf("%d incident channels, want 1", n)
	}
	checkOncePerKeyInOrder(t, w)
	if failed := metric(t, w, "warroom_jobs")[`state="failed"`]; failed != 0 {
		t.Errorf("%v jobs failed", failed)
	}

	// Warroom waited as told.
	for _, method := range []string{"conversations.create", "chat.postMessage"} {
		var sts []int
		var ats []time.Time
		for _, c := range w.Slack.Calls(method) {
			sts, ats = append(sts, c.Status), append(ats, c.Received)
		}
		limited, after := after429(sts, ats)
		checkWaited(t, "Slack "+method, limited, after)
	}
	var sts []int
	var ats []time.Time
	for _, c := range w.GitHub.Calls(githubfake.RouteListDeployments) {
		sts, ats = append(sts, c.Status), append(ats, c.Received)
	}
	limited, after := after429(sts, ats)
	checkWaited(t, "GitHub "+githubfake.RouteListDeployments, limited, after)
	sts, ats = nil, nil
	for _, e := range w.PagerDuty.Events() {
		sts, ats = append(sts, e.Status), append(ats, e.Received)
	}
	limited, after = after429(sts, ats)
	checkWaited(t, "PagerDuty events", limited, after)
	checkServing(t, w)
}

// pagerdutyFault429 is PagerDuty's 429 with Retry-After.
func pagerdutyFault429() pagerdutyfake.Fault {
	return pagerdutyfake.Fault{Status: http.StatusTooManyRequests, RetryAfter: fmt.Sprint(int(retryAfter / time.Second))}
}
