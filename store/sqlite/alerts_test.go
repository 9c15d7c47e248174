package sqlite

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/warroomhq/warroom/incidents"
)

// alertsTx runs fn in one alert transaction and fails the test on error.
func alertsTx(t testing.TB, s *Store, fn func(tx incidents.AlertTx) error) {
	t.Helper()
	if err := s.WithAlertTx(context.Background(), fn); err != nil {
		t.Fatal(err)
	}
}

// alertsGroup stores a group with key and returns its ID.
func alertsGroup(t testing.TB, s *Store, key string) int64 {
	t.Helper()
	g := &incidents.AlertGroup{Key: key, FirstSeen: t0, UpdatedAt: t0}
	alertsTx(t, s, func(tx incidents.AlertTx) error { return tx.InsertAlertGroup(context.Background(), g) })
	return g.ID
}

// alertsNew is a firing Alertmanager alert named name in group, first seen
// at t0. Its maps and links are empty, not nil, as the store reads them.
func alertsNew(fp, name string, group int64) *incidents.StoredAlert {
	return &incidents.StoredAlert{
		Source: incidents.SourceAlertmanager,
		Alert: incidents.Alert{
			Fingerprint: fp,
			Status:      incidents.AlertFiring,
			Labels:      map[string]string{"alertname": name},
			Annotations: map[string]string{},
			Title:       name + " is firing",
			Links:       []incidents.Link{},
		},
		GroupID:   group,
		Severity:  incidents.Sev3,
		FirstSeen: t0, LastSeen: t0, ChangedAt: t0,
		Received: 1,
	}
}

// alertsInsert stores alerts in one transaction, setting their IDs.
func alertsInsert(t testing.TB, s *Store, alerts ...*incidents.StoredAlert) {
	t.Helper()
	alertsTx(t, s, func(tx incidents.AlertTx) error {
		for _, a := range alerts {
			if err := tx.InsertAlert(context.Background(), a); err != nil {
				return err
			}
		}
		return nil
	})
}

// alertsCount counts the rows of table.
func alertsCount(t testing.TB, s *Store, table string) int {
	t.Helper()
	var n int
	if err := s.reader.QueryRow(`SELECT count(*) FROM ` + table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestAlertRoundTrip(t *testing.T) {
	ctx := context.Background()
	s := openTestStore(t)
	group := alertsGroup(t, s, "alertmanager:{}:{alertname=\"HighLatency\"}")
	want := &incidents.StoredAlert{
		Source: incidents.SourceAlertmanager,
		Alert: incidents.Alert{
			Fingerprint:  "c5a8f2e1d3b4a697",
			GroupKey:     `{}:{alertname="HighLatency"}`,
			Status:       incidents.AlertFiring,
			Labels:       map[string]string{"alertname": "HighLatency", "service": "checkout", "severity": "critical"},
			Annotations:  map[string]string{"summary": "p99 over 2s", "note": `quotes " and ünïcode`},
			Title:        "p99 over 2s",
			Description:  "Checkout p99 latency is 2.4s.\nSecond line.",
			StartsAt:     t0.Add(-5 * time.Minute),
			EndsAt:       t0.Add(time.Hour),
			GeneratorURL: "https://prometheus.example.com/graph?g0.expr=x",
			RunbookURL:   "https://runbooks.example.com/latency",
			Links: []incidents.Link{
				{Title: "Dashboard", URL: "https://grafana.example.com/d/1"},
				{Title: "Silence", URL: "https://am.example.com/#/silences/new"},
			},
		},
		GroupID:    group,
		IncidentID: 42,
		Service:    "checkout",
		Severity:   incidents.Sev2,
		Declare:    true,
		FirstSeen:  t0.Add(-4 * time.Minute),
		LastSeen:   t0.Add(-time.Minute),
		ChangedAt:  t0.Add(-4*time.Minute + 123*time.Millisecond),
		Received:   3,
	}
	alertsInsert(t, s, want)
	if want.ID == 0 {
		t.Fatal("InsertAlert set no ID")
	}
	got, err := s.AlertByFingerprint(ctx, want.Source, want.Fingerprint)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("AlertByFingerprint:\n got %+v\nwant %+v", got, want)
	}
	alertsTx(t, s, func(tx incidents.AlertTx) error {
		m, err := tx.AlertsByFingerprint(ctx, want.Source, []string{want.Fingerprint})
		if err != nil {
			return err
		}
		if !reflect.DeepEqual(m[want.Fingerprint], want) {
			t.Errorf("AlertsByFingerprint:\n got %+v\nwant %+v", m[want.Fingerprint], want)
		}
		return nil
	})

	// Every field changes; nil maps and links come back empty, not nil.
	upd := *want
	upd.Alert = incidents.Alert{Fingerprint: "f2", Status: incidents.AlertResolved, Title: "Resolved title"}
	upd.Source, upd.GroupID, upd.IncidentID, upd.Service = incidents.SourceGrafana, group+1, 0, "payments"
	upd.Severity, upd.Declare, upd.Received = incidents.Sev4, false, 9
	upd.FirstSeen, upd.LastSeen, upd.ChangedAt = t0, t0.Add(time.Second), t0.Add(2*time.Second)
	alertsTx(t, s, func(tx incidents.AlertTx) error { return tx.UpdateAlert(ctx, &upd) })
	got, err = s.AlertByFingerprint(ctx, incidents.SourceGrafana, "f2")
	if err != nil {
		t.Fatal(err)
	}
	if got.Labels == nil || got.Annotations == nil || got.Links == nil {
		t.Errorf("nil maps or links read back as nil: %+v", got)
	}
	upd.Labels, upd.Annotations, upd.Links = map[string]string{}, map[string]string{}, []incidents.Link{}
	if !reflect.DeepEqual(got, &upd) {
		t.Errorf("after UpdateAlert:\n got %+v\nwant %+v", got, &upd)
	}
	if _, err := s.AlertByFingerprint(ctx, want.Source, want.Fingerprint); !errors.Is(err, incidents.ErrNotFound) {
		t.Errorf("old fingerprint after the update: %v, want ErrNotFound", err)
	}

	missing := upd
	missing.ID = 999
	err = s.WithAlertTx(ctx, func(tx incidents.AlertTx) error { return tx.UpdateAlert(ctx, &missing) })
	if !errors.Is(err, incidents.ErrNotFound) {
		t.Errorf("UpdateAlert of a missing alert: %v, want ErrNotFound", err)
	}
}

func TestAlertNameIsStoredForCounting(t *testing.T) {
	ctx := context.Background()
	s := openTestStore(t)
	group := alertsGroup(t, s, "g")
	a := alertsNew("a", "HighLatency", group)
	b := alertsNew("b", "", group)
	b.Labels, b.Title = nil, "Disk almost full"
	alertsInsert(t, s, a, b)
	c, err := s.GroupAlertCounts(ctx, group, time.Time{}, 10)
	if err != nil {
		t.Fatal(err)
	}
	names := []string{c.Names[0].Name, c.Names[1].Name}
	if want := []string{"Disk almost full", "HighLatency"}; !slices.Equal(names, want) {
		t.Errorf("names %q, want %q (alertname, else title)", names, want)
	}
}

func TestAlertFingerprintIsUniquePerSource(t *testing.T) {
	ctx := context.Background()
	s := openTestStore(t)
	group := alertsGroup(t, s, "g")
	alertsInsert(t, s, alertsNew("fp", "A", group))
	err := s.WithAlertTx(ctx, func(tx incidents.AlertTx) error { return tx.InsertAlert(ctx, alertsNew("fp", "B", group)) })
	if err == nil || !strings.Contains(err.Error(), "UNIQUE") {
		t.Errorf("second insert of the same fingerprint: %v, want a UNIQUE constraint error", err)
	}
	other := alertsNew("fp", "C", group)
	other.Source = incidents.SourceGrafana
	alertsInsert(t, s, other)
	if n := alertsCount(t, s, "alerts"); n != 2 {
		t.Errorf("%d alerts, want 2 (one per source)", n)
	}
}

func TestAlertsByFingerprint(t *testing.T) {
	ctx := context.Background()
	s := openTestStore(t)
	group := alertsGroup(t, s, "g")
	a, b := alertsNew("a", "A", group), alertsNew("b", "B", group)
	grafana := alertsNew("c", "C", group)
	grafana.Source = incidents.SourceGrafana
	alertsInsert(t, s, a, b, grafana)
	alertsTx(t, s, func(tx incidents.AlertTx) error {
		got, err := tx.AlertsByFingerprint(ctx, incidents.SourceAlertmanager, []string{"b", "missing", "a", "c", `"quoted"`})
		if err != nil {
			return err
		}
		if len(got) != 2 || got["a"] == nil || got["a"].ID != a.ID || got["b"] == nil || got["b"].ID != b.ID {
			t.Errorf("AlertsByFingerprint = %v, want a and b only (c is Grafana's)", got)
		}
		for _, fps := range [][]string{nil, {"missing"}} {
			got, err = tx.AlertsByFingerprint(ctx, incidents.SourceAlertmanager, fps)
			if err != nil {
				return err
			}
			if got == nil || len(got) != 0 {
				t.Errorf("AlertsByFingerprint(%q) = %v, want an empty map", fps, got)
			}
		}
		return nil
	})
}

func TestTouchAlerts(t *testing.T) {
	ctx := context.Background()
	s := openTestStore(t)
	group := alertsGroup(t, s, "g")
	a, b, c := alertsNew("a", "A", group), alertsNew("b", "B", group), alertsNew("c", "C", group)
	alertsInsert(t, s, a, b, c)
	later := t0.Add(time.Minute)
	alertsTx(t, s, func(tx incidents.AlertTx) error {
		if err := tx.TouchAlerts(ctx, []int64{a.ID, c.ID}, later); err != nil {
			return err
		}
		if err := tx.TouchAlerts(ctx, []int64{a.ID}, later.Add(time.Second)); err != nil {
			return err
		}
		return tx.TouchAlerts(ctx, nil, later)
	})
	for _, w := range []struct {
		fp       string
		lastSeen time.Time
		received int
	}{{"a", later.Add(time.Second), 3}, {"b", t0, 1}, {"c", later, 2}} {
		got, err := s.AlertByFingerprint(ctx, incidents.SourceAlertmanager, w.fp)
		if err != nil {
			t.Fatal(err)
		}
		if !got.LastSeen.Equal(w.lastSeen) || got.Received != w.received || !got.ChangedAt.Equal(t0) {
			t.Errorf("%s: last seen %v, received %d, changed %v; want %v, %d, t0", w.fp, got.LastSeen, got.Received,
				got.ChangedAt, w.lastSeen, w.received)
		}
	}
}

func TestPendingAlertChanges(t *testing.T) {
	ctx := context.Background()
	s := openTestStore(t)
	g1, g2 := alertsGroup(t, s, "g1"), alertsGroup(t, s, "g2")
	a, b, other := alertsNew("a", "A", g1), alertsNew("b", "B", g1), alertsNew("o", "O", g2)
	alertsInsert(t, s, a, b, other)
	// Changes of both groups, interleaved: a fires, o fires, b fires, a
	// resolves.
	changes := []*incidents.AlertChange{
		{AlertID: a.ID, GroupID: g1, BodyID: 7, At: t0, Status: incidents.AlertFiring, First: true},
		{AlertID: other.ID, GroupID: g2, BodyID: 7, At: t0, Status: incidents.AlertFiring, First: true},
		{AlertID: b.ID, GroupID: g1, BodyID: 8, At: t0.Add(time.Second), Status: incidents.AlertFiring, First: true},
		{AlertID: a.ID, GroupID: g1, BodyID: 9, At: t0.Add(2 * time.Second), Status: incidents.AlertResolved},
	}
	alertsTx(t, s, func(tx incidents.AlertTx) error {
		for _, c := range changes {
			if err := tx.AppendAlertChange(ctx, c); err != nil {
				return err
			}
		}
		a.Status, a.ChangedAt = incidents.AlertResolved, t0.Add(2*time.Second)
		return tx.UpdateAlert(ctx, a)
	})
	for i, c := range changes {
		if c.ID == 0 || (i > 0 && c.ID <= changes[i-1].ID) {
			t.Fatalf("change IDs %d, %d are not increasing", changes[max(i-1, 0)].ID, c.ID)
		}
	}

	pendingDetailed := func(group int64, limit, detailed int) []incidents.AlertChange {
		t.Helper()
		var got []incidents.AlertChange
		alertsTx(t, s, func(tx incidents.AlertTx) error {
			var err error
			got, err = tx.PendingAlertChanges(ctx, group, limit, detailed)
			return err
		})
		return got
	}
	pending := func(group int64, limit int) []incidents.AlertChange { return pendingDetailed(group, limit, limit) }
	// Beyond the detailed ones, only the scalar fields and the name.
	light := pendingDetailed(g1, 2, 1)
	if light[0].Alert.Labels == nil || light[1].Alert.Labels != nil || light[1].Alert.ID != b.ID ||
		light[1].Name != "B" || light[1].Alert.Fingerprint != "b" || light[1].Alert.Status != b.Status {
		t.Fatalf("a light change: %+v %+v", light[1], light[1].Alert)
	}
	got := pending(g1, 2)
	if len(got) != 2 || got[0].ID != changes[0].ID || got[1].ID != changes[2].ID {
		t.Fatalf("pending of g1 with limit 2 = %+v, want changes 0 and 2", got)
	}
	first := got[0]
	if first.Alert == nil || !reflect.DeepEqual(first.Alert, a) {
		t.Errorf("the change's Alert = %+v, want a as it is now %+v", first.Alert, a)
	}
	first.Alert = nil
	if first.Name != "A" {
		t.Errorf("the change's Name = %q, want A", first.Name)
	}
	first.Name = ""
	if !reflect.DeepEqual(first, *changes[0]) {
		t.Errorf("change read back as %+v, want %+v", first, *changes[0])
	}
	if got[1].Alert == nil || got[1].Alert.ID != b.ID {
		t.Errorf("second change's Alert = %+v, want b", got[1].Alert)
	}
	if got := pending(g1, 0); len(got) != 0 {
		t.Errorf("limit 0 returned %d changes", len(got))
	}

	alertsTx(t, s, func(tx incidents.AlertTx) error { return tx.MarkAlertChangesDone(ctx, g1, changes[2].ID) })
	if got := pending(g1, 10); len(got) != 1 || got[0].ID != changes[3].ID || got[0].Status != incidents.AlertResolved {
		t.Errorf("pending of g1 after marking up to change 2 = %+v, want change 3 only", got)
	}
	// Marking g1 up to a later ID leaves g2's changes pending.
	alertsTx(t, s, func(tx incidents.AlertTx) error { return tx.MarkAlertChangesDone(ctx, g1, changes[3].ID) })
	if got := pending(g1, 10); len(got) != 0 {
		t.Errorf("pending of g1 after marking all = %+v", got)
	}
	if got := pending(g2, 10); len(got) != 1 || got[0].ID != changes[1].ID || got[0].Alert.ID != other.ID {
		t.Errorf("pending of g2 = %+v, want change 1", got)
	}
}

func TestAlertHistory(t *testing.T) {
	ctx := context.Background()
	s := openTestStore(t)
	group := alertsGroup(t, s, "g")
	a, b := alertsNew("a", "A", group), alertsNew("b", "B", group)
	alertsInsert(t, s, a, b)
	var want []incidents.AlertChange
	alertsTx(t, s, func(tx incidents.AlertTx) error {
		for i, st := range []incidents.AlertStatus{incidents.AlertFiring, incidents.AlertResolved, incidents.AlertFiring} {
			c := incidents.AlertChange{AlertID: a.ID, GroupID: group, BodyID: int64(10 + i), At: t0.Add(time.Duration(i) * time.Minute),
				Status: st, First: i == 0}
			if err := tx.AppendAlertChange(ctx, &c); err != nil {
				return err
			}
			want = append(want, c)
			// b's changes come in between and are not a's history.
			if err := tx.AppendAlertChange(ctx, &incidents.AlertChange{AlertID: b.ID, GroupID: group, At: t0, Status: st}); err != nil {
				return err
			}
		}
		return nil
	})
	got, err := s.AlertHistory(ctx, a.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("AlertHistory:\n got %+v\nwant %+v", got, want)
	}
	// With a limit: the last changes, still oldest first.
	if got, err := s.AlertHistory(ctx, a.ID, 2); err != nil || !reflect.DeepEqual(got, want[len(want)-2:]) {
		t.Errorf("AlertHistory(limit 2) = %+v, %v; want the last two", got, err)
	}
	if got, err := s.AlertHistory(ctx, 999, 0); err != nil || len(got) != 0 {
		t.Errorf("history of a missing alert = %v, %v; want none", got, err)
	}
}

func TestAlertChangeNeedsItsAlert(t *testing.T) {
	ctx := context.Background()
	s := openTestStore(t)
	err := s.WithAlertTx(ctx, func(tx incidents.AlertTx) error {
		return tx.AppendAlertChange(ctx, &incidents.AlertChange{AlertID: 999, GroupID: 1, At: t0, Status: incidents.AlertFiring})
	})
	if err == nil {
		t.Error("a change of a missing alert was stored")
	}
}

func TestGroupFiring(t *testing.T) {
	ctx := context.Background()
	s := openTestStore(t)
	group, other := alertsGroup(t, s, "g"), alertsGroup(t, s, "other")
	firing := func() incidents.FiringSummary {
		t.Helper()
		var f incidents.FiringSummary
		alertsTx(t, s, func(tx incidents.AlertTx) error {
			var err error
			f, err = tx.GroupFiring(ctx, group)
			return err
		})
		return f
	}
	if f := firing(); !reflect.DeepEqual(f, incidents.FiringSummary{}) {
		t.Errorf("empty group: %+v, want the zero summary", f)
	}

	late := alertsNew("late", "Late", group)
	late.StartsAt, late.Severity = t0.Add(-time.Minute), incidents.Sev3
	// No start time: it counts from when it last fired, the earliest;
	// when it was first seen (long before) does not matter.
	early := alertsNew("early", "Early", group)
	early.FirstSeen, early.ChangedAt, early.Severity = t0.Add(-48*time.Hour), t0.Add(-10*time.Minute), incidents.Sev2
	early.Description, early.RunbookURL = "It started first.", "https://runbooks.example.com/early"
	unknown := alertsNew("unknown", "Unknown", group)
	unknown.StartsAt, unknown.Severity = t0.Add(-2*time.Minute), incidents.Severity("weird")
	// Resolved ones and other groups' count for nothing, however bad.
	resolved := alertsNew("resolved", "Resolved", group)
	resolved.Status, resolved.StartsAt, resolved.Severity, resolved.Declare =
		incidents.AlertResolved, t0.Add(-time.Hour), incidents.Sev1, true
	elsewhere := alertsNew("elsewhere", "Elsewhere", other)
	elsewhere.StartsAt, elsewhere.Severity, elsewhere.Declare = t0.Add(-time.Hour), incidents.Sev1, true
	alertsInsert(t, s, late, early, unknown, resolved, elsewhere)

	want := incidents.FiringSummary{Count: 3, Worst: incidents.Sev2, Since: t0.Add(-10 * time.Minute),
		Title: "Early is firing", Description: "It started first.", RunbookURL: "https://runbooks.example.com/early"}
	if f := firing(); !reflect.DeepEqual(f, want) {
		t.Errorf("GroupFiring:\n got %+v\nwant %+v", f, want)
	}

	late.Declare = true
	alertsTx(t, s, func(tx incidents.AlertTx) error { return tx.UpdateAlert(ctx, late) })
	if f := firing(); !f.Declare {
		t.Errorf("GroupFiring with a declaring alert: %+v, want Declare", f)
	}

	// With only an unknown severity firing, the earliest one's is kept.
	alertsTx(t, s, func(tx incidents.AlertTx) error {
		for _, a := range []*incidents.StoredAlert{late, early} {
			a.Status = incidents.AlertResolved
			if err := tx.UpdateAlert(ctx, a); err != nil {
				return err
			}
		}
		return nil
	})
	if f := firing(); f.Count != 1 || f.Worst != "weird" || !f.Since.Equal(t0.Add(-2*time.Minute)) || f.Declare {
		t.Errorf("GroupFiring with one unknown severity: %+v", f)
	}
}

func TestGroupAlertCounts(t *testing.T) {
	ctx := context.Background()
	s := openTestStore(t)
	group, other := alertsGroup(t, s, "g"), alertsGroup(t, s, "other")
	var all []*incidents.StoredAlert
	add := func(fp, name string, st incidents.AlertStatus, changed time.Duration) {
		a := alertsNew(fp, name, group)
		a.Status, a.ChangedAt = st, t0.Add(changed)
		all = append(all, a)
	}
	add("old1", "Old", incidents.AlertFiring, -time.Hour)
	add("old2", "Disk", incidents.AlertResolved, -time.Hour)
	add("d1", "Disk", incidents.AlertFiring, 0)
	add("d2", "Disk", incidents.AlertResolved, time.Minute)
	add("c1", "CPU", incidents.AlertFiring, time.Minute)
	add("c2", "CPU", incidents.AlertFiring, 2*time.Minute)
	add("m1", "Mem", incidents.AlertResolved, 3*time.Minute)
	add("m2", "Mem", incidents.AlertResolved, 3*time.Minute)
	add("m3", "Mem", incidents.AlertResolved, 3*time.Minute)
	all = append(all, alertsNew("x", "Elsewhere", other))
	alertsInsert(t, s, all...)

	counts := func(since time.Time, names int) incidents.AlertCounts {
		t.Helper()
		c, err := s.GroupAlertCounts(ctx, group, since, names)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	want := incidents.AlertCounts{Firing: 3, Resolved: 4, Names: []incidents.NameCount{
		{Name: "CPU", Firing: 2, Total: 2}, {Name: "Disk", Firing: 1, Total: 2}, {Name: "Mem", Firing: 0, Total: 3},
	}}
	if got := counts(t0, 10); !reflect.DeepEqual(got, want) {
		t.Errorf("counts since t0:\n got %+v\nwant %+v", got, want)
	}
	want.Names = want.Names[:2]
	if got := counts(t0, 2); !reflect.DeepEqual(got, want) {
		t.Errorf("counts since t0, 2 names:\n got %+v\nwant %+v", got, want)
	}
	want.Names = nil
	if got := counts(t0, 0); !reflect.DeepEqual(got, want) {
		t.Errorf("counts since t0, no names:\n got %+v\nwant %+v", got, want)
	}
	if got := counts(time.Time{}, 0); got.Firing != 4 || got.Resolved != 5 {
		t.Errorf("counts since ever = %+v, want 4 firing, 5 resolved", got)
	}
	if got := counts(t0.Add(time.Hour), 5); !reflect.DeepEqual(got, incidents.AlertCounts{}) {
		t.Errorf("counts since later = %+v, want none", got)
	}
	// The read pool's answer (bot.Store) is the same.
	if got, err := s.GroupAlertCounts(ctx, group, t0, 2); err != nil || got.Firing != 3 || got.Resolved != 4 || len(got.Names) != 2 {
		t.Errorf("Store.GroupAlertCounts = %+v, %v", got, err)
	}
}

func TestIncidentAlertCountsAndAttach(t *testing.T) {
	ctx := context.Background()
	s := openTestStore(t)
	group, other := alertsGroup(t, s, "g"), alertsGroup(t, s, "other")
	var all []*incidents.StoredAlert
	add := func(group int64, fp, name string, st incidents.AlertStatus, changed time.Duration) *incidents.StoredAlert {
		a := alertsNew(fp, name, group)
		a.Status, a.ChangedAt = st, t0.Add(changed)
		all = append(all, a)
		return a
	}
	f1 := add(group, "f1", "Zeta", incidents.AlertFiring, time.Minute)
	f2 := add(group, "f2", "Alpha", incidents.AlertFiring, 3*time.Minute)
	f3 := add(group, "f3", "Alpha", incidents.AlertFiring, 2*time.Minute)
	r1 := add(group, "r1", "Beta", incidents.AlertResolved, 5*time.Minute)
	r2 := add(group, "r2", "Beta", incidents.AlertResolved, 4*time.Minute)
	r3 := add(group, "r3", "Gamma", incidents.AlertResolved, 6*time.Minute)
	kept := add(group, "kept", "Kept", incidents.AlertResolved, time.Minute)
	elsewhere := add(other, "x", "Zeta", incidents.AlertFiring, time.Minute)
	alertsInsert(t, s, all...)

	var n int
	alertsTx(t, s, func(tx incidents.AlertTx) error {
		var err error
		n, err = tx.AttachAlerts(ctx, group, []int64{r1.ID, r2.ID, r3.ID, elsewhere.ID}, true, 7)
		return err
	})
	if n != 7 {
		t.Errorf("AttachAlerts touched %d alerts, want 7 (3 firing of the group, 4 by ID)", n)
	}
	for _, a := range all {
		got, err := s.AlertByFingerprint(ctx, a.Source, a.Fingerprint)
		if err != nil {
			t.Fatal(err)
		}
		want := incidents.ID(7)
		if a == kept {
			want = 0
		}
		if got.IncidentID != want {
			t.Errorf("%s attached to %d, want %d", a.Fingerprint, got.IncidentID, want)
		}
	}
	// Attaching with no IDs still takes the group's firing alerts.
	alertsTx(t, s, func(tx incidents.AlertTx) error {
		var err error
		n, err = tx.AttachAlerts(ctx, other, nil, true, 8)
		return err
	})
	if n != 1 {
		t.Errorf("AttachAlerts without IDs touched %d alerts, want 1", n)
	}
	// Without allFiring, only the alerts named move.
	alertsTx(t, s, func(tx incidents.AlertTx) error {
		var err error
		n, err = tx.AttachAlerts(ctx, group, []int64{kept.ID, r1.ID}, false, 9)
		return err
	})
	if n != 2 {
		t.Errorf("AttachAlerts by IDs moved %d alerts, want 2", n)
	}
	if got, _ := s.AlertByFingerprint(ctx, f1.Source, f1.Fingerprint); got.IncidentID != 7 {
		t.Errorf("a firing alert not named moved to %d", got.IncidentID)
	}
	alertsTx(t, s, func(tx incidents.AlertTx) error {
		_, err := tx.AttachAlerts(ctx, group, []int64{r1.ID}, false, 7)
		return err
	})

	// Incident 7 now has the group's 3 firing and 3 resolved alerts.
	want := incidents.AlertCounts{Firing: 3, Resolved: 3, Names: []incidents.NameCount{
		{Name: "Alpha", Firing: 2, Total: 2}, {Name: "Zeta", Firing: 1, Total: 1},
		{Name: "Beta", Firing: 0, Total: 2}, {Name: "Gamma", Firing: 0, Total: 1},
	}}
	sorted := slices.Clone(want.Names)
	slices.Reverse(sorted)
	incidents.SortNames(sorted)
	if !reflect.DeepEqual(sorted, want.Names) {
		t.Fatalf("the test's names are not in SortNames' order: %v", sorted)
	}
	for _, limit := range []int{10, 3, 1, 0, -1} {
		w := want
		w.Names = nil
		if limit > 0 {
			w.Names = want.Names[:min(limit, len(want.Names))]
		}
		got, err := s.IncidentAlertCounts(ctx, 7, limit)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, w) {
			t.Errorf("IncidentAlertCounts(7, %d):\n got %+v\nwant %+v", limit, got, w)
		}
		alertsTx(t, s, func(tx incidents.AlertTx) error {
			got, err := tx.IncidentAlertCounts(ctx, 7, limit)
			if err != nil {
				return err
			}
			if !reflect.DeepEqual(got, w) {
				t.Errorf("txn IncidentAlertCounts(7, %d):\n got %+v\nwant %+v", limit, got, w)
			}
			return nil
		})
	}
	if got, err := s.IncidentAlertCounts(ctx, 0, 5); err != nil || !reflect.DeepEqual(got, incidents.AlertCounts{}) {
		t.Errorf("counts of incident 0 (unattached alerts) = %+v, %v; want none", got, err)
	}

	// Firing first, then the latest change first.
	list, err := s.IncidentAlerts(ctx, 7, 10)
	if err != nil {
		t.Fatal(err)
	}
	var fps []string
	for _, a := range list {
		fps = append(fps, a.Fingerprint)
	}
	if want := []string{f2.Fingerprint, f3.Fingerprint, f1.Fingerprint, r3.Fingerprint, r1.Fingerprint, r2.Fingerprint}; !slices.Equal(fps, want) {
		t.Errorf("IncidentAlerts = %q, want %q", fps, want)
	}
	if len(list) > 0 && (list[0].ID != f2.ID || list[0].Labels["alertname"] != "Alpha") {
		t.Errorf("first alert %+v, want f2 in full", list[0])
	}
	if list, err := s.IncidentAlerts(ctx, 7, 2); err != nil || len(list) != 2 || list[1].Fingerprint != f3.Fingerprint {
		t.Errorf("IncidentAlerts with limit 2 = %v, %v", list, err)
	}
	if list, err := s.IncidentAlerts(ctx, 0, 10); err != nil || len(list) != 0 {
		t.Errorf("IncidentAlerts of incident 0 = %v, %v; want none", list, err)
	}
}

func TestAlertGroups(t *testing.T) {
	ctx := context.Background()
	s := openTestStore(t)
	alertsTx(t, s, func(tx incidents.AlertTx) error {
		g, err := tx.AlertGroupByKey(ctx, "missing")
		if g != nil || err != nil {
			t.Errorf("AlertGroupByKey of a missing key = %+v, %v; want nil, nil", g, err)
		}
		if _, err := tx.AlertGroup(ctx, 1); !errors.Is(err, incidents.ErrNotFound) {
			t.Errorf("txn AlertGroup of a missing group: %v, want ErrNotFound", err)
		}
		return nil
	})
	if _, err := s.AlertGroup(ctx, 1); !errors.Is(err, incidents.ErrNotFound) {
		t.Errorf("AlertGroup of a missing group: %v, want ErrNotFound", err)
	}

	g := &incidents.AlertGroup{Key: `route:0:service="checkout"`, Title: "Checkout", FirstSeen: t0, UpdatedAt: t0}
	alertsTx(t, s, func(tx incidents.AlertTx) error { return tx.InsertAlertGroup(ctx, g) })
	if g.ID == 0 {
		t.Fatal("InsertAlertGroup set no ID")
	}
	got, err := s.AlertGroup(ctx, g.ID)
	if err != nil || !reflect.DeepEqual(got, g) {
		t.Errorf("AlertGroup = %+v, %v; want %+v", got, err, g)
	}

	upd := incidents.AlertGroup{ID: g.ID, Key: g.Key + "!", Title: "Checkout latency", Service: "checkout",
		IncidentID: 12, Episode: 3, Active: true, EpisodeStart: t0.Add(time.Minute), Pending: true, Gen: 41,
		FirstSeen: t0.Add(-time.Hour), UpdatedAt: t0.Add(2 * time.Minute)}
	alertsTx(t, s, func(tx incidents.AlertTx) error {
		if err := tx.UpdateAlertGroup(ctx, &upd); err != nil {
			return err
		}
		byKey, err := tx.AlertGroupByKey(ctx, upd.Key)
		if err != nil || !reflect.DeepEqual(byKey, &upd) {
			t.Errorf("AlertGroupByKey after the update = %+v, %v; want %+v", byKey, err, upd)
		}
		inTx, err := tx.AlertGroup(ctx, g.ID)
		if err != nil || !reflect.DeepEqual(inTx, &upd) {
			t.Errorf("txn AlertGroup after the update = %+v, %v; want %+v", inTx, err, upd)
		}
		return nil
	})
	if got, err := s.AlertGroup(ctx, g.ID); err != nil || !reflect.DeepEqual(got, &upd) {
		t.Errorf("AlertGroup after the update = %+v, %v; want %+v", got, err, upd)
	}

	missing := upd
	missing.ID = 999
	err = s.WithAlertTx(ctx, func(tx incidents.AlertTx) error { return tx.UpdateAlertGroup(ctx, &missing) })
	if !errors.Is(err, incidents.ErrNotFound) {
		t.Errorf("UpdateAlertGroup of a missing group: %v, want ErrNotFound", err)
	}
	err = s.WithAlertTx(ctx, func(tx incidents.AlertTx) error {
		return tx.InsertAlertGroup(ctx, &incidents.AlertGroup{Key: upd.Key})
	})
	if err == nil || !strings.Contains(err.Error(), "UNIQUE") {
		t.Errorf("a second group with the same key: %v, want a UNIQUE constraint error", err)
	}
}

func TestPruneAlertBodies(t *testing.T) {
	ctx := context.Background()
	s := openTestStore(t)
	group := alertsGroup(t, s, "g")
	a := alertsNew("a", "A", group)
	alertsInsert(t, s, a)
	var bodies []*incidents.AlertBody
	alertsTx(t, s, func(tx incidents.AlertTx) error {
		for i, age := range []time.Duration{2 * time.Hour, time.Hour, 0} {
			b := &incidents.AlertBody{Source: incidents.SourceAlertmanager, ReceivedAt: t0.Add(-age), Alerts: 1,
				Raw: []byte(fmt.Sprintf(`{"n":%d}`, i))}
			if err := tx.SaveAlertBody(ctx, b); err != nil {
				return err
			}
			bodies = append(bodies, b)
			c := &incidents.AlertChange{AlertID: a.ID, GroupID: group, BodyID: b.ID, At: b.ReceivedAt, Status: incidents.AlertFiring}
			if err := tx.AppendAlertChange(ctx, c); err != nil {
				return err
			}
		}
		return nil
	})
	if bodies[0].ID == 0 || bodies[1].ID <= bodies[0].ID {
		t.Fatalf("body IDs %d, %d", bodies[0].ID, bodies[1].ID)
	}
	var raw []byte
	if err := s.reader.QueryRow(`SELECT raw FROM alert_bodies WHERE id = ?`, bodies[2].ID).Scan(&raw); err != nil || string(raw) != `{"n":2}` {
		t.Errorf("stored body %q, %v", raw, err)
	}

	n, err := s.PruneAlertBodies(ctx, t0.Add(-30*time.Minute))
	if err != nil || n != 2 {
		t.Fatalf("PruneAlertBodies = %d, %v; want 2", n, err)
	}
	if n := alertsCount(t, s, "alert_bodies"); n != 1 {
		t.Errorf("%d bodies left, want 1", n)
	}
	if n, err := s.PruneAlertBodies(ctx, t0.Add(-30*time.Minute)); err != nil || n != 0 {
		t.Errorf("pruning again = %d, %v; want 0", n, err)
	}
	// The alert and its history stay, naming the pruned bodies.
	history, err := s.AlertHistory(ctx, a.ID, 0)
	if err != nil || len(history) != 3 || history[0].BodyID != bodies[0].ID {
		t.Errorf("history after pruning = %+v, %v", history, err)
	}
	if _, err := s.AlertByFingerprint(ctx, a.Source, a.Fingerprint); err != nil {
		t.Errorf("alert after pruning: %v", err)
	}
}

func TestRolledBackAlertTxLeavesNothing(t *testing.T) {
	ctx := context.Background()
	s := openTestStore(t)
	boom := errors.New("boom")
	err := s.WithAlertTx(ctx, func(tx incidents.AlertTx) error {
		if err := tx.SaveAlertBody(ctx, &incidents.AlertBody{Source: "generic", ReceivedAt: t0, Raw: []byte("{}")}); err != nil {
			return err
		}
		g := &incidents.AlertGroup{Key: "g"}
		if err := tx.InsertAlertGroup(ctx, g); err != nil {
			return err
		}
		a := alertsNew("a", "A", g.ID)
		if err := tx.InsertAlert(ctx, a); err != nil {
			return err
		}
		if err := tx.AppendAlertChange(ctx, &incidents.AlertChange{AlertID: a.ID, GroupID: g.ID, At: t0, Status: a.Status}); err != nil {
			return err
		}
		if _, _, err := tx.CreateIncident(ctx, &incidents.Incident{Title: "from alerts", Severity: incidents.Sev2,
			Status: incidents.StatusInvestigating, Roles: map[incidents.Role]string{}}, "alerts:g:1"); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("WithAlertTx = %v, want boom", err)
	}
	for _, table := range []string{"alert_bodies", "alert_groups", "alerts", "alert_changes", "incidents"} {
		if n := alertsCount(t, s, table); n != 0 {
			t.Errorf("%d rows in %s after the rollback", n, table)
		}
	}
}

// TestAlertQueriesUseIndexes checks that the frequent alert queries search
// their indexes: the partial ones only serve queries that repeat their
// WHERE clause.
func TestAlertQueriesUseIndexes(t *testing.T) {
	s := openTestStore(t)
	for _, q := range []struct {
		sql  string
		args []any
		uses []string
	}{
		{`SELECT ` + alertColumns + ` FROM alerts AS a WHERE a.source = ? AND a.fingerprint IN (SELECT value FROM json_each(?))`,
			[]any{"s", `["a"]`}, []string{"sqlite_autoindex_alerts_1 (source=? AND fingerprint=?)"}},
		{`UPDATE alerts SET last_seen = ?, received = received + 1 WHERE id IN (SELECT value FROM json_each(?))`,
			[]any{1, "[1]"}, []string{"INTEGER PRIMARY KEY"}},
		{`UPDATE alerts SET incident_id = ? WHERE id IN (SELECT value FROM json_each(?)) OR (group_id = ? AND status = 'firing')`,
			[]any{1, "[1]", 1}, []string{"INTEGER PRIMARY KEY", "alerts_group_status (group_id=? AND status=?)"}},
		{`SELECT c.id, ` + alertColumns + ` FROM alert_changes AS c JOIN alerts AS a ON a.id = c.alert_id
			WHERE c.group_id = ? AND c.done = 0 ORDER BY c.id LIMIT ?`,
			[]any{1, 10}, []string{"alert_changes_pending (group_id=?)", "INTEGER PRIMARY KEY"}},
		{`UPDATE alert_changes SET done = 1 WHERE group_id = ? AND done = 0 AND id <= ?`,
			[]any{1, 2}, []string{"alert_changes_pending (group_id=? AND id<?)"}},
		{groupCountsSQL, []any{1, 0, 1}, []string{"alerts_group_changed (group_id=? AND changed_at>?)"}},
		{incidentCountsSQL, []any{1, 1}, []string{"alerts_incident (incident_id=?)"}},
		{`SELECT ` + alertColumns + ` FROM alerts AS a WHERE a.incident_id = ? AND a.incident_id <> 0 LIMIT ?`,
			[]any{1, 1}, []string{"alerts_incident (incident_id=?)"}},
	} {
		plan := queryPlan(t, s.writer, q.sql, q.args...)
		joined := strings.Join(plan, "\n")
		for _, u := range q.uses {
			if !strings.Contains(joined, u) {
				t.Errorf("plan of %s\n%s\ndoes not use %s", q.sql, joined, u)
			}
		}
		if scan := regexp.MustCompile(`(?m)^SCAN (alerts|alert_changes|a|c)\b`); scan.MatchString(joined) {
			t.Errorf("plan of %s\n%s\nscans a table", q.sql, joined)
		}
	}
}

// TestAlertsMigrationOnAnExistingDatabase migrates a database that has
// incidents up to the alerts' migration.
func TestAlertsMigrationOnAnExistingDatabase(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "w.db"), WithClock(func() time.Time { return t0 }))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	all, err := Migrations()
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(all, func(m Migration) bool { return m.Name == "alerts" })
	if i < 0 || all[i].Version != 4 {
		t.Fatalf("no migration 0004_alerts among %d", len(all))
	}
	if _, err := s.migrate(ctx, all[:i]); err != nil {
		t.Fatal(err)
	}
	if _, err := incidents.NewService(s).Declare(ctx, incidents.DeclareInput{Title: "before alerts"}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Migrate(ctx)
	if err != nil || !slices.Contains(got, 4) {
		t.Fatalf("Migrate = %v, %v; want 4 applied", got, err)
	}
	group := alertsGroup(t, s, "g")
	alertsInsert(t, s, alertsNew("a", "A", group))
	if inc, err := s.Incident(ctx, 1); err != nil || inc.Title != "before alerts" {
		t.Errorf("incident after the migration: %v, %v", inc, err)
	}
}
