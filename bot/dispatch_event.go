package bot

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/slack-go/slack/slackevents"

	"github.com/warroomhq/warroom/incidents"
)

// How long handled event IDs are remembered, and how often the older ones
// are pruned. Slack retries an event for about an hour at most.
const (
	eventRetention  = 24 * time.Hour
	eventPruneEvery = time.Hour
)

// Event implements Dispatcher. Each event ID is handled once: Slack retries
// an event it thinks went unanswered, and a retry is recognised by its ID.
// When handling fails the ID is forgotten again, so that the retry is
// handled.
func (b *Bot) Event(ctx context.Context, ev slackevents.EventsAPIEvent) error {
	if ev.Type != slackevents.CallbackEvent {
		return nil
	}
	id := callbackEventID(ev.Data)
	if id != "" {
		first, err := b.opts.Store.RememberEvent(ctx, id, b.now())
		if err != nil {
			return err
		}
		if !first {
			b.log.DebugContext(ctx, "ignoring a Slack event handled before", "event_id", id, "type", ev.InnerEvent.Type)
			return nil
		}
		b.pruneEvents(ctx)
	}
	if err := b.handleEvent(ctx, ev.InnerEvent.Data); err != nil {
		if id != "" {
			if ferr := b.opts.Store.ForgetEvent(context.WithoutCancel(ctx), id); ferr != nil {
				err = errors.Join(err, ferr)
			}
		}
		return fmt.Errorf("handling Slack event %s (%s): %w", id, ev.InnerEvent.Type, err)
	}
	return nil
}

// callbackEventID is the event_id of an event_callback, or "".
func callbackEventID(data any) string {
	switch cb := data.(type) {
	case *slackevents.EventsAPICallbackEvent:
		if cb != nil {
			return cb.EventID
		}
	case slackevents.EventsAPICallbackEvent:
		return cb.EventID
	}
	return ""
}

func (b *Bot) handleEvent(ctx context.Context, data any) error {
	switch e := data.(type) {
	case *slackevents.ReactionAddedEvent:
		if e.Item.Type != "message" || !b.isTimelineEmoji(e.Reaction) {
			return nil
		}
		return b.copyMessage(ctx, e.Item.Channel, e.Item.Timestamp, e.User, "reaction")
	case *slackevents.PinAddedEvent:
		if e.Item.Type != "message" {
			return nil
		}
		channel, ts := e.Channel, e.Item.Timestamp
		if channel == "" {
			channel = e.Item.Channel
		}
		if e.Item.Message != nil && e.Item.Message.Timestamp != "" {
			ts = e.Item.Message.Timestamp
		}
		return b.copyMessage(ctx, channel, ts, e.User, "pin")
	case *slackevents.MemberJoinedChannelEvent:
		return b.memberJoined(ctx, e.Channel, e.User)
	}
	return nil
}

// isTimelineEmoji reports whether a reaction is the configured timeline
// emoji, whatever its skin tone.
func (b *Bot) isTimelineEmoji(reaction string) bool {
	name, _, _ := strings.Cut(reaction, "::") // "+1::skin-tone-2"
	return name != "" && name == strings.Trim(b.opts.Slack.TimelineEmoji, ":")
}

// copyMessage enqueues the copy of a message of an incident channel into
// the incident's timeline. The key is the message, so a message is copied
// once however many people react to it or pin it.
func (b *Bot) copyMessage(ctx context.Context, channel, ts, by, via string) error {
	if ts == "" {
		return nil
	}
	inc, ok, err := b.incidentOf(ctx, channel)
	if err != nil || !ok {
		return err
	}
	return b.enqueueNow(ctx, JobCopyMessage, channel+":"+ts, "",
		CopyMessageJob{Incident: inc.ID, Channel: channel, TS: ts, By: by, Via: via})
}

// memberJoined records someone joining an incident's channel.
func (b *Bot) memberJoined(ctx context.Context, channel, user string) error {
	if user == "" {
		return nil
	}
	inc, ok, err := b.incidentOf(ctx, channel)
	if err != nil || !ok {
		return err
	}
	_, err = b.opts.Incidents.Record(ctx, inc.ID, incidents.SlackActor(user), incidents.Event{
		Kind: EventJoined, Text: "joined the channel", Data: map[string]any{"user": user},
	})
	return err
}

// pruneTimer says when remembered event IDs are next due for pruning.
type pruneTimer struct {
	mu   sync.Mutex
	next time.Time
}

// due reports whether pruning is due at now and, if so, schedules the next.
func (p *pruneTimer) due(now time.Time) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if now.Before(p.next) {
		return false
	}
	p.next = now.Add(eventPruneEvery)
	return true
}

// pruneEvents forgets event IDs older than eventRetention, at most once per
// eventPruneEvery. A failure is logged; the next hour tries again.
func (b *Bot) pruneEvents(ctx context.Context) {
	now := b.now()
	if !b.prune.due(now) {
		return
	}
	n, err := b.opts.Store.ForgetEvents(ctx, now.Add(-eventRetention))
	if err != nil {
		b.log.WarnContext(ctx, "pruning remembered Slack events", "err", err)
		return
	}
	if n > 0 {
		b.log.DebugContext(ctx, "pruned remembered Slack events", "count", n)
	}
}
