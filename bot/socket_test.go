package bot

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
)

// socketSafetyNet bounds each wait of the Socket Mode tests; a passing test
// never comes near it.
const socketSafetyNet = 20 * time.Second

// fakeSocketSlack is Slack's side of Socket Mode: apps.connections.open
// hands out the address of a websocket, and each connection made to it is
// passed to the test.
type fakeSocketSlack struct {
	*httptest.Server
	opened chan string // the Authorization header of each apps.connections.open
	conns  chan *websocket.Conn
	// openAnswer, when set, replaces the answer to apps.connections.open.
	openAnswer string
}

func newFakeSocketSlack(t *testing.T, openAnswer string) *fakeSocketSlack {
	t.Helper()
	f := &fakeSocketSlack{opened: make(chan string, 16), conns: make(chan *websocket.Conn, 4), openAnswer: openAnswer}
	upgrader := websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/apps.connections.open", func(w http.ResponseWriter, r *http.Request) {
		select {
		case f.opened <- r.Header.Get("Authorization"):
		default: // a client retrying in a loop
		}
		w.Header().Set("Content-Type", "application/json")
		if f.openAnswer != "" {
			_, _ = w.Write([]byte(f.openAnswer))
			return
		}
		if r.Header.Get("Authorization") != "Bearer xapp-1-x" {
			_, _ = w.Write([]byte(`{"ok":false,"error":"not_authed"}`))
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"ok": true, "url": "ws://" + r.Host + "/link"})
	})
	mux.HandleFunc("GET /link", func(w http.ResponseWriter, r *http.Request) {
		conn, err := upgrader.Upgrade(w, r, nil)
		if err != nil {
			t.Errorf("upgrading to a websocket: %v", err)
			return
		}
		t.Cleanup(func() { _ = conn.Close() })
		_ = conn.SetReadDeadline(time.Now().Add(socketSafetyNet))
		f.conns <- conn
	})
	f.Server = httptest.NewServer(mux)
	t.Cleanup(f.Close)
	return f
}

func (f *fakeSocketSlack) api() *slack.Client {
	return slack.New("xoxb-x", slack.OptionAPIURL(f.URL+"/api/"), slack.OptionAppLevelToken("xapp-1-x"))
}

// socketAck is what the client writes back for an envelope.
type socketAck struct {
	EnvelopeID string          `json:"envelope_id"`
	Payload    json.RawMessage `json:"payload"`
}

func socketSend(t *testing.T, conn *websocket.Conn, typ, envelopeID, payload string) {
	t.Helper()
	msg := map[string]any{"type": typ, "envelope_id": envelopeID, "payload": json.RawMessage(payload),
		"accepts_response_payload": typ != "events_api", "retry_attempt": 0, "retry_reason": ""}
	if err := conn.WriteJSON(msg); err != nil {
		t.Fatalf("sending %s %s: %v", typ, envelopeID, err)
	}
}

func socketReadAck(t *testing.T, conn *websocket.Conn) socketAck {
	t.Helper()
	var ack socketAck
	if err := conn.ReadJSON(&ack); err != nil {
		t.Fatalf("reading an acknowledgement: %v", err)
	}
	return ack
}

func socketWaitFor[T any](t *testing.T, what string, c <-chan T) T {
	t.Helper()
	select {
	case v := <-c:
		return v
	case <-time.After(socketSafetyNet):
		t.Fatalf("timed out waiting for %s", what)
		panic("unreachable")
	}
}

func socketLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
}

const socketCommandJSON = `{
	"token": "legacy", "team_id": "T1", "team_domain": "acme", "channel_id": "C1",
	"channel_name": "general", "user_id": "U1", "user_name": "ada", "command": "/incident",
	"text": "declare Checkout is down", "api_app_id": "A1", "is_enterprise_install": "false",
	"response_url": "https://hooks.slack.com/commands/T1/1/x", "trigger_id": "13.42.abc"
}`

func TestSocketMode(t *testing.T) {
	fake := newFakeSocketSlack(t, "")
	section := slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, "*INC-42* declared", false, false), nil, nil)
	d := &stubDispatcher{
		reply:   Reply{Text: "INC-42 declared", Blocks: []slack.Block{section}},
		handled: make(chan string, 32),
		eventErr: func(ev slackevents.EventsAPIEvent) error {
			if stubEventID(ev) == "EvFail" {
				return errors.New("database is locked")
			}
			return nil
		},
		interaction: func(cb slack.InteractionCallback) (any, error) {
			if cb.Type == slack.InteractionTypeViewSubmission {
				return slack.NewClearViewSubmissionResponse(), nil
			}
			return nil, nil
		},
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- RunSocketMode(ctx, fake.api(), d, socketLogger(t)) }()

	if auth := socketWaitFor(t, "apps.connections.open", fake.opened); auth != "Bearer xapp-1-x" {
		t.Errorf("apps.connections.open Authorization = %q, want the app-level token as bearer", auth)
	}
	conn := socketWaitFor(t, "the websocket", fake.conns)
	if err := conn.WriteJSON(map[string]any{"type": "hello", "num_connections": 1,
		"debug_info": map[string]any{"host": "applink-1"}, "connection_info": map[string]any{"app_id": "A1"}}); err != nil {
		t.Fatal(err)
	}

	// A slash command is acknowledged with the reply.
	socketSend(t, conn, "slash_commands", "env-cmd", socketCommandJSON)
	ack := socketReadAck(t, conn)
	if ack.EnvelopeID != "env-cmd" {
		t.Fatalf("acknowledged %q, want env-cmd", ack.EnvelopeID)
	}
	transportAssertJSON(t, ack.Payload, `{"response_type":"ephemeral","text":"INC-42 declared",
		"blocks":[{"type":"section","text":{"type":"mrkdwn","text":"*INC-42* declared"}}]}`)
	socketWaitFor(t, "the command", d.handled)
	d.mu.Lock()
	cmd := d.commands[0]
	d.mu.Unlock()
	if cmd.Command != "/incident" || cmd.Text != "declare Checkout is down" || cmd.UserID != "U1" ||
		cmd.ChannelID != "C1" || cmd.TriggerID != "13.42.abc" {
		t.Errorf("dispatched %+v", cmd)
	}

	// An event is acknowledged, without a payload, once handled.
	socketSend(t, conn, "events_api", "env-ev", transportEventCallback)
	ack = socketReadAck(t, conn)
	if ack.EnvelopeID != "env-ev" || ack.Payload != nil {
		t.Errorf("acknowledged %q with %s, want env-ev without payload", ack.EnvelopeID, ack.Payload)
	}
	if got := socketWaitFor(t, "the event", d.handled); got != "event Ev01" {
		t.Errorf("handled %q", got)
	}

	// An event that fails is not acknowledged, so that Slack sends it again:
	// the next acknowledgement is for the next envelope.
	socketSend(t, conn, "events_api", "env-fail", strings.Replace(transportEventCallback, `"Ev01"`, `"EvFail"`, 1))
	if got := socketWaitFor(t, "the failing event", d.handled); got != "event EvFail" {
		t.Errorf("handled %q", got)
	}

	// A button: acknowledged without payload.
	socketSend(t, conn, "interactive", "env-button", transportBlockActions)
	ack = socketReadAck(t, conn)
	if ack.EnvelopeID != "env-button" || ack.Payload != nil {
		t.Errorf("acknowledged %q with %s, want env-button without payload (env-fail must not be acknowledged)", ack.EnvelopeID, ack.Payload)
	}
	socketWaitFor(t, "the button", d.handled)

	// A modal submission: acknowledged with the response action.
	socketSend(t, conn, "interactive", "env-modal",
		`{"type":"view_submission","user":{"id":"U1"},"view":{"id":"V1","callback_id":"declare","state":{"values":{}}}}`)
	ack = socketReadAck(t, conn)
	if ack.EnvelopeID != "env-modal" {
		t.Errorf("acknowledged %q, want env-modal", ack.EnvelopeID)
	}
	transportAssertJSON(t, ack.Payload, `{"response_action":"clear"}`)
	socketWaitFor(t, "the modal", d.handled)

	// An event that cannot be parsed is acknowledged, since Slack would only
	// send it again, and not dispatched.
	socketSend(t, conn, "events_api", "env-unknown", `{"type":"event_callback","event_id":"Ev9","event":{"type":"something_new"}}`)
	ack = socketReadAck(t, conn)
	if ack.EnvelopeID != "env-unknown" || ack.Payload != nil {
		t.Errorf("acknowledged %q with %s, want env-unknown without payload", ack.EnvelopeID, ack.Payload)
	}

	cancel()
	if err := socketWaitFor(t, "RunSocketMode to return", done); err != nil {
		t.Errorf("RunSocketMode = %v, want nil after cancel", err)
	}
	c, e, i := d.calls()
	if c != 1 || e != 2 || i != 2 {
		t.Errorf("dispatched %d commands, %d events, %d interactions; want 1, 2, 2", c, e, i)
	}
}

// TestSocketModeSlowRequest checks that one slow request does not hold back
// the acknowledgement of the next.
func TestSocketModeSlowRequest(t *testing.T) {
	fake := newFakeSocketSlack(t, "")
	release := make(chan struct{})
	releaseOnce := sync.OnceFunc(func() { close(release) })
	defer releaseOnce() // should the test stop early
	d := &stubDispatcher{
		reply: Reply{Text: "ok"},
		interaction: func(cb slack.InteractionCallback) (any, error) {
			if cb.CallbackID == "slow" {
				<-release
			}
			return nil, nil
		},
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- RunSocketMode(ctx, fake.api(), d, socketLogger(t)) }()
	conn := socketWaitFor(t, "the websocket", fake.conns)

	socketSend(t, conn, "interactive", "env-slow", `{"type":"block_actions","callback_id":"slow"}`)
	socketSend(t, conn, "slash_commands", "env-fast", socketCommandJSON)
	if ack := socketReadAck(t, conn); ack.EnvelopeID != "env-fast" {
		t.Fatalf("acknowledged %q first, want env-fast", ack.EnvelopeID)
	}
	releaseOnce()
	if ack := socketReadAck(t, conn); ack.EnvelopeID != "env-slow" {
		t.Fatalf("acknowledged %q, want env-slow", ack.EnvelopeID)
	}
	cancel()
	if err := socketWaitFor(t, "RunSocketMode to return", done); err != nil {
		t.Errorf("RunSocketMode = %v, want nil after cancel", err)
	}
}

func TestSocketModeInvalidAuth(t *testing.T) {
	fake := newFakeSocketSlack(t, `{"ok":false,"error":"invalid_auth"}`)
	d := &stubDispatcher{}
	done := make(chan error, 1)
	go func() { done <- RunSocketMode(t.Context(), fake.api(), d, socketLogger(t)) }()
	err := socketWaitFor(t, "RunSocketMode to return", done)
	if err == nil || !strings.Contains(err.Error(), "invalid_auth") {
		t.Errorf("RunSocketMode = %v, want an invalid_auth error", err)
	}
}

// TestSocketModeCancelWhileConnecting cancels while Slack keeps failing to
// open a connection (the client would retry for ever).
func TestSocketModeCancelWhileConnecting(t *testing.T) {
	fake := newFakeSocketSlack(t, `{"ok":false,"error":"internal_error"}`)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- RunSocketMode(ctx, fake.api(), &stubDispatcher{}, socketLogger(t)) }()
	socketWaitFor(t, "apps.connections.open", fake.opened)
	cancel()
	if err := socketWaitFor(t, "RunSocketMode to return", done); err != nil {
		t.Errorf("RunSocketMode = %v, want nil after cancel", err)
	}
}
