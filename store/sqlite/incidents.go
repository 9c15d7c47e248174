package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/warroomhq/warroom/incidents"
	"github.com/warroomhq/warroom/jobs"
)

var _ incidents.Store = (*Store)(nil)

// WithTx runs fn in one IMMEDIATE write transaction.
func (s *Store) WithTx(ctx context.Context, fn func(incidents.Tx) error) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		return fn(&txn{s: s, tx: tx})
	})
}

// txn is a write transaction seen through the domain's Tx interface.
type txn struct {
	s  *Store
	tx *sql.Tx
}

var _ incidents.Tx = (*txn)(nil)

// db runs queries in the transaction through the statement cache.
func (t *txn) db() execer { return t.s.in(t.tx) }

// Enqueue adds a job in the same transaction as the change that causes it.
func (t *txn) Enqueue(ctx context.Context, j jobs.NewJob) (bool, error) {
	return enqueue(ctx, t.db(), t.s.now(), j)
}

func (t *txn) CreateIncident(ctx context.Context, inc *incidents.Incident, key string) (incidents.ID, bool, error) {
	if key != "" {
		var id int64
		err := t.db().QueryRowContext(ctx, `SELECT id FROM incidents WHERE declare_key = ?`, key).Scan(&id)
		switch {
		case err == nil:
			return incidents.ID(id), true, nil
		case !errors.Is(err, sql.ErrNoRows):
			return 0, false, fmt.Errorf("looking up declaration key: %w", err)
		}
	}
	var id int64
	err := t.db().QueryRowContext(ctx, `
		INSERT INTO incidents (id, title, severity, status, service, description, summary, declared_by, declare_key,
			slack_channel_id, slack_channel_name, detected_at, declared_at, acknowledged_at, mitigated_at, resolved_at,
			updated_at, version)
		VALUES ((SELECT coalesce(max(id), 0) + 1 FROM incidents), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)
		RETURNING id`,
		inc.Title, string(inc.Severity), string(inc.Status), inc.Service, inc.Description, inc.Summary,
		string(inc.DeclaredBy), key, inc.ChannelID, inc.ChannelName,
		ms(inc.DetectedAt), ms(inc.DeclaredAt), ms(inc.AcknowledgedAt), ms(inc.MitigatedAt), ms(inc.ResolvedAt),
		ms(inc.UpdatedAt)).Scan(&id)
	if err != nil {
		return 0, false, fmt.Errorf("creating incident: %w", err)
	}
	inc.ID = incidents.ID(id)
	inc.Version = 1
	if err := t.saveRoles(ctx, inc); err != nil {
		return 0, false, err
	}
	return inc.ID, false, nil
}

func (t *txn) Incident(ctx context.Context, id incidents.ID) (*incidents.Incident, error) {
	return getIncident(ctx, t.db(), id)
}

func (t *txn) UpdateIncident(ctx context.Context, inc *incidents.Incident) error {
	res, err := t.db().ExecContext(ctx, `
		UPDATE incidents SET title = ?, severity = ?, status = ?, service = ?, description = ?, summary = ?,
			slack_channel_id = ?, slack_channel_name = ?, detected_at = ?, acknowledged_at = ?, mitigated_at = ?,
			resolved_at = ?, updated_at = ?, version = version + 1
		WHERE id = ? AND version = ?`,
		inc.Title, string(inc.Severity), string(inc.Status), inc.Service, inc.Description, inc.Summary,
		inc.ChannelID, inc.ChannelName, ms(inc.DetectedAt), ms(inc.AcknowledgedAt), ms(inc.MitigatedAt),
		ms(inc.ResolvedAt), ms(inc.UpdatedAt), int64(inc.ID), inc.Version)
	if err != nil {
		return fmt.Errorf("updating %s: %w", inc.ID, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("updating %s: %w", inc.ID, err)
	} else if n == 0 {
		return fmt.Errorf("updating %s at version %d: %w", inc.ID, inc.Version, incidents.ErrConflict)
	}
	inc.Version++
	return t.saveRoles(ctx, inc)
}

func (t *txn) saveRoles(ctx context.Context, inc *incidents.Incident) error {
	// Upsert only what changed, so assigned_at stays the time the person was
	// given the role.
	held := make([]any, 0, len(inc.Roles)+1)
	held = append(held, int64(inc.ID))
	for role, person := range inc.Roles {
		if person == "" {
			continue
		}
		held = append(held, string(role))
		if _, err := t.db().ExecContext(ctx, `
			INSERT INTO incident_roles (incident_id, role, person, assigned_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (incident_id, role) DO UPDATE SET person = excluded.person, assigned_at = excluded.assigned_at
			WHERE incident_roles.person <> excluded.person`,
			int64(inc.ID), string(role), person, ms(inc.UpdatedAt)); err != nil {
			return fmt.Errorf("saving role %s of %s: %w", role, inc.ID, err)
		}
	}
	q := `DELETE FROM incident_roles WHERE incident_id = ?`
	if len(held) > 1 {
		q += ` AND role NOT IN (` + placeholders(len(held)-1) + `)`
	}
	// One text per number of roles held: few enough to cache.
	if _, err := t.db().ExecContext(ctx, q, held...); err != nil {
		return fmt.Errorf("saving roles of %s: %w", inc.ID, err)
	}
	return nil
}

func (t *txn) AppendEvent(ctx context.Context, ev *incidents.Event) error {
	data, err := ev.DataJSON()
	if err != nil {
		return fmt.Errorf("encoding %s event data: %w", ev.Kind, err)
	}
	res, err := t.db().ExecContext(ctx,
		`INSERT INTO timeline_events (incident_id, at, kind, actor, text, data) VALUES (?, ?, ?, ?, ?, ?)`,
		int64(ev.IncidentID), ms(ev.At), string(ev.Kind), string(ev.Actor), ev.Text, string(data))
	if err != nil {
		return fmt.Errorf("appending %s event to %s: %w", ev.Kind, ev.IncidentID, err)
	}
	ev.ID, err = res.LastInsertId()
	return err
}

// Incident reads one incident from the read pool.
func (s *Store) Incident(ctx context.Context, id incidents.ID) (*incidents.Incident, error) {
	return getIncident(ctx, s.read(), id)
}

const incidentColumns = `id, title, severity, status, service, description, summary, declared_by,
	slack_channel_id, slack_channel_name, detected_at, declared_at, acknowledged_at, mitigated_at, resolved_at,
	updated_at, version`

func scanIncident(sc interface{ Scan(...any) error }) (*incidents.Incident, error) {
	var (
		inc                                                 incidents.Incident
		id                                                  int64
		sev, st, by                                         string
		detected, declared, acked, mitigated, resolved, upd int64
	)
	err := sc.Scan(&id, &inc.Title, &sev, &st, &inc.Service, &inc.Description, &inc.Summary, &by,
		&inc.ChannelID, &inc.ChannelName, &detected, &declared, &acked, &mitigated, &resolved, &upd, &inc.Version)
	if err != nil {
		return nil, err
	}
	inc.ID = incidents.ID(id)
	inc.Severity, inc.Status, inc.DeclaredBy = incidents.Severity(sev), incidents.Status(st), incidents.Actor(by)
	inc.DetectedAt, inc.DeclaredAt, inc.AcknowledgedAt = fromMS(detected), fromMS(declared), fromMS(acked)
	inc.MitigatedAt, inc.ResolvedAt, inc.UpdatedAt = fromMS(mitigated), fromMS(resolved), fromMS(upd)
	inc.Roles = map[incidents.Role]string{}
	return &inc, nil
}

func getIncident(ctx context.Context, q execer, id incidents.ID) (*incidents.Incident, error) {
	inc, err := scanIncident(q.QueryRowContext(ctx, `SELECT `+incidentColumns+` FROM incidents WHERE id = ?`, int64(id)))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, &incidents.NotFoundError{ID: id}
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", id, err)
	}
	if err := loadRoles(ctx, q, []*incidents.Incident{inc}); err != nil {
		return nil, err
	}
	return inc, nil
}

func loadRoles(ctx context.Context, q execer, incs []*incidents.Incident) error {
	if len(incs) == 0 {
		return nil
	}
	byID := make(map[incidents.ID]*incidents.Incident, len(incs))
	args := make([]any, 0, len(incs))
	for _, inc := range incs {
		byID[inc.ID] = inc
		args = append(args, int64(inc.ID))
	}
	rows, err := q.QueryContext(ctx, `SELECT incident_id, role, person FROM incident_roles WHERE incident_id IN (`+
		placeholders(len(args))+`)`, args...)
	if err != nil {
		return fmt.Errorf("reading roles: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var role, person string
		if err := rows.Scan(&id, &role, &person); err != nil {
			return fmt.Errorf("reading roles: %w", err)
		}
		if inc := byID[incidents.ID(id)]; inc != nil {
			inc.Roles[incidents.Role(role)] = person
		}
	}
	return rows.Err()
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}

// Incidents lists incidents, newest first.
func (s *Store) Incidents(ctx context.Context, f incidents.ListFilter) ([]*incidents.Incident, error) {
	var where []string
	var args []any
	switch f.Status {
	case incidents.FilterOpen:
		where = append(where, "status <> ?")
		args = append(args, string(incidents.StatusResolved))
	case incidents.FilterResolved:
		where = append(where, "status = ?")
		args = append(args, string(incidents.StatusResolved))
	case "", incidents.FilterAll:
	default:
		return nil, fmt.Errorf("unknown status filter %q", f.Status)
	}
	if f.Service != "" {
		where = append(where, "service = ?")
		args = append(args, f.Service)
	}
	if !f.DeclaredSince.IsZero() {
		where = append(where, "declared_at >= ?")
		args = append(args, ms(f.DeclaredSince))
	}
	if !f.DeclaredBefore.IsZero() {
		where = append(where, "declared_at < ?")
		args = append(args, ms(f.DeclaredBefore))
	}
	q := `SELECT ` + incidentColumns + ` FROM incidents`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY id DESC"
	if f.Limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", f.Limit)
	}
	// The text varies with the filter and the limit: not worth a cached
	// statement each.
	rows, err := s.reader.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("listing incidents: %w", err)
	}
	var out []*incidents.Incident
	for rows.Next() {
		inc, err := scanIncident(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("listing incidents: %w", err)
		}
		out = append(out, inc)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing incidents: %w", err)
	}
	// Roles in batches, to stay under SQLite's bound-parameter limit.
	for i := 0; i < len(out); i += 500 {
		if err := loadRoles(ctx, s.reader, out[i:min(i+500, len(out))]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Timeline lists an incident's events in the order they happened.
func (s *Store) Timeline(ctx context.Context, id incidents.ID) ([]incidents.Event, error) {
	rows, err := s.read().QueryContext(ctx,
		`SELECT id, at, kind, actor, text, data FROM timeline_events WHERE incident_id = ? ORDER BY at, id`, int64(id))
	if err != nil {
		return nil, fmt.Errorf("reading timeline of %s: %w", id, err)
	}
	defer rows.Close()
	var out []incidents.Event
	for rows.Next() {
		var (
			ev          incidents.Event
			at          int64
			kind, actor string
			data        string
		)
		if err := rows.Scan(&ev.ID, &at, &kind, &actor, &ev.Text, &data); err != nil {
			return nil, fmt.Errorf("reading timeline of %s: %w", id, err)
		}
		ev.IncidentID, ev.At, ev.Kind, ev.Actor = id, fromMS(at), incidents.EventKind(kind), incidents.Actor(actor)
		if data != "" && data != "{}" {
			if err := json.Unmarshal([]byte(data), &ev.Data); err != nil {
				return nil, fmt.Errorf("decoding event %d of %s: %w", ev.ID, id, err)
			}
		}
		out = append(out, ev)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading timeline of %s: %w", id, err)
	}
	return out, nil
}

// CountByStatus counts incidents in each status.
func (s *Store) CountByStatus(ctx context.Context) (map[incidents.Status]int, error) {
	rows, err := s.read().QueryContext(ctx, `SELECT status, count(*) FROM incidents GROUP BY status`)
	if err != nil {
		return nil, fmt.Errorf("counting incidents: %w", err)
	}
	defer rows.Close()
	out := map[incidents.Status]int{}
	for rows.Next() {
		var st string
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			return nil, fmt.Errorf("counting incidents: %w", err)
		}
		out[incidents.Status(st)] = n
	}
	return out, rows.Err()
}
