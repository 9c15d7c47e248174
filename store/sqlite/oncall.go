package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/warroomhq/warroom/oncall"
)

var _ oncall.OverrideStore = (*Store)(nil)

// AddOverride records an on-call override and returns it with its ID, and
// with CreatedAt set to the store's time when it was zero. Times are kept to
// the millisecond.
func (s *Store) AddOverride(ctx context.Context, o oncall.Override) (oncall.Override, error) {
	if o.Schedule == "" || o.Person == "" {
		return oncall.Override{}, fmt.Errorf("recording an override: schedule and person are required")
	}
	if ms(o.From) >= ms(o.To) {
		return oncall.Override{}, fmt.Errorf("recording an override of %s: it must end after it starts", o.Schedule)
	}
	if o.CreatedAt.IsZero() {
		o.CreatedAt = s.now()
	}
	o.From, o.To, o.CreatedAt = fromMS(ms(o.From)), fromMS(ms(o.To)), fromMS(ms(o.CreatedAt))
	err := s.write(ctx, func(tx *sql.Tx) error {
		return s.in(tx).QueryRowContext(ctx, `
			INSERT INTO oncall_overrides (schedule, person, starts_at, ends_at, created_by, created_at, reason)
			VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			o.Schedule, o.Person, ms(o.From), ms(o.To), o.CreatedBy, ms(o.CreatedAt), o.Reason).Scan(&o.ID)
	})
	if err != nil {
		return oncall.Override{}, fmt.Errorf("recording an override of %s: %w", o.Schedule, err)
	}
	return o, nil
}

// overridesQuery reads a schedule's overrides that overlap a period; a
// cancelled one counts until it was cancelled (oncall.Override.Until), so
// it is read when that part overlaps, and never when it was cancelled
// before it started. ends_at > ? keeps to the (schedule, ends_at) index.
const overridesQuery = `SELECT ` + overrideColumns + `
	FROM oncall_overrides WHERE schedule = ?1 AND ends_at > ?2 AND starts_at < ?3
	AND (cancelled_at = 0 OR (cancelled_at > starts_at AND cancelled_at > ?2)) ORDER BY id`

// Overrides returns the overrides of schedule that overlap [from, to),
// oldest first: a cancelled one, with its CancelledAt, when it overlaps
// before it was cancelled.
func (s *Store) Overrides(ctx context.Context, schedule string, from, to time.Time) ([]oncall.Override, error) {
	rows, err := s.read().QueryContext(ctx, overridesQuery, schedule, from.UnixMilli(), to.UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("reading the overrides of %s: %w", schedule, err)
	}
	defer rows.Close()
	var out []oncall.Override
	for rows.Next() {
		o, err := scanOverride(rows)
		if err != nil {
			return nil, fmt.Errorf("reading the overrides of %s: %w", schedule, err)
		}
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading the overrides of %s: %w", schedule, err)
	}
	return out, nil
}
