package paging

import (
	"context"
	"time"

	"github.com/warroomhq/warroom/incidents"
)

// The kinds of job that paging enqueues. Their payloads are the JSON of the
// structs below.
const (
	// JobEscalate runs one step of a page at its deadline. Key:
	// "page:<id>:r<round>:s<step>".
	JobEscalate = "page.escalate"
	// JobNotifySlack notifies one recipient of one step in Slack (a direct
	// message, or a post in a channel, with an Acknowledge button). The
	// Slack adapter runs it. Key: "page:<id>:r<round>:s<step>:<recipient>".
	JobNotifySlack = "page.slack"
	// JobPagerDuty sends one PagerDuty event (trigger, acknowledge,
	// resolve) of a page. Key: "page:<id>:pagerduty:<action>".
	JobPagerDuty = "page.pagerduty"
	// JobWebhook POSTs one page event to the policy's webhook. Key:
	// "page:<id>:webhook:<event>[:r<round>:s<step>]"; the key is the
	// delivery ID.
	JobWebhook = "page.webhook"
	// JobSlackWarning posts a warning in the incident's channel: a step
	// reached nobody, or a notice could not be delivered. The Slack adapter
	// runs it. Key: "page:<id>:r<round>:s<step>:nobody" or
	// "<notice key>:failed".
	JobSlackWarning = "page.warning"
)

// Warning is JobSlackWarning's payload. Text is plain text (the Slack
// adapter escapes it).
type Warning struct {
	Page     int64        `json:"page"`
	Incident incidents.ID `json:"incident"`
	Text     string       `json:"text"`
}

// Timeline event kinds of pages. Data has "page", "policy", "target" and,
// for the steps, "round", "step", "steps", "notified" (who, as text) and
// "next_at" (RFC 3339, absent after the last step).
const (
	EventTriggered    incidents.EventKind = "page.triggered"
	EventEscalated    incidents.EventKind = "page.escalated"
	EventAcknowledged incidents.EventKind = "page.acknowledged"
	EventResolved     incidents.EventKind = "page.resolved"
	// EventUnreached: a notice of a step could not be delivered (the person
	// has no Slack account Warroom can find, the channel does not exist).
	// Data has "page", "round", "step", "recipient" and "reason".
	EventUnreached incidents.EventKind = "page.unreached"
	// EventSkipped: steps that fell due while Warroom was not running were
	// skipped, as a later step was due too. Data has "skipped".
	EventSkipped incidents.EventKind = "page.skipped"
	// EventNotPaged: an incident was declared below its service's policy's
	// min_severity, so no page started. Data has "policy", "target",
	// "severity" and "min_severity".
	EventNotPaged incidents.EventKind = "page.not_paged"
)

// EscalateJob is JobEscalate's payload.
type EscalateJob struct {
	Page  int64 `json:"page"`
	Round int   `json:"round"`
	Step  int   `json:"step"`
}

// SlackNotice is JobNotifySlack's payload: one of Person (a configured
// person), User (a Slack user ID) or Channel is set.
type SlackNotice struct {
	Page     int64        `json:"page"`
	Incident incidents.ID `json:"incident"`
	Policy   string       `json:"policy,omitempty"`
	Round    int          `json:"round"`
	Rounds   int          `json:"rounds"`
	Step     int          `json:"step"` // 0-based
	Steps    int          `json:"steps"`
	Person   string       `json:"person,omitempty"`
	User     string       `json:"user,omitempty"`
	Channel  string       `json:"channel,omitempty"`
	// Via is the target that named the recipient ("schedule:payments-primary"),
	// when it is not the recipient itself.
	Via string `json:"via,omitempty"`
	// Recipients are all the recipients of the step ("person:alice",
	// "channel:#payments"), this one included: when none of them can be
	// notified, the page escalates at once.
	Recipients []string `json:"recipients,omitempty"`
}

// PagerDutyJob is JobPagerDuty's payload. The routing key is not in it: the
// handler reads it from the policy, so no secret is stored in the queue.
type PagerDutyJob struct {
	Page     int64        `json:"page"`
	Incident incidents.ID `json:"incident"`
	Policy   string       `json:"policy"`
	Action   string       `json:"action"` // trigger, acknowledge, resolve
	// DedupKey is the page's PagerDuty dedup key (DedupKey or
	// PageDedupKey); empty in jobs queued before it was added: DedupKey.
	DedupKey string `json:"dedup_key,omitempty"`
}

// The PagerDuty actions.
const (
	PagerDutyTrigger     = "trigger"
	PagerDutyAcknowledge = "acknowledge"
	PagerDutyResolve     = "resolve"
)

// WebhookJob is JobWebhook's payload: the event is made when it happens,
// so that a retry sends the same body.
type WebhookJob struct {
	Policy string    `json:"policy"`
	Event  PageEvent `json:"event"`
}

// PageEvent is one page event as a webhook tells it; the webhook adapter
// turns it into the body it signs.
type PageEvent struct {
	Event incidents.EventKind `json:"event"` // page.triggered, page.escalated, page.acknowledged, page.resolved
	At    time.Time           `json:"at"`

	Incident    incidents.ID `json:"incident"`
	Title       string       `json:"title"`
	Severity    string       `json:"severity"`
	Status      string       `json:"status"`
	Service     string       `json:"service,omitempty"`
	ChannelID   string       `json:"channel_id,omitempty"`
	ChannelName string       `json:"channel_name,omitempty"`
	// URL is the incident in Warroom's API, when a public URL is set.
	URL string `json:"url,omitempty"`

	Page   int64  `json:"page"`
	State  State  `json:"state"`
	Policy string `json:"policy,omitempty"`
	Target string `json:"target"`
	// Round and Step (1-based) are those of the step that ran
	// (triggered, escalated); Targets are its targets as configured and
	// Notified whom they named, as text for people. People are the people
	// notified, plain (configured names; Slack user IDs of people paged by
	// hand), and Channels the channels.
	Round    int      `json:"round,omitempty"`
	Step     int      `json:"step,omitempty"`
	Targets  []string `json:"targets,omitempty"`
	Notified []string `json:"notified,omitempty"`
	People   []string `json:"people,omitempty"`
	Channels []string `json:"channels,omitempty"`
	// Lead is the incident's lead (a Slack user ID), when it has one.
	Lead string `json:"lead,omitempty"`
	// AckedBy and AckedAt are set once the page is acknowledged.
	AckedBy incidents.Actor `json:"acked_by,omitempty"`
	AckedAt time.Time       `json:"acked_at,omitzero"`
	// DedupKey is the page's PagerDuty dedup key.
	DedupKey string `json:"dedup_key"`
}

// PagerDutyEvent is one event for the PagerDuty Events API v2, as paging
// sees it; the PagerDuty adapter turns it into the vendor's payload.
type PagerDutyEvent struct {
	URL        string // events endpoint; "" is PagerDuty's
	RoutingKey string // secret
	Action     string // trigger, acknowledge, resolve
	DedupKey   string // "warroom-inc-<id>", or "warroom-inc-<id>-p<page>" (see PageDedupKey)
	Summary    string
	Source     string
	Severity   incidents.Severity
	Component  string
	Group      string
	Class      string
	Details    map[string]any
	Links      []incidents.Link
	Timestamp  time.Time
	// ClientURL is where PagerDuty's "View in Warroom" link goes: the
	// incident's Slack channel, or else its API URL.
	ClientURL string
}

// PagerDutySender sends PagerDuty events. Its errors say what the job
// queue should do (jobs.Defer, jobs.Permanent, or plain to retry).
type PagerDutySender interface {
	SendPagerDuty(ctx context.Context, ev PagerDutyEvent) error
}

// WebhookSender POSTs a page event, signed with secret. deliveryID is the
// same on every retry of one delivery. Its errors say what the job queue
// should do.
type WebhookSender interface {
	PostWebhook(ctx context.Context, url string, secret []byte, deliveryID string, ev PageEvent) error
}

// OnCall says who is on call for a schedule at a time: a configured
// person's name. An error wrapping ErrNobodyOnCall (or ErrUnknownSchedule)
// notifies nobody for that target, and says so in the timeline; any other
// error retries the step.
type OnCall interface {
	Who(ctx context.Context, schedule string, at time.Time) (person string, err error)
}

// Errors an OnCall returns for a schedule that cannot name anyone.
var (
	ErrNobodyOnCall    = errorString("nobody is on call")
	ErrUnknownSchedule = errorString("unknown schedule")
)

type errorString string

func (e errorString) Error() string { return string(e) }
