package slackfake

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
)

func TestSignMatchesSlacksExample(t *testing.T) {
	// https://api.slack.com/authentication/verifying-requests-from-slack
	body := "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
	ts, sig := Sign("8f742231b10e8888abcd99yyyzzz85a5", time.Unix(1531420618, 0), []byte(body))
	if ts != "1531420618" || sig != "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503" {
		t.Fatalf("Sign = %s, %s", ts, sig)
	}
}

// received is a request the stand-in for Warroom got.
type received struct {
	path   string
	header http.Header
	body   []byte
}

// fakeWarroom stands in for Warroom's endpoints: it checks signatures with
// slack-go's verifier and answers {"ok":true}, or 401.
func fakeWarroom(t *testing.T, secret string) (*httptest.Server, func() []received) {
	var (
		mu  sync.Mutex
		got []received
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, received{r.URL.Path, r.Header.Clone(), body})
		mu.Unlock()
		v, err := slack.NewSecretsVerifier(r.Header, secret)
		if err == nil {
			_, _ = v.Write(body)
			err = v.Ensure()
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"ok":true}`))
	}))
	t.Cleanup(srv.Close)
	return srv, func() []received {
		mu.Lock()
		defer mu.Unlock()
		return append([]received(nil), got...)
	}
}

func TestDriver(t *testing.T) {
	const secret = "s3cret"
	warroom, got := fakeWarroom(t, secret)
	// slack-go's verifier checks timestamps against the real time, so this
	// test's fake runs on it too.
	f := New()
	defer f.Close()
	f.AddUser(User{ID: alice, Name: "alice"})
	ch := f.AddChannel("incidents", alice)
	d := &Driver{BaseURL: warroom.URL, SigningSecret: secret, Fake: f}
	ctx := context.Background()

	// A slash command, as slack-go parses it.
	resp, err := d.Command(ctx, alice, "#incidents", "declare sev2 checkout is down")
	must(t, err)
	if resp.Status != 200 || resp.JSON["ok"] != true {
		t.Fatalf("command answered %d %s", resp.Status, resp.Body)
	}
	r := got()[0]
	req := httptest.NewRequest(http.MethodPost, r.path, bytes.NewReader(r.body))
	req.Header = r.header
	cmd, err := slack.SlashCommandParse(req)
	must(t, err)
	if cmd.Command != "/incident" || cmd.Text != "declare sev2 checkout is down" || cmd.ChannelID != ch || cmd.ChannelName != "incidents" ||
		cmd.UserID != alice || cmd.UserName != "alice" || cmd.TeamID != DefaultTeamID || cmd.APIAppID != AppID {
		t.Fatalf("command %+v", cmd)
	}
	// Its trigger opens one view, and its response URL reaches the fake.
	api := slack.New(f.Token(), slack.OptionAPIURL(f.APIURL()))
	_, err = api.OpenView(cmd.TriggerID, slack.ModalViewRequest{Type: slack.VTModal, Title: slack.NewTextBlockObject("plain_text", "Declare", false, false)})
	must(t, err)
	_, _, err = api.PostMessage("", slack.MsgOptionResponseURL(cmd.ResponseURL, slack.ResponseTypeEphemeral), slack.MsgOptionText("Declared INC-1", false))
	must(t, err)
	if eph := f.Ephemerals(); len(eph) != 1 || eph[0].Channel != ch || eph[0].EphemeralUser != alice {
		t.Fatalf("ephemerals %+v", eph)
	}
	resp2, err := d.Command(ctx, alice, ch, "help")
	must(t, err)
	_ = resp2
	if c2 := got()[1]; strings.Contains(string(c2.body), cmd.TriggerID) {
		t.Fatal("trigger ID reused")
	}

	// An event, as slack-go parses it.
	_, err = d.Event(ctx, "Ev01", map[string]any{"type": "reaction_added", "user": alice, "reaction": "eyes",
		"item": map[string]any{"type": "message", "channel": ch, "ts": "1.000001"}})
	must(t, err)
	r = got()[2]
	ev, err := slackevents.ParseEvent(json.RawMessage(r.body), slackevents.OptionNoVerifyToken())
	must(t, err)
	cb, ok := ev.Data.(*slackevents.EventsAPICallbackEvent)
	ra, ok2 := ev.InnerEvent.Data.(*slackevents.ReactionAddedEvent)
	if ev.Type != slackevents.CallbackEvent || !ok || cb.EventID != "Ev01" || !ok2 || ra.Reaction != "eyes" || ra.Item.Channel != ch || ra.EventTimestamp == "" {
		t.Fatalf("event %+v %+v", ev, ev.InnerEvent.Data)
	}

	// An interaction, as slack-go parses it.
	_, err = d.Interaction(ctx, map[string]any{"type": "block_actions", "trigger_id": "x", "user": map[string]any{"id": alice},
		"actions": []any{map[string]any{"action_id": "ack", "block_id": "summary", "type": "button", "value": "7"}}})
	must(t, err)
	r = got()[3]
	if r.path != "/slack/interactivity" || r.header.Get("Content-Type") != "application/x-www-form-urlencoded" {
		t.Fatalf("interaction sent as %s %s", r.path, r.header.Get("Content-Type"))
	}
	req = httptest.NewRequest(http.MethodPost, r.path, bytes.NewReader(r.body))
	req.Header = r.header
	must(t, req.ParseForm())
	var ic slack.InteractionCallback
	must(t, json.Unmarshal([]byte(req.PostForm.Get("payload")), &ic))
	if ic.Type != slack.InteractionTypeBlockActions || ic.User.ID != alice || len(ic.ActionCallback.BlockActions) != 1 || ic.ActionCallback.BlockActions[0].ActionID != "ack" {
		t.Fatalf("interaction %+v", ic)
	}

	// Unsigned, wrongly signed and stale requests are refused.
	resp, err = d.Raw(ctx, "/slack/events", "application/json", []byte(`{}`), time.Now(), false)
	must(t, err)
	if resp.Status != http.StatusUnauthorized || resp.JSON != nil {
		t.Fatalf("unsigned: %d %s", resp.Status, resp.Body)
	}
	if h := got()[4].header; h.Get("X-Slack-Signature") != "" || h.Get("X-Slack-Request-Timestamp") == "" {
		t.Fatalf("unsigned request headers %v", h)
	}
	stale := &Driver{BaseURL: warroom.URL, SigningSecret: secret}
	resp, err = stale.Raw(ctx, "/slack/events", "application/json", []byte(`{}`), time.Now().Add(-10*time.Minute), true)
	must(t, err)
	if resp.Status != http.StatusUnauthorized {
		t.Fatalf("stale: %d", resp.Status)
	}
	wrong := &Driver{BaseURL: warroom.URL, SigningSecret: "wrong"}
	resp, err = wrong.Command(ctx, alice, "incidents", "help")
	must(t, err)
	if resp.Status != http.StatusUnauthorized {
		t.Fatalf("wrong secret: %d", resp.Status)
	}
}
