package deploys

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/warroomhq/warroom/jobs"
)

// JobRollbackExpire cancels a proposal that nobody confirmed or canceled
// within Options.ProposalTTL (key "rollback.expire:<id>", due ProposalTTL
// after the proposal). It is queued with the proposal, so that the
// proposal ends on time even when nobody clicks again; a proposal that was
// decided before is left alone.
const JobRollbackExpire = "rollback.expire"

// DataDecision is the key, in the data of the timeline event that decides
// a proposal (EventRollbackConfirmed, EventRollbackCanceled), of how it was
// decided. Only the events that end a proposal carry it: a rollback
// canceled at its mechanism after it started does not.
const DataDecision = "decision"

// Decision is how a proposed rollback was decided.
type Decision string

// The decisions on a proposal.
const (
	DecisionConfirmed Decision = "confirmed"
	DecisionCanceled  Decision = "canceled"
	// DecisionExpired is a proposal nobody confirmed within ProposalTTL;
	// its event's data also has "ttl_seconds".
	DecisionExpired Decision = "expired"
)

// queueExpiry queues the JobRollbackExpire of the proposal r, in the
// transaction that stores it.
func (s *Service) queueExpiry(ctx context.Context, tx Tx, r *Rollback) error {
	return enqueueRollbackJob(ctx, tx, JobRollbackExpire, fmt.Sprint(r.ID), RollbackJob{Rollback: r.ID},
		r.ProposedAt.Add(s.opts.ProposalTTL), 0)
}

// HandleExpire runs JobRollbackExpire: a rollback still proposed
// ProposalTTL after its proposal is canceled as expired (recorded on the
// timeline, in the same transaction). One that was confirmed or canceled
// meanwhile is left alone; one whose time has not come (the job ran early)
// is deferred to it.
func (s *Service) HandleExpire(ctx context.Context, j jobs.Job) error {
	p, err := decodeJob(j)
	if err != nil {
		return err
	}
	var (
		expired *Rollback
		wait    time.Duration
	)
	err = s.opts.Store.WithDeployTx(ctx, func(tx Tx) error {
		r, err := tx.Rollback(ctx, p.Rollback)
		if err != nil || r.State != RollbackProposed {
			return err
		}
		if age := s.now().Sub(r.ProposedAt); age < s.opts.ProposalTTL {
			wait = s.opts.ProposalTTL - age
			return nil
		}
		if err := s.expire(ctx, tx, r); err != nil {
			return err
		}
		expired = r
		return nil
	})
	if err != nil {
		return notFoundIsPermanent(err)
	}
	if wait > 0 {
		return jobs.Defer(wait, nil)
	}
	if expired != nil {
		s.opts.Notify()
		s.opts.OnOutcome(expired.Mechanism, RollbackCanceled)
	}
	return nil
}

// QueueExpiries queues the JobRollbackExpire of every proposal still
// waiting for a confirmation, for proposals stored before Warroom queued
// one with each (an upgrade): call it when Warroom starts. The job's key
// makes it a no-op for proposals that have theirs; a proposal older than
// ProposalTTL expires as soon as the queue runs. Only the configured
// services are looked at.
func (s *Service) QueueExpiries(ctx context.Context) error {
	return s.opts.Store.WithDeployTx(ctx, func(tx Tx) error {
		for _, service := range slices.Sorted(maps.Keys(s.opts.Services)) {
			rbs, err := tx.ActiveRollbacks(ctx, service)
			if err != nil {
				return err
			}
			for _, r := range rbs {
				if r.State != RollbackProposed {
					continue
				}
				if err := s.queueExpiry(ctx, tx, r); err != nil {
					return err
				}
			}
		}
		return nil
	})
}
