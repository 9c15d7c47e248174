package webhook

import (
	"encoding/json"
	"time"
)

// The events of a page webhook, sent in EventHeader and PagePayload.Event.
const (
	EventPageTriggered    = "page.triggered"    // a page started: its first step notified
	EventPageEscalated    = "page.escalated"    // nobody acknowledged: a later step (or round) notified
	EventPageAcknowledged = "page.acknowledged" // someone acknowledged: escalation stopped
	EventPageResolved     = "page.resolved"     // the incident was resolved
)

// PagePayload is the JSON body of a page webhook delivery:
//
//	{
//	  "event": "page.triggered",
//	  "incident": {"id": 42, "title": "Checkout is down", "severity": "sev1",
//	    "service": "checkout", "status": "investigating",
//	    "url": "https://warroom.example.com/api/incidents/INC-42", "channel": "#inc-42-checkout",
//	    "channel_id": "C042", "channel_url": "https://slack.com/app_redirect?channel=C042"},
//	  "page": {"id": 7, "state": "triggered", "policy": "payments", "step": 1,
//	    "round": 1, "targets": ["person:alice"], "people": ["alice"], "dedup_key": "warroom-inc-42"},
//	  "at": "2026-11-21T10:00:00Z"
//	}
//
// Fields are added over time, never renamed or removed: receivers must
// ignore fields they do not know.
type PagePayload struct {
	// Event is one of the EventPage... constants.
	Event    string       `json:"event"`
	Incident PageIncident `json:"incident"`
	Page     PageInfo     `json:"page"`
	// At is when it happened.
	At time.Time `json:"at"`
}

// PageIncident is the paged incident.
type PageIncident struct {
	ID       int64  `json:"id"`
	Title    string `json:"title"`
	Severity string `json:"severity"` // sev1..sev4
	Service  string `json:"service,omitempty"`
	Status   string `json:"status"` // investigating, identified, monitoring, resolved
	// URL is the incident in Warroom's JSON API, when Warroom has a
	// public URL.
	URL     string `json:"url,omitempty"`
	Channel string `json:"channel,omitempty"` // "#name"
	// ChannelID and ChannelURL are the incident's Slack channel and a link
	// that opens it (https://slack.com/app_redirect?channel=<id>).
	ChannelID  string `json:"channel_id,omitempty"`
	ChannelURL string `json:"channel_url,omitempty"`
	// Lead is the incident lead's Slack user ID, when it has one.
	Lead string `json:"lead,omitempty"`
}

// PageInfo is the page and where its escalation stands.
type PageInfo struct {
	ID int64 `json:"id"`
	// State is triggered, escalated, acknowledged or resolved.
	State string `json:"state"`
	// Policy is the escalation policy's name, empty for a page by hand.
	Policy string `json:"policy,omitempty"`
	// Step is the policy step that notified (1-based), Round the pass
	// through the steps (1, then 2.. for repeats).
	Step  int `json:"step"`
	Round int `json:"round"`
	// Targets are the step's targets as configured ("schedule:x",
	// "person:bob", "channel:#ops"); People are the people they resolved
	// to and who were notified (names from the configuration's people, or
	// Slack user IDs of people paged by hand), Channels the channels.
	Targets  []string `json:"targets"`
	People   []string `json:"people,omitempty"`
	Channels []string `json:"channels,omitempty"`
	// DedupKey is the PagerDuty dedup key of the incident's pages
	// ("warroom-inc-<id>"), so that a receiver can correlate both.
	DedupKey string `json:"dedup_key,omitempty"`
	// AcknowledgedBy and AcknowledgedAt are set once someone acknowledged.
	AcknowledgedBy string     `json:"acknowledged_by,omitempty"`
	AcknowledgedAt *time.Time `json:"acknowledged_at,omitempty"`
}

// Marshal encodes p, with Targets an empty list rather than null and At in
// UTC.
func (p PagePayload) Marshal() ([]byte, error) {
	if p.Page.Targets == nil {
		p.Page.Targets = []string{}
	}
	p.At = p.At.UTC()
	if p.Page.AcknowledgedAt != nil {
		t := p.Page.AcknowledgedAt.UTC()
		p.Page.AcknowledgedAt = &t
	}
	return json.Marshal(p)
}

// ParsePagePayload decodes a page webhook body, for receivers written in Go
// and for tests. Unknown fields are ignored.
func ParsePagePayload(body []byte) (PagePayload, error) {
	var p PagePayload
	err := json.Unmarshal(body, &p)
	return p, err
}
