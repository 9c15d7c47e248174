package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/warroomhq/warroom/incidents"
)

var (
	_ incidents.AlertStore = (*Store)(nil)
	_ incidents.AlertTx    = (*txn)(nil)
)

// WithAlertTx runs fn in one IMMEDIATE write transaction, like WithTx, with
// the alert methods as well as the incident ones.
func (s *Store) WithAlertTx(ctx context.Context, fn func(incidents.AlertTx) error) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		return fn(&txn{s: s, tx: tx})
	})
}

// SaveAlertBody stores a body and sets its ID.
func (t *txn) SaveAlertBody(ctx context.Context, b *incidents.AlertBody) error {
	res, err := t.db().ExecContext(ctx,
		`INSERT INTO alert_bodies (source, received_at, alerts, raw) VALUES (?, ?, ?, ?)`,
		b.Source, ms(b.ReceivedAt), b.Alerts, b.Raw)
	if err != nil {
		return fmt.Errorf("saving %s alert body: %w", b.Source, err)
	}
	if b.ID, err = res.LastInsertId(); err != nil {
		return fmt.Errorf("saving %s alert body: %w", b.Source, err)
	}
	return nil
}

// alertColumns are the columns scanAlert reads, of the table alerts as a.
const alertColumns = `a.id, a.source, a.fingerprint, a.group_key, a.status, a.labels, a.annotations, a.title,
	a.description, a.starts_at, a.ends_at, a.generator_url, a.runbook_url, a.links, a.group_id, a.incident_id,
	a.service, a.severity, a.declare, a.first_seen, a.last_seen, a.changed_at, a.received`

// alertRow receives the columns of alertColumns.
type alertRow struct {
	a                                        incidents.StoredAlert
	status, labels, annotations, links, sev  string
	starts, ends, incID, first, last, change int64
}

// dest lists where Scan puts each column of alertColumns.
func (r *alertRow) dest() []any {
	a := &r.a
	return []any{&a.ID, &a.Source, &a.Fingerprint, &a.GroupKey, &r.status, &r.labels, &r.annotations, &a.Title,
		&a.Description, &r.starts, &r.ends, &a.GeneratorURL, &a.RunbookURL, &r.links, &a.GroupID, &r.incID,
		&a.Service, &r.sev, &a.Declare, &r.first, &r.last, &r.change, &a.Received}
}

// scalars converts the scanned row without its labels, annotations and
// links, which stay nil.
func (r *alertRow) scalars() *incidents.StoredAlert {
	a := r.a
	a.Status, a.Severity, a.IncidentID = incidents.AlertStatus(r.status), incidents.Severity(r.sev), incidents.ID(r.incID)
	a.StartsAt, a.EndsAt = fromMS(r.starts), fromMS(r.ends)
	a.FirstSeen, a.LastSeen, a.ChangedAt = fromMS(r.first), fromMS(r.last), fromMS(r.change)
	return &a
}

// alert converts the scanned row.
func (r *alertRow) alert() (*incidents.StoredAlert, error) {
	a := r.scalars()
	var err error
	if a.Labels, err = decodeStringMap(r.labels); err != nil {
		return nil, fmt.Errorf("decoding labels of alert %d: %w", a.ID, err)
	}
	if a.Annotations, err = decodeStringMap(r.annotations); err != nil {
		return nil, fmt.Errorf("decoding annotations of alert %d: %w", a.ID, err)
	}
	a.Links = []incidents.Link{}
	if r.links != "" && r.links != "[]" {
		if err := json.Unmarshal([]byte(r.links), &a.Links); err != nil {
			return nil, fmt.Errorf("decoding links of alert %d: %w", a.ID, err)
		}
	}
	return a, nil
}

func scanAlert(sc interface{ Scan(...any) error }) (*incidents.StoredAlert, error) {
	var r alertRow
	if err := sc.Scan(r.dest()...); err != nil {
		return nil, err
	}
	return r.alert()
}

// decodeStringMap decodes a JSON object of strings; empty is an empty map.
func decodeStringMap(s string) (map[string]string, error) {
	m := map[string]string{}
	if s == "" || s == "{}" {
		return m, nil
	}
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return nil, err
	}
	return m, nil
}

func encodeStringMap(m map[string]string) (string, error) {
	if len(m) == 0 {
		return "{}", nil
	}
	b, err := json.Marshal(m)
	return string(b), err
}

// alertArgs are a's values for the columns of alertSet, in that order.
func alertArgs(a *incidents.StoredAlert) ([]any, error) {
	labels, err := encodeStringMap(a.Labels)
	if err != nil {
		return nil, fmt.Errorf("encoding labels: %w", err)
	}
	annotations, err := encodeStringMap(a.Annotations)
	if err != nil {
		return nil, fmt.Errorf("encoding annotations: %w", err)
	}
	links := "[]"
	if len(a.Links) > 0 {
		b, err := json.Marshal(a.Links)
		if err != nil {
			return nil, fmt.Errorf("encoding links: %w", err)
		}
		links = string(b)
	}
	return []any{a.Source, a.Fingerprint, a.GroupID, int64(a.IncidentID), string(a.Status), a.Name(),
		string(a.Severity), a.Severity.Rank(), a.Declare, a.Service, a.GroupKey, a.Title, a.Description,
		labels, annotations, links, a.GeneratorURL, a.RunbookURL, ms(a.StartsAt), ms(a.EndsAt),
		ms(a.FirstSeen), ms(a.LastSeen), ms(a.ChangedAt), a.Received}, nil
}

// AlertsByFingerprint returns the stored alerts of source among
// fingerprints, keyed by fingerprint.
func (t *txn) AlertsByFingerprint(ctx context.Context, source string, fingerprints []string) (map[string]*incidents.StoredAlert, error) {
	out := make(map[string]*incidents.StoredAlert, len(fingerprints))
	if len(fingerprints) == 0 {
		return out, nil
	}
	list, err := json.Marshal(fingerprints)
	if err != nil {
		return nil, fmt.Errorf("looking up %s alerts: %w", source, err)
	}
	rows, err := t.db().QueryContext(ctx, `SELECT `+alertColumns+` FROM alerts AS a
		WHERE a.source = ? AND a.fingerprint IN (SELECT value FROM json_each(?))`, source, string(list))
	if err != nil {
		return nil, fmt.Errorf("looking up %s alerts: %w", source, err)
	}
	defer rows.Close()
	for rows.Next() {
		a, err := scanAlert(rows)
		if err != nil {
			return nil, fmt.Errorf("looking up %s alerts: %w", source, err)
		}
		out[a.Fingerprint] = a
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("looking up %s alerts: %w", source, err)
	}
	return out, nil
}

// InsertAlert stores a new alert and sets its ID. Another alert of the same
// source and fingerprint makes it fail.
func (t *txn) InsertAlert(ctx context.Context, a *incidents.StoredAlert) error {
	args, err := alertArgs(a)
	if err != nil {
		return fmt.Errorf("inserting %s alert %s: %w", a.Source, a.Fingerprint, err)
	}
	res, err := t.db().ExecContext(ctx, `
		INSERT INTO alerts (source, fingerprint, group_id, incident_id, status, name, severity, sev_rank, declare,
			service, group_key, title, description, labels, annotations, links, generator_url, runbook_url,
			starts_at, ends_at, first_seen, last_seen, changed_at, received)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, args...)
	if err != nil {
		return fmt.Errorf("inserting %s alert %s: %w", a.Source, a.Fingerprint, err)
	}
	if a.ID, err = res.LastInsertId(); err != nil {
		return fmt.Errorf("inserting %s alert %s: %w", a.Source, a.Fingerprint, err)
	}
	return nil
}

// UpdateAlert stores every field of a by its ID, or returns an error
// wrapping incidents.ErrNotFound.
func (t *txn) UpdateAlert(ctx context.Context, a *incidents.StoredAlert) error {
	args, err := alertArgs(a)
	if err != nil {
		return fmt.Errorf("updating alert %d: %w", a.ID, err)
	}
	res, err := t.db().ExecContext(ctx, `
		UPDATE alerts SET source = ?, fingerprint = ?, group_id = ?, incident_id = ?, status = ?, name = ?,
			severity = ?, sev_rank = ?, declare = ?, service = ?, group_key = ?, title = ?, description = ?,
			labels = ?, annotations = ?, links = ?, generator_url = ?, runbook_url = ?, starts_at = ?, ends_at = ?,
			first_seen = ?, last_seen = ?, changed_at = ?, received = ?
		WHERE id = ?`, append(args, a.ID)...)
	return oneRow(res, err, fmt.Sprintf("updating alert %d", a.ID))
}

// oneRow checks that an UPDATE by ID found its row.
func oneRow(res sql.Result, err error, doing string) error {
	if err != nil {
		return fmt.Errorf("%s: %w", doing, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("%s: %w", doing, err)
	}
	if n == 0 {
		return fmt.Errorf("%s: %w", doing, incidents.ErrNotFound)
	}
	return nil
}

// idList encodes ids as a JSON array for json_each.
func idList(ids []int64) string {
	b := make([]byte, 0, 2+len(ids)*8)
	b = append(b, '[')
	for i, id := range ids {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, id, 10)
	}
	return string(append(b, ']'))
}

// TouchAlerts sets LastSeen to at and adds one to Received of the alerts
// with ids.
func (t *txn) TouchAlerts(ctx context.Context, ids []int64, at time.Time) error {
	if len(ids) == 0 {
		return nil
	}
	_, err := t.db().ExecContext(ctx, `UPDATE alerts SET last_seen = ?, received = received + 1
		WHERE id IN (SELECT value FROM json_each(?))`, ms(at), idList(ids))
	if err != nil {
		return fmt.Errorf("touching %d alerts: %w", len(ids), err)
	}
	return nil
}

// AppendAlertChange stores a change and sets its ID. Its alert must exist.
func (t *txn) AppendAlertChange(ctx context.Context, c *incidents.AlertChange) error {
	res, err := t.db().ExecContext(ctx, `
		INSERT INTO alert_changes (alert_id, group_id, body_id, at, status, first) VALUES (?, ?, ?, ?, ?, ?)`,
		c.AlertID, c.GroupID, c.BodyID, ms(c.At), string(c.Status), c.First)
	if err != nil {
		return fmt.Errorf("appending a change of alert %d: %w", c.AlertID, err)
	}
	if c.ID, err = res.LastInsertId(); err != nil {
		return fmt.Errorf("appending a change of alert %d: %w", c.AlertID, err)
	}
	return nil
}

const groupColumns = `id, key, title, service, incident_id, episode, active, episode_start, pending, gen,
	first_seen, updated_at`

func scanGroup(sc interface{ Scan(...any) error }) (*incidents.AlertGroup, error) {
	var (
		g                        incidents.AlertGroup
		incID, start, first, upd int64
	)
	if err := sc.Scan(&g.ID, &g.Key, &g.Title, &g.Service, &incID, &g.Episode, &g.Active, &start, &g.Pending,
		&g.Gen, &first, &upd); err != nil {
		return nil, err
	}
	g.IncidentID, g.EpisodeStart, g.FirstSeen, g.UpdatedAt = incidents.ID(incID), fromMS(start), fromMS(first), fromMS(upd)
	return &g, nil
}

// AlertGroupByKey returns the group with key, or nil and no error.
func (t *txn) AlertGroupByKey(ctx context.Context, key string) (*incidents.AlertGroup, error) {
	g, err := scanGroup(t.db().QueryRowContext(ctx, `SELECT `+groupColumns+` FROM alert_groups WHERE key = ?`, key))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading alert group %q: %w", key, err)
	}
	return g, nil
}

// AlertGroup reads one group in the transaction, or returns an error
// wrapping incidents.ErrNotFound.
func (t *txn) AlertGroup(ctx context.Context, id int64) (*incidents.AlertGroup, error) {
	return getAlertGroup(ctx, t.db(), id)
}

// AlertGroup reads one group from the read pool, or returns an error
// wrapping incidents.ErrNotFound.
func (s *Store) AlertGroup(ctx context.Context, id int64) (*incidents.AlertGroup, error) {
	return getAlertGroup(ctx, s.read(), id)
}

func getAlertGroup(ctx context.Context, q execer, id int64) (*incidents.AlertGroup, error) {
	g, err := scanGroup(q.QueryRowContext(ctx, `SELECT `+groupColumns+` FROM alert_groups WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("no alert group %d: %w", id, incidents.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("reading alert group %d: %w", id, err)
	}
	return g, nil
}

// InsertAlertGroup stores a new group and sets its ID. Another group with
// the same key makes it fail.
func (t *txn) InsertAlertGroup(ctx context.Context, g *incidents.AlertGroup) error {
	res, err := t.db().ExecContext(ctx, `
		INSERT INTO alert_groups (key, title, service, incident_id, episode, active, episode_start, pending, gen,
			first_seen, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		g.Key, g.Title, g.Service, int64(g.IncidentID), g.Episode, g.Active, ms(g.EpisodeStart), g.Pending, g.Gen,
		ms(g.FirstSeen), ms(g.UpdatedAt))
	if err != nil {
		return fmt.Errorf("inserting alert group %q: %w", g.Key, err)
	}
	if g.ID, err = res.LastInsertId(); err != nil {
		return fmt.Errorf("inserting alert group %q: %w", g.Key, err)
	}
	return nil
}

// UpdateAlertGroup stores every field of g by its ID, or returns an error
// wrapping incidents.ErrNotFound.
func (t *txn) UpdateAlertGroup(ctx context.Context, g *incidents.AlertGroup) error {
	res, err := t.db().ExecContext(ctx, `
		UPDATE alert_groups SET key = ?, title = ?, service = ?, incident_id = ?, episode = ?, active = ?,
			episode_start = ?, pending = ?, gen = ?, first_seen = ?, updated_at = ?
		WHERE id = ?`,
		g.Key, g.Title, g.Service, int64(g.IncidentID), g.Episode, g.Active, ms(g.EpisodeStart), g.Pending, g.Gen,
		ms(g.FirstSeen), ms(g.UpdatedAt), g.ID)
	return oneRow(res, err, fmt.Sprintf("updating alert group %d", g.ID))
}

// PendingAlertChanges returns up to limit changes of the group that are not
// done, oldest first, each with its alert as it is now. A limit of 0 or
// less returns none.
//
// One query joins each change to its alert; "c.done = 0" repeats the
// condition of the partial index alert_changes_pending, which lets SQLite
// read the pending changes in order without touching the done ones.
func (t *txn) PendingAlertChanges(ctx context.Context, groupID int64, limit, detailed int) ([]incidents.AlertChange, error) {
	if limit <= 0 {
		return nil, nil
	}
	detailed = min(max(detailed, 0), limit)
	var out []incidents.AlertChange
	fail := func(err error) ([]incidents.AlertChange, error) {
		return nil, fmt.Errorf("reading pending changes of alert group %d: %w", groupID, err)
	}
	if detailed > 0 {
		rows, err := t.db().QueryContext(ctx, `
			SELECT c.id, c.alert_id, c.group_id, c.body_id, c.at, c.status, c.first, a.name, `+alertColumns+`
			FROM alert_changes AS c JOIN alerts AS a ON a.id = c.alert_id
			WHERE c.group_id = ? AND c.done = 0
			ORDER BY c.id
			LIMIT ?`, groupID, detailed)
		if err != nil {
			return fail(err)
		}
		defer rows.Close()
		for rows.Next() {
			var (
				c  incidents.AlertChange
				cs changeRow
				r  alertRow
			)
			if err := rows.Scan(append(cs.dest(&c), r.dest()...)...); err != nil {
				return fail(err)
			}
			cs.fill(&c)
			if c.Alert, err = r.alert(); err != nil {
				return fail(err)
			}
			out = append(out, c)
		}
		if err := rows.Err(); err != nil {
			return fail(err)
		}
		if len(out) < detailed || len(out) == limit {
			return out, nil
		}
	}
	// The rest only to be summed up: no JSON columns to read or decode.
	after := int64(0)
	if len(out) > 0 {
		after = out[len(out)-1].ID
	}
	rows, err := t.db().QueryContext(ctx, `
		SELECT c.id, c.alert_id, c.group_id, c.body_id, c.at, c.status, c.first, a.name,
			a.source, a.fingerprint, a.status, a.title, a.severity, a.service, a.group_id, a.incident_id, a.declare
		FROM alert_changes AS c JOIN alerts AS a ON a.id = c.alert_id
		WHERE c.group_id = ? AND c.done = 0 AND c.id > ?
		ORDER BY c.id
		LIMIT ?`, groupID, after, limit-len(out))
	if err != nil {
		return fail(err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			c          incidents.AlertChange
			cs         changeRow
			a          incidents.StoredAlert
			st, sev    string
			incidentID int64
		)
		dest := append(cs.dest(&c), &a.Source, &a.Fingerprint, &st, &a.Title, &sev, &a.Service, &a.GroupID, &incidentID, &a.Declare)
		if err := rows.Scan(dest...); err != nil {
			return fail(err)
		}
		cs.fill(&c)
		a.ID, a.Status, a.Severity, a.IncidentID = c.AlertID, incidents.AlertStatus(st), incidents.Severity(sev), incidents.ID(incidentID)
		c.Alert = &a
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return fail(err)
	}
	return out, nil
}

// changeRow receives the alert_changes columns (and the alert's name) of
// PendingAlertChanges.
type changeRow struct {
	at     int64
	status string
}

func (cs *changeRow) dest(c *incidents.AlertChange) []any {
	return []any{&c.ID, &c.AlertID, &c.GroupID, &c.BodyID, &cs.at, &cs.status, &c.First, &c.Name}
}

func (cs *changeRow) fill(c *incidents.AlertChange) {
	c.At, c.Status = fromMS(cs.at), incidents.AlertStatus(cs.status)
}

// MarkAlertChangesDone marks the group's changes up to and including upTo
// as done.
func (t *txn) MarkAlertChangesDone(ctx context.Context, groupID, upTo int64) error {
	_, err := t.db().ExecContext(ctx,
		`UPDATE alert_changes SET done = 1 WHERE group_id = ? AND done = 0 AND id <= ?`, groupID, upTo)
	if err != nil {
		return fmt.Errorf("marking changes of alert group %d done: %w", groupID, err)
	}
	return nil
}

// GroupFiring summarizes the group's firing alerts. An alert without a
// start time counts from when it was first seen.
func (t *txn) GroupFiring(ctx context.Context, groupID int64) (incidents.FiringSummary, error) {
	var (
		f                     incidents.FiringSummary
		worst, declare, since int64
	)
	err := t.db().QueryRowContext(ctx, `
		SELECT count(*), coalesce(min(CASE WHEN sev_rank > 0 THEN sev_rank END), 0), coalesce(max(declare), 0),
			coalesce(min(CASE WHEN starts_at <> 0 THEN starts_at ELSE changed_at END), 0)
		FROM alerts WHERE group_id = ? AND status = 'firing'`, groupID).Scan(&f.Count, &worst, &declare, &since)
	if err != nil {
		return f, fmt.Errorf("summarizing firing alerts of group %d: %w", groupID, err)
	}
	if f.Count == 0 {
		return f, nil
	}
	f.Declare, f.Since = declare != 0, fromMS(since)
	var sev string
	err = t.db().QueryRowContext(ctx, `
		SELECT title, description, runbook_url, severity FROM alerts
		WHERE group_id = ? AND status = 'firing'
		ORDER BY CASE WHEN starts_at <> 0 THEN starts_at ELSE changed_at END, id
		LIMIT 1`, groupID).Scan(&f.Title, &f.Description, &f.RunbookURL, &sev)
	if err != nil {
		return f, fmt.Errorf("reading the earliest firing alert of group %d: %w", groupID, err)
	}
	if worst > 0 && int(worst) <= len(incidents.Severities) {
		f.Worst = incidents.Severities[worst-1]
	} else {
		// No firing alert has a known severity: keep what the earliest
		// one says.
		f.Worst = incidents.Severity(sev)
	}
	return f, nil
}

// alertCountsSQL counts, by name, the alerts that the condition where
// selects. The window sums add up every name before LIMIT keeps the first. ORDER BY is
// incidents.SortNames' order, so LIMIT keeps the names it would put first.
// Its arguments are those of where, then the limit.
func alertCountsSQL(where string) string {
	return `
		SELECT name, firing, total, sum(firing) OVER (), sum(resolved) OVER ()
		FROM (
			SELECT name, count(*) AS total,
				sum(CASE WHEN status = 'firing' THEN 1 ELSE 0 END) AS firing,
				sum(CASE WHEN status = 'resolved' THEN 1 ELSE 0 END) AS resolved
			FROM alerts WHERE ` + where + `
			GROUP BY name)
		ORDER BY firing DESC, total DESC, name
		LIMIT ?`
}

var (
	groupCountsSQL    = alertCountsSQL(`group_id = ? AND changed_at >= ?`)
	incidentCountsSQL = alertCountsSQL(`incident_id = ? AND incident_id <> 0`)
)

// alertCounts runs query, one of alertCountsSQL, with args and then the
// limit of names (at least one row, for the totals).
func alertCounts(ctx context.Context, q execer, query string, names int, args ...any) (incidents.AlertCounts, error) {
	var c incidents.AlertCounts
	rows, err := q.QueryContext(ctx, query, append(args, max(names, 1))...)
	if err != nil {
		return c, err
	}
	defer rows.Close()
	for rows.Next() {
		var n incidents.NameCount
		if err := rows.Scan(&n.Name, &n.Firing, &n.Total, &c.Firing, &c.Resolved); err != nil {
			return c, err
		}
		if names > 0 {
			c.Names = append(c.Names, n)
		}
	}
	return c, rows.Err()
}

// GroupAlertCounts counts the group's alerts whose status changed at or
// after since, with at most names entries in Names (bot.Store asks for it).
func (s *Store) GroupAlertCounts(ctx context.Context, groupID int64, since time.Time, names int) (incidents.AlertCounts, error) {
	c, err := alertCounts(ctx, s.read(), groupCountsSQL, names, groupID, ms(since))
	if err != nil {
		return c, fmt.Errorf("counting alerts of group %d: %w", groupID, err)
	}
	return c, nil
}

// IncidentAlertCounts counts the alerts attached to an incident inside the
// transaction.
func (t *txn) IncidentAlertCounts(ctx context.Context, id incidents.ID, names int) (incidents.AlertCounts, error) {
	c, err := alertCounts(ctx, t.db(), incidentCountsSQL, names, int64(id))
	if err != nil {
		return c, fmt.Errorf("counting alerts of %s: %w", id, err)
	}
	return c, nil
}

// IncidentAlertCounts counts the alerts attached to an incident, with at
// most names entries in Names.
func (s *Store) IncidentAlertCounts(ctx context.Context, id incidents.ID, names int) (incidents.AlertCounts, error) {
	c, err := alertCounts(ctx, s.read(), incidentCountsSQL, names, int64(id))
	if err != nil {
		return c, fmt.Errorf("counting alerts of %s: %w", id, err)
	}
	return c, nil
}

// AttachAlerts sets the incident of the alerts with ids and, with
// allFiring, of every firing alert of the group, and returns how many
// alerts it moved (those attached to inc already do not count).
func (t *txn) AttachAlerts(ctx context.Context, groupID int64, ids []int64, allFiring bool, inc incidents.ID) (int, error) {
	n, err := t.attach(ctx, `UPDATE alerts SET incident_id = ?1
		WHERE id IN (SELECT value FROM json_each(?2)) AND incident_id <> ?1`, int64(inc), idList(ids))
	if err != nil || !allFiring {
		return n, err
	}
	m, err := t.attach(ctx, `UPDATE alerts SET incident_id = ?1
		WHERE group_id = ?2 AND status = 'firing' AND incident_id <> ?1`, int64(inc), groupID)
	return n + m, err
}

func (t *txn) attach(ctx context.Context, query string, args ...any) (int, error) {
	res, err := t.db().ExecContext(ctx, query, args...)
	if err != nil {
		return 0, fmt.Errorf("attaching alerts to INC-%d: %w", args[0], err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("attaching alerts to INC-%d: %w", args[0], err)
	}
	return int(n), nil
}

// IncidentAlerts lists the alerts attached to an incident: firing ones
// first, then by last change, newest first; at most limit, and none when
// limit is 0 or less.
func (s *Store) IncidentAlerts(ctx context.Context, id incidents.ID, limit int) ([]incidents.StoredAlert, error) {
	if limit <= 0 {
		return nil, nil
	}
	rows, err := s.read().QueryContext(ctx, `SELECT `+alertColumns+` FROM alerts AS a
		WHERE a.incident_id = ? AND a.incident_id <> 0
		ORDER BY CASE WHEN a.status = 'firing' THEN 0 ELSE 1 END, a.changed_at DESC, a.id DESC
		LIMIT ?`, int64(id), limit)
	if err != nil {
		return nil, fmt.Errorf("listing alerts of %s: %w", id, err)
	}
	defer rows.Close()
	var out []incidents.StoredAlert
	for rows.Next() {
		a, err := scanAlert(rows)
		if err != nil {
			return nil, fmt.Errorf("listing alerts of %s: %w", id, err)
		}
		out = append(out, *a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing alerts of %s: %w", id, err)
	}
	return out, nil
}

// AlertByFingerprint reads one alert, or returns an error wrapping
// incidents.ErrNotFound.
func (s *Store) AlertByFingerprint(ctx context.Context, source, fingerprint string) (*incidents.StoredAlert, error) {
	a, err := scanAlert(s.read().QueryRowContext(ctx, `SELECT `+alertColumns+` FROM alerts AS a
		WHERE a.source = ? AND a.fingerprint = ?`, source, fingerprint))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("no %s alert has fingerprint %q: %w", source, fingerprint, incidents.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s alert %q: %w", source, fingerprint, err)
	}
	return a, nil
}

// AlertHistory lists an alert's changes, oldest first, without their Alert.
func (s *Store) AlertHistory(ctx context.Context, alertID int64, limit int) ([]incidents.AlertChange, error) {
	if limit <= 0 {
		limit = -1 // SQLite: no limit
	}
	rows, err := s.read().QueryContext(ctx, `
		SELECT * FROM (
			SELECT id, alert_id, group_id, body_id, at, status, first FROM alert_changes
			WHERE alert_id = ? ORDER BY id DESC LIMIT ?
		) ORDER BY id`, alertID, limit)
	if err != nil {
		return nil, fmt.Errorf("reading the history of alert %d: %w", alertID, err)
	}
	defer rows.Close()
	var out []incidents.AlertChange
	for rows.Next() {
		var (
			c      incidents.AlertChange
			at     int64
			status string
		)
		if err := rows.Scan(&c.ID, &c.AlertID, &c.GroupID, &c.BodyID, &at, &status, &c.First); err != nil {
			return nil, fmt.Errorf("reading the history of alert %d: %w", alertID, err)
		}
		c.At, c.Status = fromMS(at), incidents.AlertStatus(status)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading the history of alert %d: %w", alertID, err)
	}
	return out, nil
}

// PruneAlertBodies deletes the bodies received before before and returns
// how many it deleted. Alerts and their changes stay; a change's BodyID may
// then name a body that is gone.
func (s *Store) PruneAlertBodies(ctx context.Context, before time.Time) (int, error) {
	var n int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := s.in(tx).ExecContext(ctx, `DELETE FROM alert_bodies WHERE received_at < ?`, ms(before))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("pruning alert bodies: %w", err)
	}
	return int(n), nil
}
