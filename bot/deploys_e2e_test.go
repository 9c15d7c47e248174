package bot_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/warroomhq/warroom/bot"
	"github.com/warroomhq/warroom/config"
	"github.com/warroomhq/warroom/deploys"
	"github.com/warroomhq/warroom/incidents"
	"github.com/warroomhq/warroom/internal/sandbox"
)

// These tests drive deploys and rollbacks through Slack, with fakes of the
// deploy provider and the rollback mechanism wired into the whole app.

type e2eProvider struct{ deploys []deploys.Deploy }

func (p *e2eProvider) Source() deploys.Source { return deploys.SourceGitHubDeployments }
func (p *e2eProvider) Recent(ctx context.Context, limit int) ([]deploys.Deploy, error) {
	return p.deploys[:min(limit, len(p.deploys))], nil
}

type e2eRollbacker struct {
	mu       sync.Mutex
	starts   []deploys.RollbackRequest
	progress []deploys.Progress
}

func (r *e2eRollbacker) Mechanism() deploys.Mechanism { return deploys.MechanismGitHubWorkflow }
func (r *e2eRollbacker) Start(ctx context.Context, req deploys.RollbackRequest) (deploys.Handle, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.starts = append(r.starts, req)
	return deploys.Handle{ExternalID: "77", URL: "https://github.com/acme/checkout/actions/runs/77"}, nil
}
func (r *e2eRollbacker) Progress(ctx context.Context, req deploys.RollbackRequest, h deploys.Handle) (deploys.Progress, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	p := r.progress[0]
	if len(r.progress) > 1 {
		r.progress = r.progress[1:]
	}
	return p, nil
}

func deploySandbox(t *testing.T, rb *e2eRollbacker) *sandbox.Sandbox {
	sb, _ := deploySandboxWith(t, rb)
	return sb
}

// deploySandboxWith is deploySandbox, and the provider whose deploys the
// test may change.
func deploySandboxWith(t *testing.T, rb *e2eRollbacker) (*sandbox.Sandbox, *e2eProvider) {
	t.Helper()
	return deploySandboxConfig(t, rb, testConfig(t))
}

// deploySandboxConfig is deploySandboxWith with the config cfg.
func deploySandboxConfig(t *testing.T, rb *e2eRollbacker, cfg []byte) (*sandbox.Sandbox, *e2eProvider) {
	t.Helper()
	start := time.Date(2026, 11, 3, 14, 2, 0, 0, time.UTC)
	d := func(id, ref, sha string, st deploys.Status, ago time.Duration, creator string) deploys.Deploy {
		return deploys.Deploy{Service: "checkout", Environment: "production", Source: deploys.SourceGitHubDeployments,
			ExternalID: id, Ref: ref, SHA: sha, Status: st, Creator: creator, StartedAt: start.Add(-ago - 3*time.Minute),
			FinishedAt: start.Add(-ago), URL: "https://github.com/acme/checkout/deployments/" + id}
	}
	prov := &e2eProvider{deploys: []deploys.Deploy{
		d("104", "v3", "3333333333333333", deploys.StatusSuccess, 12*time.Minute, "<!channel>"),
		d("103", "v2.1", "2111111111111111", deploys.StatusFailed, time.Hour, "octocat"),
		d("102", "v2", "2222222222222222", deploys.StatusInactive, 3*time.Hour, "octocat"),
		d("101", "v1", "1111111111111111", deploys.StatusInactive, 30*time.Hour, "octocat"),
	}}
	sb, err := sandbox.New(context.Background(), sandbox.Options{Config: cfg, Dir: t.TempDir(), Start: start,
		DeploySources: func(name string, svc config.Service) ([]deploys.Provider, deploys.Rollbacker, error) {
			if name != "checkout" {
				return nil, nil, nil
			}
			return []deploys.Provider{prov}, rb, nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sb.Close)
	return sb, prov
}

// botMessages are the bot's messages in a channel that carry text, but
// not the pinned summary.
func botMessages(sb *sandbox.Sandbox, channel, contains string) []string {
	var out []string
	for _, m := range sb.Slack.Messages(channel) {
		if m.User == sb.Slack.BotUser() && !m.Pinned && strings.Contains(m.Text+string(m.Blocks), contains) {
			out = append(out, m.Text+"\x00"+string(m.Blocks))
		}
	}
	return out
}

// buttons are the (action ID, value) pairs of a message's blocks.
func buttons(t *testing.T, blocks string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if v["type"] == "button" {
				id, _ := v["action_id"].(string)
				val, _ := v["value"].(string)
				out[id] = append(out[id], val)
			}
			for _, x := range v {
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	_, js, _ := strings.Cut(blocks, "\x00")
	var v any
	if err := json.Unmarshal([]byte(js), &v); err != nil {
		t.Fatalf("blocks %q: %v", js, err)
	}
	walk(v)
	return out
}

func clickButton(t *testing.T, sb *sandbox.Sandbox, inc *incidents.Incident, user, actionID, value string) {
	t.Helper()
	resp, err := sb.Driver.Interaction(context.Background(), map[string]any{
		"type":       "block_actions",
		"user":       map[string]any{"id": user, "name": user},
		"channel":    map[string]any{"id": inc.ChannelID, "name": inc.ChannelName},
		"team":       map[string]any{"id": sb.Slack.TeamID()},
		"trigger_id": sb.Slack.NewTriggerID(),
		"actions": []any{map[string]any{"action_id": actionID, "block_id": "b", "type": "button", "value": value,
			"action_ts": fmt.Sprint(sb.Clock.Now().UnixNano())}},
	})
	if err != nil || resp.Status != http.StatusOK {
		t.Fatalf("click %s: %v %d %s", actionID, err, resp.Status, resp.Body)
	}
}

func ephemeralsTo(sb *sandbox.Sandbox, user string) []string {
	var out []string
	for _, m := range sb.Slack.Ephemerals() {
		if m.EphemeralUser == user {
			out = append(out, m.Text+string(m.Blocks))
		}
	}
	return out
}

func TestRecentDeploysAndAConfirmedRollback(t *testing.T) {
	rb := &e2eRollbacker{progress: []deploys.Progress{
		{Status: deploys.StatusRunning, Message: "deploying v2 to 3 of 12 pods"},
		{Status: deploys.StatusSuccess},
	}}
	sb, prov := deploySandboxWith(t, rb)
	sb.Slack.AddChannel("general", alice, bob, dave)
	inc := declare(t, sb, "Checkout errors sev1 checkout")
	ch := inc.ChannelID
	sb.Slack.Join(ch, dave)

	// The recent deploys, posted when the channel was set up.
	list := botMessages(sb, ch, "Recent deploys")
	if len(list) != 1 {
		t.Fatalf("%d recent deploys messages; transcript:\n%s", len(list), sb.Slack.Transcript())
	}
	for _, want := range []string{"`v3` `3333333`", "*live*", "(12m before the first alert)", "last good", "`v2.1`", "(3h00m before the first alert)",
		"<https://github.com/acme/checkout/deployments/102|details>", "by &lt;!channel&gt;"} {
		if !strings.Contains(list[0], want) {
			t.Errorf("recent deploys lack %q:\n%s", want, list[0])
		}
	}
	assertNoPing(t, "recent deploys", list[0])
	btns := buttons(t, list[0])[bot.ActionRollbackTo]
	if strings.Join(btns, " ") != "INC-1|checkout|v2 INC-1|checkout|v1" {
		t.Errorf("rollback buttons %v, want v2 and v1 (not the live v3 nor the failed v2.1)", btns)
	}

	// On demand, in the channel and to one person elsewhere.
	command(t, sb, dave, ch, "deploys")
	command(t, sb, dave, "general", "deploys checkout")
	runJobs(t, sb)
	if n := len(botMessages(sb, ch, "Recent deploys")); n != 2 {
		t.Errorf("%d recent deploys messages after /incident deploys, want 2", n)
	}
	if eph := ephemeralsTo(sb, dave); len(eph) != 1 || !strings.Contains(eph[0], "Recent deploys of *checkout*") ||
		strings.Contains(eph[0], bot.ActionRollbackTo) {
		t.Errorf("deploys outside the channel: %v", eph)
	}

	// "Roll back to this" on v2 posts a confirmation.
	clickButton(t, sb, inc, dave, bot.ActionRollbackTo, btns[0])
	settle(t, sb) // not as far as the proposal's expiry
	confirm := botMessages(sb, ch, "proposes rolling back")
	if len(confirm) != 1 || !strings.Contains(confirm[0], "*checkout* from `v3 (3333333)` to `v2 (2222222)` through github_workflow") {
		t.Fatalf("confirmation %v; transcript:\n%s", confirm, sb.Slack.Transcript())
	}
	cb := buttons(t, confirm[0])
	if len(cb[bot.ActionRollbackConfirm]) != 1 || len(cb[bot.ActionRollbackCancel]) != 1 {
		t.Fatalf("confirmation buttons %v", cb)
	}
	id := cb[bot.ActionRollbackConfirm][0]

	// dave is neither lead nor approver: told so, and it is recorded.
	clickButton(t, sb, inc, dave, bot.ActionRollbackConfirm, id)
	settle(t, sb)
	if eph := ephemeralsTo(sb, dave); len(eph) != 2 || !strings.Contains(eph[1], "You may not confirm this rollback") ||
		!strings.Contains(eph[1], "approvers (<@U01ALICE>, <@U01BOB>)") {
		t.Errorf("dave was not told: %v", eph)
	}
	if n := countKind(timeline(t, sb, inc.ID), deploys.EventRollbackRefused); n != 1 {
		t.Errorf("%d refusals recorded", n)
	}
	if len(rb.starts) != 0 {
		t.Fatal("a refused confirmation started the rollback")
	}

	// The lead and an approver confirm at once: one rollback.
	clickButton(t, sb, inc, alice, bot.ActionRollbackConfirm, id)
	clickButton(t, sb, inc, bob, bot.ActionRollbackConfirm, id)
	runJobs(t, sb)
	if len(rb.starts) != 1 || rb.starts[0].To.Ref != "v2" || rb.starts[0].RequestedBy != incidents.SlackActor(alice) {
		t.Fatalf("starts %+v", rb.starts)
	}
	if eph := ephemeralsTo(sb, bob); len(eph) != 1 || !strings.Contains(eph[0], "already confirmed") {
		t.Errorf("bob's second confirmation: %v", eph)
	}
	for _, want := range []string{"confirmed rolling back *checkout*", "Started rolling back checkout to v2 (2222222)",
		"deploying v2 to 3 of 12 pods", "Rolled back checkout to v2 (2222222) through github_workflow"} {
		if n := len(botMessages(sb, ch, want)); n != 1 {
			t.Errorf("%d messages with %q; transcript:\n%s", n, want, sb.Slack.Transcript())
		}
	}
	evs := timeline(t, sb, inc.ID)
	for _, k := range []incidents.EventKind{deploys.EventRollbackProposed, deploys.EventRollbackConfirmed,
		deploys.EventRollbackStarted, deploys.EventRollbackSucceeded} {
		if n := countKind(evs, k); n != 1 {
			t.Errorf("%d %s events", n, k)
		}
	}
	if failedJobs(t, sb) != 0 {
		t.Error("failed jobs")
	}
	if n := rollbackCounter(t, sb, "github_workflow", "succeeded"); n != 1 {
		t.Errorf("warroom_rollbacks_total{github_workflow,succeeded} = %v, want 1", n)
	}

	// v2 is live again: the rolled-back v3 is no version to go back to.
	back := prov.deploys[2]
	back.ExternalID, back.Status, back.StartedAt, back.FinishedAt = "105", deploys.StatusSuccess, sb.Clock.Now(), sb.Clock.Now()
	prov.deploys[0].Status = deploys.StatusInactive
	prov.deploys = append([]deploys.Deploy{back}, prov.deploys...)
	command(t, sb, dave, ch, "deploys")
	runJobs(t, sb)
	list = botMessages(sb, ch, "Recent deploys")
	last := list[len(list)-1]
	if btns := buttons(t, last)[bot.ActionRollbackTo]; strings.Join(btns, " ") != "INC-1|checkout|v1" {
		t.Errorf("rollback buttons after the rollback %v, want only v1", btns)
	}
	if !strings.Contains(last, "rolled back") {
		t.Errorf("v3 is not shown as rolled back:\n%s", last)
	}
}

func TestRollbackCommandAndAFailedRollback(t *testing.T) {
	rb := &e2eRollbacker{progress: []deploys.Progress{{Status: deploys.StatusFailed,
		Message: `step "helm upgrade" failed: <!channel> timed out`, URL: "https://github.com/acme/checkout/actions/runs/77/job/3"}}}
	sb := deploySandbox(t, rb)
	inc := declare(t, sb, "Checkout errors sev2 checkout")
	ch := inc.ChannelID

	reply := command(t, sb, alice, ch, "rollback checkout to 1111111")
	if !strings.Contains(reply, "confirmation will appear") {
		t.Errorf("reply %q", reply)
	}
	for text, want := range map[string]string{
		"rollback":                  "Say which service",
		"rollback nope":             `"nope" is not a configured service`,
		"rollback checkout v1":      "Usage: `/incident rollback &lt;service&gt; [to &lt;ref&gt;]`",
		"rollback checkout to v3":   "",
		"rollback checkout to v0.1": "",
	} {
		if got := command(t, sb, alice, ch, text); !strings.Contains(got, want) {
			t.Errorf("/incident %s replied %q, want %q", text, got, want)
		}
	}
	settle(t, sb)
	// One proposal at a time: the second (to v0.1) is told of the first.
	confirm := botMessages(sb, ch, "proposes rolling back")
	if len(confirm) != 1 || !strings.Contains(confirm[0], "to `v1 (1111111)`") {
		t.Fatalf("confirmations %v", confirm)
	}
	eph := strings.Join(ephemeralsTo(sb, alice), "\n")
	if !strings.Contains(eph, "v3 (3333333) is what is live now") ||
		!strings.Contains(eph, "A rollback of *checkout* from `v3 (3333333)` to `v1 (1111111)` was already proposed by <@U01ALICE>") {
		t.Errorf("ephemerals to alice: %v", eph)
	}
	// Confirm it; it fails.
	clickButton(t, sb, inc, alice, bot.ActionRollbackConfirm, buttons(t, confirm[0])[bot.ActionRollbackConfirm][0])
	runJobs(t, sb)
	if len(rb.starts) != 1 || rb.starts[0].To.Ref != "v1" {
		t.Fatalf("starts %+v", rb.starts)
	}
	failed := botMessages(sb, ch, "Rollback of checkout to v1 (1111111) failed")
	if len(failed) != 1 || !strings.Contains(failed[0], `step "helm upgrade" failed`) ||
		!strings.Contains(failed[0], "Look at https://github.com/acme/checkout/actions/runs/77/job/3") {
		t.Fatalf("failure %v; transcript:\n%s", failed, sb.Slack.Transcript())
	}
	assertNoPing(t, "failure", failed[0])
	// Now another may be proposed, and canceled.
	command(t, sb, alice, ch, "rollback checkout to v0.1")
	settle(t, sb)
	// The first confirmation shows its decision; the second asks.
	confirm = botMessages(sb, ch, "proposes rolling back")
	if len(confirm) != 1 || !strings.Contains(confirm[0], "to `v0.1`") {
		t.Fatalf("confirmations %v", confirm)
	}
	clickButton(t, sb, inc, alice, bot.ActionRollbackCancel, buttons(t, confirm[0])[bot.ActionRollbackCancel][0])
	runJobs(t, sb)
	if n := len(botMessages(sb, ch, "Canceled the proposed rollback")); n != 1 {
		t.Errorf("%d cancel messages", n)
	}
}

func TestFreezeCommandsAndAPI(t *testing.T) {
	sb := deploySandbox(t, &e2eRollbacker{})
	sb.Slack.AddChannel("general", alice, bob)
	ctx := context.Background()
	var st struct {
		Frozen    bool `json:"frozen"`
		Incidents []struct {
			ID, Severity, Title string
		} `json:"incidents"`
		Manual *struct{ By, Reason string } `json:"manual"`
	}
	if code, err := sb.API(ctx, "/api/freeze?service=checkout", &st); err != nil || code != 200 || st.Frozen {
		t.Fatalf("no incident: %d %v %+v", code, err, st)
	}
	inc := declare(t, sb, "Checkout errors sev3 checkout")
	if reply := command(t, sb, bob, inc.ChannelID, "freeze <!channel> black friday"); !strings.Contains(reply, "Deploys of *checkout* are frozen by hand by") ||
		!strings.Contains(reply, "(@channel black friday)") || strings.Contains(reply, "<!channel>") {
		t.Errorf("freeze replied %q", reply)
	}
	runJobs(t, sb)
	if code, _ := sb.API(ctx, "/api/freeze?service=checkout", &st); code != 200 || !st.Frozen || st.Manual == nil ||
		st.Manual.By != "slack:"+bob || len(st.Incidents) != 0 {
		t.Errorf("after a manual freeze: %+v", st)
	}
	if n := len(botMessages(sb, inc.ChannelID, "Froze deploys of checkout")); n != 1 {
		t.Errorf("%d freeze posts", n)
	}
	sb.Slack.Join("general", dave)
	if reply := command(t, sb, dave, "general", "unfreeze checkout"); !strings.Contains(reply,
		"Only who froze it (<@U01BOB>), the lead of an open incident of checkout (<@U01ALICE>), checkout's rollback approvers (<@U01ALICE>, <@U01BOB>) may lift") {
		t.Errorf("dave's unfreeze replied %q", reply)
	}
	if reply := command(t, sb, bob, "general", "unfreeze checkout"); !strings.Contains(reply, "are not frozen") {
		t.Errorf("unfreeze replied %q", reply)
	}
	if reply := command(t, sb, bob, "general", "unfreeze checkout"); !strings.Contains(reply, "not frozen by hand") {
		t.Errorf("second unfreeze replied %q", reply)
	}
	if reply := command(t, sb, bob, "general", "freeze"); !strings.Contains(reply, "Say which service") {
		t.Errorf("freeze without a service outside an incident channel replied %q", reply)
	}
	// A sev1 freezes the service until it is resolved.
	command(t, sb, alice, inc.ChannelID, "sev 1")
	runJobs(t, sb)
	st.Manual = nil
	if code, _ := sb.API(ctx, "/api/freeze?service=checkout", &st); code != 200 || !st.Frozen || len(st.Incidents) != 1 ||
		st.Incidents[0].ID != "INC-1" || st.Incidents[0].Severity != "sev1" || st.Manual != nil {
		t.Errorf("with a sev1 open: %+v", st)
	}
	command(t, sb, alice, inc.ChannelID, "resolve")
	runJobs(t, sb)
	if code, _ := sb.API(ctx, "/api/freeze?service=checkout", &st); code != 200 || st.Frozen {
		t.Errorf("after resolving: %+v", st)
	}
	var bad map[string]any
	if code, _ := sb.API(ctx, "/api/freeze?service=nope", &bad); code != http.StatusBadRequest {
		t.Errorf("unknown service: %d %v", code, bad)
	}
}

// rollbackCounter reads warroom_rollbacks_total with the labels from the
// app's registry.
func rollbackCounter(t *testing.T, sb *sandbox.Sandbox, mechanism, outcome string) float64 {
	t.Helper()
	mfs, err := sb.App.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var n float64
	for _, mf := range mfs {
		if mf.GetName() != "warroom_rollbacks_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["mechanism"] == mechanism && labels["outcome"] == outcome {
				n += m.GetCounter().GetValue()
			}
		}
	}
	return n
}
