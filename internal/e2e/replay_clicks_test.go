package e2e

// Replayed clicks and rollback callbacks (issue 9, "Faults", bad input):
// the same signed Slack block_actions request (Acknowledge, Cancel and
// Confirm of a rollback, the status menu, Resolve) and the same signed
// rollback status callback, sent again. Slack gives a click no ID of its
// own besides its trigger_id; the domain's rules make the second a no-op
// (a page or rollback decided once, a status or resolution that is
// already so), and what Warroom tells the clicker is keyed by the trigger
// ID. A rollback callback is keyed by its rollback, and a rollback that
// ended stays ended. A click replayed with its timestamp more than 5
// minutes old is refused (401); a callback carries no timestamp and relies
// on that idempotency alone.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/warroomhq/warroom/integrations/webhook"
	"github.com/warroomhq/warroom/internal/slackfake"
)

// signedRequest is a request to replay exactly.
type signedRequest struct {
	name, path string
	header     http.Header
	body       []byte
	// click is set for a Slack request, which a stale timestamp must make
	// refused.
	click bool
}

// clickRequest is the signed block_actions request of user acting on
// message m, as Warroom.Click sends it, with its own trigger ID. action
// holds the action's fields (action_id, block_id, value or
// selected_option, type).
func clickRequest(w *Warroom, name, user string, m slackfake.Message, action map[string]any) signedRequest {
	u, _ := w.Slack.User(user)
	now := time.Now()
	action["action_ts"] = fmt.Sprintf("%d.%06d", now.Unix(), now.Nanosecond()/1000)
	payload, err := json.Marshal(map[string]any{
		"type":       "block_actions",
		"user":       map[string]any{"id": user, "name": u.Name, "team_id": w.Slack.TeamID()},
		"team":       map[string]any{"id": w.Slack.TeamID(), "domain": w.Slack.TeamDomain()},
		"channel":    map[string]any{"id": m.Channel},
		"container":  map[string]any{"type": "message", "message_ts": m.TS, "channel_id": m.Channel},
		"message":    map[string]any{"ts": m.TS, "text": m.Text},
		"trigger_id": w.Slack.NewTriggerID(),
		"api_app_id": slackfake.AppID,
		"actions":    []any{action},
	})
	if err != nil {
		panic(err) // maps of strings always marshal
	}
	body := []byte(url.Values{"payload": {string(payload)}}.Encode())
	return signedRequest{name: name, path: "/slack/interactivity", click: true,
		header: slackHeader("application/x-www-form-urlencoded", SigningSecret, now, body), body: body}
}

// buttonAction is the action of clicking b.
func buttonAction(b Button) map[string]any {
	return map[string]any{"type": "button", "action_id": b.ActionID, "block_id": b.BlockID, "value": b.Value,
		"text": map[string]any{"type": "plain_text", "text": b.Text}}
}

// callbackRequest is a rollback status callback signed with the webhook
// fake's secret (the search service's rollback.webhook.secret in
// replayConfig).
func callbackRequest(w *Warroom, name, key, status, message string) signedRequest {
	body := []byte(fmt.Sprintf(`{"key":%q,"service":"search","status":%q,"message":%q,"id":"sync-981"}`, key, status, message))
	return signedRequest{name: name, path: "/hooks/deploy/rollback", body: body, header: http.Header{
		"Content-Type": {"application/json"}, webhook.SignatureHeader: {webhook.Sign(w.Webhook.Secret(), body)}}}
}

func (r signedRequest) send(t *testing.T, w *Warroom) (int, []byte) {
	t.Helper()
	st, body, err := w.HTTP(http.MethodPost, r.path, r.header, r.body)
	if err != nil {
		t.Fatalf("%s: %v", r.name, err)
	}
	return st, body
}

// clickState is what a replayed click could change besides state: what
// reached people in Slack (direct messages and ephemeral messages, by
// user), the rollback requests sent to the deploy tool, and the timeline's
// events by kind.
type clickState struct {
	DMs, Ephemerals map[string]int
	RollbackSent    int
	Kinds           map[string]int
}

func readClickState(w *Warroom, inc Incident) clickState {
	s := clickState{DMs: map[string]int{}, Ephemerals: map[string]int{}, Kinds: map[string]int{}}
	for name, id := range w.Users {
		s.DMs[name] = len(w.Slack.DirectMessages(id))
	}
	for _, m := range w.Slack.Ephemerals() {
		s.Ephemerals[m.EphemeralUser]++
	}
	for _, r := range w.Webhook.Requests() {
		if r.Event == "rollback" {
			s.RollbackSent++
		}
	}
	for _, ev := range w.Timeline(inc.ID) {
		s.Kinds[ev.Kind]++
	}
	return s
}

// toldAlice returns the texts of the ephemeral messages to alice in inc's
// channel.
func toldAlice(w *Warroom, inc Incident) []string {
	var out []string
	for _, m := range w.Slack.Ephemerals() {
		if m.EphemeralUser == w.Users["alice"] && m.Channel == inc.Channel.ID {
			out = append(out, m.Text)
		}
	}
	return out
}

// findMessage returns the latest message in msgs whose blocks hold s.
func findMessage(msgs []slackfake.Message, s string) (slackfake.Message, bool) {
	for i := len(msgs) - 1; i >= 0; i-- {
		if strings.Contains(string(msgs[i].Blocks), s) {
			return msgs[i], true
		}
	}
	return slackfake.Message{}, false
}

// clickReplays are the clicks and callbacks of the replay test: alice
// cancels a proposed rollback of checkout, dave's Confirm of one of search
// is refused and alice's confirms it, alice acknowledges her page and moves
// the status to monitoring with the summary's menu, the deploy tool
// reports search's rollback running and then done, and alice resolves with
// the summary's Resolve button.
type clickReplays struct {
	inc  Incident
	reqs []signedRequest
	once clickState
	told int // ephemeral messages to alice in inc's channel after the first requests
}

// proposeRollbacks proposes rollbacks of checkout and of search in inc (one
// of each service may wait at a time), and waits for both proposals.
func proposeRollbacks(t *testing.T, w *Warroom, inc Incident) *clickReplays {
	t.Helper()
	for _, service := range []string{"checkout", "search"} {
		if resp := w.Command(w.Users["alice"], inc.Channel.ID, "rollback "+service+" to v0.9.0"); resp.Status != http.StatusOK {
			t.Fatalf("/incident rollback %s: %d %s", service, resp.Status, resp.Body)
		}
	}
	Eventually(t, 15*time.Second, "both rollback proposals are posted", func() (bool, string) {
		_, _, ok1 := proposal(w, inc, "checkout")
		_, _, ok2 := proposal(w, inc, "search")
		return ok1 && ok2, texts(w.Slack.Messages(inc.Channel.ID))
	})
	return &clickReplays{inc: inc}
}

// proposal returns the proposal of a rollback of service in inc's channel,
// and its Confirm and Cancel buttons.
func proposal(w *Warroom, inc Incident, service string) (slackfake.Message, [2]Button, bool) {
	for _, m := range w.Slack.Messages(inc.Channel.ID) {
		if !strings.Contains(m.Text, "proposes rolling back *"+service+"*") {
			continue
		}
		confirm, ok1 := findButtonIn(m, "rollback_confirm")
		cancel, ok2 := findButtonIn(m, "rollback_cancel")
		if ok1 && ok2 {
			return m, [2]Button{confirm, cancel}, true
		}
	}
	return slackfake.Message{}, [2]Button{}, false
}

func findButtonIn(m slackfake.Message, actionID string) (Button, bool) {
	for _, b := range Buttons(m) {
		if b.ActionID == actionID {
			return b, true
		}
	}
	return Button{}, false
}

// sendFirst sends the first of each click and callback, in order, after
// the slash commands of the same round (the status is identified).
func (c *clickReplays) sendFirst(t *testing.T, w *Warroom) {
	t.Helper()
	alice, dave, inc := w.Users["alice"], w.Users["dave"], c.inc
	do := func(r signedRequest) {
		t.Helper()
		if st, body := r.send(t, w); st != http.StatusOK {
			t.Fatalf("%s: %d %s", r.name, st, body)
		}
		c.reqs = append(c.reqs, r)
	}
	checkout, cb, _ := proposal(w, inc, "checkout")
	search, sb, _ := proposal(w, inc, "search")
	do(clickRequest(w, "Cancel of a rollback", alice, checkout, buttonAction(cb[1])))
	do(clickRequest(w, "dave's refused Confirm", dave, search, buttonAction(sb[0])))
	do(clickRequest(w, "Confirm of a rollback", alice, search, buttonAction(sb[0])))
	// alice's page of inc (the alert of the round pages her for INC-2 too).
	var ack Button
	var dm slackfake.Message
	for _, m := range w.Slack.DirectMessages(alice) {
		if b, ok := findButtonIn(m, "page_ack"); ok && strings.HasPrefix(b.Value, inc.ID+"|") {
			ack, dm = b, m
		}
	}
	if ack.Value == "" {
		t.Fatalf("alice's page of %s has no Acknowledge button: %s", inc.ID, texts(w.Slack.DirectMessages(alice)))
	}
	do(clickRequest(w, "Acknowledge of a page", alice, dm, buttonAction(ack)))
	summary, ok := findMessage(w.Slack.Messages(inc.Channel.ID), `"incident_status"`)
	resolve, ok2 := findButtonIn(summary, "incident_resolve")
	if !ok || !ok2 {
		t.Fatalf("no summary with a status menu and a Resolve button in %s: %s", inc.Channel.ID, texts(w.Slack.Messages(inc.Channel.ID)))
	}
	do(clickRequest(w, "the status menu", alice, summary, map[string]any{
		"type": "static_select", "action_id": "incident_status", "block_id": "incident_actions",
		"selected_option": map[string]any{"value": inc.ID + "|monitoring", "text": map[string]any{"type": "plain_text", "text": "Monitoring"}},
	}))
	var key string
	Eventually(t, 15*time.Second, "the rollback request reaches the deploy tool", func() (bool, string) {
		for _, d := range w.Webhook.Deliveries() {
			if d.Event == "rollback" {
				key = d.DeliveryID
				return true, ""
			}
		}
		return false, fmt.Sprint(w.Webhook.Events())
	})
	do(callbackRequest(w, "a rollback callback: running", key, "running", "syncing 3/5 pods"))
	do(callbackRequest(w, "a rollback callback: success", key, "success", "synced"))
	do(clickRequest(w, "Resolve", alice, summary, buttonAction(resolve)))
}

// checkFirst checks, once Warroom settled, that each first request did its
// part, and remembers what a replay could change.
func (c *clickReplays) checkFirst(t *testing.T, w *Warroom) {
	t.Helper()
	c.once = readClickState(w, c.inc)
	c.told = len(toldAlice(w, c.inc))
	for kind, n := range map[string]int{"rollback.proposed": 2, "rollback.canceled": 1, "rollback.refused": 1,
		"rollback.confirmed": 1, "rollback.progress": 1, "rollback.succeeded": 1, "page.acknowledged": 1, "acknowledged": 1, "resolved": 1} {
		if c.once.Kinds[kind] != n {
			t.Errorf("%d %s on %s's timeline, want %d: %v", c.once.Kinds[kind], kind, c.inc.ID, n, c.once.Kinds)
		}
	}
	if c.once.RollbackSent != 1 {
		t.Errorf("the rollback was sent to the deploy tool %d times, want 1", c.once.RollbackSent)
	}
}

// sendAgain replays every request exactly (the running callback now comes
// after the success).
func (c *clickReplays) sendAgain(t *testing.T, w *Warroom) {
	t.Helper()
	for _, r := range c.reqs {
		st, body := r.send(t, w)
		if st != http.StatusOK {
			t.Errorf("%s, replayed: %d %s", r.name, st, body)
		}
		t.Logf("%s: replay %d %s", r.name, st, strings.TrimSpace(string(body)))
	}
}

// checkAgain checks, once Warroom settled after the replays (twice is its
// state), that they changed no timeline, DM or rollback, and told the
// clicker at most once per click why nothing changed; then that the same
// clicks signed 6 minutes ago are refused.
func (c *clickReplays) checkAgain(t *testing.T, w *Warroom, twice state) {
	t.Helper()
	alice := w.Users["alice"]
	again := readClickState(w, c.inc)
	before := c.once.Ephemerals
	once := c.once
	once.Ephemerals, again.Ephemerals = nil, nil
	if !reflect.DeepEqual(once, again) {
		t.Errorf("the replayed clicks and callbacks changed the timeline, DMs or rollback requests:\nonce  %+v\ntwice %+v", once, again)
	}
	// The first Acknowledge told alice what it did, keyed by its trigger
	// ID: its replay says nothing more. So do the decided rollback clicks
	// (decided once). The status menu and Resolve, refused now that the
	// incident is resolved, tell alice so, once each, in the channel.
	Eventually(t, 10*time.Second, "alice is told why her replayed status menu and Resolve changed nothing", func() (bool, string) {
		told := toldAlice(w, c.inc)[c.told:]
		after := readClickState(w, c.inc).Ephemerals
		for u, n := range after {
			if u != alice && n != before[u] {
				return false, fmt.Sprintf("ephemerals by user: %v before the replays, %v after", before, after)
			}
		}
		text := strings.Join(told, "\n")
		return after[alice] == before[alice]+2 && len(told) == 2 && strings.Contains(text, c.inc.ID+" is resolved; reopen it first") &&
			strings.Contains(text, c.inc.ID+" is already resolved"), fmt.Sprintf("told alice in %s: %q", c.inc.Channel.ID, told)
	})

	// The same clicks, signed with a timestamp 6 minutes old: refused.
	for _, r := range c.reqs {
		if !r.click {
			continue
		}
		stale := r
		stale.header = slackHeader("application/x-www-form-urlencoded", SigningSecret, time.Now().Add(-6*time.Minute), r.body)
		if st, body := stale.send(t, w); st != http.StatusUnauthorized {
			t.Errorf("%s with a stale timestamp: %d %s, want 401", r.name, st, body)
		}
	}
	if s := snapshot(t, w); !reflect.DeepEqual(s, twice) {
		t.Errorf("stale clicks changed what Warroom holds:\nbefore %+v\nafter  %+v", twice, s)
	}
}
