package deploys

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/warroomhq/warroom/incidents"
	"github.com/warroomhq/warroom/jobs"
)

// JobSnapshot keeps the deploys that an incident's service's providers
// (GitHub) list when the incident is declared, or its service set: see
// Snapshot.
const JobSnapshot = "deploys.snapshot"

// snapshotAttempts bounds the reads of a snapshot whose provider fails;
// the last attempt keeps what it could read (the stored deploys and the
// providers that answered).
const snapshotAttempts = 6

// SnapshotStore keeps the deploys that were listed when an incident was
// declared (package store/sqlite implements it).
type SnapshotStore interface {
	// SaveDeploySnapshot stores what a service's deploys were at at, for
	// an incident; a snapshot already stored for the incident and the
	// service is kept as it is.
	SaveDeploySnapshot(ctx context.Context, id incidents.ID, service string, at time.Time, ds []Deploy) error
}

// snapshotJob is JobSnapshot's payload.
type snapshotJob struct {
	Incident incidents.ID `json:"incident"`
	Service  string       `json:"service"`
}

// Listener queues JobSnapshot, in the transaction of the change, when an
// incident is declared for a service that has providers, or its service
// becomes one: the snapshot is taken whether or not Slack is set up.
func (s *Service) Listener() incidents.Listener {
	return incidents.ListenerFunc(func(ctx context.Context, tx incidents.Tx, c incidents.Change) error {
		svc := c.After.Service
		if svc == "" || (c.Before != nil && c.Before.Service == svc) {
			return nil
		}
		if cfg, err := s.service(svc); err != nil || len(cfg.Providers) == 0 {
			return nil // not configured, or only reported to Warroom: stored anyway
		}
		data, err := json.Marshal(snapshotJob{Incident: c.After.ID, Service: svc})
		if err != nil {
			return err
		}
		_, err = tx.Enqueue(ctx, jobs.NewJob{Kind: JobSnapshot, Key: fmt.Sprintf("%s:%d:%s", JobSnapshot, c.After.ID, svc),
			Payload: data, MaxAttempts: snapshotAttempts})
		return err
	})
}

// HandleSnapshot runs JobSnapshot: it reads the service's recent deploys
// and keeps them with the incident. A provider that fails is asked again
// (after its Retry-After when it gave one) rather than kept out of the
// snapshot, which the first save fixes for good; the last attempt keeps
// what it could read.
func (s *Service) HandleSnapshot(ctx context.Context, j jobs.Job) error {
	var p snapshotJob
	if err := json.Unmarshal(j.Payload, &p); err != nil {
		return jobs.Permanent(fmt.Errorf("decoding %s job: %w", JobSnapshot, err))
	}
	rec, err := s.Recent(ctx, p.Service, 0)
	if err != nil {
		if incidents.IsUserError(err) {
			return jobs.Permanent(err) // the service left the configuration
		}
		return err
	}
	if len(rec.Errors) > 0 && j.Attempt < j.MaxAttempts {
		for _, e := range rec.Errors {
			if d, ok := jobs.DeferOf(e.Err); ok {
				return jobs.Defer(d, e.Err)
			}
		}
		return rec.Errors[0]
	}
	return s.Snapshot(ctx, p.Incident, rec)
}

// Snapshot keeps rec, the recent deploys read for an incident, as they
// were: the postmortem draft lists the deploys before the incident from
// it, since those read from a provider (GitHub) are not otherwise stored,
// and their statuses change later (the deploy that was live becomes
// inactive once a fix or a rollback replaces it). The first snapshot of an
// incident and service wins, so a retried job changes nothing. It does
// nothing when the store keeps no snapshots.
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
