package incidents

import (
	"context"
	"time"

	"github.com/warroomhq/warroom/jobs"
)

// Store keeps incidents and their timelines. The domain defines it; the
// SQLite store implements it.
type Store interface {
	Reader
	// WithTx runs fn in one write transaction, committed when fn returns nil
	// and rolled back otherwise.
	WithTx(ctx context.Context, fn func(Tx) error) error
}

// Reader answers questions without changing anything.
type Reader interface {
	// Incident returns one incident, or an error wrapping ErrNotFound.
	Incident(ctx context.Context, id ID) (*Incident, error)
	// Incidents lists incidents, newest first.
	Incidents(ctx context.Context, f ListFilter) ([]*Incident, error)
	// Timeline lists an incident's events in the order they happened.
	Timeline(ctx context.Context, id ID) ([]Event, error)
	// CountByStatus counts incidents in each status (for metrics).
	CountByStatus(ctx context.Context) (map[Status]int, error)
}

// Tx is a write transaction. Everything done through one Tx is committed
// together: an incident change, its timeline events, and the jobs that carry
// its side effects to Slack or GitHub.
type Tx interface {
	jobs.Enqueuer
	// CreateIncident stores a new incident and sets its ID and Version. When
	// key is not empty and an incident was already declared with that key,
	// it stores nothing and returns that incident's ID with existed true.
	CreateIncident(ctx context.Context, inc *Incident, key string) (id ID, existed bool, err error)
	// Incident reads an incident inside the transaction.
	Incident(ctx context.Context, id ID) (*Incident, error)
	// UpdateIncident stores inc's fields and roles. It fails with an error
	// wrapping ErrConflict unless the stored version is inc.Version, and then
	// increments inc.Version.
	UpdateIncident(ctx context.Context, inc *Incident) error
	// AppendEvent adds a timeline event and sets its ID.
	AppendEvent(ctx context.Context, ev *Event) error
}

// StatusFilter selects incidents by whether they are open.
type StatusFilter string

// The status filters of ListFilter.
const (
	FilterOpen     StatusFilter = "open"
	FilterResolved StatusFilter = "resolved"
	FilterAll      StatusFilter = "all"
)

// ParseStatusFilter accepts open, resolved and all; "" is open.
func ParseStatusFilter(s string) (StatusFilter, error) {
	switch StatusFilter(s) {
	case "", FilterOpen:
		return FilterOpen, nil
	case FilterResolved, FilterAll:
		return StatusFilter(s), nil
	}
	return "", &ValidationError{Field: "status", Msg: "status must be open, resolved or all"}
}

// ListFilter selects incidents to list.
type ListFilter struct {
	Status  StatusFilter // "" means all
	Service string       // "" means every service
	// DeclaredSince and DeclaredBefore bound the declaration time when set.
	DeclaredSince  time.Time
	DeclaredBefore time.Time
	Limit          int // 0 means no limit
}

// Change is what one use case did to one incident, handed to listeners inside
// the transaction that made it.
type Change struct {
	Before *Incident // nil when the incident was just declared
	After  *Incident
	Events []Event
}

// Has reports whether the change recorded an event of kind k.
func (c Change) Has(k EventKind) bool {
	for _, e := range c.Events {
		if e.Kind == k {
			return true
		}
	}
	return false
}

// Listener reacts to incident changes inside their transaction, usually by
// enqueuing jobs (post to Slack, page someone). An error rolls the whole change
// back, so a change is never committed without its side effects queued.
type Listener interface {
	IncidentChanged(ctx context.Context, tx Tx, c Change) error
}

// ListenerFunc adapts a function to Listener.
type ListenerFunc func(ctx context.Context, tx Tx, c Change) error

// IncidentChanged calls f.
func (f ListenerFunc) IncidentChanged(ctx context.Context, tx Tx, c Change) error {
	return f(ctx, tx, c)
}
