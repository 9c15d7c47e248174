package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// LeaseOwners returns the distinct lease owners of running jobs
// (runner.LeaseStore).
func (s *Store) LeaseOwners(ctx context.Context) ([]string, error) {
	rows, err := s.read().QueryContext(ctx, `SELECT DISTINCT lease_owner FROM jobs WHERE state = 'running' AND lease_owner <> ''`)
	if err != nil {
		return nil, fmt.Errorf("listing lease owners: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var o string
		if err := rows.Scan(&o); err != nil {
			return nil, fmt.Errorf("listing lease owners: %w", err)
		}
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing lease owners: %w", err)
	}
	return out, nil
}

// ExpireLeases ends the leases of owner's running jobs as of now, so that
// the next claim takes them (runner.LeaseStore). Their attempts stay
// counted.
func (s *Store) ExpireLeases(ctx context.Context, owner string, now time.Time) (int, error) {
	var n int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := s.in(tx).ExecContext(ctx,
			`UPDATE jobs SET lease_until = ? WHERE state = 'running' AND lease_owner = ? AND lease_until > ?`,
			ms(now), owner, ms(now))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("expiring the leases of %s: %w", owner, err)
	}
	return int(n), nil
}
