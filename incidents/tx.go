package incidents

import (
	"context"
	"fmt"
	"time"
)

// The use cases in this file run inside a transaction that the caller owns,
// for features whose own records must be committed together with an
// incident's change (a page acknowledged with the incident, a page's
// escalation with its timeline event and the jobs that notify people).

// InTx runs fn in one write transaction of the service's store. Use cases
// called with tx inside fn (RecordTx, AcknowledgeTx) are committed, with
// their listeners' jobs, together with whatever else fn does through tx.
func (s *Service) InTx(ctx context.Context, fn func(tx Tx) error) error {
	return s.store.WithTx(ctx, fn)
}

// RecordTx is Record inside the caller's transaction. Listeners see the
// event like any other change. The incident must exist.
func (s *Service) RecordTx(ctx context.Context, tx Tx, id ID, actor Actor, ev Event) (Event, error) {
	if ev.Kind == "" {
		return Event{}, &ValidationError{Field: "kind", Msg: "a timeline event needs a kind"}
	}
	inc, err := tx.Incident(ctx, id)
	if err != nil {
		return Event{}, err
	}
	at := ev.At
	if at.IsZero() {
		at = s.Now()
	}
	evs, err := s.record(ctx, tx, id, actor, at, []Event{ev})
	if err != nil {
		return Event{}, err
	}
	return evs[0], s.notify(ctx, tx, Change{Before: inc, After: inc, Events: evs})
}

// AcknowledgeTx is Acknowledge inside the caller's transaction.
func (s *Service) AcknowledgeTx(ctx context.Context, tx Tx, id ID, actor Actor) (*Incident, error) {
	return s.mutateTx(ctx, tx, id, actor, acknowledge)
}

// acknowledge is the change that Acknowledge makes: the first
// acknowledgement sets AcknowledgedAt and records the time to acknowledge;
// later ones change nothing.
func acknowledge(inc *Incident, now time.Time) ([]Event, error) {
	if !inc.AcknowledgedAt.IsZero() {
		return nil, nil
	}
	inc.AcknowledgedAt = now
	tta := now.Sub(inc.DetectedAt)
	return []Event{{Kind: EventAcknowledged, Text: fmt.Sprintf("Acknowledged %s after detection", FormatDuration(tta)),
		Data: map[string]any{"tta_seconds": int64(tta.Seconds())}}}, nil
}
