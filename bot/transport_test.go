package bot

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"

	"github.com/warroomhq/warroom/server"
)

// stubDispatcher records what it is handed and answers what the test sets.
// It is safe for concurrent use.
type stubDispatcher struct {
	mu           sync.Mutex
	commands     []slack.SlashCommand
	events       []slackevents.EventsAPIEvent
	interactions []slack.InteractionCallback

	reply       Reply
	eventErr    func(ev slackevents.EventsAPIEvent) error
	interaction func(cb slack.InteractionCallback) (any, error)
	// handled, when set, receives a note after each call.
	handled chan string
	// discard keeps no record of calls, for fuzzing.
	discard bool
}

func (s *stubDispatcher) Command(ctx context.Context, cmd slack.SlashCommand) Reply {
	s.mu.Lock()
	if !s.discard {
		s.commands = append(s.commands, cmd)
	}
	reply := s.reply
	s.mu.Unlock()
	s.note("command " + cmd.Text)
	return reply
}

func (s *stubDispatcher) Event(ctx context.Context, ev slackevents.EventsAPIEvent) error {
	s.mu.Lock()
	if !s.discard {
		s.events = append(s.events, ev)
	}
	f := s.eventErr
	s.mu.Unlock()
	var err error
	if f != nil {
		err = f(ev)
	}
	s.note("event " + stubEventID(ev))
	return err
}

func (s *stubDispatcher) Interaction(ctx context.Context, cb slack.InteractionCallback) (any, error) {
	s.mu.Lock()
	if !s.discard {
		s.interactions = append(s.interactions, cb)
	}
	f := s.interaction
	s.mu.Unlock()
	defer s.note("interaction " + cb.CallbackID)
	if f == nil {
		return nil, nil
	}
	return f(cb)
}

func (s *stubDispatcher) note(what string) {
	if s.handled != nil {
		s.handled <- what
	}
}

func (s *stubDispatcher) calls() (cmds, events, interactions int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.commands), len(s.events), len(s.interactions)
}

func stubEventID(ev slackevents.EventsAPIEvent) string {
	if cb, ok := ev.Data.(*slackevents.EventsAPICallbackEvent); ok {
		return cb.EventID
	}
	return ""
}

const (
	transportSecret = "test-signing-secret-0123456789"
	transportNow    = 1_700_000_000
)

// signSlack sets the Slack signature headers in h for body, signed with
// secret at unix time ts.
func signSlack(h http.Header, secret string, ts int64, body []byte) {
	tss := strconv.FormatInt(ts, 10)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte("v0:" + tss + ":"))
	mac.Write(body)
	h.Set("X-Slack-Request-Timestamp", tss)
	h.Set("X-Slack-Signature", "v0="+hex.EncodeToString(mac.Sum(nil)))
}

// newTransportHTTP mounts the Slack routes on a plain mux, with the clock at
// transportNow.
func newTransportHTTP(t testing.TB, d Dispatcher, secret string, log *slog.Logger) http.Handler {
	t.Helper()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	mux := http.NewServeMux()
	NewHTTP(d, secret, func() time.Time { return time.Unix(transportNow, 0) }, log).Routes(mux.Handle)
	return mux
}

// transportPost sends body to path with header.
func transportPost(t testing.TB, h http.Handler, path string, body []byte, header http.Header) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
	for k, v := range header {
		r.Header[k] = v
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func transportSigned(body []byte) http.Header {
	h := http.Header{}
	signSlack(h, transportSecret, transportNow, body)
	return h
}

func transportForm(v url.Values) []byte { return []byte(v.Encode()) }

// transportAssertJSON checks that got holds the same JSON value as want.
func transportAssertJSON(t *testing.T, got []byte, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("body is not JSON: %v\n%s", err, got)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("bad expectation: %v", err)
	}
	gb, _ := json.Marshal(g)
	wb, _ := json.Marshal(w)
	if !bytes.Equal(gb, wb) {
		t.Errorf("body\n got %s\nwant %s", gb, wb)
	}
}

func transportErrorText(t *testing.T, w *httptest.ResponseRecorder) string {
	t.Helper()
	if ct := w.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	var body struct {
		Error string `json:"error"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || body.Error == "" {
		t.Fatalf("want a JSON error body, got %q (%v)", w.Body.String(), err)
	}
	return body.Error
}

// Slack's published example:
// https://api.slack.com/authentication/verifying-requests-from-slack
const (
	slackExampleSecret = "8f742231b10e8888abcd99yyyzzz85a5"
	slackExampleTS     = "1531420618"
	slackExampleBody   = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
	slackExampleSig    = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
)

func TestVerify(t *testing.T) {
	at := time.Unix(1531420618, 0)
	hdr := func(ts, sig string) http.Header {
		h := http.Header{}
		if ts != "" {
			h.Set("X-Slack-Request-Timestamp", ts)
		}
		if sig != "" {
			h.Set("X-Slack-Signature", sig)
		}
		return h
	}
	// A signature that is right for its own timestamp, so only the clock
	// refuses it.
	signedAt := func(ts int64) http.Header {
		h := http.Header{}
		signSlack(h, slackExampleSecret, ts, []byte(slackExampleBody))
		return h
	}
	oneByte := []byte(slackExampleBody)
	oneByte[len(oneByte)-1] ^= 1
	forged := slackExampleSig[:len(slackExampleSig)-1] + "4"

	tests := []struct {
		name   string
		secret string
		header http.Header
		body   []byte
		now    time.Time
		want   error
	}{
		{"slack's example", slackExampleSecret, hdr(slackExampleTS, slackExampleSig), []byte(slackExampleBody), at, nil},
		{"upper-case hex", slackExampleSecret, hdr(slackExampleTS, "v0="+strings.ToUpper(slackExampleSig[3:])), []byte(slackExampleBody), at, nil},
		{"5 minutes old", slackExampleSecret, signedAt(1531420618 - 300), []byte(slackExampleBody), at, nil},
		{"5 minutes ahead", slackExampleSecret, signedAt(1531420618 + 300), []byte(slackExampleBody), at, nil},
		{"forged signature", slackExampleSecret, hdr(slackExampleTS, forged), []byte(slackExampleBody), at, ErrBadSignature},
		{"other secret", "8f742231b10e8888abcd99yyyzzz85a6", hdr(slackExampleTS, slackExampleSig), []byte(slackExampleBody), at, ErrBadSignature},
		{"body changed by one byte", slackExampleSecret, hdr(slackExampleTS, slackExampleSig), oneByte, at, ErrBadSignature},
		{"empty body", slackExampleSecret, hdr(slackExampleTS, slackExampleSig), nil, at, ErrBadSignature},
		{"no v0= prefix", slackExampleSecret, hdr(slackExampleTS, slackExampleSig[3:]), []byte(slackExampleBody), at, ErrBadSignature},
		{"v1 scheme", slackExampleSecret, hdr(slackExampleTS, "v1="+slackExampleSig[3:]), []byte(slackExampleBody), at, ErrBadSignature},
		{"not hex", slackExampleSecret, hdr(slackExampleTS, "v0=zz"), []byte(slackExampleBody), at, ErrBadSignature},
		{"truncated", slackExampleSecret, hdr(slackExampleTS, slackExampleSig[:20]), []byte(slackExampleBody), at, ErrBadSignature},
		{"timestamp changed", slackExampleSecret, hdr("1531420619", slackExampleSig), []byte(slackExampleBody), at, ErrBadSignature},
		{"replayed 6 minutes later", slackExampleSecret, hdr(slackExampleTS, slackExampleSig), []byte(slackExampleBody), at.Add(6 * time.Minute), ErrStaleTimestamp},
		{"signed 6 minutes ago", slackExampleSecret, signedAt(1531420618 - 360), []byte(slackExampleBody), at, ErrStaleTimestamp},
		{"timestamp in the future", slackExampleSecret, signedAt(1531420618 + 301), []byte(slackExampleBody), at, ErrStaleTimestamp},
		{"timestamp far in the future", slackExampleSecret, hdr("999999999999999999", slackExampleSig), []byte(slackExampleBody), at, ErrStaleTimestamp},
		{"zero timestamp", slackExampleSecret, hdr("0", slackExampleSig), []byte(slackExampleBody), at, ErrStaleTimestamp},
		{"non-numeric timestamp", slackExampleSecret, hdr("yesterday", slackExampleSig), []byte(slackExampleBody), at, ErrBadTimestamp},
		{"fractional timestamp", slackExampleSecret, hdr("1531420618.5", slackExampleSig), []byte(slackExampleBody), at, ErrBadTimestamp},
		{"signed timestamp", slackExampleSecret, hdr("+1531420618", slackExampleSig), []byte(slackExampleBody), at, ErrBadTimestamp},
		{"negative timestamp", slackExampleSecret, hdr("-1", slackExampleSig), []byte(slackExampleBody), at, ErrBadTimestamp},
		{"overflowing timestamp", slackExampleSecret, hdr("99999999999999999999999", slackExampleSig), []byte(slackExampleBody), at, ErrBadTimestamp},
		{"missing timestamp", slackExampleSecret, hdr("", slackExampleSig), []byte(slackExampleBody), at, ErrMissingTimestamp},
		{"missing signature", slackExampleSecret, hdr(slackExampleTS, ""), []byte(slackExampleBody), at, ErrMissingSignature},
		{"missing both", slackExampleSecret, hdr("", ""), []byte(slackExampleBody), at, ErrMissingTimestamp},
		{"no secret configured", "", hdr(slackExampleTS, slackExampleSig), []byte(slackExampleBody), at, ErrNoSigningSecret},
		{"no secret, unsigned", "", hdr("", ""), []byte(slackExampleBody), at, ErrNoSigningSecret},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Verify(tt.secret, tt.header, tt.body, tt.now)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Errorf("Verify = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestTransportRefusesUnverified(t *testing.T) {
	body := transportForm(url.Values{"command": {"/incident"}, "text": {"declare"}})
	good := transportSigned(body)
	stale := http.Header{}
	signSlack(stale, transportSecret, transportNow-360, body)
	wrongSecret := http.Header{}
	signSlack(wrongSecret, "another-secret", transportNow, body)

	tests := []struct {
		name    string
		secret  string
		header  http.Header
		wantErr string
	}{
		{"unsigned", transportSecret, http.Header{}, ErrMissingTimestamp.Error()},
		{"no signature", transportSecret, http.Header{"X-Slack-Request-Timestamp": good["X-Slack-Request-Timestamp"]}, ErrMissingSignature.Error()},
		{"bad timestamp", transportSecret, http.Header{"X-Slack-Request-Timestamp": {"soon"}, "X-Slack-Signature": good["X-Slack-Signature"]}, ErrBadTimestamp.Error()},
		{"stale", transportSecret, stale, ErrStaleTimestamp.Error()},
		{"wrong secret", transportSecret, wrongSecret, ErrBadSignature.Error()},
		{"no secret configured", "", good, "slack signing secret is not configured"},
	}
	for _, tt := range tests {
		for _, path := range []string{"/slack/commands", "/slack/events", "/slack/interactivity"} {
			t.Run(tt.name+path, func(t *testing.T) {
				var logs bytes.Buffer
				log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
				d := &stubDispatcher{}
				w := transportPost(t, newTransportHTTP(t, d, tt.secret, log), path, body, tt.header)
				if w.Code != http.StatusUnauthorized {
					t.Fatalf("status = %d, want 401; body %s", w.Code, w.Body)
				}
				if got := transportErrorText(t, w); got != tt.wantErr {
					t.Errorf("error = %q, want %q", got, tt.wantErr)
				}
				if c, e, i := d.calls(); c+e+i != 0 {
					t.Errorf("the dispatcher was called (%d, %d, %d)", c, e, i)
				}
				if !strings.Contains(logs.String(), "level=WARN") {
					t.Errorf("no warning logged:\n%s", logs.String())
				}
				for _, secret := range []string{transportSecret, "another-secret", good.Get("X-Slack-Signature")[3:], wrongSecret.Get("X-Slack-Signature")[3:], stale.Get("X-Slack-Signature")[3:]} {
					if strings.Contains(logs.String(), secret) {
						t.Errorf("the log shows a secret or signature %q:\n%s", secret, logs.String())
					}
				}
			})
		}
	}
}

func TestTransportCommand(t *testing.T) {
	form := url.Values{
		"token": {"legacy"}, "team_id": {"T1"}, "team_domain": {"acme"},
		"enterprise_id": {"E1"}, "enterprise_name": {"Acme Corp"}, "is_enterprise_install": {"true"},
		"channel_id": {"C1"}, "channel_name": {"general"}, "user_id": {"U1"}, "user_name": {"ada"},
		"command": {"/incident"}, "text": {"declare Checkout is down & slow"},
		"response_url": {"https://hooks.slack.com/commands/T1/1/x"}, "trigger_id": {"13.42.abc"}, "api_app_id": {"A1"},
	}
	want := slack.SlashCommand{
		Token: "legacy", TeamID: "T1", TeamDomain: "acme", EnterpriseID: "E1", EnterpriseName: "Acme Corp",
		IsEnterpriseInstall: true, ChannelID: "C1", ChannelName: "general", UserID: "U1", UserName: "ada",
		Command: "/incident", Text: "declare Checkout is down & slow",
		ResponseURL: "https://hooks.slack.com/commands/T1/1/x", TriggerID: "13.42.abc", APIAppID: "A1",
	}
	section := slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, "*INC-42* declared", false, false), nil, nil)

	tests := []struct {
		name  string
		reply Reply
		want  string
	}{
		{"ephemeral text", Reply{Text: "Usage: `/incident sev <1-4>`"},
			`{"response_type":"ephemeral","text":"Usage: ` + "`/incident sev <1-4>`" + `"}`},
		{"in channel with blocks", Reply{Text: "INC-42 declared", Blocks: []slack.Block{section}, InChannel: true},
			`{"response_type":"in_channel","text":"INC-42 declared","blocks":[{"type":"section","text":{"type":"mrkdwn","text":"*INC-42* declared"}}]}`},
		{"empty", Reply{}, `{"response_type":"ephemeral","text":""}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := &stubDispatcher{reply: tt.reply}
			body := transportForm(form)
			w := transportPost(t, newTransportHTTP(t, d, transportSecret, nil), "/slack/commands", body, transportSigned(body))
			if w.Code != http.StatusOK {
				t.Fatalf("status = %d, want 200; body %s", w.Code, w.Body)
			}
			if ct := w.Header().Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q", ct)
			}
			transportAssertJSON(t, w.Body.Bytes(), tt.want)
			if len(d.commands) != 1 || d.commands[0] != want {
				t.Errorf("dispatched %+v\nwant %+v", d.commands, want)
			}
		})
	}
}

func TestTransportCommandMalformed(t *testing.T) {
	for name, body := range map[string]string{
		"bad escape":    "command=%2Fincident&text=%zz",
		"semicolon":     "command=/incident;text=x",
		"no command":    "text=declare&user_id=U1",
		"empty body":    "",
		"json, no form": `{"command":"/incident"}`,
	} {
		t.Run(name, func(t *testing.T) {
			d := &stubDispatcher{}
			w := transportPost(t, newTransportHTTP(t, d, transportSecret, nil), "/slack/commands", []byte(body), transportSigned([]byte(body)))
			if w.Code != http.StatusBadRequest {
				t.Fatalf("status = %d, want 400; body %s", w.Code, w.Body)
			}
			t.Log(transportErrorText(t, w))
			if len(d.commands) != 0 {
				t.Errorf("dispatched %+v", d.commands)
			}
		})
	}
}

const transportEventCallback = `{
	"token": "legacy", "team_id": "T1", "api_app_id": "A1",
	"event": {"type": "reaction_added", "user": "U1", "reaction": "pushpin",
		"item": {"type": "message", "channel": "C1", "ts": "1700000000.000100"},
		"item_user": "U2", "event_ts": "1700000001.000200"},
	"type": "event_callback", "event_id": "Ev01", "event_time": 1700000001
}`

func TestTransportEvents(t *testing.T) {
	t.Run("url verification", func(t *testing.T) {
		d := &stubDispatcher{}
		body := []byte(`{"token":"legacy","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}`)
		w := transportPost(t, newTransportHTTP(t, d, transportSecret, nil), "/slack/events", body, transportSigned(body))
		if w.Code != http.StatusOK {
			t.Fatalf("status = %d; body %s", w.Code, w.Body)
		}
		transportAssertJSON(t, w.Body.Bytes(), `{"challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}`)
		if _, e, _ := d.calls(); e != 0 {
			t.Errorf("url_verification was dispatched")
		}
	})

	t.Run("event callback", func(t *testing.T) {
		d := &stubDispatcher{}
		body := []byte(transportEventCallback)
		w := transportPost(t, newTransportHTTP(t, d, transportSecret, nil), "/slack/events", body, transportSigned(body))
		if w.Code != http.StatusOK || w.Body.Len() != 0 {
			t.Fatalf("status = %d, body %q; want 200 and empty", w.Code, w.Body)
		}
		if len(d.events) != 1 {
			t.Fatalf("dispatched %d events, want 1", len(d.events))
		}
		ev := d.events[0]
		if ev.Type != slackevents.CallbackEvent || stubEventID(ev) != "Ev01" {
			t.Errorf("dispatched type %q id %q", ev.Type, stubEventID(ev))
		}
		ra, ok := ev.InnerEvent.Data.(*slackevents.ReactionAddedEvent)
		if !ok || ra.Reaction != "pushpin" || ra.Item.Channel != "C1" {
			t.Errorf("inner event = %#v", ev.InnerEvent.Data)
		}
	})

	t.Run("retry is dispatched again", func(t *testing.T) {
		var logs bytes.Buffer
		log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		d := &stubDispatcher{}
		body := []byte(transportEventCallback)
		h := transportSigned(body)
		h.Set("X-Slack-Retry-Num", "2")
		h.Set("X-Slack-Retry-Reason", "http_timeout")
		w := transportPost(t, newTransportHTTP(t, d, transportSecret, log), "/slack/events", body, h)
		if w.Code != http.StatusOK || len(d.events) != 1 {
			t.Fatalf("status = %d, %d events dispatched", w.Code, len(d.events))
		}
		if !strings.Contains(logs.String(), "retry_num=2") {
			t.Errorf("the retry is not logged:\n%s", logs.String())
		}
	})

	t.Run("dispatcher error asks for a retry", func(t *testing.T) {
		d := &stubDispatcher{eventErr: func(slackevents.EventsAPIEvent) error { return errors.New("database is locked") }}
		body := []byte(transportEventCallback)
		w := transportPost(t, newTransportHTTP(t, d, transportSecret, nil), "/slack/events", body, transportSigned(body))
		if w.Code != http.StatusInternalServerError {
			t.Fatalf("status = %d, want 500", w.Code)
		}
		if msg := transportErrorText(t, w); strings.Contains(msg, "database") {
			t.Errorf("the error body shows the cause: %q", msg)
		}
	})

	ignored := map[string]string{
		"app_rate_limited":   `{"token":"x","type":"app_rate_limited","team_id":"T1","minute_rate_limited":1518467820,"api_app_id":"A1"}`,
		"unknown outer type": `{"type":"something_new"}`,
		"unknown inner type": `{"type":"event_callback","event_id":"Ev02","event":{"type":"something_new_happened"}}`,
	}
	for name, body := range ignored {
		t.Run(name, func(t *testing.T) {
			d := &stubDispatcher{}
			w := transportPost(t, newTransportHTTP(t, d, transportSecret, nil), "/slack/events", []byte(body), transportSigned([]byte(body)))
			if w.Code != http.StatusOK {
				t.Fatalf("status = %d, want 200; body %s", w.Code, w.Body)
			}
			if len(d.events) != 0 {
				t.Errorf("dispatched %+v", d.events)
			}
		})
	}

	malformed := map[string]string{
		"empty":               ``,
		"not json":            `token=x&type=event_callback`,
		"truncated":           transportEventCallback[:40],
		"array":               `[]`,
		"null":                `null`,
		"no type":             `{"event_id":"Ev1"}`,
		"type not a string":   `{"type":1}`,
		"no challenge":        `{"type":"url_verification"}`,
		"callback, no event":  `{"type":"event_callback","event_id":"Ev1"}`,
		"callback, bad event": `{"type":"event_callback","event":{"type":"reaction_added","item":"C1"}}`,
		"event not an object": `{"type":"event_callback","event":"reaction_added"}`,
	}
	for name, body := range malformed {
		t.Run(name, func(t *testing.T) {
			d := &stubDispatcher{}
			w := transportPost(t, newTransportHTTP(t, d, transportSecret, nil), "/slack/events", []byte(body), transportSigned([]byte(body)))
			if w.Code != http.StatusBadRequest {
				t.Fatalf("status = %d, want 400; body %s", w.Code, w.Body)
			}
			t.Log(transportErrorText(t, w))
			if len(d.events) != 0 {
				t.Errorf("dispatched %+v", d.events)
			}
		})
	}
}

func transportInteraction(payload string) []byte {
	return transportForm(url.Values{"payload": {payload}})
}

const transportBlockActions = `{
	"type": "block_actions", "team": {"id": "T1", "domain": "acme"},
	"user": {"id": "U1", "username": "ada", "team_id": "T1"},
	"api_app_id": "A1", "token": "legacy", "trigger_id": "13.42.abc",
	"container": {"type": "message", "message_ts": "1700000000.000100", "channel_id": "C1"},
	"channel": {"id": "C1", "name": "inc-42"},
	"response_url": "https://hooks.slack.com/actions/T1/1/x",
	"actions": [{"type": "button", "action_id": "incident_ack", "block_id": "b1", "value": "42",
		"text": {"type": "plain_text", "text": "Acknowledge"}, "action_ts": "1700000002.000300"}]
}`

func TestTransportInteractivity(t *testing.T) {
	t.Run("block action, empty reply", func(t *testing.T) {
		d := &stubDispatcher{}
		body := transportInteraction(transportBlockActions)
		w := transportPost(t, newTransportHTTP(t, d, transportSecret, nil), "/slack/interactivity", body, transportSigned(body))
		if w.Code != http.StatusOK || w.Body.Len() != 0 {
			t.Fatalf("status = %d, body %q; want 200 and empty", w.Code, w.Body)
		}
		if len(d.interactions) != 1 {
			t.Fatalf("dispatched %d interactions", len(d.interactions))
		}
		cb := d.interactions[0]
		if cb.Type != slack.InteractionTypeBlockActions || cb.User.ID != "U1" || cb.Channel.ID != "C1" ||
			len(cb.ActionCallback.BlockActions) != 1 || cb.ActionCallback.BlockActions[0].ActionID != "incident_ack" ||
			cb.ActionCallback.BlockActions[0].Value != "42" {
			t.Errorf("dispatched %+v", cb)
		}
	})

	t.Run("view submission, response action", func(t *testing.T) {
		d := &stubDispatcher{interaction: func(cb slack.InteractionCallback) (any, error) {
			return slack.NewErrorsViewSubmissionResponse(map[string]string{"title": "A title is needed"}), nil
		}}
		body := transportInteraction(`{"type":"view_submission","user":{"id":"U1"},"view":{"id":"V1","callback_id":"declare","state":{"values":{}}}}`)
		w := transportPost(t, newTransportHTTP(t, d, transportSecret, nil), "/slack/interactivity", body, transportSigned(body))
		if w.Code != http.StatusOK {
			t.Fatalf("status = %d; body %s", w.Code, w.Body)
		}
		transportAssertJSON(t, w.Body.Bytes(), `{"response_action":"errors","errors":{"title":"A title is needed"}}`)
		if len(d.interactions) != 1 || d.interactions[0].View.CallbackID != "declare" {
			t.Errorf("dispatched %+v", d.interactions)
		}
	})

	t.Run("dispatcher error", func(t *testing.T) {
		d := &stubDispatcher{interaction: func(slack.InteractionCallback) (any, error) { return nil, errors.New("disk full") }}
		body := transportInteraction(transportBlockActions)
		w := transportPost(t, newTransportHTTP(t, d, transportSecret, nil), "/slack/interactivity", body, transportSigned(body))
		if w.Code != http.StatusInternalServerError {
			t.Fatalf("status = %d, want 500", w.Code)
		}
		if msg := transportErrorText(t, w); strings.Contains(msg, "disk") {
			t.Errorf("the error body shows the cause: %q", msg)
		}
	})

	malformed := map[string][]byte{
		"empty":             nil,
		"no payload":        transportForm(url.Values{"other": {"x"}}),
		"empty payload":     transportForm(url.Values{"payload": {""}}),
		"bad form":          []byte("payload=%zz"),
		"payload not json":  transportInteraction("block_actions"),
		"payload truncated": transportInteraction(transportBlockActions[:50]),
		"payload array":     transportInteraction(`[]`),
		"no type":           transportInteraction(`{"user":{"id":"U1"}}`),
		"bad actions":       transportInteraction(`{"type":"block_actions","actions":{"a":1}}`),
		"bad state":         transportInteraction(`{"type":"block_actions","state":[1]}`),
		"raw json body":     []byte(transportBlockActions),
	}
	for name, body := range malformed {
		t.Run(name, func(t *testing.T) {
			d := &stubDispatcher{}
			w := transportPost(t, newTransportHTTP(t, d, transportSecret, nil), "/slack/interactivity", body, transportSigned(body))
			if w.Code != http.StatusBadRequest {
				t.Fatalf("status = %d, want 400; body %s", w.Code, w.Body)
			}
			t.Log(transportErrorText(t, w))
			if len(d.interactions) != 0 {
				t.Errorf("dispatched %+v", d.interactions)
			}
		})
	}
}

// TestTransportThroughServer mounts the routes on Warroom's server, whose
// middleware limits bodies.
func TestTransportThroughServer(t *testing.T) {
	d := &stubDispatcher{reply: Reply{Text: "ok"}}
	srv := server.New(server.Options{MaxBodyBytes: 1024})
	NewHTTP(d, transportSecret, func() time.Time { return time.Unix(transportNow, 0) }, slog.New(slog.DiscardHandler)).Routes(srv.Handle)

	body := transportForm(url.Values{"command": {"/incident"}, "text": {"help"}})
	w := transportPost(t, srv.Handler(), "/slack/commands", body, transportSigned(body))
	if w.Code != http.StatusOK {
		t.Fatalf("status = %d; body %s", w.Code, w.Body)
	}
	transportAssertJSON(t, w.Body.Bytes(), `{"response_type":"ephemeral","text":"ok"}`)

	big := transportForm(url.Values{"command": {"/incident"}, "text": {strings.Repeat("x", 2048)}})
	for _, path := range []string{"/slack/commands", "/slack/events", "/slack/interactivity"} {
		w := transportPost(t, srv.Handler(), path, big, transportSigned(big))
		if w.Code != http.StatusRequestEntityTooLarge {
			t.Errorf("%s: status = %d, want 413; body %s", path, w.Code, w.Body)
		}
		transportErrorText(t, w)
	}

	w = transportPost(t, srv.Handler(), "/slack/commands", body, nil)
	if w.Code != http.StatusUnauthorized {
		t.Errorf("unsigned: status = %d, want 401", w.Code)
	}
	w = transportPost(t, srv.Handler(), "/slack/events", nil, nil)
	if w.Code != http.StatusUnauthorized {
		t.Errorf("unsigned, no body: status = %d, want 401", w.Code)
	}
	if c, _, _ := d.calls(); c != 1 {
		t.Errorf("%d commands dispatched, want 1", c)
	}
}

// transportErrReader fails like a connection that breaks mid-body.
type transportErrReader struct{}

func (transportErrReader) Read([]byte) (int, error) { return 0, io.ErrUnexpectedEOF }

func TestTransportBodyReadError(t *testing.T) {
	d := &stubDispatcher{}
	r := httptest.NewRequest(http.MethodPost, "/slack/commands", transportErrReader{})
	w := httptest.NewRecorder()
	newTransportHTTP(t, d, transportSecret, nil).ServeHTTP(w, r)
	if w.Code != http.StatusBadRequest {
		t.Errorf("status = %d, want 400", w.Code)
	}
}

// FuzzSlackHTTP sends correctly signed bodies to every endpoint: whatever
// they hold, the answer is 200, 400 or 413 (401 only if signing went wrong),
// and nothing panics.
func FuzzSlackHTTP(f *testing.F) {
	f.Add([]byte(slackExampleBody))
	f.Add(transportForm(url.Values{"command": {"/incident"}, "text": {"sev 2"}}))
	f.Add([]byte(transportEventCallback))
	f.Add([]byte(`{"type":"url_verification","challenge":"c"}`))
	f.Add([]byte(`{"type":"event_callback","event":{"type":"message","channel":"C1","text":"hi"}}`))
	f.Add([]byte(`{"type":"event_callback","event":{"type":"app_mention"}}`))
	f.Add([]byte(`{"type":"app_rate_limited"}`))
	f.Add(transportInteraction(transportBlockActions))
	f.Add(transportInteraction(`{"type":"view_submission","view":{"state":{"values":{"b":{"a":{"type":"plain_text_input","value":"x"}}}}}}`))
	f.Add(transportInteraction(`{"type":"dialog_submission","state":"x","submission":{"a":"b"}}`))
	f.Add([]byte("payload=%7B%22type%22%3A%22block_actions%22%2C%22actions%22%3A%5B%7B%7D%5D%7D"))
	f.Add([]byte{})
	f.Add([]byte("\x00\xff{"))

	d := &stubDispatcher{
		discard: true,
		reply:   Reply{Text: "ok", Blocks: []slack.Block{slack.NewDividerBlock()}},
		interaction: func(slack.InteractionCallback) (any, error) {
			return map[string]string{"response_action": "clear"}, nil
		},
	}
	mux := newTransportHTTP(f, d, transportSecret, nil)
	limited := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, 4096)
		mux.ServeHTTP(w, r)
	})
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, path := range []string{"/slack/commands", "/slack/events", "/slack/interactivity"} {
			w := transportPost(t, limited, path, body, transportSigned(body))
			switch w.Code {
			case http.StatusOK, http.StatusBadRequest, http.StatusRequestEntityTooLarge:
			case http.StatusUnauthorized:
				t.Fatalf("%s: a correctly signed body was refused: %s", path, w.Body)
			default:
				t.Fatalf("%s: status %d for %q: %s", path, w.Code, body, w.Body)
			}
		}
	})
}
