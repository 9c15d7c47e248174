package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/warroomhq/warroom/digest"
	"github.com/warroomhq/warroom/incidents"
	"github.com/warroomhq/warroom/postmortem"
)

var (
	_ postmortem.Store        = (*Store)(nil)
	_ digest.PostmortemSource = (*Store)(nil)
	_ digest.ActionItemSource = (*Store)(nil)
	_ postmortem.ItemSource   = (*Store)(nil)
)

// PostmortemRecord returns the incident's postmortem record, and false if
// its draft was never published.
func (s *Store) PostmortemRecord(ctx context.Context, id incidents.ID) (postmortem.Record, bool, error) {
	r, err := scanRecord(s.read().QueryRowContext(ctx, `SELECT `+recordColumns+` FROM postmortems WHERE incident_id = ?`, int64(id)))
	if errors.Is(err, sql.ErrNoRows) {
		return postmortem.Record{}, false, nil
	}
	if err != nil {
		return postmortem.Record{}, false, fmt.Errorf("reading the postmortem of %s: %w", id, err)
	}
	return r, true, nil
}

const recordColumns = `incident_id, repo, branch, path, pr_number, pr_url, pr_state, last_sha, pending_shas, edited, created_at, updated_at`

func scanRecord(row interface{ Scan(...any) error }) (postmortem.Record, error) {
	var (
		r                postmortem.Record
		inc              int64
		edited           int
		created, updated int64
		pending          string
	)
	err := row.Scan(&inc, &r.Repo, &r.Branch, &r.Path, &r.PRNumber, &r.PRURL, &r.PRState, &r.LastSHA, &pending, &edited, &created, &updated)
	r.PendingSHAs = strings.Fields(pending)
	r.Incident, r.Edited, r.CreatedAt, r.UpdatedAt = incidents.ID(inc), edited != 0, fromMS(created), fromMS(updated)
	return r, err
}

// OpenPostmortemRecords lists the records whose pull request is open.
func (s *Store) OpenPostmortemRecords(ctx context.Context) ([]postmortem.Record, error) {
	rows, err := s.read().QueryContext(ctx, `SELECT `+recordColumns+` FROM postmortems
		WHERE pr_state = 'open' AND pr_number > 0 ORDER BY incident_id`)
	if err != nil {
		return nil, fmt.Errorf("listing open postmortems: %w", err)
	}
	defer rows.Close()
	var out []postmortem.Record
	for rows.Next() {
		r, err := scanRecord(rows)
		if err != nil {
			return nil, fmt.Errorf("listing open postmortems: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// OpenActionItems lists the action items not done that have an issue.
func (s *Store) OpenActionItems(ctx context.Context) ([]postmortem.TrackedItem, error) {
	rows, err := s.read().QueryContext(ctx, `SELECT `+itemColumns+` FROM action_items
		WHERE done = 0 AND issue_number > 0 ORDER BY incident_id, key`)
	if err != nil {
		return nil, fmt.Errorf("listing open action items: %w", err)
	}
	items, err := scanItems(rows)
	if err != nil {
		return nil, fmt.Errorf("listing open action items: %w", err)
	}
	return items, nil
}

// SavePostmortemRecord creates or replaces the incident's record. The
// creation time is kept from the first save.
func (s *Store) SavePostmortemRecord(ctx context.Context, r postmortem.Record) error {
	if r.Incident <= 0 || r.Repo == "" || r.Branch == "" || r.Path == "" {
		return fmt.Errorf("saving the postmortem of %s: repository, branch and path are required", r.Incident)
	}
	if r.PRState == "" {
		r.PRState = "open"
	}
	now := ms(s.now())
	err := s.write(ctx, func(tx *sql.Tx) error {
		_, err := s.in(tx).ExecContext(ctx, `INSERT INTO postmortems
			(incident_id, repo, branch, path, pr_number, pr_url, pr_state, last_sha, pending_shas, edited, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (incident_id) DO UPDATE SET repo = excluded.repo, branch = excluded.branch,
				path = excluded.path, pr_number = excluded.pr_number, pr_url = excluded.pr_url,
				pr_state = excluded.pr_state, last_sha = excluded.last_sha, pending_shas = excluded.pending_shas,
				edited = excluded.edited, updated_at = excluded.updated_at`,
			int64(r.Incident), r.Repo, r.Branch, r.Path, r.PRNumber, r.PRURL, r.PRState, r.LastSHA,
			strings.Join(r.PendingSHAs, " "), boolInt(r.Edited), now, now)
		return err
	})
	if err != nil {
		return fmt.Errorf("saving the postmortem of %s: %w", r.Incident, err)
	}
	return nil
}

// IncidentActionItems lists the incident's action items, oldest first.
func (s *Store) IncidentActionItems(ctx context.Context, id incidents.ID) ([]postmortem.TrackedItem, error) {
	rows, err := s.read().QueryContext(ctx, `SELECT `+itemColumns+`
		FROM action_items WHERE incident_id = ? ORDER BY created_at, key`, int64(id))
	if err != nil {
		return nil, fmt.Errorf("listing the action items of %s: %w", id, err)
	}
	items, err := scanItems(rows)
	if err != nil {
		return nil, fmt.Errorf("listing the action items of %s: %w", id, err)
	}
	return items, nil
}

const itemColumns = `incident_id, key, text, done, issue_repo, issue_number, issue_url, created_at, updated_at`

func scanItems(rows *sql.Rows) ([]postmortem.TrackedItem, error) {
	defer rows.Close()
	var out []postmortem.TrackedItem
	for rows.Next() {
		var (
			it               postmortem.TrackedItem
			inc              int64
			done             int
			created, updated int64
		)
		if err := rows.Scan(&inc, &it.Key, &it.Text, &done, &it.IssueRepo, &it.IssueNumber, &it.IssueURL, &created, &updated); err != nil {
			return nil, err
		}
		it.Incident, it.Done, it.CreatedAt, it.UpdatedAt = incidents.ID(inc), done != 0, fromMS(created), fromMS(updated)
		out = append(out, it)
	}
	return out, rows.Err()
}

// SaveActionItem creates or updates the item with its incident and key. An
// update keeps the creation time, and when it.IssueURL is empty keeps the
// known issue and its state.
func (s *Store) SaveActionItem(ctx context.Context, it postmortem.TrackedItem) error {
	if it.Incident <= 0 || it.Key == "" {
		return fmt.Errorf("saving an action item of %s: incident and key are required", it.Incident)
	}
	now := s.now()
	created := it.CreatedAt
	if created.IsZero() {
		created = now
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		_, err := s.in(tx).ExecContext(ctx, `INSERT INTO action_items
			(incident_id, key, text, done, issue_repo, issue_number, issue_url, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (incident_id, key) DO UPDATE SET text = excluded.text,
				done = CASE WHEN excluded.issue_url = '' THEN action_items.done ELSE excluded.done END,
				issue_repo = CASE WHEN excluded.issue_url = '' THEN action_items.issue_repo ELSE excluded.issue_repo END,
				issue_number = CASE WHEN excluded.issue_url = '' THEN action_items.issue_number ELSE excluded.issue_number END,
				issue_url = CASE WHEN excluded.issue_url = '' THEN action_items.issue_url ELSE excluded.issue_url END,
				updated_at = excluded.updated_at`,
			int64(it.Incident), it.Key, it.Text, boolInt(it.Done), it.IssueRepo, it.IssueNumber, it.IssueURL, ms(created), ms(now))
		return err
	})
	if err != nil {
		return fmt.Errorf("saving action item %s of %s: %w", it.Key, it.Incident, err)
	}
	return nil
}

// Postmortems returns the postmortems of those incidents among ids that
// have a pull request (the digest's PostmortemSource).
func (s *Store) Postmortems(ctx context.Context, ids []incidents.ID) (map[incidents.ID]digest.Postmortem, error) {
	out := map[incidents.ID]digest.Postmortem{}
	for i := 0; i < len(ids); i += 500 {
		batch := ids[i:min(i+500, len(ids))]
		args := make([]any, len(batch))
		for j, id := range batch {
			args[j] = int64(id)
		}
		// On the pool without the statement cache: each length is a text.
		rows, err := s.reader.QueryContext(ctx, `SELECT incident_id, pr_url, pr_state FROM postmortems
			WHERE pr_url <> '' AND incident_id IN (`+placeholders(len(batch))+`)`, args...)
		if err != nil {
			return nil, fmt.Errorf("reading postmortems for the digest: %w", err)
		}
		for rows.Next() {
			var (
				id         int64
				url, state string
			)
			if err := rows.Scan(&id, &url, &state); err != nil {
				rows.Close()
				return nil, fmt.Errorf("reading postmortems for the digest: %w", err)
			}
			out[incidents.ID(id)] = digest.Postmortem{URL: url, State: digest.PullRequestState(state)}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("reading postmortems for the digest: %w", err)
		}
	}
	return out, nil
}

// ActionItems returns the action items of the incidents among ids (the
// digest's ActionItemSource).
func (s *Store) ActionItems(ctx context.Context, ids []incidents.ID) ([]digest.ActionItem, error) {
	var out []digest.ActionItem
	for i := 0; i < len(ids); i += 500 {
		batch := ids[i:min(i+500, len(ids))]
		args := make([]any, len(batch))
		for j, id := range batch {
			args[j] = int64(id)
		}
		rows, err := s.reader.QueryContext(ctx, `SELECT `+itemColumns+`
			FROM action_items WHERE incident_id IN (`+placeholders(len(batch))+`) ORDER BY created_at, incident_id, key`, args...)
		if err != nil {
			return nil, fmt.Errorf("reading action items for the digest: %w", err)
		}
		items, err := scanItems(rows)
		if err != nil {
			return nil, fmt.Errorf("reading action items for the digest: %w", err)
		}
		for _, it := range items {
			out = append(out, digest.ActionItem{Incident: it.Incident, Created: it.CreatedAt, Title: it.Text, URL: it.IssueURL, Done: it.Done})
		}
	}
	return out, nil
}

var _ postmortem.SyncTx = (*txn)(nil)

// SetPullRequestState moves the incident's pull request number from open
// to state, and reports whether it was open.
func (t *txn) SetPullRequestState(ctx context.Context, id incidents.ID, number int, state string) (bool, error) {
	res, err := t.db().ExecContext(ctx, `UPDATE postmortems SET pr_state = ?, updated_at = ?
		WHERE incident_id = ? AND pr_number = ? AND pr_state = 'open'`, state, ms(t.s.now()), int64(id), number)
	if err != nil {
		return false, fmt.Errorf("updating the postmortem of %s: %w", id, err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// MarkActionItemDone marks the incident's item with key done, and reports
// whether it was open.
func (t *txn) MarkActionItemDone(ctx context.Context, id incidents.ID, key string) (bool, error) {
	res, err := t.db().ExecContext(ctx, `UPDATE action_items SET done = 1, updated_at = ?
		WHERE incident_id = ? AND key = ? AND done = 0`, ms(t.s.now()), int64(id), key)
	if err != nil {
		return false, fmt.Errorf("updating action item %s of %s: %w", key, id, err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
