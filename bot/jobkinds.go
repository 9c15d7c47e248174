package bot

import (
	"github.com/warroomhq/warroom/incidents"
)

// The kinds of job through which every Slack Web API call is made. Their
// payloads are the JSON of the structs below. Handlers live in worker.go.
const (
	// JobCreateChannel creates an incident's channel and records it on the
	// incident (which in turn enqueues the channel's setup).
	JobCreateChannel = "slack.create_channel"
	// JobInvite invites one user (or a configured person, by email) to an
	// incident's channel.
	JobInvite = "slack.invite"
	// JobTopic sets an incident channel's topic from the incident's
	// current state, if it changed.
	JobTopic = "slack.topic"
	// JobSummary posts and pins the summary message, or edits it in place
	// to show the incident's current state (at most about once a second).
	JobSummary = "slack.summary"
	// JobAnnounce posts (or edits) the incident's announcement in the
	// announcement channel.
	JobAnnounce = "slack.announce"
	// JobPost posts one message, once, to a channel.
	JobPost = "slack.post"
	// JobEphemeral shows one message to one user in a channel.
	JobEphemeral = "slack.ephemeral"
	// JobOpenView opens a modal.
	JobOpenView = "slack.open_view"
	// JobCopyMessage copies a Slack message (text, author, permalink) into
	// an incident's timeline, for a reaction or a pin.
	JobCopyMessage = "slack.copy_message"
)

// IncidentJob is the payload of the jobs that render an incident's current
// state (create channel, topic, summary, announce).
type IncidentJob struct {
	Incident incidents.ID `json:"incident"`
}

// InviteJob is JobInvite's payload: one of User (a Slack user ID) or Email.
type InviteJob struct {
	Incident incidents.ID `json:"incident"`
	User     string       `json:"user,omitempty"`
	Email    string       `json:"email,omitempty"`
}

// PostJob is JobPost's payload. Channel is a channel ID or "#name". Blocks
// is Block Kit JSON (an array), optional.
type PostJob struct {
	Incident incidents.ID `json:"incident,omitempty"`
	Channel  string       `json:"channel"`
	Text     string       `json:"text"`
	Blocks   []byte       `json:"blocks,omitempty"`
	ThreadTS string       `json:"thread_ts,omitempty"`
	// Page, when set, is the page whose Acknowledge button Blocks carry:
	// the post is not made once the page is over, and is edited when it
	// ends (pagebuttons.go).
	Page int64 `json:"page,omitempty"`
}

// EphemeralJob is JobEphemeral's payload.
type EphemeralJob struct {
	Channel string `json:"channel"`
	User    string `json:"user"`
	Text    string `json:"text"`
	Blocks  []byte `json:"blocks,omitempty"`
}

// OpenViewJob is JobOpenView's payload: a trigger ID and the view's JSON.
type OpenViewJob struct {
	TriggerID string `json:"trigger_id"`
	View      []byte `json:"view"`
}

// CopyMessageJob is JobCopyMessage's payload.
type CopyMessageJob struct {
	Incident incidents.ID `json:"incident"`
	Channel  string       `json:"channel"`
	TS       string       `json:"ts"`
	By       string       `json:"by"`  // the user who reacted or pinned
	Via      string       `json:"via"` // "reaction" or "pin"
}

// Timeline event kinds that the Slack adapter records.
const (
	// EventMessage is a Slack message copied into the timeline, at the
	// time it was posted, with its author as the actor. Data has "author",
	// "copied_by" (who reacted or pinned), "permalink", "channel", "ts" and
	// "via" ("reaction" or "pin").
	EventMessage incidents.EventKind = "slack.message"
	// EventJoined is someone joining the incident channel. Data has "user".
	EventJoined incidents.EventKind = "slack.joined"
)
