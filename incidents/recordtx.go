package incidents

import "context"

// RecordTx is Record inside a transaction that the caller runs: an adapter
// whose store transaction embeds Tx (deploys, rollbacks) puts an event on an
// incident's timeline in the same transaction as its own change and the jobs
// it enqueues, and listeners see the event like any other.
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
