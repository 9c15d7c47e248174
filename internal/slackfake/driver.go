package slackfake

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// VerificationToken is the legacy verification token the Driver sends in
// commands and events. Warroom checks signatures, not this token.
const VerificationToken = "fake-verification-token"

// Sign signs a request body as Slack does: timestamp is ts in Unix seconds
// (the X-Slack-Request-Timestamp header) and signature is "v0=" +
// hex(HMAC-SHA256(secret, "v0:" + timestamp + ":" + body)) (the
// X-Slack-Signature header).
func Sign(secret string, ts time.Time, body []byte) (timestamp, signature string) {
	timestamp = strconv.FormatInt(ts.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte("v0:" + timestamp + ":"))
	mac.Write(body)
	return timestamp, "v0=" + hex.EncodeToString(mac.Sum(nil))
}

// Driver plays Slack towards Warroom: it sends signed slash commands,
// Events API events and interactions to Warroom's HTTP endpoints, shaped
// like Slack's. Use it by pointer; the zero value of the optional fields
// is ready to use.
type Driver struct {
	BaseURL       string           // Warroom's root URL
	SigningSecret string           // the app's signing secret
	Now           func() time.Time // default time.Now; signs and dates requests
	Client        *http.Client     // default http.DefaultClient
	// Fake, when set, mints the trigger IDs and response URLs of commands
	// (so that views.open and response URL posts to it are checked) and
	// supplies the team, channel names and user names.
	Fake *Fake

	seq atomic.Int64 // trigger IDs minted without a Fake
}

// Response is Warroom's answer to a request.
type Response struct {
	Status int
	Body   []byte
	JSON   map[string]any // the body decoded, nil if it is not a JSON object
}

func (d *Driver) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

func (d *Driver) team() (id, domain string) {
	if d.Fake != nil {
		return d.Fake.teamID, d.Fake.teamDomain
	}
	return DefaultTeamID, DefaultTeamDomain
}

// Command sends the slash command "/incident <text>" by user (an ID) in
// channel (an ID or name), to POST /slack/commands. The trigger ID is
// fresh; with a Fake, so is the response URL (Fake.NewResponseURL), else
// response_url is empty.
func (d *Driver) Command(ctx context.Context, user, channel, text string) (Response, error) {
	teamID, domain := d.team()
	chID, chName, userName := channel, strings.TrimPrefix(channel, "#"), user
	var trigger, responseURL string
	if f := d.Fake; f != nil {
		if c, ok := f.Channel(channel); ok {
			chID, chName = c.ID, c.Name
		}
		if u, ok := f.User(user); ok {
			userName = u.Name
		}
		trigger = f.NewTriggerID()
		responseURL = f.NewResponseURL(chID, user)
	} else {
		trigger = fmt.Sprintf("T-%d.driver", d.seq.Add(1))
	}
	form := url.Values{
		"token":                 {VerificationToken},
		"team_id":               {teamID},
		"team_domain":           {domain},
		"channel_id":            {chID},
		"channel_name":          {chName},
		"user_id":               {user},
		"user_name":             {userName},
		"command":               {"/incident"},
		"text":                  {text},
		"response_url":          {responseURL},
		"trigger_id":            {trigger},
		"api_app_id":            {AppID},
		"is_enterprise_install": {"false"},
	}
	return d.post(ctx, "/slack/commands", "application/x-www-form-urlencoded", []byte(form.Encode()))
}

// Event sends an Events API event (such as {"type": "reaction_added",
// ...}) to POST /slack/events, wrapped in Slack's event_callback envelope
// with eventID and event_time from Now. The event gets an event_ts from Now
// if it has none; event itself is not changed.
func (d *Driver) Event(ctx context.Context, eventID string, event map[string]any) (Response, error) {
	teamID, _ := d.team()
	botUser := DefaultBotUser
	if d.Fake != nil {
		botUser = d.Fake.botUser
	}
	now := d.now()
	ev := maps.Clone(event)
	if ev == nil {
		ev = map[string]any{}
	}
	if _, ok := ev["event_ts"]; !ok {
		ev["event_ts"] = fmt.Sprintf("%d.%06d", now.Unix(), now.Nanosecond()/1000)
	}
	body, err := json.Marshal(map[string]any{
		"token":      VerificationToken,
		"team_id":    teamID,
		"api_app_id": AppID,
		"event":      ev,
		"type":       "event_callback",
		"event_id":   eventID,
		"event_time": now.Unix(),
		"authorizations": []any{map[string]any{
			"team_id": teamID, "user_id": botUser, "is_bot": true, "is_enterprise_install": false,
		}},
		"is_ext_shared_channel": false,
	})
	if err != nil {
		return Response{}, fmt.Errorf("slackfake: encoding event: %w", err)
	}
	return d.post(ctx, "/slack/events", "application/json", body)
}

// Interaction sends an interaction payload (block_actions,
// view_submission...) to POST /slack/interactivity, form-encoded as
// payload=<JSON>. payload is marshalled to JSON, unless it is JSON already
// ([]byte, json.RawMessage or string).
func (d *Driver) Interaction(ctx context.Context, payload any) (Response, error) {
	var b []byte
	switch p := payload.(type) {
	case []byte:
		b = p
	case json.RawMessage:
		b = p
	case string:
		b = []byte(p)
	default:
		var err error
		if b, err = json.Marshal(payload); err != nil {
			return Response{}, fmt.Errorf("slackfake: encoding interaction: %w", err)
		}
	}
	form := url.Values{"payload": {string(b)}}
	return d.post(ctx, "/slack/interactivity", "application/x-www-form-urlencoded", []byte(form.Encode()))
}

// post sends a request signed now.
func (d *Driver) post(ctx context.Context, path, contentType string, body []byte) (Response, error) {
	return d.Raw(ctx, path, contentType, body, d.now(), true)
}

// Raw sends body to POST BaseURL+path as it is, for tests of bad
// signatures and replays. ts is sent as X-Slack-Request-Timestamp (none if
// ts is zero and sign is false); with sign, the body is signed with
// SigningSecret and ts (Now if ts is zero).
func (d *Driver) Raw(ctx context.Context, path string, contentType string, body []byte, ts time.Time, sign bool) (Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(d.BaseURL, "/")+path, bytes.NewReader(body))
	if err != nil {
		return Response{}, fmt.Errorf("slackfake: %w", err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("User-Agent", "Slackbot 1.0 (+https://api.slack.com/robots)")
	if ts.IsZero() && sign {
		ts = d.now()
	}
	if !ts.IsZero() {
		timestamp, signature := Sign(d.SigningSecret, ts, body)
		req.Header.Set("X-Slack-Request-Timestamp", timestamp)
		if sign {
			req.Header.Set("X-Slack-Signature", signature)
		}
	}
	client := d.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return Response{}, fmt.Errorf("slackfake: POST %s: %w", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return Response{}, fmt.Errorf("slackfake: reading answer to POST %s: %w", path, err)
	}
	out := Response{Status: resp.StatusCode, Body: b}
	if json.Unmarshal(b, &out.JSON) != nil {
		out.JSON = nil
	}
	return out, nil
}
