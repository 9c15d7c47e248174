package sqlite

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/warroomhq/warroom/digest"
	"github.com/warroomhq/warroom/incidents"
)

// digestBenchSeed fills s with n incidents declared evenly over the weeks
// before end, each with a timeline of 6 to 10 events and, for about four in
// ten, one to three alerts that fired and resolved with it; five noisy
// alerts that never declare fire every hour besides. It returns how many
// incidents were declared in the last week.
func digestBenchSeed(tb testing.TB, s *Store, n int, weeks int, end time.Time) int {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(8, 10_000))
	services := []string{"checkout", "search", "billing", "accounts", "catalog", "shipping", "payments", "notifications"}
	names := []string{"HighLatency", "HTTP5xxRatio", "PodCrashLooping", "QueueDepth", "DiskSpaceLow", "ErrorBudgetBurn"}
	span := time.Duration(weeks) * 7 * 24 * time.Hour
	start := end.Add(-span)
	step := span / time.Duration(n)

	// The alerts: five instances of each name in each service, and the
	// noisy ones; one group per service and name.
	type alertKey struct{ svc, name string }
	alerts := map[alertKey][]*incidents.StoredAlert{}
	var noisy []*incidents.StoredAlert
	err := s.WithAlertTx(ctx, func(tx incidents.AlertTx) error {
		group := func(key, title, svc string) (int64, error) {
			g := &incidents.AlertGroup{Key: key, Title: title, Service: svc, FirstSeen: start, UpdatedAt: start}
			err := tx.InsertAlertGroup(ctx, g)
			return g.ID, err
		}
		alert := func(fp, name, svc string, gid int64) (*incidents.StoredAlert, error) {
			a := alertsNew(fp, name, gid)
			a.Service, a.FirstSeen, a.LastSeen, a.ChangedAt = svc, start, start, start
			a.Labels = map[string]string{"alertname": name, "service": svc, "instance": fp}
			return a, tx.InsertAlert(ctx, a)
		}
		for _, svc := range services {
			for _, name := range names {
				gid, err := group("alertmanager:"+svc+":"+name, name+" on "+svc, svc)
				if err != nil {
					return err
				}
				for i := range 5 {
					a, err := alert(fmt.Sprintf("%s-%s-%d", svc, name, i), name, svc, gid)
					if err != nil {
						return err
					}
					alerts[alertKey{svc, name}] = append(alerts[alertKey{svc, name}], a)
				}
			}
		}
		for i := range 5 {
			gid, err := group(fmt.Sprintf("generic:noise-%d", i), "Noisy check", "")
			if err != nil {
				return err
			}
			a, err := alert(fmt.Sprintf("noise-%d", i), fmt.Sprintf("FlakyProbe%d", i), "", gid)
			if err != nil {
				return err
			}
			noisy = append(noisy, a)
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}

	// The incidents, a thousand to a transaction.
	lastWeek := 0
	change := func(tx incidents.AlertTx, a *incidents.StoredAlert, at time.Time, st incidents.AlertStatus) error {
		return tx.AppendAlertChange(ctx, &incidents.AlertChange{AlertID: a.ID, GroupID: a.GroupID, At: at, Status: st})
	}
	touched := map[*incidents.StoredAlert]bool{}
	for first := 0; first < n; first += 1000 {
		err := s.WithAlertTx(ctx, func(tx incidents.AlertTx) error {
			for i := first; i < min(first+1000, n); i++ {
				declared := start.Add(time.Duration(i) * step)
				if !declared.Before(end.Add(-7 * 24 * time.Hour)) {
					lastWeek++
				}
				svc := services[rng.IntN(len(services))]
				inc := &incidents.Incident{
					Title:    fmt.Sprintf("%s degraded (%d)", svc, i),
					Severity: incidents.Severities[min(rng.IntN(10), 3)], // sev1 one in ten ... sev4 seven in ten
					Status:   incidents.StatusResolved, Service: svc, DeclaredBy: "alertmanager",
					DetectedAt: declared.Add(-time.Duration(rng.IntN(600)) * time.Second), DeclaredAt: declared,
					Roles: map[incidents.Role]string{incidents.RoleLead: fmt.Sprintf("U%03d", rng.IntN(40))},
				}
				if rng.IntN(10) > 0 {
					inc.AcknowledgedAt = declared.Add(time.Duration(60+rng.IntN(1800)) * time.Second)
				}
				inc.ResolvedAt = declared.Add(time.Duration(600+rng.IntN(8*3600)) * time.Second)
				inc.MitigatedAt, inc.UpdatedAt = inc.ResolvedAt, inc.ResolvedAt
				if rng.IntN(100) == 0 || inc.ResolvedAt.After(end) {
					inc.Status, inc.ResolvedAt, inc.MitigatedAt = incidents.StatusIdentified, time.Time{}, time.Time{}
				}
				if rng.IntN(2) == 0 {
					inc.Roles[incidents.RoleComms] = fmt.Sprintf("U%03d", rng.IntN(40))
				}
				if _, _, err := tx.CreateIncident(ctx, inc, ""); err != nil {
					return err
				}
				// The timeline: declared, channel, one or two roles, one to
				// three status changes, notes, and the resolution: 6 to 10.
				at := declared
				ev := func(kind incidents.EventKind, text string, data map[string]any) error {
					at = at.Add(time.Duration(1+rng.IntN(600)) * time.Second)
					return tx.AppendEvent(ctx, &incidents.Event{IncidentID: inc.ID, At: at, Kind: kind,
						Actor: "slack:U001", Text: text, Data: data})
				}
				events := []func() error{
					func() error {
						return ev(incidents.EventDeclared, "Declared "+inc.Title, map[string]any{"severity": "sev2"})
					},
					func() error {
						return ev(incidents.EventChannel, "Channel #inc-"+fmt.Sprint(inc.ID), map[string]any{"channel": "C123"})
					},
					func() error {
						return ev(incidents.EventRoleAssigned, "Lead is <@U001>", map[string]any{"role": "lead"})
					},
				}
				for range 1 + rng.IntN(3) {
					events = append(events, func() error {
						return ev(incidents.EventStatusChanged, "Status: identified",
							map[string]any{"from": "investigating", "to": "identified"})
					})
				}
				for range 1 + rng.IntN(2) {
					events = append(events, func() error {
						return ev(incidents.EventNote, "Rolled back the deploy; error rate is back under 1%.", nil)
					})
				}
				if !inc.ResolvedAt.IsZero() {
					events = append(events, func() error { return ev(incidents.EventResolved, "Resolved", nil) })
				}
				for _, e := range events {
					if err := e(); err != nil {
						return err
					}
				}
				// Alerts for four in ten: they fire at detection and
				// resolve with the incident.
				if rng.IntN(10) < 4 {
					pool := alerts[alertKey{svc, names[rng.IntN(len(names))]}]
					for _, a := range pool[:1+rng.IntN(3)] {
						a.IncidentID = inc.ID
						touched[a] = true
						if err := change(tx, a, inc.DetectedAt, incidents.AlertFiring); err != nil {
							return err
						}
						if !inc.ResolvedAt.IsZero() {
							if err := change(tx, a, inc.ResolvedAt, incidents.AlertResolved); err != nil {
								return err
							}
						}
					}
				}
			}
			return nil
		})
		if err != nil {
			tb.Fatal(err)
		}
	}

	// The noise, every hour, and the alerts' last incidents.
	err = s.WithAlertTx(ctx, func(tx incidents.AlertTx) error {
		for at := start; at.Before(end); at = at.Add(time.Hour) {
			for _, a := range noisy {
				if err := change(tx, a, at, incidents.AlertFiring); err != nil {
					return err
				}
				if err := change(tx, a, at.Add(20*time.Minute), incidents.AlertResolved); err != nil {
					return err
				}
			}
		}
		for a := range touched {
			if err := tx.UpdateAlert(ctx, a); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return lastWeek
}

// BenchmarkDigest10k builds the digest of the last week from a file
// database of 10,000 incidents over eight weeks.
func BenchmarkDigest10k(b *testing.B) {
	s := openTestStore(b)
	end := t0
	seeding := time.Now()
	lastWeek := digestBenchSeed(b, s, 10_000, 8, end)
	b.Logf("seeded 10,000 incidents in %s", time.Since(seeding).Round(time.Millisecond))
	ctx := context.Background()
	var r *digest.Report
	for b.Loop() {
		var err error
		if r, err = digest.Build(ctx, s, end.Add(-digest.Period), end); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/op")
	if r.Opened.Current != lastWeek || r.TimeToResolve.Current.Count == 0 || len(r.NoisiestGroups) != 5 || len(r.FiredWithoutIncident) != 5 {
		b.Fatalf("the digest of the last week: opened %d (want %d), %d resolved, %d groups, %d noisy names",
			r.Opened.Current, lastWeek, r.TimeToResolve.Current.Count, len(r.NoisiestGroups), len(r.FiredWithoutIncident))
	}
}
