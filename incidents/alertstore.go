package incidents

import (
	"context"
	"time"
)

// AlertStore keeps alerts, their groups and the bodies they came in. The
// domain defines it; the SQLite store implements it.
type AlertStore interface {
	Store
	// WithAlertTx runs fn in one write transaction, like WithTx, with the
	// alert methods as well as the incident ones.
	WithAlertTx(ctx context.Context, fn func(AlertTx) error) error
	// IncidentAlertCounts counts the alerts attached to an incident, with
	// at most names entries in Names.
	IncidentAlertCounts(ctx context.Context, id ID, names int) (AlertCounts, error)
	// IncidentAlerts lists the alerts attached to an incident: firing ones
	// first, then by last change, newest first; at most limit.
	IncidentAlerts(ctx context.Context, id ID, limit int) ([]StoredAlert, error)
	// AlertGroup reads one group, or an error wrapping ErrNotFound.
	AlertGroup(ctx context.Context, id int64) (*AlertGroup, error)
	// AlertByFingerprint reads one alert, or an error wrapping ErrNotFound.
	AlertByFingerprint(ctx context.Context, source, fingerprint string) (*StoredAlert, error)
	// AlertHistory lists an alert's last limit changes (all when limit is
	// 0), oldest first (Alert is nil).
	AlertHistory(ctx context.Context, alertID int64, limit int) ([]AlertChange, error)
	// PruneAlertBodies deletes bodies received before before and returns
	// how many it deleted. Alerts and their changes are kept.
	PruneAlertBodies(ctx context.Context, before time.Time) (int, error)
}

// AlertTx is a write transaction that can change alerts as well as
// incidents, so that an alert and what it does to an incident are committed
// together.
type AlertTx interface {
	Tx
	// SaveAlertBody stores a body and sets its ID.
	SaveAlertBody(ctx context.Context, b *AlertBody) error
	// AlertsByFingerprint returns the stored alerts of source among
	// fingerprints, keyed by fingerprint. Missing ones are absent.
	AlertsByFingerprint(ctx context.Context, source string, fingerprints []string) (map[string]*StoredAlert, error)
	// InsertAlert stores a new alert and sets its ID.
	InsertAlert(ctx context.Context, a *StoredAlert) error
	// UpdateAlert stores every field of a by its ID.
	UpdateAlert(ctx context.Context, a *StoredAlert) error
	// TouchAlerts records that alerts arrived again unchanged: LastSeen
	// becomes at, Received grows by one.
	TouchAlerts(ctx context.Context, ids []int64, at time.Time) error
	// AppendAlertChange stores a change and sets its ID.
	AppendAlertChange(ctx context.Context, c *AlertChange) error

	// AlertGroupByKey returns the group with key, or nil and no error
	// when there is none.
	AlertGroupByKey(ctx context.Context, key string) (*AlertGroup, error)
	// AlertGroup reads one group, or an error wrapping ErrNotFound.
	AlertGroup(ctx context.Context, id int64) (*AlertGroup, error)
	// InsertAlertGroup stores a new group and sets its ID.
	InsertAlertGroup(ctx context.Context, g *AlertGroup) error
	// UpdateAlertGroup stores every field of g by its ID.
	UpdateAlertGroup(ctx context.Context, g *AlertGroup) error

	// PendingAlertChanges returns up to limit changes of the group's
	// alerts that are not done yet, oldest first, each with its Name and
	// Alert. The first detailed ones have the whole alert; the others only
	// its scalar fields (nil labels, annotations and links), which is all a
	// storm's sum needs.
	PendingAlertChanges(ctx context.Context, groupID int64, limit, detailed int) ([]AlertChange, error)
	// MarkAlertChangesDone marks the group's changes up to and including
	// ID upTo as done.
	MarkAlertChangesDone(ctx context.Context, groupID, upTo int64) error
	// GroupFiring summarizes the group's firing alerts.
	GroupFiring(ctx context.Context, groupID int64) (FiringSummary, error)
	// AttachAlerts sets the incident of the alerts with ids and, with
	// allFiring, of every firing alert of the group. It returns how many
	// alerts it moved to inc.
	AttachAlerts(ctx context.Context, groupID int64, ids []int64, allFiring bool, inc ID) (int, error)
	// IncidentAlertCounts is AlertStore.IncidentAlertCounts inside the
	// transaction.
	IncidentAlertCounts(ctx context.Context, id ID, names int) (AlertCounts, error)
}

// FiringSummary is what a group's firing alerts add up to.
type FiringSummary struct {
	Count int
	// Worst is the worst severity among them; empty when none fire.
	Worst Severity
	// Declare is true when any of them should declare an incident.
	Declare bool
	// Since is the earliest StartsAt among them; for an alert whose source
	// sent no start, when it last fired (its ChangedAt).
	Since time.Time
	// Title is the title of the earliest of them.
	Title string
	// Description and RunbookURL are the earliest one's.
	Description string
	RunbookURL  string
}
