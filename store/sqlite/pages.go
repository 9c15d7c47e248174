package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/warroomhq/warroom/incidents"
	"github.com/warroomhq/warroom/paging"
)

var (
	_ paging.Store = (*Store)(nil)
	_ paging.Tx    = (*txn)(nil)
)

// pageColumns are the columns scanPage reads.
const pageColumns = `id, incident_id, policy, target, state, round, step, next_at, created_at, created_by,
	acked_at, acked_by, resolved_at, updated_at`

func scanPage(sc interface{ Scan(...any) error }) (*paging.Page, error) {
	var (
		p                                  paging.Page
		incID, next, created, acked, resol int64
		updated                            int64
		target, state, by, ackedBy         string
	)
	if err := sc.Scan(&p.ID, &incID, &p.Policy, &target, &state, &p.Round, &p.Step, &next, &created, &by,
		&acked, &ackedBy, &resol, &updated); err != nil {
		return nil, err
	}
	t, err := paging.ParseTarget(target)
	if err != nil {
		return nil, fmt.Errorf("page %d: %w", p.ID, err)
	}
	p.Incident, p.Target, p.State = incidents.ID(incID), t, paging.State(state)
	p.NextAt, p.CreatedAt, p.AckedAt, p.ResolvedAt, p.UpdatedAt = fromMS(next), fromMS(created), fromMS(acked), fromMS(resol), fromMS(updated)
	p.CreatedBy, p.AckedBy = incidents.Actor(by), incidents.Actor(ackedBy)
	return &p, nil
}

func queryPages(ctx context.Context, db execer, query string, args ...any) ([]*paging.Page, error) {
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*paging.Page
	for rows.Next() {
		p, err := scanPage(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

func getPage(ctx context.Context, db execer, id int64) (*paging.Page, error) {
	p, err := scanPage(db.QueryRowContext(ctx, `SELECT `+pageColumns+` FROM pages WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("page %d: %w", id, paging.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("reading page %d: %w", id, err)
	}
	return p, nil
}

func incidentPages(ctx context.Context, db execer, id incidents.ID) ([]*paging.Page, error) {
	pages, err := queryPages(ctx, db, `SELECT `+pageColumns+` FROM pages WHERE incident_id = ? ORDER BY id`, int64(id))
	if err != nil {
		return nil, fmt.Errorf("reading the pages of %s: %w", id, err)
	}
	return pages, nil
}

// CreatePage stores a new page and sets its ID.
func (t *txn) CreatePage(ctx context.Context, p *paging.Page) error {
	err := t.db().QueryRowContext(ctx, `
		INSERT INTO pages (incident_id, policy, target, state, round, step, next_at, created_at, created_by,
			acked_at, acked_by, resolved_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		int64(p.Incident), p.Policy, p.Target.String(), string(p.State), p.Round, p.Step, ms(p.NextAt),
		ms(p.CreatedAt), string(p.CreatedBy), ms(p.AckedAt), string(p.AckedBy), ms(p.ResolvedAt), ms(p.UpdatedAt)).Scan(&p.ID)
	if err != nil {
		return fmt.Errorf("creating a page of %s: %w", p.Incident, err)
	}
	return nil
}

// Page reads one page in the transaction.
func (t *txn) Page(ctx context.Context, id int64) (*paging.Page, error) {
	return getPage(ctx, t.db(), id)
}

// UpdatePage stores every field of p by its ID.
func (t *txn) UpdatePage(ctx context.Context, p *paging.Page) error {
	res, err := t.db().ExecContext(ctx, `
		UPDATE pages SET policy = ?, target = ?, state = ?, round = ?, step = ?, next_at = ?, acked_at = ?, acked_by = ?,
			resolved_at = ?, updated_at = ?
		WHERE id = ?`,
		p.Policy, p.Target.String(), string(p.State), p.Round, p.Step, ms(p.NextAt), ms(p.AckedAt), string(p.AckedBy),
		ms(p.ResolvedAt), ms(p.UpdatedAt), p.ID)
	if err != nil {
		return fmt.Errorf("updating page %d: %w", p.ID, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("updating page %d: %w", p.ID, err)
	} else if n == 0 {
		return fmt.Errorf("updating page %d: %w", p.ID, paging.ErrNotFound)
	}
	return nil
}

// IncidentPages lists an incident's pages in the transaction, oldest first.
func (t *txn) IncidentPages(ctx context.Context, id incidents.ID) ([]*paging.Page, error) {
	return incidentPages(ctx, t.db(), id)
}

// CancelJob marks the pending job with key done without running it.
func (t *txn) CancelJob(ctx context.Context, key string) (bool, error) {
	res, err := t.db().ExecContext(ctx, `UPDATE jobs SET state = 'done', last_error = 'cancelled', updated_at = ?
		WHERE idem_key = ? AND state = 'pending'`, ms(t.s.now()), key)
	if err != nil {
		return false, fmt.Errorf("cancelling job %s: %w", key, err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// RescheduleJob moves the pending job with key to run at at.
func (t *txn) RescheduleJob(ctx context.Context, key string, at time.Time) (bool, error) {
	res, err := t.db().ExecContext(ctx, `UPDATE jobs SET run_at = ?, updated_at = ? WHERE idem_key = ? AND state = 'pending'`,
		ms(at), ms(t.s.now()), key)
	if err != nil {
		return false, fmt.Errorf("rescheduling job %s: %w", key, err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// HasJob reports whether a job with key exists, in any state.
func (t *txn) HasJob(ctx context.Context, key string) (bool, error) {
	var one int
	err := t.db().QueryRowContext(ctx, `SELECT 1 FROM jobs WHERE idem_key = ?`, key).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("looking for job %s: %w", key, err)
	}
	return true, nil
}

// Page reads one page, or an error wrapping paging.ErrNotFound.
func (s *Store) Page(ctx context.Context, id int64) (*paging.Page, error) {
	return getPage(ctx, s.read(), id)
}

// IncidentPages lists an incident's pages, oldest first.
func (s *Store) IncidentPages(ctx context.Context, id incidents.ID) ([]*paging.Page, error) {
	return incidentPages(ctx, s.read(), id)
}

// EscalatingPages lists the open pages that have a step left, by deadline.
func (s *Store) EscalatingPages(ctx context.Context) ([]*paging.Page, error) {
	pages, err := queryPages(ctx, s.read(), `SELECT `+pageColumns+` FROM pages
		WHERE state IN ('triggered', 'escalated') AND next_at <> 0 ORDER BY next_at, id`)
	if err != nil {
		return nil, fmt.Errorf("reading the escalating pages: %w", err)
	}
	return pages, nil
}
