package alerthooks_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/warroomhq/warroom/incidents"
	"github.com/warroomhq/warroom/integrations/alerthooks"
	"github.com/warroomhq/warroom/jobs"
	"github.com/warroomhq/warroom/jobs/runner"
	"github.com/warroomhq/warroom/server"
	"github.com/warroomhq/warroom/store/sqlite"
)

// benchAlertmanagerBody is an Alertmanager body with n new alerts in one of
// 40 groups.
func benchAlertmanagerBody(seq, n int) []byte {
	group := fmt.Sprintf(`{}/{}:{alertname="Storm%d"}`, seq%40)
	alerts := make([]map[string]any, n)
	for i := range alerts {
		alerts[i] = map[string]any{
			"status": "firing",
			"labels": map[string]string{"alertname": fmt.Sprintf("Storm%d", seq%40), "severity": "critical",
				"service": "checkout", "instance": fmt.Sprintf("node-%d-%d:9100", seq, i), "job": "node", "env": "prod"},
			"annotations":  map[string]string{"summary": "Node is down", "description": "node-exporter has not answered for 5 minutes", "runbook_url": "https://runbooks.example.com/node-down"},
			"startsAt":     "2026-11-21T10:00:00Z",
			"endsAt":       "0001-01-01T00:00:00Z",
			"generatorURL": "https://prometheus.example.com/graph?g0.expr=up+%3D%3D+0",
			"fingerprint":  fmt.Sprintf("%08x%08x", seq, i),
		}
	}
	b, _ := json.Marshal(map[string]any{
		"version": "4", "groupKey": group, "status": "firing", "receiver": "warroom",
		"groupLabels": map[string]string{"alertname": fmt.Sprintf("Storm%d", seq%40)}, "externalURL": "https://alertmanager.example.com",
		"alerts": alerts,
	})
	return b
}

// benchIngest posts b.N Alertmanager bodies of perBody new alerts each over
// HTTP to the hooks, from clients concurrent senders, against SQLite on
// disk, with the job queue processing the groups meanwhile. It reports
// bodies/s, alerts/s and the p50 and p99 latency of a webhook request.
func benchIngest(b *testing.B, perBody, clients int) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st, err := sqlite.OpenMigrated(ctx, filepath.Join(b.TempDir(), "w.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	q := runner.New(st, runner.Options{Workers: 2})
	svc := incidents.NewService(st)
	alerts := incidents.NewAlertService(svc, st, incidents.AlertPolicy{DeclareAtOrAbove: incidents.Sev2,
		SeverityMap: map[string]incidents.Severity{"critical": incidents.Sev1}}, incidents.WithJobNotify(q.Notify))
	q.Handle(incidents.JobProcessAlerts, jobs.HandlerFunc(alerts.HandleJob))
	done := make(chan error, 1)
	go func() { done <- q.Run(ctx) }()

	srv := server.New(server.Options{})
	alerthooks.New(alerthooks.Options{Token: token, Ingester: alerts}).Routes(srv.HandleLimited)
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	client := ts.Client()
	client.Transport.(*http.Transport).MaxIdleConnsPerHost = clients

	bodies := make([][]byte, b.N)
	for i := range bodies {
		bodies[i] = benchAlertmanagerBody(i, perBody)
	}
	latencies := make([]time.Duration, b.N)
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= b.N {
					return
				}
				req, _ := http.NewRequest("POST", ts.URL+"/hooks/alertmanager", bytes.NewReader(bodies[i]))
				req.Header.Set("Authorization", "Bearer "+token)
				start := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					b.Error(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				latencies[i] = time.Since(start)
				if resp.StatusCode != 200 {
					b.Errorf("status %d", resp.StatusCode)
					return
				}
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	secs := b.Elapsed().Seconds()
	slices.Sort(latencies)
	b.ReportMetric(float64(b.N)/secs, "bodies/s")
	b.ReportMetric(float64(b.N*perBody)/secs, "alerts/s")
	b.ReportMetric(float64(latencies[len(latencies)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(latencies[len(latencies)*99/100].Microseconds())/1000, "p99-ms")
	cancel()
	<-done
}

func BenchmarkIngestOneAlertBodies(b *testing.B) {
	for _, clients := range []int{1, 16} {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) { benchIngest(b, 1, clients) })
	}
}

func BenchmarkIngest100AlertBodies(b *testing.B) {
	for _, clients := range []int{1, 4, 8} {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) { benchIngest(b, 100, clients) })
	}
}
