package sqlite

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/warroomhq/warroom/digest"
	"github.com/warroomhq/warroom/incidents"
)

var _ digest.Source = (*Store)(nil)

// digestIncidentsSQL selects the incidents a review of [from, to) talks
// about. Each term of the OR has an index of its own (incidents_declared_at,
// incidents_resolved_at, incidents_status), and SQLite reads the three
// ranges one after the other instead of the whole table, so the incidents
// resolved before the period are never read. An ORDER BY would make it
// scan incidents_declared_at whole instead: the rows are sorted in Go.
var digestIncidentsSQL = `SELECT ` + incidentColumns + ` FROM incidents
	WHERE (declared_at >= ? AND declared_at < ?)
		OR (resolved_at >= ? AND declared_at < ?)
		OR (status IN (` + placeholders(len(openStatuses())) + `) AND declared_at < ?)`

// openStatuses lists the statuses of an open incident.
func openStatuses() []any {
	var out []any
	for _, st := range incidents.Statuses {
		if st.Open() {
			out = append(out, string(st))
		}
	}
	return out
}

// IncidentsBetween returns every incident declared before to that was
// declared at or after from, or resolved at or after from, or is still
// open, oldest declaration first, with their roles.
func (s *Store) IncidentsBetween(ctx context.Context, from, to time.Time) ([]*incidents.Incident, error) {
	f, t := ms(from), ms(to)
	args := append([]any{f, t, f, t}, openStatuses()...)
	rows, err := s.read().QueryContext(ctx, digestIncidentsSQL, append(args, t)...)
	if err != nil {
		return nil, fmt.Errorf("listing incidents for the digest: %w", err)
	}
	var out []*incidents.Incident
	for rows.Next() {
		inc, err := scanIncident(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("listing incidents for the digest: %w", err)
		}
		out = append(out, inc)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing incidents for the digest: %w", err)
	}
	slices.SortFunc(out, func(a, b *incidents.Incident) int {
		return cmp.Or(a.DeclaredAt.Compare(b.DeclaredAt), cmp.Compare(a.ID, b.ID))
	})
	// Roles in batches, to stay under SQLite's bound-parameter limit; on
	// the pool without the statement cache, since each length is a text.
	for i := 0; i < len(out); i += 500 {
		if err := loadRoles(ctx, s.reader, out[i:min(i+500, len(out))]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// digestAlertsSQL counts the firings of each alert in a period, with its
// group. "c.status = 'firing'" repeats the condition of the partial index
// alert_changes_firing_at. Grouping by the primary keys lets the other
// columns of alerts and alert_groups be selected, in PostgreSQL too.
// An alert's incident counts only when it belongs to the period (declared
// before its end, and not resolved before its start): an alert keeps the
// incident it last joined, which may be months old.
const digestAlertsSQL = `SELECT g.id, g.key, g.title, g.service, a.name, coalesce(i.id, 0), count(*)
	FROM alert_changes AS c
	JOIN alerts AS a ON a.id = c.alert_id
	JOIN alert_groups AS g ON g.id = c.group_id
	LEFT JOIN incidents AS i ON i.id = a.incident_id AND i.declared_at < ?2 AND (i.resolved_at = 0 OR i.resolved_at >= ?1)
	WHERE c.status = 'firing' AND c.at >= ?1 AND c.at < ?2
	GROUP BY g.id, a.id, i.id`

// AlertActivity sums up the alerts that fired in [from, to): each change
// to firing (an alert's first arrival firing, or firing again) counts once.
// An alert counts toward the incident it is attached to now, if that
// incident belongs to the period.
func (s *Store) AlertActivity(ctx context.Context, from, to time.Time) (digest.AlertActivity, error) {
	fail := func(err error) (digest.AlertActivity, error) {
		return digest.AlertActivity{}, fmt.Errorf("summing up alert activity for the digest: %w", err)
	}
	rows, err := s.read().QueryContext(ctx, digestAlertsSQL, ms(from), ms(to))
	if err != nil {
		return fail(err)
	}
	defer rows.Close()
	groups := map[int64]*digest.GroupActivity{}
	groupIncs := map[int64]map[incidents.ID]bool{}
	names := map[string]*digest.NameActivity{}
	nameIncs := map[string]map[incidents.ID]bool{}
	for rows.Next() {
		var (
			gid, incID int64
			g          digest.GroupActivity
			name       string
			fired      int
		)
		if err := rows.Scan(&gid, &g.Key, &g.Title, &g.Service, &name, &incID, &fired); err != nil {
			return fail(err)
		}
		ga := groups[gid]
		if ga == nil {
			ga, groupIncs[gid] = &g, map[incidents.ID]bool{}
			groups[gid] = ga
		}
		ga.Fired += fired
		ga.Alerts++
		na := names[name]
		if na == nil {
			na, nameIncs[name] = &digest.NameActivity{Name: name}, map[incidents.ID]bool{}
			names[name] = na
		}
		na.Fired += fired
		if incID != 0 {
			groupIncs[gid][incidents.ID(incID)] = true
			nameIncs[name][incidents.ID(incID)] = true
		}
	}
	if err := rows.Err(); err != nil {
		return fail(err)
	}
	out := digest.AlertActivity{Groups: []digest.GroupActivity{}, Names: []digest.NameActivity{}}
	for gid, ga := range groups {
		ga.Incidents = []incidents.ID{}
		for id := range groupIncs[gid] {
			ga.Incidents = append(ga.Incidents, id)
		}
		slices.Sort(ga.Incidents)
		out.Groups = append(out.Groups, *ga)
	}
	for name, na := range names {
		na.Incidents = len(nameIncs[name])
		out.Names = append(out.Names, *na)
	}
	slices.SortFunc(out.Groups, func(a, b digest.GroupActivity) int {
		return cmp.Or(-cmp.Compare(a.Fired, b.Fired), cmp.Compare(a.Key, b.Key))
	})
	slices.SortFunc(out.Names, func(a, b digest.NameActivity) int {
		return cmp.Or(-cmp.Compare(a.Fired, b.Fired), cmp.Compare(a.Name, b.Name))
	})
	return out, nil
}
