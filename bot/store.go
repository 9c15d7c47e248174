package bot

import (
	"context"
	"time"

	"github.com/warroomhq/warroom/incidents"
)

// Store is what the Slack adapter keeps besides incidents: which Slack events
// it has handled, and what it has posted where. The domain does not know of
// it; the SQLite store implements it (store/sqlite/slack.go).
type Store interface {
	// IncidentByChannel returns the incident whose Slack channel is
	// channelID, or an error wrapping incidents.ErrNotFound.
	IncidentByChannel(ctx context.Context, channelID string) (*incidents.Incident, error)
	// RememberEvent records a Slack event ID (Slack retries events) and
	// reports whether it was new. A second call with the same ID returns
	// false and changes nothing.
	RememberEvent(ctx context.Context, eventID string, now time.Time) (first bool, err error)
	// ForgetEvent forgets one event ID, so that Slack's retry of an event
	// whose handling failed is handled again.
	ForgetEvent(ctx context.Context, eventID string) error
	// ForgetEvents deletes event IDs remembered before before, and returns
	// how many it deleted.
	ForgetEvents(ctx context.Context, before time.Time) (int, error)
	// Post returns the post with key, and false when there is none.
	Post(ctx context.Context, key string) (Post, bool, error)
	// SavePost creates or replaces the post with p.Key.
	SavePost(ctx context.Context, p Post) error
	// PagePosts lists the posts that carry page's Acknowledge button
	// (Post.Page), in any state, by key.
	PagePosts(ctx context.Context, page int64) ([]Post, error)
	// IncidentAlertCounts counts an incident's alerts, with at most names
	// alert names.
	IncidentAlertCounts(ctx context.Context, id incidents.ID, names int) (incidents.AlertCounts, error)
	// IncidentAlerts lists an incident's alerts, firing first, at most
	// limit.
	IncidentAlerts(ctx context.Context, id incidents.ID, limit int) ([]incidents.StoredAlert, error)
	// AlertGroup reads an alert group.
	AlertGroup(ctx context.Context, id int64) (*incidents.AlertGroup, error)
	// GroupAlertCounts counts a group's alerts that changed at or after
	// since, with at most names alert names.
	GroupAlertCounts(ctx context.Context, groupID int64, since time.Time, names int) (incidents.AlertCounts, error)
}

// AlertDeclarer declares the incident of an alert group;
// incidents.AlertService implements it.
type AlertDeclarer interface {
	DeclareGroup(ctx context.Context, groupID int64, actor incidents.Actor) (*incidents.Incident, error)
}

// PostState says whether a message is known to be in Slack.
type PostState string

// The states of a Post.
const (
	// PostSending is written before the Web API call that posts a message
	// (or creates a channel). Finding it on a later attempt means the
	// earlier call's outcome was lost, so Slack must be asked whether the
	// message exists before posting it again.
	PostSending PostState = "sending"
	// PostSent is written once Slack has answered with the message's ts.
	PostSent PostState = "sent"
	// PostRefused is written when Slack answered that it did not post the
	// message (429, or {"ok":false}): the next attempt posts it without
	// searching the channel, which the bot may not be able to read.
	PostRefused PostState = "refused"
)

// Post remembers one thing Warroom made in Slack, so that a retried job
// never makes it twice and later jobs can find it (the summary message to
// edit, the channel's current topic).
type Post struct {
	// Key names it, for example "summary:INC-7", "announce:INC-7",
	// "channel:INC-7", "topic:INC-7", or a job's idempotency key.
	Key        string
	IncidentID incidents.ID // 0 when not about one incident
	ChannelID  string       // the channel it is in (for a channel: the channel)
	TS         string       // the message's ts; empty for a channel
	State      PostState
	// Version is the incident version it shows (summaries, topics), so that
	// an edit is skipped when Slack already shows that version or a later one.
	Version int64
	// Text is free data: the topic that was set, the channel name tried.
	Text      string
	UpdatedAt time.Time
	// Page is the page whose Acknowledge button the message carries, or 0
	// (see pagebuttons.go).
	Page int64
}
