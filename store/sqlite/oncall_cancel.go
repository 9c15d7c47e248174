package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/warroomhq/warroom/oncall"
)

var _ oncall.OverrideCanceller = (*Store)(nil)

const overrideColumns = `id, schedule, person, starts_at, ends_at, created_by, created_at, reason, cancelled_at, cancelled_by`

func scanOverride(row interface{ Scan(...any) error }) (oncall.Override, error) {
	var (
		o                          oncall.Override
		start, end, create, cancel int64
	)
	if err := row.Scan(&o.ID, &o.Schedule, &o.Person, &start, &end, &o.CreatedBy, &create, &o.Reason, &cancel, &o.CancelledBy); err != nil {
		return oncall.Override{}, err
	}
	o.From, o.To, o.CreatedAt = fromMS(start), fromMS(end), fromMS(create)
	if cancel != 0 {
		o.CancelledAt = fromMS(cancel)
	}
	return o, nil
}

// Override reads one override by ID, cancelled or not; the error wraps
// oncall.ErrOverrideNotFound.
func (s *Store) Override(ctx context.Context, id int64) (oncall.Override, error) {
	o, err := scanOverride(s.read().QueryRowContext(ctx, `SELECT `+overrideColumns+` FROM oncall_overrides WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return oncall.Override{}, fmt.Errorf("%w: %d", oncall.ErrOverrideNotFound, id)
	}
	if err != nil {
		return oncall.Override{}, fmt.Errorf("reading override %d: %w", id, err)
	}
	return o, nil
}

// CancelOverride records that by cancelled override id at at (kept to the
// millisecond; the store's time when zero). The error wraps
// oncall.ErrOverrideNotFound, or oncall.ErrOverrideOver when it was
// cancelled already.
func (s *Store) CancelOverride(ctx context.Context, id int64, by string, at time.Time) (oncall.Override, error) {
	if at.IsZero() {
		at = s.now()
	}
	var o oncall.Override
	err := s.write(ctx, func(tx *sql.Tx) error {
		var err error
		o, err = scanOverride(s.in(tx).QueryRowContext(ctx, `UPDATE oncall_overrides SET cancelled_at = ?, cancelled_by = ?
			WHERE id = ? AND cancelled_at = 0 RETURNING `+overrideColumns, max(ms(at), 1), by, id))
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		var cancelled int64
		switch err := s.in(tx).QueryRowContext(ctx, `SELECT cancelled_at FROM oncall_overrides WHERE id = ?`, id).Scan(&cancelled); {
		case errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("%w: %d", oncall.ErrOverrideNotFound, id)
		case err != nil:
			return err
		}
		return fmt.Errorf("%w: override %d was cancelled already", oncall.ErrOverrideOver, id)
	})
	if err != nil {
		return oncall.Override{}, fmt.Errorf("cancelling override %d: %w", id, err)
	}
	return o, nil
}
