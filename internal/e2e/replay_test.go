package e2e

// Replayed requests (issue 9, "Faults", bad input): the same signed Slack
// request (command, event, click), GitHub delivery, deploy event, rollback
// callback or alert body sent twice. The first is carried out; the second
// changes nothing and is never a 5xx. A click replayed with its timestamp
// older than 5 minutes is refused as stale (and every Slack endpoint's
// stale requests: TestBadInput).

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/warroomhq/warroom/internal/slackfake"
)

// replay sends the same request twice, exactly, and returns the answers'
// statuses and bodies.
func replay(t *testing.T, w *Warroom, path string, h http.Header, body []byte) (first, second int, firstBody, secondBody []byte) {
	t.Helper()
	first, firstBody, err := w.HTTP(http.MethodPost, path, h, body)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	second, secondBody, err = w.HTTP(http.MethodPost, path, h, body)
	if err != nil {
		t.Fatalf("POST %s again: %v", path, err)
	}
	if first >= 500 || second >= 500 {
		t.Errorf("POST %s: %d then %d (a server error): %s / %s", path, first, second, firstBody, secondBody)
	}
	return first, second, firstBody, secondBody
}

// anyEvent reports whether the timeline has an event of kind whose text
// holds text.
func anyEvent(tl []TimelineEvent, kind, text string) bool {
	for _, ev := range tl {
		if ev.Kind == kind && strings.Contains(ev.Text, text) {
			return true
		}
	}
	return false
}

// slashCommand is a signed /incident command as Slack sends it, with a
// fixed trigger ID.
func slashCommand(w *Warroom, user, channel, text, trigger string) (http.Header, []byte) {
	ch, _ := w.Slack.Channel(channel)
	body := []byte(url.Values{
		"token": {slackfake.VerificationToken}, "team_id": {w.Slack.TeamID()}, "team_domain": {w.Slack.TeamDomain()},
		"channel_id": {ch.ID}, "channel_name": {ch.Name}, "user_id": {user}, "user_name": {user},
		"command": {"/incident"}, "text": {text}, "trigger_id": {trigger}, "api_app_id": {slackfake.AppID},
		"response_url": {w.Slack.NewResponseURL(ch.ID, user)},
	}.Encode())
	return slackHeader("application/x-www-form-urlencoded", SigningSecret, time.Now(), body), body
}

func TestReplayedRequests(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary for about 10 s")
	}
	t.Parallel()
	// search's rollbacks go to the webhook fake, which plays the deploy
	// tool (replay_clicks_test.go).
	w := Start(t, Options{Config: faultConfig(t,
		`url: "http://127.0.0.1:9/rollback", secret: `+RollbackSecret,
		`url: "${PAGER_WEBHOOK_URL}", secret: "${PAGER_WEBHOOK_SECRET}"`)})
	alice := w.Users["alice"]

	// A slash command that declares.
	h, body := slashCommand(w, alice, "#incidents", "declare Replayed checkout outage sev2 checkout", "T-replay-1")
	first, second, b1, b2 := replay(t, w, "/slack/commands", h, body)
	if first != http.StatusOK || second != http.StatusOK || !strings.Contains(string(b1), "INC-1") || !strings.Contains(string(b2), "INC-1") {
		t.Fatalf("declare, replayed: %d %s / %d %s; want both to name INC-1", first, b1, second, b2)
	}
	var inc Incident
	Eventually(t, 15*time.Second, "the declared incident has its channel", func() (bool, string) {
		incs := w.Incidents()
		if len(incs) != 1 {
			return false, fmt.Sprintf("%d incidents", len(incs))
		}
		inc = incs[0]
		return inc.Channel.ID != "", "no channel yet"
	})
	base := settled(t, w, 15*time.Second)
	if len(base.Incidents) != 1 {
		t.Fatalf("a replayed declare made %d incidents", len(base.Incidents))
	}

	// Rollbacks to cancel and confirm in the round's clicks
	// (replay_clicks_test.go).
	clicks := proposeRollbacks(t, w, inc)

	// Each of these changes something once; its replay must change nothing
	// more: the requests below, then clicks and rollback callbacks
	// (clicks).
	msgTS := w.Slack.Post(inc.Channel.ID, alice, "the load balancer drops half the requests")
	type replayCase struct {
		name, path string
		header     http.Header
		body       []byte
	}
	event := []byte(`{"token":"` + slackfake.VerificationToken + `","team_id":"` + w.Slack.TeamID() +
		`","api_app_id":"` + slackfake.AppID + `","type":"event_callback","event_id":"Ev0REPLAY1","event_time":` +
		fmt.Sprint(time.Now().Unix()) + `,"event":{"type":"reaction_added","user":"` + alice +
		`","reaction":"` + w.Cfg.Slack.TimelineEmoji + `","item":{"type":"message","channel":"` + inc.Channel.ID +
		`","ts":"` + msgTS + `"},"item_user":"` + alice + `","event_ts":"` + fmt.Sprintf("%d.000100", time.Now().Unix()) + `"}}`)
	statusH, statusB := slashCommand(w, alice, inc.Channel.ID, "status identified", "T-replay-2")
	noteH, noteB := slashCommand(w, alice, inc.Channel.ID, "note rolled back the load balancer config", "T-replay-3")
	ds := deploymentStatus(t)
	deploy := []byte(`{"service":"search","environment":"production","id":"d-replay","ref":"v2.0.0","status":"success"}`)
	alerts := AlertmanagerBody(`{}:{alertname="SearchSlow"}`, "firing", time.Now().Add(-time.Minute),
		Alert{Fingerprint: "replay1", Labels: map[string]string{"alertname": "SearchSlow", "service": "checkout"}})
	pageH, pageB := slashCommand(w, alice, inc.Channel.ID, "page @bob", "T-replay-4")
	cases := []replayCase{
		{"a timeline reaction (Slack event)", "/slack/events", slackHeader("application/json", SigningSecret, time.Now(), event), event},
		{"a status command", "/slack/commands", statusH, statusB},
		{"a note command", "/slack/commands", noteH, noteB},
		{"a page command", "/slack/commands", pageH, pageB},
		{"a GitHub deployment_status delivery", "/hooks/github", githubHeader("deployment_status", "delivery-replay-1", GitHubWebhookSecret, ds), ds},
		{"a deploy event", "/hooks/deploy", bearer(WebhookToken), deploy},
		{"an Alertmanager body", "/hooks/alertmanager", bearer(WebhookToken), alerts},
	}
	// Every request once, then every request again: settling once per
	// round keeps the test short (posts to one channel are paced at one a
	// second).
	firstAnswers := make([]string, len(cases))
	for i, c := range cases {
		st, body, err := w.HTTP(http.MethodPost, c.path, c.header, c.body)
		if err != nil || st >= 300 {
			t.Fatalf("%s: the first request: %d %s %v", c.name, st, body, err)
		}
		firstAnswers[i] = fmt.Sprintf("%d %s", st, bytes.TrimSpace(body))
	}
	clicks.sendFirst(t, w)
	once := settled(t, w, 30*time.Second)
	// Each first request did its part (the clicks: checkFirst).
	inc1 := once.Incidents[len(once.Incidents)-1]
	if !anyEvent(w.Timeline(inc.ID), "status_changed", "to identified") || inc1.Timeline <= base.Incidents[0].Timeline+2 {
		t.Errorf("the first requests did not change INC-1 as they should: %+v, was %+v; timeline %v",
			inc1, base.Incidents[0], kinds(w.Timeline(inc.ID)))
	}
	clicks.checkFirst(t, w)
	if once.Deploys["checkout"] != base.Deploys["checkout"]+1 || once.Deploys["search"] != base.Deploys["search"]+1 {
		t.Errorf("deploys: %v, was %v; want one more of each service", once.Deploys, base.Deploys)
	}
	if once.AlertsChanged != base.AlertsChanged+1 {
		t.Errorf("alerts: %d new or changed, was %d; want one more", once.AlertsChanged, base.AlertsChanged)
	}
	for i, c := range cases {
		st, body, err := w.HTTP(http.MethodPost, c.path, c.header, c.body)
		if err != nil || st >= 500 {
			t.Errorf("%s: the replay: %d %s %v", c.name, st, body, err)
			continue
		}
		t.Logf("%s: first %s; replay %d %s", c.name, firstAnswers[i], st, bytes.TrimSpace(body))
	}
	clicks.sendAgain(t, w)
	twice := settled(t, w, 20*time.Second)
	if !reflect.DeepEqual(once, twice) {
		t.Errorf("the replays changed what Warroom holds:\nonce  %+v\ntwice %+v", once, twice)
		for _, c := range w.Slack.Channels() {
			for _, m := range w.Slack.Messages(c.ID) {
				t.Logf("#%s %s: %s", c.Name, m.TS, m.Text)
			}
		}
	}
	clicks.checkAgain(t, w, twice)
	checkServing(t, w)
	if fivexx, panicked := serverErrors(t, w); len(fivexx) > 0 || panicked {
		t.Errorf("5xx answers %v, panic in the log: %v", fivexx, panicked)
	}
}
