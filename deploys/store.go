package deploys

import (
	"context"
	"time"

	"github.com/warroomhq/warroom/incidents"
)

// RollbackState is where a rollback is, from its proposal to its outcome.
type RollbackState string

// The states of a rollback. A rollback is proposed, then confirmed (or
// canceled), then running at its mechanism, then over.
const (
	RollbackProposed  RollbackState = "proposed"  // waiting for a confirmation
	RollbackConfirmed RollbackState = "confirmed" // confirmed; its start is queued
	RollbackRunning   RollbackState = "running"   // started at its mechanism
	RollbackSucceeded RollbackState = "succeeded"
	RollbackFailed    RollbackState = "failed"
	RollbackCanceled  RollbackState = "canceled" // canceled before it started, or at its mechanism
	// RollbackUnknown is a rollback Warroom stopped following before it
	// ended (FollowFor passed, or its mechanism could not be asked): how
	// it ended must be looked up at its mechanism (Message says where).
	RollbackUnknown RollbackState = "unknown"
)

// Done reports whether the state is final.
func (s RollbackState) Done() bool {
	return s == RollbackSucceeded || s == RollbackFailed || s == RollbackCanceled || s == RollbackUnknown
}

// Rollback is one rollback of a service, proposed in an incident.
type Rollback struct {
	ID  int64
	Key string // RollbackRequest.Key: stable, set when it is stored
	// ProposeKey is RollbackInput.Key of the request that proposed it.
	ProposeKey string
	Incident   incidents.ID
	Service    string
	// Mechanism is how it is carried out.
	Mechanism Mechanism
	// From is what was live when it was proposed (zero when unknown); To
	// is what it goes back to.
	From  Deploy
	To    Deploy
	State RollbackState
	// Handle follows it at its mechanism, once started.
	Handle Handle
	// Message is the last progress message (what failed, on failure);
	// URL where to look.
	Message    string
	URL        string
	ProposedBy incidents.Actor
	// ProposedLead is the incident's lead when it was proposed ("" when
	// nobody led it): with approvers configured, only that lead may
	// confirm it besides them.
	ProposedLead string
	ConfirmedBy  incidents.Actor
	ProposedAt   time.Time
	ConfirmedAt  time.Time
	StartedAt    time.Time
	FinishedAt   time.Time
	UpdatedAt    time.Time
	// Version increases with every change; UpdateRollback refuses a lost
	// update.
	Version int64
}

// Request is the RollbackRequest that starts and follows r.
func (r *Rollback) Request() RollbackRequest {
	return RollbackRequest{Key: r.Key, Incident: r.Incident, Service: r.Service, From: r.From, To: r.To,
		RequestedBy: r.ConfirmedBy, At: r.ConfirmedAt}
}

// ManualFreeze is a freeze that someone set by hand.
type ManualFreeze struct {
	Service string
	By      incidents.Actor
	Reason  string
	At      time.Time
}

// Store keeps deploys, rollbacks and freezes. The domain defines it; the
// SQLite store implements it.
type Store interface {
	// WithDeployTx runs fn in one write transaction, like
	// incidents.Store.WithTx, with the deploy methods as well as the
	// incident ones.
	WithDeployTx(ctx context.Context, fn func(Tx) error) error
	// Deploys lists a service's stored deploys, newest first, at most limit.
	Deploys(ctx context.Context, service string, limit int) ([]Deploy, error)
	// Rollback reads one rollback, or an error wrapping
	// incidents.ErrNotFound.
	Rollback(ctx context.Context, id int64) (*Rollback, error)
	// Rollbacks lists an incident's rollbacks, oldest first.
	Rollbacks(ctx context.Context, inc incidents.ID) ([]*Rollback, error)
	// ServiceRollbacks lists a service's rollbacks (of all its incidents),
	// newest first, at most limit.
	ServiceRollbacks(ctx context.Context, service string, limit int) ([]*Rollback, error)
	// ManualFreeze returns the service's manual freeze, or nil.
	ManualFreeze(ctx context.Context, service string) (*ManualFreeze, error)
}

// Tx is a write transaction that changes deploys, rollbacks and freezes
// together with incidents' timelines and the jobs they cause.
type Tx interface {
	incidents.Tx
	// SaveDeploy stores d (by Source and ExternalID: a new deploy, or an
	// update of the stored one) and sets d.ID. It returns the deploy as it
	// was stored before, or nil for a new one.
	SaveDeploy(ctx context.Context, d *Deploy) (before *Deploy, err error)
	// FindDeploy reads the stored deploy with source and externalID, or
	// nil when there is none.
	FindDeploy(ctx context.Context, source Source, externalID string) (*Deploy, error)
	// OpenIncidents lists the service's open incidents.
	OpenIncidents(ctx context.Context, service string) ([]*incidents.Incident, error)
	// InsertRollback stores a new rollback and sets its ID and Version.
	// When key is not empty and a rollback was already proposed with that
	// key, it stores nothing and returns that rollback with existed true.
	InsertRollback(ctx context.Context, r *Rollback, key string) (stored *Rollback, existed bool, err error)
	// Rollback reads one rollback, or an error wrapping
	// incidents.ErrNotFound.
	Rollback(ctx context.Context, id int64) (*Rollback, error)
	// ActiveRollbacks lists the service's rollbacks that are proposed,
	// confirmed or running (of all its incidents), oldest first.
	ActiveRollbacks(ctx context.Context, service string) ([]*Rollback, error)
	// RollbackByKey reads the rollback with key, or an error wrapping
	// incidents.ErrNotFound.
	RollbackByKey(ctx context.Context, key string) (*Rollback, error)
	// UpdateRollback stores r's fields. It fails with an error wrapping
	// incidents.ErrConflict unless the stored version is r.Version, and
	// then increments r.Version.
	UpdateRollback(ctx context.Context, r *Rollback) error
	// ManualFreeze returns the service's manual freeze, or nil.
	ManualFreeze(ctx context.Context, service string) (*ManualFreeze, error)
	// SetManualFreeze stores f, replacing the service's manual freeze.
	SetManualFreeze(ctx context.Context, f ManualFreeze) error
	// DeleteManualFreeze removes the service's manual freeze and reports
	// whether there was one.
	DeleteManualFreeze(ctx context.Context, service string) (bool, error)
}
