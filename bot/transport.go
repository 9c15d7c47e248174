package bot

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
	"github.com/slack-go/slack/socketmode"

	"github.com/warroomhq/warroom/server"
)

// Errors of Verify. Their messages say what is wrong without repeating the
// signature or the secret, so they are safe to log and to answer with.
var (
	ErrNoSigningSecret  = errors.New("slack signing secret is not configured")
	ErrMissingTimestamp = errors.New("missing X-Slack-Request-Timestamp header")
	ErrBadTimestamp     = errors.New("X-Slack-Request-Timestamp is not a Unix time in seconds")
	ErrStaleTimestamp   = errors.New("X-Slack-Request-Timestamp is more than 5 minutes away from now")
	ErrMissingSignature = errors.New("missing X-Slack-Signature header")
	ErrBadSignature     = errors.New("X-Slack-Signature does not match the request")
)

// MaxRequestAge is how far a request's timestamp may be from now, in the
// past or the future, before Verify refuses it as a possible replay.
const MaxRequestAge = 5 * time.Minute

// HTTP serves Slack's HTTP endpoints: it verifies each request's signature
// before anything else, parses it and hands it to a Dispatcher.
//
// It reads whole bodies and relies on the server's middleware
// (server.Server.Handle) to limit their size; a body over the limit gets 413.
type HTTP struct {
	d      Dispatcher
	secret string
	now    func() time.Time
	log    *slog.Logger
}

// NewHTTP returns the HTTP endpoints for d, verifying requests with the
// signing secret.
func NewHTTP(d Dispatcher, signingSecret string, now func() time.Time, log *slog.Logger) *HTTP {
	return &HTTP{d: d, secret: signingSecret, now: now, log: log}
}

// Routes mounts POST /slack/commands, /slack/events and /slack/interactivity.
func (h *HTTP) Routes(handle func(pattern string, h http.Handler)) {
	handle("POST /slack/commands", h.verified(h.command))
	handle("POST /slack/events", h.verified(h.event))
	handle("POST /slack/interactivity", h.verified(h.interaction))
}

// Verify checks a Slack request signature: X-Slack-Signature must be
// "v0=" + hex(HMAC-SHA256(secret, "v0:" + X-Slack-Request-Timestamp + ":" +
// body)), compared in constant time, and the timestamp at most 5 minutes
// away from now.
func Verify(secret string, header http.Header, body []byte, now time.Time) error {
	if secret == "" {
		return ErrNoSigningSecret
	}
	ts := header.Get("X-Slack-Request-Timestamp")
	if ts == "" {
		return ErrMissingTimestamp
	}
	sig := header.Get("X-Slack-Signature")
	if sig == "" {
		return ErrMissingSignature
	}
	sec, ok := parseUnixSeconds(ts)
	if !ok {
		return ErrBadTimestamp
	}
	// 0 <= sec < 10^18, so for any real clock the difference cannot overflow.
	maxAge := int64(MaxRequestAge / time.Second)
	if age := now.Unix() - sec; age > maxAge || age < -maxAge {
		return ErrStaleTimestamp
	}
	got, ok := strings.CutPrefix(sig, "v0=")
	if !ok {
		return ErrBadSignature
	}
	gotMAC, err := hex.DecodeString(got)
	if err != nil {
		return ErrBadSignature
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte("v0:" + ts + ":"))
	mac.Write(body)
	if !hmac.Equal(gotMAC, mac.Sum(nil)) {
		return ErrBadSignature
	}
	return nil
}

// parseUnixSeconds parses a timestamp of decimal digits only: no sign, no
// spaces, no fraction.
func parseUnixSeconds(s string) (int64, bool) {
	if len(s) > 18 { // far beyond any clock, and short of overflowing int64
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

// slackHandler serves a verified request whose body has been read. A
// returned error is answered by server.WriteError, and so should be a
// *server.StatusError.
type slackHandler func(w http.ResponseWriter, r *http.Request, body []byte) error

// verified reads the body, verifies its signature and only then calls next.
func (h *HTTP) verified(next slackHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body []byte
		if r.Body != nil {
			var err error
			if body, err = io.ReadAll(r.Body); err != nil {
				if _, tooLarge := errors.AsType[*http.MaxBytesError](err); tooLarge {
					h.log.Warn("slack request body too large", "path", r.URL.Path, "err", err)
					server.WriteError(w, r, err)
					return
				}
				server.WriteError(w, r, &server.StatusError{Code: http.StatusBadRequest, Msg: "could not read the request body"})
				return
			}
		}
		if err := Verify(h.secret, r.Header, body, h.now()); err != nil {
			// The error names the problem; never the secret or the signature.
			h.log.Warn("refused a slack request", "path", r.URL.Path, "remote_addr", r.RemoteAddr,
				"timestamp", r.Header.Get("X-Slack-Request-Timestamp"), "err", err)
			server.WriteError(w, r, &server.StatusError{Code: http.StatusUnauthorized, Msg: err.Error()})
			return
		}
		if err := next(w, r, body); err != nil {
			server.WriteError(w, r, err)
		}
	})
}

func badRequest(msg string) error {
	return &server.StatusError{Code: http.StatusBadRequest, Msg: msg}
}

// command serves /slack/commands: a form-encoded slash command.
func (h *HTTP) command(w http.ResponseWriter, r *http.Request, body []byte) error {
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return badRequest("request body is not a valid form: " + err.Error())
	}
	cmd := slashCommandFromForm(form)
	if cmd.Command == "" {
		return badRequest("request body is not a slash command: it has no command field")
	}
	reply := h.d.Command(r.Context(), cmd)
	server.WriteJSON(w, http.StatusOK, newCommandResponse(reply))
	return nil
}

// slashCommandFromForm fills a SlashCommand as slack.SlashCommandParse does.
func slashCommandFromForm(f url.Values) slack.SlashCommand {
	return slack.SlashCommand{
		Token:               f.Get("token"),
		TeamID:              f.Get("team_id"),
		TeamDomain:          f.Get("team_domain"),
		EnterpriseID:        f.Get("enterprise_id"),
		EnterpriseName:      f.Get("enterprise_name"),
		IsEnterpriseInstall: f.Get("is_enterprise_install") == "true",
		ChannelID:           f.Get("channel_id"),
		ChannelName:         f.Get("channel_name"),
		UserID:              f.Get("user_id"),
		UserName:            f.Get("user_name"),
		Command:             f.Get("command"),
		Text:                f.Get("text"),
		ResponseURL:         f.Get("response_url"),
		TriggerID:           f.Get("trigger_id"),
		APIAppID:            f.Get("api_app_id"),
	}
}

// commandResponse is a slash command's immediate reply, over HTTP or as a
// Socket Mode acknowledgement payload.
type commandResponse struct {
	ResponseType string        `json:"response_type"` // "ephemeral" or "in_channel"
	Text         string        `json:"text"`
	Blocks       []slack.Block `json:"blocks,omitempty"`
}

func newCommandResponse(r Reply) commandResponse {
	resp := commandResponse{ResponseType: slack.ResponseTypeEphemeral, Text: r.Text, Blocks: r.Blocks}
	if r.InChannel {
		resp.ResponseType = slack.ResponseTypeInChannel
	}
	return resp
}

// event serves /slack/events: the Events API's JSON envelopes.
func (h *HTTP) event(w http.ResponseWriter, r *http.Request, body []byte) error {
	var outer struct {
		Type      string `json:"type"`
		Challenge string `json:"challenge"`
		EventID   string `json:"event_id"`
		Event     struct {
			Type string `json:"type"`
		} `json:"event"`
	}
	if err := json.Unmarshal(body, &outer); err != nil {
		return badRequest("request body is not a JSON object of the Events API")
	}
	log := h.log.With("event_type", outer.Type)
	switch outer.Type {
	case "":
		return badRequest("request body has no event type")
	case slackevents.URLVerification:
		if outer.Challenge == "" {
			return badRequest("url_verification has no challenge")
		}
		log.Info("answering slack's url verification")
		server.WriteJSON(w, http.StatusOK, map[string]string{"challenge": outer.Challenge})
		return nil
	case slackevents.CallbackEvent:
	default:
		// app_rate_limited and types Slack may add later: nothing to do,
		// and nothing to retry.
		log.Info("ignoring a slack event envelope")
		w.WriteHeader(http.StatusOK)
		return nil
	}

	log = log.With("event_id", outer.EventID, "inner_type", outer.Event.Type)
	if retry := r.Header.Get("X-Slack-Retry-Num"); retry != "" {
		log.Debug("slack is retrying an event", "retry_num", retry, "retry_reason", r.Header.Get("X-Slack-Retry-Reason"))
	}
	ev, err := slackevents.ParseEvent(json.RawMessage(body), slackevents.OptionNoVerifyToken())
	if err != nil {
		if outer.Event.Type != "" && !knownInnerEvent(outer.Event.Type) {
			// Well formed, but of a type slack-go cannot parse: an
			// event we did not ask for. Retrying would not help.
			log.Info("ignoring a slack event of an unknown type")
			w.WriteHeader(http.StatusOK)
			return nil
		}
		log.Debug("malformed slack event", "err", err)
		return badRequest("request body is not a valid event_callback")
	}
	if err := h.d.Event(r.Context(), ev); err != nil {
		// 500 so that Slack sends the event again later.
		log.Error("handling a slack event failed", "err", err)
		return &server.StatusError{Code: http.StatusInternalServerError, Msg: "could not handle the event; retry later"}
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

// knownInnerEvent reports whether slackevents.ParseEvent knows inner events
// of type t.
func knownInnerEvent(t string) bool {
	if _, ok := slackevents.EventsAPIInnerEventMapping[slackevents.EventsAPIType(t)]; ok {
		return true
	}
	_, ok := slack.EventMapping[t]
	return ok
}

// interaction serves /slack/interactivity: a form whose payload field holds
// the JSON of an interaction.
func (h *HTTP) interaction(w http.ResponseWriter, r *http.Request, body []byte) error {
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return badRequest("request body is not a valid form: " + err.Error())
	}
	payload := form.Get("payload")
	if payload == "" {
		return badRequest("request body has no payload field")
	}
	var cb slack.InteractionCallback
	if err := json.Unmarshal([]byte(payload), &cb); err != nil {
		return badRequest("payload is not a valid interaction")
	}
	if cb.Type == "" {
		return badRequest("payload has no interaction type")
	}
	resp, err := h.d.Interaction(r.Context(), cb)
	if err != nil {
		h.log.Error("handling a slack interaction failed", "interaction_type", cb.Type, "callback_id", cb.CallbackID, "err", err)
		return &server.StatusError{Code: http.StatusInternalServerError, Msg: "could not handle the interaction"}
	}
	if resp == nil {
		w.WriteHeader(http.StatusOK)
		return nil
	}
	server.WriteJSON(w, http.StatusOK, resp)
	return nil
}

// socketWorkers is how many Socket Mode requests are handled at once, so
// that one slow database write does not hold back the acknowledgements of
// the others (Slack wants them within 3 seconds).
const socketWorkers = 4

// RunSocketMode receives requests over Socket Mode with api (which carries
// the app-level token) and hands them to d, until ctx is cancelled.
//
// Commands and interactions are acknowledged with the dispatcher's reply.
// An event is acknowledged only once d.Event has succeeded, so that Slack
// sends it again otherwise. It returns nil once ctx is cancelled, and the
// connection's error when it cannot go on (a revoked or invalid token).
func RunSocketMode(ctx context.Context, api *slack.Client, d Dispatcher, log *slog.Logger) error {
	client := socketmode.New(api, socketmode.OptionLog(slog.NewLogLogger(log.Handler(), slog.LevelDebug)))
	s := &socketRunner{client: client, d: d, log: log}

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	ran := make(chan error, 1)
	go func() { ran <- client.RunContext(runCtx) }()

	work := make(chan socketmode.Event)
	var wg sync.WaitGroup
	for range socketWorkers {
		wg.Go(func() {
			for evt := range work {
				s.handle(runCtx, evt)
			}
		})
	}

	err := s.loop(runCtx, ran, work)
	// Cancel first: with the connection gone, a worker could wait forever
	// to queue its acknowledgement.
	cancel()
	close(work)
	wg.Wait()
	if err == nil {
		<-ran // RunContext returns soon after its context ends
	}
	if ctx.Err() != nil {
		return nil
	}
	return err
}

type socketRunner struct {
	client *socketmode.Client
	d      Dispatcher
	log    *slog.Logger
}

// loop reads the client's events, handing requests to the workers, until
// ctx ends (nil) or the client stops (its error).
func (s *socketRunner) loop(ctx context.Context, ran <-chan error, work chan<- socketmode.Event) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-ran:
			if err == nil {
				err = errors.New("socket mode client stopped")
			}
			return fmt.Errorf("slack socket mode: %w", err)
		case evt := <-s.client.Events:
			switch evt.Type {
			case socketmode.EventTypeSlashCommand, socketmode.EventTypeEventsAPI, socketmode.EventTypeInteractive:
				if evt.Request == nil {
					s.log.Warn("slack socket mode request without its envelope", "type", evt.Type)
					continue
				}
				select {
				case work <- evt:
				case <-ctx.Done():
					return nil
				}
			default:
				s.logLifecycle(ctx, evt)
			}
		}
	}
}

// logLifecycle logs the client's own events, and acknowledges messages that
// cannot be parsed, since Slack would only send them again.
func (s *socketRunner) logLifecycle(ctx context.Context, evt socketmode.Event) {
	switch evt.Type {
	case socketmode.EventTypeConnecting:
		if e, ok := evt.Data.(*slack.ConnectingEvent); ok {
			s.log.Debug("connecting to slack socket mode", "attempt", e.Attempt, "connection_count", e.ConnectionCount)
		}
	case socketmode.EventTypeConnected:
		if e, ok := evt.Data.(*socketmode.ConnectedEvent); ok {
			s.log.Info("connected to slack socket mode", "connection_count", e.ConnectionCount)
		}
	case socketmode.EventTypeHello:
		if evt.Request != nil {
			s.log.Debug("slack socket mode hello", "num_connections", evt.Request.NumConnections)
		}
	case socketmode.EventTypeDisconnect:
		s.log.Info("slack asked socket mode to reconnect")
	case socketmode.EventTypeConnectionError:
		if e, ok := evt.Data.(*slack.ConnectionErrorEvent); ok {
			s.log.Warn("slack socket mode connection failed", "attempt", e.Attempt, "backoff", e.Backoff, "err", e.ErrorObj)
		}
	case socketmode.EventTypeInvalidAuth:
		s.log.Error("slack refused the app-level token for socket mode")
	case socketmode.EventTypeIncomingError:
		if e, ok := evt.Data.(*slack.IncomingEventError); ok {
			s.log.Warn("slack socket mode read failed", "err", e.ErrorObj)
		}
	case socketmode.EventTypeErrorWriteFailed:
		if e, ok := evt.Data.(*socketmode.ErrorWriteFailed); ok && e.Response != nil {
			s.log.Warn("slack socket mode acknowledgement failed", "envelope_id", e.Response.EnvelopeID, "err", e.Cause)
		}
	case socketmode.EventTypeErrorBadMessage:
		e, ok := evt.Data.(*socketmode.ErrorBadMessage)
		if !ok {
			return
		}
		// The message itself may hold user content: log the cause only.
		var env struct {
			Type       string `json:"type"`
			EnvelopeID string `json:"envelope_id"`
		}
		_ = json.Unmarshal(e.Message, &env)
		s.log.Warn("ignoring a slack socket mode message that cannot be parsed",
			"type", env.Type, "envelope_id", env.EnvelopeID, "err", e.Cause)
		if env.EnvelopeID != "" {
			s.ack(ctx, env.EnvelopeID, nil)
		}
	default:
		s.log.Debug("slack socket mode event", "type", evt.Type)
	}
}

// handle serves one request and acknowledges it.
func (s *socketRunner) handle(ctx context.Context, evt socketmode.Event) {
	req := evt.Request
	log := s.log.With("type", evt.Type, "envelope_id", req.EnvelopeID)
	defer func() {
		if p := recover(); p != nil {
			log.Error("panic handling a slack socket mode request", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
		}
	}()
	switch data := evt.Data.(type) {
	case slack.SlashCommand:
		reply := s.d.Command(ctx, data)
		s.ack(ctx, req.EnvelopeID, newCommandResponse(reply))
	case slackevents.EventsAPIEvent:
		if req.RetryAttempt > 0 {
			log.Debug("slack is retrying an event", "retry_attempt", req.RetryAttempt, "retry_reason", req.RetryReason)
		}
		if err := s.d.Event(ctx, data); err != nil {
			// No acknowledgement: Slack sends the event again.
			log.Error("handling a slack event failed", "err", err)
			return
		}
		s.ack(ctx, req.EnvelopeID, nil)
	case slack.InteractionCallback:
		resp, err := s.d.Interaction(ctx, data)
		if err != nil {
			log.Error("handling a slack interaction failed", "interaction_type", data.Type, "err", err)
			return
		}
		s.ack(ctx, req.EnvelopeID, resp)
	default:
		log.Warn("slack socket mode request with unexpected data", "data_type", fmt.Sprintf("%T", evt.Data))
	}
}

func (s *socketRunner) ack(ctx context.Context, envelopeID string, payload any) {
	if err := s.client.AckCtx(ctx, envelopeID, payload); err != nil && ctx.Err() == nil {
		s.log.Warn("acknowledging a slack socket mode request failed", "envelope_id", envelopeID, "err", err)
	}
}
