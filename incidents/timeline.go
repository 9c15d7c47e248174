package incidents

import (
	"encoding/json"
	"time"
)

// EventKind says what a timeline event records.
type EventKind string

// The kinds of timeline event that the domain writes. Adapters add their own
// (for example "slack.message" for a pinned message); a kind is a dotted name.
const (
	EventDeclared      EventKind = "declared"
	EventStatusChanged EventKind = "status_changed"
	EventSeverity      EventKind = "severity_changed"
	EventRoleAssigned  EventKind = "role_assigned"
	EventNote          EventKind = "note"
	EventResolved      EventKind = "resolved"
	EventReopened      EventKind = "reopened"
	EventAcknowledged  EventKind = "acknowledged"
	EventChannel       EventKind = "channel_created"
	EventTitleChanged  EventKind = "title_changed"
)

// Event is one entry in an incident's timeline.
type Event struct {
	ID         int64
	IncidentID ID
	At         time.Time
	Kind       EventKind
	Actor      Actor
	Text       string         // for people: what happened, in a sentence
	Data       map[string]any // structured details (from/to, links, labels)
}

// DataJSON encodes Data for storage; nil Data is "{}".
func (e *Event) DataJSON() ([]byte, error) {
	if len(e.Data) == 0 {
		return []byte("{}"), nil
	}
	return json.Marshal(e.Data)
}
