package sqlite

import (
	"context"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/warroomhq/warroom/digest"
	"github.com/warroomhq/warroom/incidents"
)

// digestIncident stores an incident declared (and detected) at declared,
// resolved at resolved unless that is zero, with status st.
func digestIncident(t testing.TB, s *Store, title string, declared, resolved time.Time, st incidents.Status) incidents.ID {
	t.Helper()
	inc := &incidents.Incident{Title: title, Severity: incidents.Sev2, Status: st, Service: "checkout",
		DetectedAt: declared, DeclaredAt: declared, ResolvedAt: resolved, UpdatedAt: declared,
		Roles: map[incidents.Role]string{incidents.RoleLead: "U" + title}}
	if err := s.WithTx(context.Background(), func(tx incidents.Tx) error {
		_, _, err := tx.CreateIncident(context.Background(), inc, "")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return inc.ID
}

func TestDigestIncidentsBetween(t *testing.T) {
	s := openTestStore(t)
	from, to := t0, t0.Add(7*24*time.Hour)
	day := 24 * time.Hour
	const (
		open     = incidents.StatusInvestigating
		watching = incidents.StatusMonitoring
		resolved = incidents.StatusResolved
	)
	// Stored out of declaration order, so that the IDs do not give it away.
	for _, c := range []struct {
		title              string
		declared, resolved time.Time
		st                 incidents.Status
	}{
		{"in-open", from.Add(2 * day), time.Time{}, open},
		{"resolved-just-before", from.Add(-10 * day), from.Add(-time.Millisecond), resolved},
		{"resolved-at-from", from.Add(-3 * day), from, resolved},
		{"resolved-in", from.Add(-2 * day), from.Add(day), resolved},
		{"old-open", from.Add(-30 * day), time.Time{}, open},
		{"old-monitoring", from.Add(-20 * day), time.Time{}, watching},
		{"declared-at-from", from, from.Add(time.Hour), resolved},
		{"declared-at-to", to, time.Time{}, open},
		{"after", to.Add(time.Hour), to.Add(2 * time.Hour), resolved},
		{"resolved-after-to", from.Add(-5 * day), to.Add(day), resolved},
		{"in-resolved-after-to", from.Add(3 * day), to.Add(time.Hour), resolved},
		{"old-resolved", from.Add(-40 * day), from.Add(-39 * day), resolved},
	} {
		digestIncident(t, s, c.title, c.declared, c.resolved, c.st)
	}
	got, err := s.IncidentsBetween(context.Background(), from, to)
	if err != nil {
		t.Fatal(err)
	}
	var titles []string
	for _, inc := range got {
		titles = append(titles, inc.Title)
		if inc.Lead() != "U"+inc.Title {
			t.Errorf("%s: lead %q, want its role loaded", inc.Title, inc.Lead())
		}
	}
	want := []string{"old-open", "old-monitoring", "resolved-after-to", "resolved-at-from", "resolved-in",
		"declared-at-from", "in-open", "in-resolved-after-to"}
	if !slices.Equal(titles, want) {
		t.Errorf("IncidentsBetween =\n%q\nwant, by declaration,\n%q", titles, want)
	}
	if len(got) > 0 && (!got[3].ResolvedAt.Equal(from) || !got[3].DeclaredAt.Equal(from.Add(-3*day))) {
		t.Errorf("times of %s: declared %s, resolved %s", got[3].Title, got[3].DeclaredAt, got[3].ResolvedAt)
	}
	// A month later, only the incidents still open.
	later, err := s.IncidentsBetween(context.Background(), to.Add(30*day), to.Add(31*day))
	titles = nil
	for _, inc := range later {
		titles = append(titles, inc.Title)
	}
	if want := []string{"old-open", "old-monitoring", "in-open", "declared-at-to"}; err != nil || !slices.Equal(titles, want) {
		t.Errorf("a month later: %q, %v; want %q", titles, err, want)
	}
}

// digestGroup stores an alert group and returns its ID.
func digestGroup(t testing.TB, s *Store, key, title, service string) int64 {
	t.Helper()
	g := &incidents.AlertGroup{Key: key, Title: title, Service: service, FirstSeen: t0, UpdatedAt: t0}
	alertsTx(t, s, func(tx incidents.AlertTx) error { return tx.InsertAlertGroup(context.Background(), g) })
	return g.ID
}

// digestChanges stores changes of alert a, in its group, at the given
// times: to firing, or to resolved where the status says so.
func digestChanges(t testing.TB, s *Store, a *incidents.StoredAlert, changes ...any) {
	t.Helper()
	alertsTx(t, s, func(tx incidents.AlertTx) error {
		st := incidents.AlertFiring
		for _, c := range changes {
			switch v := c.(type) {
			case incidents.AlertStatus:
				st = v
			case time.Time:
				if err := tx.AppendAlertChange(context.Background(),
					&incidents.AlertChange{AlertID: a.ID, GroupID: a.GroupID, At: v, Status: st}); err != nil {
					return err
				}
				st = incidents.AlertFiring
			}
		}
		return nil
	})
}

func TestDigestAlertActivity(t *testing.T) {
	s := openTestStore(t)
	from, to := t0, t0.Add(7*24*time.Hour)
	hour := time.Hour
	latency := digestGroup(t, s, "am:latency", "Checkout p99 over 2s", "checkout")
	disk := digestGroup(t, s, "am:disk", "Disk filling up", "search")
	other := digestGroup(t, s, "grafana:x", "Grafana", "")
	attached := func(a *incidents.StoredAlert, id incidents.ID) *incidents.StoredAlert {
		a.IncidentID = id
		return a
	}
	// Incidents of the period (one resolved in it, one still open), and an
	// old one, resolved before From, that a3 last joined: it does not count.
	inPeriod := digestIncident(t, s, "in", from.Add(-time.Hour), from.Add(time.Hour), incidents.StatusResolved)
	open := digestIncident(t, s, "open", from.Add(24*time.Hour), time.Time{}, incidents.StatusInvestigating)
	old := digestIncident(t, s, "old", from.Add(-30*24*time.Hour), from.Add(-29*24*time.Hour), incidents.StatusResolved)
	a1 := attached(alertsNew("a1", "HighLatency", latency), inPeriod)
	a2 := attached(alertsNew("a2", "HighLatency", latency), open)
	a3 := attached(alertsNew("a3", "DiskSpaceLow", disk), old)
	a4 := attached(alertsNew("a4", "HighLatency", other), inPeriod)
	a5 := alertsNew("a5", "Quiet", other)
	alertsInsert(t, s, a1, a2, a3, a4, a5)
	resolved := incidents.AlertResolved
	// a1: once just before From (out), at From (in), resolved (not a
	// firing), again (in): 2.
	digestChanges(t, s, a1, from.Add(-time.Millisecond), from, resolved, from.Add(hour), from.Add(2*hour))
	digestChanges(t, s, a2, from.Add(24*hour))                                            // 1
	digestChanges(t, s, a3, from.Add(hour), from.Add(2*hour), from.Add(3*hour), to)       // 3; at To is out
	digestChanges(t, s, a4, from.Add(96*hour))                                            // 1
	digestChanges(t, s, a5, resolved, from.Add(hour), to.Add(hour), from.Add(-24*7*hour)) // none in the period
	got, err := s.AlertActivity(context.Background(), from, to)
	if err != nil {
		t.Fatal(err)
	}
	want := digest.AlertActivity{
		Groups: []digest.GroupActivity{
			// Three firings each: by key.
			{Key: "am:disk", Title: "Disk filling up", Service: "search", Fired: 3, Alerts: 1, Incidents: []incidents.ID{}},
			{Key: "am:latency", Title: "Checkout p99 over 2s", Service: "checkout", Fired: 3, Alerts: 2, Incidents: []incidents.ID{inPeriod, open}},
			{Key: "grafana:x", Title: "Grafana", Fired: 1, Alerts: 1, Incidents: []incidents.ID{inPeriod}},
		},
		Names: []digest.NameActivity{
			// a1 twice, a2 and a4 once; incidents inPeriod (a1, a4) and
			// open (a2). a3's incident is from another month.
			{Name: "HighLatency", Fired: 4, Incidents: 2},
			{Name: "DiskSpaceLow", Fired: 3, Incidents: 0},
		},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("AlertActivity =\n%+v\nwant\n%+v", got, want)
	}
	empty, err := s.AlertActivity(context.Background(), to.Add(3*time.Hour), to.Add(4*time.Hour))
	if err != nil || empty.Groups == nil || len(empty.Groups) != 0 || len(empty.Names) != 0 {
		t.Errorf("a quiet period: %+v, %v", empty, err)
	}
}

func TestDigestQueriesUseIndexes(t *testing.T) {
	s := openTestStore(t)
	for _, q := range []struct {
		sql  string
		args []any
		uses []string
	}{
		{digestIncidentsSQL, append(append([]any{1, 2, 1, 2}, openStatuses()...), 2), []string{"MULTI-INDEX OR",
			"incidents_declared_at (declared_at>? AND declared_at<?)", "incidents_resolved_at (resolved_at>?)",
			"incidents_status (status=?)"}},
		{digestAlertsSQL, []any{1, 2}, []string{"alert_changes_firing_at (at>? AND at<?)"}},
	} {
		plan := queryPlan(t, s.writer, q.sql, q.args...)
		joined := strings.Join(plan, "\n")
		for _, u := range q.uses {
			if !strings.Contains(joined, u) {
				t.Errorf("plan of %s\n%s\ndoes not use %s", q.sql, joined, u)
			}
		}
		if scan := regexp.MustCompile(`(?m)^SCAN `); scan.MatchString(joined) {
			t.Errorf("plan of %s\n%s\nscans a table", q.sql, joined)
		}
	}
}
