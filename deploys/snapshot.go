package deploys

import (
	"context"
	"time"

	"github.com/warroomhq/warroom/incidents"
)

// SnapshotStore keeps the deploys that were shown when an incident was
// declared (package store/sqlite implements it).
type SnapshotStore interface {
	// SaveDeploySnapshot stores what a service's deploys were at at, for
	// an incident; a snapshot already stored for the incident and the
	// service is kept as it is.
	SaveDeploySnapshot(ctx context.Context, id incidents.ID, service string, at time.Time, ds []Deploy) error
}

// Snapshot keeps rec, the recent deploys read for an incident when it was
// declared, as they were: the postmortem draft lists the deploys before
// the incident from it, since those read from a provider (GitHub) are not
// otherwise stored, and their statuses change later (the deploy that was
// live becomes inactive once a fix or a rollback replaces it). The first
// snapshot of an incident and service wins, so a retried job changes
// nothing. It does nothing when the store keeps no snapshots.
func (s *Service) Snapshot(ctx context.Context, id incidents.ID, rec Recent) error {
	st, ok := s.opts.Store.(SnapshotStore)
	if !ok || len(rec.Deploys) == 0 {
		return nil
	}
	at := rec.ReadAt
	if at.IsZero() {
		at = s.now()
	}
	return st.SaveDeploySnapshot(ctx, id, rec.Service, at, rec.Deploys)
}
