package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/slack-go/slack"

	"github.com/warroomhq/warroom/incidents"
	"github.com/warroomhq/warroom/jobs"
)

// The job handlers: every Slack Web API call Warroom makes runs here, as a
// job of the durable queue. Each handler is safe to run again after a crash
// at any point:
//
//   - a message is posted once: before posting, a "sending" Post is
//     stored; a later attempt that finds it looks for the message in the
//     channel (by the metadata every post carries) before posting again;
//   - a channel is created once: a later attempt that gets name_taken for
//     the name it tried adopts the channel if this bot created it;
//   - edits, topics, invites and pins are idempotent in Slack.
//
// Calls are paced (pacer.go); Slack's 429 defers the job by its Retry-After
// without using up an attempt; 5xx and network errors are retried with
// backoff; errors that another attempt cannot fix park the job at once.

// SummaryInterval is how often an incident's summary message is edited at
// most, however fast the incident changes.
const SummaryInterval = time.Second

// postMetadataType is the event_type of the metadata on Warroom's messages.
const postMetadataType = "warroom_post"

// RegisterJobs registers the handlers of the Slack jobs with the queue.
func (b *Bot) RegisterJobs(q interface {
	Handle(kind string, h jobs.Handler)
}) {
	handlers := map[string]func(context.Context, jobs.Job) error{
		JobCreateChannel: b.runCreateChannel,
		JobInvite:        b.runInvite,
		JobTopic:         b.runTopic,
		JobSummary:       b.runSummary,
		JobAnnounce:      b.runAnnounce,
		JobPost:          b.runPost,
		JobEphemeral:     b.runEphemeral,
		JobOpenView:      b.runOpenView,
		JobCopyMessage:   b.runCopyMessage,
		JobTriage:        b.runTriage,
		JobDigest:        b.runDigest,
	}
	for kind, h := range handlers {
		q.Handle(kind, jobs.HandlerFunc(h))
	}
	b.registerDeployJobs(q)
}

// enqueue adds a Slack job through e (a transaction, or Options.Jobs). key
// is the idempotency key; serial, if not empty, orders the job after earlier
// ones with the same serial key. The payload is encoded as JSON.
func enqueue(ctx context.Context, e jobs.Enqueuer, kind, key, serial string, payload any) error {
	return enqueueAt(ctx, e, kind, key, serial, payload, time.Time{})
}

// enqueueAt is enqueue for a job that must not run before runAt.
func enqueueAt(ctx context.Context, e jobs.Enqueuer, kind, key, serial string, payload any, runAt time.Time) error {
	data, err := json.Marshal(payload)
	if err != nil {
		return fmt.Errorf("encoding %s job: %w", kind, err)
	}
	_, err = e.Enqueue(ctx, jobs.NewJob{Kind: kind, Key: kind + ":" + key, SerialKey: serial, Payload: data, RunAt: runAt})
	return err
}

// enqueueNow enqueues through Options.Jobs and wakes the queue.
func (b *Bot) enqueueNow(ctx context.Context, kind, key, serial string, payload any) error {
	if err := enqueue(ctx, b.opts.Jobs, kind, key, serial, payload); err != nil {
		return err
	}
	b.opts.Notify()
	return nil
}

func decode[T any](j jobs.Job) (T, error) {
	var v T
	if err := json.Unmarshal(j.Payload, &v); err != nil {
		return v, jobs.Permanent(fmt.Errorf("decoding %s payload: %w", j.Kind, err))
	}
	return v, nil
}

// call makes one Web API call: it waits its turn (deferring the job when
// the pacer says so), times and counts it, and classifies its error.
func (b *Bot) call(ctx context.Context, method, channel string, fn func(ctx context.Context) error) error {
	if wait := b.pacer.reserve(method, channel); wait > 0 {
		return jobs.Defer(wait, nil)
	}
	start := time.Now()
	err := fn(ctx)
	b.met.observe(method, err, time.Since(start))
	return b.classify(method, err)
}

// permanentErrors are Slack errors that no retry can fix.
var permanentErrors = map[string]bool{
	"channel_not_found": true, "not_in_channel": true, "is_archived": true,
	"invalid_auth": true, "not_authed": true, "account_inactive": true, "token_revoked": true,
	"missing_scope": true, "no_permission": true, "restricted_action": true,
	"invalid_blocks": true, "invalid_blocks_format": true, "msg_too_long": true, "no_text": true,
	"user_not_found": true, "users_not_found": true, "cant_invite_self": true, "cant_invite": true,
	"message_not_found": true, "cant_update_message": true, "edit_window_closed": true,
	"invalid_trigger_id": true, "expired_trigger_id": true, "exchanged_trigger_id": true,
	"user_not_in_channel": true, "too_long": true, "invalid_arguments": true,
	"invalid_name": true, "invalid_name_specials": true, "invalid_name_maxlength": true,
	"invalid_name_required": true, "invalid_name_punctuation": true,
	"unknown_method": true, "method_deprecated": true,
}

// classify turns a Web API error into what the job queue should do.
func (b *Bot) classify(method string, err error) error {
	if err == nil {
		return nil
	}
	var rl *slack.RateLimitedError
	if errors.As(err, &rl) {
		b.pacer.pause(method, rl.RetryAfter)
		return jobs.Defer(rl.RetryAfter, fmt.Errorf("%s: %w", method, err))
	}
	var sc slack.StatusCodeError
	if errors.As(err, &sc) {
		if sc.Code >= 500 || sc.Code == 408 || sc.Code == 429 {
			return fmt.Errorf("%s: %w", method, err) // retried with backoff
		}
		return jobs.Permanent(fmt.Errorf("%s: %w", method, err))
	}
	if code := slackError(err); code != "" {
		if code == "ratelimited" {
			b.pacer.pause(method, time.Second)
			return jobs.Defer(time.Second, fmt.Errorf("%s: %w", method, err))
		}
		if permanentErrors[code] {
			return jobs.Permanent(fmt.Errorf("%s: %w", method, err))
		}
	}
	var nerr net.Error
	if errors.As(err, &nerr) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%s: %w", method, err)
	}
	return fmt.Errorf("%s: %w", method, err)
}

// refusedBySlack reports whether err is Slack's answer that it did not
// carry the call out: a 429, or {"ok":false}. (After a 5xx or a timeout
// it may have.)
func refusedBySlack(err error) bool {
	var rl *slack.RateLimitedError
	return errors.As(err, &rl) || slackError(err) != ""
}

// slackError is the "error" of an {"ok":false} answer, or "".
func slackError(err error) string {
	var se slack.SlackErrorResponse
	if errors.As(err, &se) {
		return se.Err
	}
	var sep *slack.SlackErrorResponse
	if errors.As(err, &sep) {
		return sep.Err
	}
	return ""
}

// isSlackError reports whether err, as returned by call, is Slack's error
// code (wrapped or not by Permanent).
func isSlackError(err error, codes ...string) bool {
	code := slackError(err)
	for _, c := range codes {
		if code == c {
			return true
		}
	}
	return false
}

// botUserID is the bot's own user ID (auth.test), asked once.
func (b *Bot) botUserID(ctx context.Context) (string, error) {
	b.self.mu.Lock()
	defer b.self.mu.Unlock()
	if b.self.id != "" {
		return b.self.id, nil
	}
	var resp *slack.AuthTestResponse
	err := b.call(ctx, "auth.test", "", func(ctx context.Context) (err error) {
		resp, err = b.api.AuthTestContext(ctx)
		return err
	})
	if err != nil {
		return "", err
	}
	b.self.id = resp.UserID
	return resp.UserID, nil
}

type selfInfo struct {
	mu sync.Mutex
	id string
}

func summaryKey(id incidents.ID) string  { return "summary:" + id.String() }
func announceKey(id incidents.ID) string { return "announce:" + id.String() }
func channelKey(id incidents.ID) string  { return "channel:" + id.String() }
func topicKey(id incidents.ID) string    { return "topic:" + id.String() }

// maxChannelNameAttempts bounds the names tried after name_taken.
const maxChannelNameAttempts = 20

func (b *Bot) runCreateChannel(ctx context.Context, j jobs.Job) error {
	p, err := decode[IncidentJob](j)
	if err != nil {
		return err
	}
	inc, err := b.opts.Incidents.Get(ctx, p.Incident)
	if err != nil {
		return notFoundIsPermanent(err)
	}
	if inc.ChannelID != "" {
		return nil
	}
	key := channelKey(inc.ID)
	prev, hadPrev, err := b.opts.Store.Post(ctx, key)
	if err != nil {
		return err
	}
	for attempt := 0; attempt < maxChannelNameAttempts; attempt++ {
		name := ChannelName(b.opts.Slack.ChannelPrefix, inc.ID, inc.Title, attempt)
		if err := b.opts.Store.SavePost(ctx, Post{Key: key, IncidentID: inc.ID, State: PostSending, Text: name, UpdatedAt: b.now()}); err != nil {
			return err
		}
		var ch *slack.Channel
		err := b.call(ctx, "conversations.create", "", func(ctx context.Context) (err error) {
			ch, err = b.api.CreateConversationContext(ctx, slack.CreateConversationParams{ChannelName: name})
			return err
		})
		if isSlackError(err, "name_taken") {
			if hadPrev && prev.State == PostSending && prev.Text == name {
				// An earlier attempt may have created it and lost the answer.
				ch, err = b.findOwnChannel(ctx, name)
				if err != nil {
					return err
				}
			}
			if ch == nil {
				continue
			}
		} else if err != nil {
			return err
		}
		if err := b.opts.Store.SavePost(ctx, Post{Key: key, IncidentID: inc.ID, ChannelID: ch.ID, State: PostSent, Text: ch.Name, UpdatedAt: b.now()}); err != nil {
			return err
		}
		_, err = b.opts.Incidents.SetChannel(ctx, inc.ID, ch.ID, ch.Name, incidents.System)
		return err
	}
	return jobs.Permanent(fmt.Errorf("no free channel name for %s after %d tries", inc.ID, maxChannelNameAttempts))
}

// findOwnChannel looks for a channel named name that this bot created and
// that no incident uses yet, and returns nil when there is none.
func (b *Bot) findOwnChannel(ctx context.Context, name string) (*slack.Channel, error) {
	self, err := b.botUserID(ctx)
	if err != nil {
		return nil, err
	}
	return b.findChannel(ctx, []string{"public_channel"}, func(ch *slack.Channel) (bool, error) {
		if ch.Name != name || ch.Creator != self {
			return false, nil
		}
		if _, err := b.opts.Store.IncidentByChannel(ctx, ch.ID); err == nil {
			return false, nil // another incident's
		} else if !errors.Is(err, incidents.ErrNotFound) {
			return false, err
		}
		return true, nil
	})
}

// findChannel pages through conversations.list for the given types and
// returns the first channel that match accepts, or nil.
func (b *Bot) findChannel(ctx context.Context, types []string, match func(*slack.Channel) (bool, error)) (*slack.Channel, error) {
	cursor := ""
	for {
		var chans []slack.Channel
		err := b.call(ctx, "conversations.list", "", func(ctx context.Context) (err error) {
			chans, cursor, err = b.api.GetConversationsContext(ctx, &slack.GetConversationsParameters{
				Cursor: cursor, Limit: 1000, Types: types,
			})
			return err
		})
		if err != nil {
			return nil, err
		}
		for i := range chans {
			if ok, err := match(&chans[i]); err != nil || ok {
				return &chans[i], err
			}
		}
		if cursor == "" {
			return nil, nil
		}
	}
}

func notFoundIsPermanent(err error) error {
	if errors.Is(err, incidents.ErrNotFound) {
		return jobs.Permanent(err)
	}
	return err
}

// incidentWithChannel loads the job's incident, which must have a channel.
func (b *Bot) incidentWithChannel(ctx context.Context, id incidents.ID) (*incidents.Incident, error) {
	inc, err := b.opts.Incidents.Get(ctx, id)
	if err != nil {
		return nil, notFoundIsPermanent(err)
	}
	if inc.ChannelID == "" {
		return nil, jobs.Permanent(fmt.Errorf("%s has no channel", id))
	}
	return inc, nil
}

// jobIncident loads the incident of a job whose payload is IncidentJob;
// the incident must have a channel.
func (b *Bot) jobIncident(ctx context.Context, j jobs.Job) (*incidents.Incident, error) {
	p, err := decode[IncidentJob](j)
	if err != nil {
		return nil, err
	}
	return b.incidentWithChannel(ctx, p.Incident)
}

func (b *Bot) runInvite(ctx context.Context, j jobs.Job) error {
	p, err := decode[InviteJob](j)
	if err != nil {
		return err
	}
	inc, err := b.incidentWithChannel(ctx, p.Incident)
	if err != nil {
		return err
	}
	user := p.User
	if user == "" && p.Email != "" {
		var u *slack.User
		err := b.call(ctx, "users.lookupByEmail", "", func(ctx context.Context) (err error) {
			u, err = b.api.GetUserByEmailContext(ctx, p.Email)
			return err
		})
		if isSlackError(err, "users_not_found") {
			b.log.Warn("no Slack user has this email; not invited", "incident", inc.ID, "email", p.Email)
			return nil
		}
		if err != nil {
			return err
		}
		user = u.ID
		if err := b.learnPerson(ctx, p.Email, u); err != nil { // bot/people.go
			return err
		}
	}
	if user == "" {
		return nil
	}
	err = b.call(ctx, "conversations.invite", "", func(ctx context.Context) error {
		_, err := b.api.InviteUsersToConversationContext(ctx, inc.ChannelID, user)
		return err
	})
	if isSlackError(err, "already_in_channel", "cant_invite_self") {
		return nil
	}
	if isSlackError(err, "user_not_found") {
		b.log.Warn("Slack user not found; not invited", "incident", inc.ID, "user", user)
		return nil
	}
	return err
}

func (b *Bot) runTopic(ctx context.Context, j jobs.Job) error {
	inc, err := b.jobIncident(ctx, j)
	if err != nil {
		return err
	}
	key := topicKey(inc.ID)
	prev, ok, err := b.opts.Store.Post(ctx, key)
	if err != nil {
		return err
	}
	topic := b.render.Topic(inc)
	if ok && prev.Text == topic {
		return nil
	}
	err = b.call(ctx, "conversations.setTopic", "", func(ctx context.Context) error {
		_, err := b.api.SetTopicOfConversationContext(ctx, inc.ChannelID, topic)
		return err
	})
	if err != nil {
		return err
	}
	return b.opts.Store.SavePost(ctx, Post{Key: key, IncidentID: inc.ID, ChannelID: inc.ChannelID, State: PostSent,
		Version: inc.Version, Text: topic, UpdatedAt: b.now()})
}

// message is what postOnce posts.
type message struct {
	key       string
	incident  incidents.ID
	channel   string // ID or "#name"
	text      string
	blocks    []slack.Block
	rawBlocks []byte // Block Kit JSON, instead of blocks
	threadTS  string
	version   int64
	page      int64 // the page whose Acknowledge button it carries (pagebuttons.go)
}

func (m message) options() []slack.MsgOption {
	opts := []slack.MsgOption{
		slack.MsgOptionText(m.text, false),
		slack.MsgOptionMetadata(slack.SlackMetadata{EventType: postMetadataType, EventPayload: map[string]any{"key": m.key}}),
		slack.MsgOptionDisableLinkUnfurl(),
	}
	if len(m.blocks) > 0 {
		opts = append(opts, slack.MsgOptionBlocks(m.blocks...))
	}
	if m.threadTS != "" {
		opts = append(opts, slack.MsgOptionTS(m.threadTS))
	}
	return opts
}

// postOnce posts m unless it was posted already, and returns its Post.
func (b *Bot) postOnce(ctx context.Context, m message) (Post, error) {
	p, ok, err := b.opts.Store.Post(ctx, m.key)
	if err != nil {
		return Post{}, err
	}
	if ok && p.State == PostSent {
		return p, nil
	}
	if ok && p.State == PostSending {
		// An earlier attempt may have posted it and lost the answer.
		found, err := b.findPosted(ctx, m.key, p)
		if err != nil || found.TS != "" {
			return found, err
		}
	}
	if len(m.rawBlocks) > 0 {
		var bl slack.Blocks
		if err := json.Unmarshal(m.rawBlocks, &bl); err != nil {
			return Post{}, jobs.Permanent(fmt.Errorf("decoding blocks: %w", err))
		}
		m.blocks = bl.BlockSet
	}
	var channelID, ts string
	err = b.call(ctx, "chat.postMessage", m.channel, func(ctx context.Context) (err error) {
		// Written once the pacer lets the call go, right before it: a call
		// held back by the pacer leaves no "sending" behind, which would
		// make the next attempt search the channel's history for nothing.
		sending := Post{Key: m.key, IncidentID: m.incident, ChannelID: m.channel, State: PostSending, Version: m.version, UpdatedAt: b.now(), Page: m.page, Text: m.pageText()}
		if err := b.opts.Store.SavePost(ctx, sending); err != nil {
			return err
		}
		channelID, ts, err = b.api.PostMessageContext(ctx, m.channel, m.options()...)
		return err
	})
	if err != nil {
		if refusedBySlack(err) {
			refused := Post{Key: m.key, IncidentID: m.incident, ChannelID: m.channel, State: PostRefused, Version: m.version, UpdatedAt: b.now(), Page: m.page, Text: m.pageText()}
			err = errors.Join(err, b.opts.Store.SavePost(context.WithoutCancel(ctx), refused))
		}
		return Post{}, err
	}
	sent := Post{Key: m.key, IncidentID: m.incident, ChannelID: channelID, TS: ts, State: PostSent, Version: m.version, UpdatedAt: b.now(), Page: m.page, Text: m.pageText()}
	return sent, b.opts.Store.SavePost(ctx, sent)
}

// findPosted looks in the channel for a message carrying key in its
// metadata, posted since the earlier attempt began, and records it as sent.
// It returns a Post without TS when there is none.
func (b *Bot) findPosted(ctx context.Context, key string, p Post) (Post, error) {
	channel, err := b.resolveChannel(ctx, p.ChannelID)
	if err != nil || channel == "" {
		return Post{}, err
	}
	oldest := p.UpdatedAt.Add(-time.Minute)
	var hist *slack.GetConversationHistoryResponse
	err = b.call(ctx, "conversations.history", "", func(ctx context.Context) (err error) {
		hist, err = b.api.GetConversationHistoryContext(ctx, &slack.GetConversationHistoryParameters{
			ChannelID: channel, Oldest: fmt.Sprintf("%d.000000", oldest.Unix()), Limit: 200, IncludeAllMetadata: true,
		})
		return err
	})
	if err != nil {
		return Post{}, err
	}
	for _, msg := range hist.Messages {
		if msg.Metadata.EventType == postMetadataType && msg.Metadata.EventPayload["key"] == key {
			p.ChannelID, p.TS, p.State, p.UpdatedAt = channel, msg.Timestamp, PostSent, b.now()
			return p, b.opts.Store.SavePost(ctx, p)
		}
	}
	return Post{}, nil
}

// resolveChannel turns "#name" into a channel ID (looked up once, then
// remembered); an ID is returned as it is, and "" when no channel has the
// name.
func (b *Bot) resolveChannel(ctx context.Context, channel string) (string, error) {
	name, isName := strings.CutPrefix(channel, "#")
	if !isName {
		return channel, nil
	}
	key := "channel-name:" + name
	if p, ok, err := b.opts.Store.Post(ctx, key); err != nil || ok {
		return p.ChannelID, err
	}
	ch, err := b.findChannel(ctx, []string{"public_channel", "private_channel"}, func(ch *slack.Channel) (bool, error) {
		return ch.Name == name, nil
	})
	if err != nil || ch == nil {
		return "", err
	}
	return ch.ID, b.opts.Store.SavePost(ctx, Post{Key: key, ChannelID: ch.ID, State: PostSent, Text: name, UpdatedAt: b.now()})
}

func (b *Bot) runSummary(ctx context.Context, j jobs.Job) error {
	inc, err := b.jobIncident(ctx, j)
	if err != nil {
		return err
	}
	counts, err := b.opts.Store.IncidentAlertCounts(ctx, inc.ID, alertNames)
	if err != nil {
		return err
	}
	render := func(inc *incidents.Incident) (string, []slack.Block) { return b.render.SummaryWithAlerts(inc, counts) }
	key := summaryKey(inc.ID)
	prev, ok, err := b.opts.Store.Post(ctx, key)
	if err != nil {
		return err
	}
	if !ok || prev.State != PostSent {
		text, blocks := render(inc)
		posted, err := b.postOnce(ctx, message{key: key, incident: inc.ID, channel: inc.ChannelID, text: text, blocks: blocks, version: inc.Version})
		if err != nil {
			return err
		}
		prev = posted
	}
	if prev.Text != "pinned" {
		err := b.call(ctx, "pins.add", "", func(ctx context.Context) error {
			return b.api.AddPinContext(ctx, prev.ChannelID, slack.NewRefToMessage(prev.ChannelID, prev.TS))
		})
		if err != nil && !isSlackError(err, "already_pinned") {
			return err
		}
		prev.Text = "pinned"
		if err := b.opts.Store.SavePost(ctx, prev); err != nil {
			return err
		}
	}
	return b.editInPlace(ctx, inc, prev, render)
}

// editInPlace edits a posted message to show inc, unless it shows inc's
// version already; it edits at most once per SummaryInterval.
func (b *Bot) editInPlace(ctx context.Context, inc *incidents.Incident, p Post, render func(*incidents.Incident) (string, []slack.Block)) error {
	if p.Version >= inc.Version {
		return nil
	}
	if wait := p.UpdatedAt.Add(SummaryInterval).Sub(b.now()); wait > 0 {
		return jobs.Defer(wait, nil)
	}
	text, blocks := render(inc)
	err := b.call(ctx, "chat.update", "", func(ctx context.Context) error {
		_, _, _, err := b.api.UpdateMessageContext(ctx, p.ChannelID, p.TS,
			slack.MsgOptionText(text, false), slack.MsgOptionBlocks(blocks...))
		return err
	})
	if messageGone(err) {
		// An archived channel, or a deleted message: nothing to edit now
		// (a later change tries again, in case the channel came back).
		b.log.InfoContext(ctx, "message not edited: it cannot be edited any more", "key", p.Key, "incident", inc.ID, "err", err)
		return nil
	}
	if err != nil {
		return err
	}
	p.Version, p.UpdatedAt = inc.Version, b.now()
	return b.opts.Store.SavePost(ctx, p)
}

func (b *Bot) runAnnounce(ctx context.Context, j jobs.Job) error {
	p, err := decode[IncidentJob](j)
	if err != nil {
		return err
	}
	if b.opts.Slack.AnnounceChannel == "" {
		return nil
	}
	inc, err := b.opts.Incidents.Get(ctx, p.Incident)
	if err != nil {
		return notFoundIsPermanent(err)
	}
	key := announceKey(inc.ID)
	prev, ok, err := b.opts.Store.Post(ctx, key)
	if err != nil {
		return err
	}
	if !ok || prev.State != PostSent {
		text, blocks := b.render.Announcement(inc)
		_, err := b.postOnce(ctx, message{key: key, incident: inc.ID, channel: b.opts.Slack.AnnounceChannel, text: text, blocks: blocks, version: inc.Version})
		return err
	}
	return b.editInPlace(ctx, inc, prev, b.render.Announcement)
}

func (b *Bot) runPost(ctx context.Context, j jobs.Job) error {
	p, err := decode[PostJob](j)
	if err != nil {
		return err
	}
	m := message{key: j.Key, incident: p.Incident, channel: p.Channel, text: p.Text, rawBlocks: p.Blocks, threadTS: p.ThreadTS, page: p.Page}
	if m.page != 0 {
		_, err := b.postPageMessage(ctx, m)
		return err
	}
	_, err = b.postOnce(ctx, m)
	return err
}

func (b *Bot) runEphemeral(ctx context.Context, j jobs.Job) error {
	p, err := decode[EphemeralJob](j)
	if err != nil {
		return err
	}
	opts := []slack.MsgOption{slack.MsgOptionText(p.Text, false)}
	if len(p.Blocks) > 0 {
		var bl slack.Blocks
		if err := json.Unmarshal(p.Blocks, &bl); err != nil {
			return jobs.Permanent(fmt.Errorf("decoding blocks: %w", err))
		}
		opts = append(opts, slack.MsgOptionBlocks(bl.BlockSet...))
	}
	err = b.call(ctx, "chat.postEphemeral", "", func(ctx context.Context) error {
		_, err := b.api.PostEphemeralContext(ctx, p.Channel, p.User, opts...)
		return err
	})
	if isSlackError(err, "user_not_in_channel", "channel_not_found") {
		b.log.Info("ephemeral message not shown", "channel", p.Channel, "user", p.User, "error", err)
		return nil
	}
	return err
}

func (b *Bot) runOpenView(ctx context.Context, j jobs.Job) error {
	p, err := decode[OpenViewJob](j)
	if err != nil {
		return err
	}
	var view slack.ModalViewRequest
	if err := json.Unmarshal(p.View, &view); err != nil {
		return jobs.Permanent(fmt.Errorf("decoding view: %w", err))
	}
	return b.call(ctx, "views.open", "", func(ctx context.Context) error {
		_, err := b.api.OpenViewContext(ctx, p.TriggerID, view)
		return err
	})
}

func (b *Bot) runCopyMessage(ctx context.Context, j jobs.Job) error {
	p, err := decode[CopyMessageJob](j)
	if err != nil {
		return err
	}
	evs, err := b.opts.Incidents.Timeline(ctx, p.Incident)
	if err != nil {
		return notFoundIsPermanent(err)
	}
	for _, ev := range evs {
		if ev.Kind == EventMessage && ev.Data["channel"] == p.Channel && ev.Data["ts"] == p.TS {
			return nil // copied by an earlier attempt
		}
	}
	msg, err := b.fetchMessage(ctx, p.Channel, p.TS)
	if err != nil {
		return err
	}
	if msg == nil {
		b.log.Info("message to copy into the timeline is gone", "incident", p.Incident, "channel", p.Channel, "ts", p.TS)
		return nil
	}
	var link string
	err = b.call(ctx, "chat.getPermalink", "", func(ctx context.Context) (err error) {
		link, err = b.api.GetPermalinkContext(ctx, &slack.PermalinkParameters{Channel: p.Channel, Ts: p.TS})
		return err
	})
	if err != nil {
		return err
	}
	author := msg.User
	if author == "" {
		author = msg.BotID
	}
	// The event is the message, so its actor is who wrote it; who copied
	// it is in the data.
	_, err = b.opts.Incidents.Record(ctx, p.Incident, incidents.SlackActor(author), incidents.Event{
		Kind: EventMessage,
		At:   tsTime(p.TS),
		Text: msg.Text,
		Data: map[string]any{"author": author, "copied_by": p.By, "permalink": link, "channel": p.Channel, "ts": p.TS, "via": p.Via},
	})
	return err
}

// fetchMessage reads one message, in the channel or in a thread; nil when
// it no longer exists.
func (b *Bot) fetchMessage(ctx context.Context, channel, ts string) (*slack.Message, error) {
	var hist *slack.GetConversationHistoryResponse
	err := b.call(ctx, "conversations.history", "", func(ctx context.Context) (err error) {
		hist, err = b.api.GetConversationHistoryContext(ctx, &slack.GetConversationHistoryParameters{
			ChannelID: channel, Latest: ts, Inclusive: true, Limit: 1,
		})
		return err
	})
	if err != nil {
		return nil, err
	}
	for i := range hist.Messages {
		if hist.Messages[i].Timestamp == ts {
			return &hist.Messages[i], nil
		}
	}
	// A reply in a thread is not in the channel's history.
	var msgs []slack.Message
	err = b.call(ctx, "conversations.replies", "", func(ctx context.Context) (err error) {
		msgs, _, _, err = b.api.GetConversationRepliesContext(ctx, &slack.GetConversationRepliesParameters{ChannelID: channel, Timestamp: ts})
		return err
	})
	if isSlackError(err, "thread_not_found", "message_not_found") {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	for i := range msgs {
		if msgs[i].Timestamp == ts {
			return &msgs[i], nil
		}
	}
	return nil, nil
}

// tsTime is the time of a Slack message ts ("1700000000.123456"), or zero.
func tsTime(ts string) time.Time {
	sec, frac, _ := strings.Cut(ts, ".")
	s, err := strconv.ParseInt(sec, 10, 64)
	if err != nil {
		return time.Time{}
	}
	us, err := strconv.ParseInt(frac, 10, 64)
	if err != nil || len(frac) != 6 {
		us = 0
	}
	return time.Unix(s, us*1000).UTC()
}
