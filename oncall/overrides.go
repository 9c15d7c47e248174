package oncall

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
)

var (
	// ErrOverrideNotFound is wrapped by the errors about an override ID
	// that the store does not hold.
	ErrOverrideNotFound = errors.New("no such override")
	// ErrOverrideOver is wrapped by CancelOverride's error for an override
	// that was cancelled already or has ended.
	ErrOverrideOver = errors.New("the override is over")
)

// OverrideCanceller is an OverrideStore that can also read one override
// and cancel it. The SQLite store is one.
type OverrideCanceller interface {
	// Override reads one override by ID, cancelled or not; the error
	// wraps ErrOverrideNotFound.
	Override(ctx context.Context, id int64) (Override, error)
	// CancelOverride records that by cancelled the override at at, and
	// returns it. The error wraps ErrOverrideNotFound, or ErrOverrideOver
	// when it was cancelled already.
	CancelOverride(ctx context.Context, id int64, by string, at time.Time) (Override, error)
}

// Until is when o stops putting its person on call: its end, or when it
// was cancelled if that is sooner, but never before its start (an override
// cancelled before it started never counts). Cancelling changes who is on
// call from then on, not before.
func (o Override) Until() time.Time {
	if o.CancelledAt.IsZero() || o.CancelledAt.After(o.To) {
		return o.To
	}
	if o.CancelledAt.Before(o.From) {
		return o.From
	}
	return o.CancelledAt
}

// overrideHorizon is how far ahead ListOverrides looks.
const overrideHorizon = 100 * 365 * 24 * time.Hour

// ListOverrides lists the overrides of schedule (of every schedule when
// schedule is "") that still count after now (Until: a cancelled one
// counts until it was cancelled), from
// the configuration (ID 0) and from the store, by schedule, then start,
// then ID. The error wraps ErrUnknownSchedule.
func (r *Resolver) ListOverrides(ctx context.Context, schedule string, now time.Time) ([]Override, error) {
	names := []string{schedule}
	if schedule == "" {
		names = r.ScheduleNames()
	}
	var out []Override
	for _, name := range names {
		c, err := r.schedule(name)
		if err != nil {
			return nil, err
		}
		for _, o := range c.Overrides {
			if o.To.After(now) && o.From.Before(o.To) {
				out = append(out, o)
			}
		}
		if r.store == nil {
			continue
		}
		stored, err := r.store.Overrides(ctx, name, now, now.Add(overrideHorizon))
		if err != nil {
			return nil, fmt.Errorf("reading the overrides of %s: %w", name, err)
		}
		for _, o := range stored {
			if o.Until().After(now) && o.From.Before(o.Until()) {
				out = append(out, o)
			}
		}
	}
	slices.SortStableFunc(out, func(a, b Override) int {
		return cmp.Or(cmp.Compare(a.Schedule, b.Schedule), a.From.Compare(b.From), cmp.Compare(a.ID, b.ID))
	})
	return out, nil
}

// Override reads a stored override by ID. The error wraps
// ErrOverrideNotFound, or ErrNoStore.
func (r *Resolver) Override(ctx context.Context, id int64) (Override, error) {
	c, ok := r.store.(OverrideCanceller)
	if !ok {
		return Override{}, ErrNoStore
	}
	if id <= 0 {
		return Override{}, fmt.Errorf("%w: %d", ErrOverrideNotFound, id)
	}
	return c.Override(ctx, id)
}

// CancelOverride cancels the stored override id at at, on by's behalf: from
// then on it puts nobody on call. Whether by may cancel it is the caller's
// decision. The error wraps ErrOverrideNotFound, ErrOverrideOver (cancelled
// already, or ended before at) or ErrNoStore.
func (r *Resolver) CancelOverride(ctx context.Context, id int64, by string, at time.Time) (Override, error) {
	o, err := r.Override(ctx, id)
	if err != nil {
		return Override{}, err
	}
	switch {
	case !o.CancelledAt.IsZero():
		return Override{}, fmt.Errorf("%w: override %d was cancelled already", ErrOverrideOver, id)
	case !o.To.After(at):
		return Override{}, fmt.Errorf("%w: override %d has ended", ErrOverrideOver, id)
	}
	return r.store.(OverrideCanceller).CancelOverride(ctx, id, by, at)
}
