package sqlite

import (
	"bytes"
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/warroomhq/warroom/incidents"
)

// alertsBenchRaw is a webhook body of about 60 KB, the size of an
// Alertmanager body with 100 alerts.
var alertsBenchRaw = bytes.Repeat([]byte(`{"status":"firing","labels":{"alertname":"HighLatency","instance":"10.0.0.1:9100"},"annotations":{"summary":"p99 over 2s"},"fingerprint":"c5a8f2e1d3b4a697"},`), 60_000/150)

// alertsBenchAlert is an alert as an Alertmanager body carries it.
func alertsBenchAlert(fp string, group int64, now time.Time) *incidents.StoredAlert {
	return &incidents.StoredAlert{
		Source: incidents.SourceAlertmanager,
		Alert: incidents.Alert{
			Fingerprint: fp,
			GroupKey:    `{}:{alertname="HighLatency"}`,
			Status:      incidents.AlertFiring,
			Labels: map[string]string{"alertname": "HighLatency", "instance": "10.0.0.1:9100", "job": "node",
				"service": "checkout", "severity": "critical"},
			Annotations:  map[string]string{"summary": "p99 over 2s", "description": "Checkout p99 latency is 2.4s."},
			Title:        "p99 over 2s",
			Description:  "Checkout p99 latency is 2.4s.",
			StartsAt:     now,
			GeneratorURL: "https://prometheus.example.com/graph?g0.expr=histogram_quantile",
			RunbookURL:   "https://runbooks.example.com/latency",
		},
		GroupID:   group,
		Service:   "checkout",
		Severity:  incidents.Sev2,
		Declare:   true,
		FirstSeen: now, LastSeen: now, ChangedAt: now,
		Received: 1,
	}
}

// alertsBenchIngest does in one transaction what ingesting a body of 100
// alerts does to the store: it saves the body, looks the fingerprints up,
// inserts the new alerts with a change each and touches the known ones, and
// updates the group.
func alertsBenchIngest(b *testing.B, s *Store, group int64, fps []string, now time.Time) {
	ctx := context.Background()
	err := s.WithAlertTx(ctx, func(tx incidents.AlertTx) error {
		body := &incidents.AlertBody{Source: incidents.SourceAlertmanager, ReceivedAt: now, Alerts: len(fps), Raw: alertsBenchRaw}
		if err := tx.SaveAlertBody(ctx, body); err != nil {
			return err
		}
		known, err := tx.AlertsByFingerprint(ctx, incidents.SourceAlertmanager, fps)
		if err != nil {
			return err
		}
		var touch []int64
		for _, fp := range fps {
			if a := known[fp]; a != nil {
				touch = append(touch, a.ID)
				continue
			}
			a := alertsBenchAlert(fp, group, now)
			if err := tx.InsertAlert(ctx, a); err != nil {
				return err
			}
			c := &incidents.AlertChange{AlertID: a.ID, GroupID: group, BodyID: body.ID, At: now, Status: a.Status, First: true}
			if err := tx.AppendAlertChange(ctx, c); err != nil {
				return err
			}
		}
		if err := tx.TouchAlerts(ctx, touch, now); err != nil {
			return err
		}
		g, err := tx.AlertGroupByKey(ctx, "alertmanager:bench")
		if err != nil {
			return err
		}
		g.UpdatedAt, g.Pending, g.Gen = now, true, g.Gen+1
		return tx.UpdateAlertGroup(ctx, g)
	})
	if err != nil {
		b.Fatal(err)
	}
}

func alertsBenchSetup(b *testing.B) (*Store, int64) {
	s := openTestStore(b)
	g := &incidents.AlertGroup{Key: "alertmanager:bench", FirstSeen: t0, UpdatedAt: t0}
	if err := s.WithAlertTx(context.Background(), func(tx incidents.AlertTx) error {
		return tx.InsertAlertGroup(context.Background(), g)
	}); err != nil {
		b.Fatal(err)
	}
	return s, g.ID
}

// BenchmarkAlertTx100 ingests bodies of 100 new alerts, on a file database.
func BenchmarkAlertTx100(b *testing.B) {
	s, group := alertsBenchSetup(b)
	fps := make([]string, 100)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		for j := range fps {
			fps[j] = strconv.Itoa(i) + "-" + strconv.Itoa(j)
		}
		alertsBenchIngest(b, s, group, fps, t0.Add(time.Duration(i)*time.Second))
	}
	b.ReportMetric(float64(b.N*100)/b.Elapsed().Seconds(), "alerts/s")
}

// BenchmarkAlertTxRepeat100 ingests the same 100 alerts again and again:
// all are found and touched.
func BenchmarkAlertTxRepeat100(b *testing.B) {
	s, group := alertsBenchSetup(b)
	fps := make([]string, 100)
	for j := range fps {
		fps[j] = "repeat-" + strconv.Itoa(j)
	}
	alertsBenchIngest(b, s, group, fps, t0)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		alertsBenchIngest(b, s, group, fps, t0.Add(time.Duration(i+1)*time.Second))
	}
	b.ReportMetric(float64(b.N*100)/b.Elapsed().Seconds(), "alerts/s")
	if a, err := s.AlertByFingerprint(context.Background(), incidents.SourceAlertmanager, fps[0]); err != nil || a.Received != b.N+1 {
		b.Fatalf("after %d repeats: %+v, %v", b.N, a, err)
	}
}
