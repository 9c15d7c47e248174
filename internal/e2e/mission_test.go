package e2e

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/warroomhq/warroom/internal/githubfake"
	"github.com/warroomhq/warroom/internal/slackfake"
)

// TestMission is Warroom's whole job on the real binary, driven only from
// outside: an Alertmanager alert declares an incident; its channel
// appears; the on-call person (alice) is paged by Slack DM and PagerDuty
// and acknowledges with the DM's button; the channel shows checkout's
// recent deploys; a rollback is proposed, confirmed and followed to its
// success; the alert resolves; the incident is resolved; the postmortem
// pull request opens; and `warroom digest` counts the incident. Every step
// is checked in what the fakes received and in the JSON API.
func TestMission(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary for about 30 s (the rollback is polled every 15 s)")
	}
	// Escalation's second step at 1 minute: alice acknowledges long before.
	w := Start(t, Options{Config: Config(t, "after: 4s", "after: 1m", "after: 8s", "after: 2m")})
	alice, bob := w.Users["alice"], w.Users["bob"]
	const repo = "acme/checkout"
	now := time.Now().UTC().Truncate(time.Second)
	w.GitHub.AddWorkflow(repo, githubfake.Workflow{File: "rollback.yml", Name: "Rollback"})
	w.GitHub.AddDeployment(repo, githubfake.Deployment{Ref: "v1.4.1", SHA: "9f2c4e1a7b3d5f60718293a4b5c6d7e8f9012345",
		Environment: "production", Creator: "deploy-bot", CreatedAt: now.Add(-26 * time.Hour),
		Statuses: []githubfake.DeploymentStatus{{State: "success", CreatedAt: now.Add(-26*time.Hour + 4*time.Minute)},
			{State: "inactive", CreatedAt: now.Add(-20 * time.Minute)}}})
	w.GitHub.AddDeployment(repo, githubfake.Deployment{Ref: "v1.4.2", SHA: "c0ffee1234567890abcdef1234567890abcdef12",
		Environment: "production", Creator: "deploy-bot", CreatedAt: now.Add(-24 * time.Minute),
		Statuses: []githubfake.DeploymentStatus{{State: "success", CreatedAt: now.Add(-20 * time.Minute)}}})

	// 1. Alertmanager fires a critical alert: sev1 for checkout.
	started := now.Add(-2 * time.Minute)
	alert := Alert{Fingerprint: "fp-mission", Labels: map[string]string{"alertname": "CheckoutHigh5xxRate"},
		Annotations: map[string]string{"summary": "Checkout returns 502 on 7% of requests"}}
	if st, body, err := w.PostAlerts("alertmanager", AlertmanagerBody("g-mission", "firing", started, alert)); err != nil || st != 200 {
		t.Fatalf("posting the alert: %d %s %v", st, body, err)
	}
	var inc Incident
	Eventually(t, 20*time.Second, "the alert declares a sev1 incident with a channel", func() (bool, string) {
		incs := w.Incidents()
		if len(incs) != 1 || incs[0].Channel.ID == "" {
			return false, summary(incs)
		}
		inc = incs[0]
		return true, ""
	})
	if inc.Severity != "sev1" || inc.Service != "checkout" || inc.Status != "investigating" {
		t.Fatalf("the incident: %+v", inc)
	}

	// 2. Its channel appears in Slack and is announced.
	ch, ok := w.Slack.Channel(inc.Channel.ID)
	if !ok || ch.Name != inc.Channel.Name || !strings.HasPrefix(ch.Name, fmt.Sprintf("inc-%d-", inc.Number)) {
		t.Fatalf("the channel %q (%s) is not in Slack as the API says: %+v", inc.Channel.Name, inc.Channel.ID, ch)
	}
	Eventually(t, 10*time.Second, "#incidents announces the incident", func() (bool, string) {
		return anyText(w.Slack.Messages("incidents"), inc.ID), texts(w.Slack.Messages("incidents"))
	})

	// 3. alice is paged: a DM with an Acknowledge button, and a PagerDuty
	// trigger; she clicks the button.
	dedup := fmt.Sprintf("warroom-inc-%d", inc.Number)
	var ack Button
	var dm slackfake.Message
	Eventually(t, 15*time.Second, "alice gets a DM with an Acknowledge button", func() (bool, string) {
		var ok bool
		ack, dm, ok = FindButton(w.Slack.DirectMessages(alice), "page_ack")
		return ok, texts(w.Slack.DirectMessages(alice))
	})
	if !strings.Contains(dm.Text, inc.ID) {
		t.Errorf("the DM does not name %s: %q", inc.ID, dm.Text)
	}
	Eventually(t, 15*time.Second, "PagerDuty gets a trigger", func() (bool, string) {
		acts := w.PagerDuty.Actions(dedup)
		return slices.Equal(acts, []string{"trigger"}), fmt.Sprint(acts)
	})
	if resp := w.Click(alice, dm, ack); resp.Status != 200 {
		t.Fatalf("clicking Acknowledge: %d %s", resp.Status, resp.Body)
	}
	Eventually(t, 15*time.Second, "the acknowledgement reaches PagerDuty and the API", func() (bool, string) {
		acts := w.PagerDuty.Actions(dedup)
		var got Incident
		w.API("/api/incidents/"+inc.ID, &got)
		return slices.Equal(acts, []string{"trigger", "acknowledge"}) && got.AcknowledgedAt != nil,
			fmt.Sprintf("PagerDuty %v, acknowledged_at %v", acts, got.AcknowledgedAt)
	})
	if !hasKind(w.Timeline(inc.ID), "page.acknowledged") {
		t.Errorf("no page.acknowledged on the timeline: %v", kinds(w.Timeline(inc.ID)))
	}

	// 4. The channel shows checkout's recent deploys, v1.4.2 live.
	Eventually(t, 15*time.Second, "the channel shows the recent deploys", func() (bool, string) {
		msgs := w.Slack.Messages(inc.Channel.ID)
		for _, m := range msgs {
			if strings.Contains(m.Text+string(m.Blocks), "v1.4.2") && strings.Contains(m.Text+string(m.Blocks), "v1.4.1") {
				return true, ""
			}
		}
		return false, texts(msgs)
	})

	// 5. alice proposes a rollback and confirms it; the workflow is
	// dispatched once, runs, and Warroom reports its success.
	w.Slack.Join(inc.Channel.ID, alice)
	if resp := w.Command(alice, inc.Channel.ID, "rollback checkout"); resp.Status != 200 {
		t.Fatalf("/incident rollback checkout: %d %s", resp.Status, resp.Body)
	}
	var confirm Button
	var proposal slackfake.Message
	Eventually(t, 15*time.Second, "a rollback confirmation is posted", func() (bool, string) {
		var ok bool
		confirm, proposal, ok = FindButton(w.Slack.Messages(inc.Channel.ID), "rollback_confirm")
		return ok, texts(w.Slack.Messages(inc.Channel.ID))
	})
	if !strings.Contains(proposal.Text+string(proposal.Blocks), "v1.4.1") {
		t.Errorf("the proposal does not roll back to v1.4.1: %s", proposal.Text)
	}
	// dave is neither the lead nor an approver: his click is refused.
	if resp := w.Click(w.Users["dave"], proposal, confirm); resp.Status != 200 {
		t.Fatalf("dave's click: %d %s", resp.Status, resp.Body)
	}
	if resp := w.Click(alice, proposal, confirm); resp.Status != 200 {
		t.Fatalf("clicking Confirm rollback: %d %s", resp.Status, resp.Body)
	}
	var run githubfake.WorkflowRun
	Eventually(t, 15*time.Second, "the rollback workflow is dispatched", func() (bool, string) {
		runs := w.GitHub.Runs(repo)
		if len(runs) != 1 {
			return false, fmt.Sprintf("%d runs", len(runs))
		}
		run = runs[0]
		return true, ""
	})
	if run.Inputs["service"] != "checkout" {
		t.Errorf("the run's inputs: %v", run.Inputs)
	}
	w.GitHub.SetRun(repo, run.ID, "completed", "success", "", "")
	Eventually(t, 40*time.Second, "the rollback succeeds (polled every 15 s)", func() (bool, string) {
		k := kinds(w.Timeline(inc.ID))
		return slices.Contains(k, "rollback.succeeded"), fmt.Sprint(k)
	})
	tl := w.Timeline(inc.ID)
	if !hasKind(tl, "rollback.refused") || count(tl, "rollback.confirmed") != 1 || count(tl, "rollback.started") != 1 {
		t.Errorf("the rollback's timeline: %v", kinds(tl))
	}
	if n := len(w.GitHub.Runs(repo)); n != 1 {
		t.Errorf("%d workflow runs, want 1", n)
	}

	// 6. The alert resolves.
	if st, body, err := w.PostAlerts("alertmanager", AlertmanagerBody("g-mission", "resolved", started, alert)); err != nil || st != 200 {
		t.Fatalf("posting the resolution: %d %s %v", st, body, err)
	}
	if a := w.Alerts(inc.ID); a.Firing != 0 || a.Resolved != 1 {
		t.Fatalf("after the resolution, the alerts: %+v", a)
	}

	// 7. alice resolves the incident: PagerDuty is resolved too.
	if resp := w.Command(alice, inc.Channel.ID, "resolve rolled back to v1.4.1"); resp.Status != 200 {
		t.Fatalf("/incident resolve: %d %s", resp.Status, resp.Body)
	}
	Eventually(t, 15*time.Second, "the incident and its PagerDuty alert are resolved", func() (bool, string) {
		var got Incident
		w.API("/api/incidents/"+inc.ID, &got)
		acts := w.PagerDuty.Actions(dedup)
		return got.Status == "resolved" && slices.Equal(acts, []string{"trigger", "acknowledge", "resolve"}),
			fmt.Sprintf("status %s, PagerDuty %v", got.Status, acts)
	})

	// 8. A sev1 resolved: its postmortem's draft pull request opens, once.
	Eventually(t, 20*time.Second, "the postmortem pull request opens", func() (bool, string) {
		var got Incident
		w.API("/api/incidents/"+inc.ID, &got)
		prs := w.GitHub.PullRequests("acme/postmortems")
		return len(prs) == 1 && got.Postmortem != nil && got.Postmortem.PullRequest == prs[0].Number,
			fmt.Sprintf("pull requests %+v, API %+v", prs, got.Postmortem)
	})
	if pr := w.GitHub.PullRequests("acme/postmortems")[0]; !pr.Draft || !strings.Contains(pr.Title, inc.ID) {
		t.Errorf("the pull request: %+v", pr)
	}

	// 9. The digest, read from the database by the CLI beside the running
	// server, counts the incident.
	var d struct {
		Opened   struct{ Current int } `json:"opened"`
		Resolved struct{ Current int } `json:"resolved"`
		BySev    []struct {
			Severity string
			Opened   struct{ Current int }
		} `json:"by_severity"`
		ByService []struct {
			Service string
			Opened  struct{ Current int }
		} `json:"by_service"`
		TimeToAcknowledge struct {
			Current struct{ Count int }
		} `json:"time_to_acknowledge"`
		Postmortems struct {
			OpenPullRequests []struct {
				ID  int    `json:"id"`
				URL string `json:"url"`
			} `json:"open_pull_requests"`
		} `json:"postmortems"`
	}
	w.Digest(&d, "--since", "1d")
	if d.Opened.Current != 1 || d.Resolved.Current != 1 || d.TimeToAcknowledge.Current.Count != 1 {
		t.Errorf("the digest counts: opened %d, resolved %d, acknowledged %d; want 1 each",
			d.Opened.Current, d.Resolved.Current, d.TimeToAcknowledge.Current.Count)
	}
	if len(d.ByService) != 1 || d.ByService[0].Service != "checkout" || d.ByService[0].Opened.Current != 1 {
		t.Errorf("the digest by service: %+v", d.ByService)
	}
	if len(d.Postmortems.OpenPullRequests) != 1 || d.Postmortems.OpenPullRequests[0].ID != inc.Number {
		t.Errorf("the digest's postmortems in review: %+v", d.Postmortems.OpenPullRequests)
	}

	// Nothing went out twice, and bob was never paged (alice acknowledged
	// before the second step).
	if n := len(w.PagerDuty.Alerts(dedup)); n != 1 {
		t.Errorf("%d PagerDuty alerts for %s, want 1", n, dedup)
	}
	if dms := w.Slack.DirectMessages(bob); len(dms) != 0 {
		t.Errorf("bob was paged: %s", texts(dms))
	}
	if n := len(w.Slack.Channels()); n != 4 {
		t.Errorf("%d channels in Slack, want 4 (incidents, incident-review, payments and the incident's)", n)
	}
	w.Stop()
}

func anyText(msgs []slackfake.Message, s string) bool {
	for _, m := range msgs {
		if strings.Contains(m.Text, s) {
			return true
		}
	}
	return false
}

func texts(msgs []slackfake.Message) string {
	var b strings.Builder
	for _, m := range msgs {
		fmt.Fprintf(&b, "\n  [%s] %q", m.Channel, m.Text)
	}
	if b.Len() == 0 {
		return "no messages"
	}
	return b.String()
}

func kinds(tl []TimelineEvent) []string {
	out := make([]string, len(tl))
	for i, ev := range tl {
		out[i] = ev.Kind
	}
	return out
}

func hasKind(tl []TimelineEvent, kind string) bool { return count(tl, kind) > 0 }

func count(tl []TimelineEvent, kind string) int {
	n := 0
	for _, ev := range tl {
		if ev.Kind == kind {
			n++
		}
	}
	return n
}
