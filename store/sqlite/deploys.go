package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/warroomhq/warroom/deploys"
	"github.com/warroomhq/warroom/incidents"
)

var (
	_ deploys.Store = (*Store)(nil)
	_ deploys.Tx    = (*txn)(nil)
)

// WithDeployTx runs fn in one IMMEDIATE write transaction, like WithTx,
// with the deploy methods as well as the incident ones.
func (s *Store) WithDeployTx(ctx context.Context, fn func(deploys.Tx) error) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		return fn(&txn{s: s, tx: tx})
	})
}

const deployColumns = `id, service, environment, source, external_id, ref, sha, status, creator, description, url,
	started_at, finished_at, rollback, attempt`

func scanDeploy(sc interface{ Scan(...any) error }) (deploys.Deploy, error) {
	var (
		d                 deploys.Deploy
		source, status    string
		started, finished int64
	)
	err := sc.Scan(&d.ID, &d.Service, &d.Environment, &source, &d.ExternalID, &d.Ref, &d.SHA, &status, &d.Creator,
		&d.Description, &d.URL, &started, &finished, &d.Rollback, &d.Attempt)
	d.Source, d.Status = deploys.Source(source), deploys.Status(status)
	d.StartedAt, d.FinishedAt = fromMS(started), fromMS(finished)
	return d, err
}

// FindDeploy reads the deploy with source and externalID, or nil.
func (t *txn) FindDeploy(ctx context.Context, source deploys.Source, externalID string) (*deploys.Deploy, error) {
	d, err := scanDeploy(t.db().QueryRowContext(ctx, `SELECT `+deployColumns+` FROM deploys
		WHERE source = ? AND external_id = ?`, string(source), externalID))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("reading deploy %s/%s: %w", source, externalID, err)
	}
	return &d, nil
}

// SaveDeploy stores d by its source and external ID and sets d.ID; it
// returns the deploy as it was before, or nil for a new one.
func (t *txn) SaveDeploy(ctx context.Context, d *deploys.Deploy) (*deploys.Deploy, error) {
	var before *deploys.Deploy
	prev, err := scanDeploy(t.db().QueryRowContext(ctx, `SELECT `+deployColumns+` FROM deploys
		WHERE source = ? AND external_id = ?`, string(d.Source), d.ExternalID))
	switch {
	case err == nil:
		before = &prev
	case !errors.Is(err, sql.ErrNoRows):
		return nil, fmt.Errorf("reading deploy %s/%s: %w", d.Source, d.ExternalID, err)
	}
	err = t.db().QueryRowContext(ctx, `
		INSERT INTO deploys (service, environment, source, external_id, ref, sha, status, creator, description, url,
			started_at, finished_at, rollback, attempt, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (source, external_id) DO UPDATE SET service = excluded.service,
			environment = excluded.environment, ref = excluded.ref, sha = excluded.sha, status = excluded.status,
			creator = excluded.creator, description = excluded.description, url = excluded.url,
			started_at = excluded.started_at, finished_at = excluded.finished_at, rollback = excluded.rollback,
			attempt = excluded.attempt, updated_at = excluded.updated_at
		RETURNING id`,
		d.Service, d.Environment, string(d.Source), d.ExternalID, d.Ref, d.SHA, string(d.Status), d.Creator,
		d.Description, d.URL, ms(d.StartedAt), ms(d.FinishedAt), d.Rollback, d.Attempt, ms(t.s.now())).Scan(&d.ID)
	if err != nil {
		return nil, fmt.Errorf("saving deploy %s/%s: %w", d.Source, d.ExternalID, err)
	}
	return before, nil
}

// OpenIncidents lists the service's open incidents, newest first.
func (t *txn) OpenIncidents(ctx context.Context, service string) ([]*incidents.Incident, error) {
	return listIncidents(ctx, t.db(), service)
}

func listIncidents(ctx context.Context, q execer, service string) ([]*incidents.Incident, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+incidentColumns+` FROM incidents
		WHERE service = ? AND status <> ? ORDER BY id DESC`, service, string(incidents.StatusResolved))
	if err != nil {
		return nil, fmt.Errorf("listing open incidents of %s: %w", service, err)
	}
	defer rows.Close()
	var out []*incidents.Incident
	for rows.Next() {
		inc, err := scanIncident(rows)
		if err != nil {
			return nil, fmt.Errorf("listing open incidents of %s: %w", service, err)
		}
		out = append(out, inc)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, loadRoles(ctx, q, out)
}

// Deploys lists a service's stored deploys, newest first.
func (s *Store) Deploys(ctx context.Context, service string, limit int) ([]deploys.Deploy, error) {
	out, err := s.queryDeploys(ctx, `SELECT `+deployColumns+` FROM deploys WHERE service = ?
		ORDER BY started_at DESC, id DESC LIMIT ?`, service, limit)
	if err != nil {
		return nil, fmt.Errorf("listing deploys of %s: %w", service, err)
	}
	return out, nil
}

// queryDeploys reads the deploys that query (selecting deployColumns)
// lists.
func (s *Store) queryDeploys(ctx context.Context, query string, args ...any) ([]deploys.Deploy, error) {
	rows, err := s.read().QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []deploys.Deploy
	for rows.Next() {
		d, err := scanDeploy(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// deploysBeforeSQL lists a service's deploys that finished before a time,
// through deploys_service_started: a deploy finishes after it starts, so
// walking the starts back from that time and stopping at the limit reads
// only the last few rows.
const deploysBeforeSQL = `SELECT ` + deployColumns + ` FROM deploys
	WHERE service = ? AND started_at < ? AND finished_at > 0 AND finished_at < ?
	ORDER BY started_at DESC, id DESC LIMIT ?`

// DeploysBefore lists up to limit of a service's stored deploys that
// finished before t, the last started first, for postmortem drafts
// (postmortem.Source).
func (s *Store) DeploysBefore(ctx context.Context, service string, t time.Time, limit int) ([]deploys.Deploy, error) {
	out, err := s.queryDeploys(ctx, deploysBeforeSQL, service, ms(t), ms(t), limit)
	if err != nil {
		return nil, fmt.Errorf("listing deploys of %s before %s: %w", service, t.UTC().Format(time.RFC3339), err)
	}
	return out, nil
}

const rollbackColumns = `id, key, propose_key, incident_id, service, mechanism, from_deploy, to_deploy, state, handle, message, url,
	proposed_by, proposed_lead, confirmed_by, proposed_at, confirmed_at, started_at, finished_at, updated_at, version`

// rollbackJSON is how a rollback's deploys and handle are stored.
type rollbackJSON struct {
	from, to, handle string
}

func encodeRollback(r *deploys.Rollback) (rollbackJSON, error) {
	from, err := json.Marshal(r.From)
	if err != nil {
		return rollbackJSON{}, err
	}
	to, err := json.Marshal(r.To)
	if err != nil {
		return rollbackJSON{}, err
	}
	h, err := json.Marshal(r.Handle)
	if err != nil {
		return rollbackJSON{}, err
	}
	return rollbackJSON{string(from), string(to), string(h)}, nil
}

func scanRollback(sc interface{ Scan(...any) error }) (*deploys.Rollback, error) {
	var (
		r                                                        deploys.Rollback
		j                                                        rollbackJSON
		inc                                                      int64
		mech, state, by, lead, confirmedBy                       string
		proposed, confirmed, started, finished, updated, version int64
	)
	err := sc.Scan(&r.ID, &r.Key, &r.ProposeKey, &inc, &r.Service, &mech, &j.from, &j.to, &state, &j.handle, &r.Message, &r.URL,
		&by, &lead, &confirmedBy, &proposed, &confirmed, &started, &finished, &updated, &version)
	if err != nil {
		return nil, err
	}
	r.Incident, r.Mechanism, r.State = incidents.ID(inc), deploys.Mechanism(mech), deploys.RollbackState(state)
	r.ProposedBy, r.ProposedLead, r.ConfirmedBy = incidents.Actor(by), lead, incidents.Actor(confirmedBy)
	r.ProposedAt, r.ConfirmedAt, r.StartedAt = fromMS(proposed), fromMS(confirmed), fromMS(started)
	r.FinishedAt, r.UpdatedAt, r.Version = fromMS(finished), fromMS(updated), version
	for _, f := range []struct {
		s string
		v any
	}{{j.from, &r.From}, {j.to, &r.To}, {j.handle, &r.Handle}} {
		if err := json.Unmarshal([]byte(f.s), f.v); err != nil {
			return nil, fmt.Errorf("decoding rollback %d: %w", r.ID, err)
		}
	}
	return &r, nil
}

func getRollback(ctx context.Context, q execer, where string, arg any) (*deploys.Rollback, error) {
	r, err := scanRollback(q.QueryRowContext(ctx, `SELECT `+rollbackColumns+` FROM rollbacks WHERE `+where+` = ?`, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("rollback %v: %w", arg, incidents.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("reading rollback %v: %w", arg, err)
	}
	return r, nil
}

// InsertRollback stores a new rollback, unless key names one already.
func (t *txn) InsertRollback(ctx context.Context, r *deploys.Rollback, key string) (*deploys.Rollback, bool, error) {
	if key != "" {
		prev, err := getRollback(ctx, t.db(), "propose_key", key)
		if err == nil {
			return prev, true, nil
		}
		if !errors.Is(err, incidents.ErrNotFound) {
			return nil, false, err
		}
	}
	j, err := encodeRollback(r)
	if err != nil {
		return nil, false, fmt.Errorf("encoding rollback: %w", err)
	}
	err = t.db().QueryRowContext(ctx, `
		INSERT INTO rollbacks (key, propose_key, incident_id, service, mechanism, from_deploy, to_deploy, state, handle,
			message, url, proposed_by, proposed_lead, confirmed_by, proposed_at, confirmed_at, started_at, finished_at,
			updated_at, version)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)
		RETURNING id`,
		r.Key, key, int64(r.Incident), r.Service, string(r.Mechanism), j.from, j.to, string(r.State), j.handle,
		r.Message, r.URL, string(r.ProposedBy), r.ProposedLead, string(r.ConfirmedBy), ms(r.ProposedAt), ms(r.ConfirmedAt),
		ms(r.StartedAt), ms(r.FinishedAt), ms(r.UpdatedAt)).Scan(&r.ID)
	if err != nil {
		return nil, false, fmt.Errorf("storing rollback: %w", err)
	}
	r.ProposeKey, r.Version = key, 1
	return r, false, nil
}

// Rollback reads one rollback in the transaction.
func (t *txn) Rollback(ctx context.Context, id int64) (*deploys.Rollback, error) {
	return getRollback(ctx, t.db(), "id", id)
}

// RollbackByKey reads the rollback with key in the transaction.
func (t *txn) RollbackByKey(ctx context.Context, key string) (*deploys.Rollback, error) {
	if key == "" {
		return nil, fmt.Errorf("rollback with an empty key: %w", incidents.ErrNotFound)
	}
	return getRollback(ctx, t.db(), "key", key)
}

// UpdateRollback stores r if its stored version is r.Version.
func (t *txn) UpdateRollback(ctx context.Context, r *deploys.Rollback) error {
	j, err := encodeRollback(r)
	if err != nil {
		return fmt.Errorf("encoding rollback %d: %w", r.ID, err)
	}
	res, err := t.db().ExecContext(ctx, `
		UPDATE rollbacks SET key = ?, from_deploy = ?, to_deploy = ?, state = ?, handle = ?, message = ?, url = ?,
			confirmed_by = ?, confirmed_at = ?, started_at = ?, finished_at = ?, updated_at = ?, version = version + 1
		WHERE id = ? AND version = ?`,
		r.Key, j.from, j.to, string(r.State), j.handle, r.Message, r.URL, string(r.ConfirmedBy), ms(r.ConfirmedAt),
		ms(r.StartedAt), ms(r.FinishedAt), ms(r.UpdatedAt), r.ID, r.Version)
	if err != nil {
		return fmt.Errorf("updating rollback %d: %w", r.ID, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("updating rollback %d: %w", r.ID, err)
	} else if n == 0 {
		return fmt.Errorf("updating rollback %d at version %d: %w", r.ID, r.Version, incidents.ErrConflict)
	}
	r.Version++
	return nil
}

// Rollback reads one rollback.
func (s *Store) Rollback(ctx context.Context, id int64) (*deploys.Rollback, error) {
	return getRollback(ctx, s.read(), "id", id)
}

// Rollbacks lists an incident's rollbacks, oldest first.
func (s *Store) Rollbacks(ctx context.Context, inc incidents.ID) ([]*deploys.Rollback, error) {
	return listRollbacks(ctx, s.read(), "of "+inc.String(), `WHERE incident_id = ? ORDER BY id`, int64(inc))
}

// ServiceRollbacks lists a service's rollbacks, newest first, at most
// limit.
func (s *Store) ServiceRollbacks(ctx context.Context, service string, limit int) ([]*deploys.Rollback, error) {
	return listRollbacks(ctx, s.read(), "of "+service, `WHERE service = ? ORDER BY id DESC LIMIT ?`, service, limit)
}

// ActiveRollbacks lists the service's rollbacks that are proposed,
// confirmed or running, oldest first.
func (t *txn) ActiveRollbacks(ctx context.Context, service string) ([]*deploys.Rollback, error) {
	return listRollbacks(ctx, t.db(), "of "+service, `WHERE service = ? AND state IN (?, ?, ?) ORDER BY id`, service,
		string(deploys.RollbackProposed), string(deploys.RollbackConfirmed), string(deploys.RollbackRunning))
}

func listRollbacks(ctx context.Context, q execer, what, where string, args ...any) ([]*deploys.Rollback, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+rollbackColumns+` FROM rollbacks `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("listing rollbacks %s: %w", what, err)
	}
	defer rows.Close()
	var out []*deploys.Rollback
	for rows.Next() {
		r, err := scanRollback(rows)
		if err != nil {
			return nil, fmt.Errorf("listing rollbacks %s: %w", what, err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// SetManualFreeze stores f, replacing the service's manual freeze.
func (t *txn) SetManualFreeze(ctx context.Context, f deploys.ManualFreeze) error {
	_, err := t.db().ExecContext(ctx, `
		INSERT INTO deploy_freezes (service, frozen_by, reason, frozen_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (service) DO UPDATE SET frozen_by = excluded.frozen_by, reason = excluded.reason,
			frozen_at = excluded.frozen_at`,
		f.Service, string(f.By), f.Reason, ms(f.At))
	if err != nil {
		return fmt.Errorf("freezing %s: %w", f.Service, err)
	}
	return nil
}

// DeleteManualFreeze removes the service's manual freeze.
func (t *txn) DeleteManualFreeze(ctx context.Context, service string) (bool, error) {
	res, err := t.db().ExecContext(ctx, `DELETE FROM deploy_freezes WHERE service = ?`, service)
	if err != nil {
		return false, fmt.Errorf("unfreezing %s: %w", service, err)
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// ManualFreeze returns the service's manual freeze, or nil.
func (s *Store) ManualFreeze(ctx context.Context, service string) (*deploys.ManualFreeze, error) {
	return manualFreeze(ctx, s.read(), service)
}

// ManualFreeze returns the service's manual freeze in the transaction, or
// nil.
func (t *txn) ManualFreeze(ctx context.Context, service string) (*deploys.ManualFreeze, error) {
	return manualFreeze(ctx, t.db(), service)
}

func manualFreeze(ctx context.Context, q execer, service string) (*deploys.ManualFreeze, error) {
	var (
		f      = deploys.ManualFreeze{Service: service}
		by     string
		frozen int64
	)
	err := q.QueryRowContext(ctx, `SELECT frozen_by, reason, frozen_at FROM deploy_freezes WHERE service = ?`,
		service).Scan(&by, &f.Reason, &frozen)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the freeze of %s: %w", service, err)
	}
	f.By, f.At = incidents.Actor(by), fromMS(frozen)
	return &f, nil
}
