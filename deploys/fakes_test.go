package deploys_test

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/warroomhq/warroom/deploys"
	"github.com/warroomhq/warroom/incidents"
	"github.com/warroomhq/warroom/internal/clock"
	"github.com/warroomhq/warroom/jobs/runner"
	"github.com/warroomhq/warroom/store/sqlite"
)

var quiet = slog.New(slog.DiscardHandler)

var t0 = time.Date(2026, 11, 3, 14, 0, 0, 0, time.UTC)

// fakeProvider reports the deploys it is given, or its error.
type fakeProvider struct {
	mu      sync.Mutex
	deploys []deploys.Deploy
	err     error
	calls   int
}

func (p *fakeProvider) Source() deploys.Source { return deploys.SourceGitHubDeployments }

func (p *fakeProvider) Recent(ctx context.Context, limit int) ([]deploys.Deploy, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls++
	if p.err != nil {
		return nil, p.err
	}
	return append([]deploys.Deploy(nil), p.deploys[:min(limit, len(p.deploys))]...), nil
}

// fakeRollbacker records starts by key, like a real one that finds the
// rollback it already started, and answers Progress from a script.
type fakeRollbacker struct {
	mu       sync.Mutex
	started  map[string]int // key → Start calls that started something
	calls    int
	reqs     []deploys.RollbackRequest
	startErr error
	// progress is answered in order, the last one again and again.
	progress    []deploys.Progress
	progressErr error
	polls       int
	// mech is its mechanism; github_workflow when empty.
	mech deploys.Mechanism
}

func newRollbacker() *fakeRollbacker { return &fakeRollbacker{started: map[string]int{}} }

func (r *fakeRollbacker) Mechanism() deploys.Mechanism {
	if r.mech != "" {
		return r.mech
	}
	return deploys.MechanismGitHubWorkflow
}

func (r *fakeRollbacker) Start(ctx context.Context, req deploys.RollbackRequest) (deploys.Handle, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls++
	r.reqs = append(r.reqs, req)
	if r.startErr != nil {
		return deploys.Handle{}, r.startErr
	}
	if r.started[req.Key] == 0 {
		r.started[req.Key] = 1
	}
	return deploys.Handle{ExternalID: "run-" + req.Key, URL: "https://github.com/acme/checkout/actions/runs/77"}, nil
}

func (r *fakeRollbacker) Progress(ctx context.Context, req deploys.RollbackRequest, h deploys.Handle) (deploys.Progress, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.polls++
	if r.progressErr != nil {
		return deploys.Progress{}, r.progressErr
	}
	if len(r.progress) == 0 {
		return deploys.Progress{Status: deploys.StatusRunning}, nil
	}
	p := r.progress[0]
	if len(r.progress) > 1 {
		r.progress = r.progress[1:]
	}
	return p, nil
}

func (r *fakeRollbacker) startCalls() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.calls
}

// Slack users of the tests: alice and bob approve checkout's rollbacks,
// lena leads the incident, dave is neither.
const (
	alice = "U01ALICE"
	bob   = "U01BOB"
	lena  = "U01LENA"
	dave  = "U01DAVE"
)

// harness is a deploys service over a SQLite store in a temporary file, with
// a job queue on a manual clock.
type harness struct {
	t     *testing.T
	path  string
	clock *clock.Manual
	store *sqlite.Store
	inc   *incidents.Service
	svc   *deploys.Service
	queue *runner.Queue
	prov  *fakeProvider
	rb    *fakeRollbacker
	// outcomes are what OnOutcome was told: "mechanism/state".
	outMu    sync.Mutex
	outcomes []string
	// moreApprovers approve checkout besides alice and bob; resolver is
	// Options.Resolver. Set before open.
	moreApprovers []string
	resolver      deploys.PeopleResolver
}

func (h *harness) outcomeList() string {
	h.outMu.Lock()
	defer h.outMu.Unlock()
	return fmt.Sprint(h.outcomes)
}

func newHarness(t *testing.T) *harness {
	h := &harness{t: t, path: filepath.Join(t.TempDir(), "w.db"), clock: clock.NewManual(t0),
		prov: &fakeProvider{}, rb: newRollbacker()}
	h.open()
	return h
}

// open opens the store at h.path and wires the service and the queue on it.
func (h *harness) open() {
	t := h.t
	t.Helper()
	st, err := sqlite.OpenMigrated(context.Background(), h.path, sqlite.WithClock(h.clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	h.store = st
	h.inc = incidents.NewService(st, incidents.WithClock(h.clock.Now))
	h.svc, err = deploys.NewService(deploys.Options{
		Incidents: h.inc,
		Store:     st,
		Services: map[string]deploys.ServiceConfig{
			"checkout": {Environment: "production", Providers: []deploys.Provider{h.prov}, Rollbacker: h.rb,
				Approvers: append([]string{"alice", "bob"}, h.moreApprovers...), HasDeploySources: true},
			"search": {},
			// cart rolls back like checkout, without approvers.
			"cart": {Providers: []deploys.Provider{h.prov}, Rollbacker: h.rb},
		},
		People: map[string]incidents.Actor{"alice": incidents.SlackActor(alice), "bob": incidents.SlackActor(bob),
			"lena": incidents.SlackActor(lena)},
		Resolver: h.resolver,
		Now:      h.clock.Now,
		Logger:   quiet,
		OnOutcome: func(m deploys.Mechanism, st deploys.RollbackState) {
			h.outMu.Lock()
			defer h.outMu.Unlock()
			h.outcomes = append(h.outcomes, string(m)+"/"+string(st))
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	h.queue = runner.New(st, runner.Options{Now: h.clock.Now, Logger: quiet, MinBackoff: time.Second, MaxBackoff: time.Minute})
	h.svc.RegisterJobs(h.queue)
}

// reopen closes the store and opens it again, as a restart does.
func (h *harness) reopen() {
	h.t.Helper()
	if err := h.store.Close(); err != nil {
		h.t.Fatal(err)
	}
	h.open()
}

// runJobs runs every job to the end, moving the clock to each poll.
func (h *harness) runJobs() {
	h.t.Helper()
	if _, err := h.queue.RunAll(context.Background(), h.clock.Set, 1000); err != nil {
		h.t.Fatal(err)
	}
}

// declare declares a checkout incident led by lena, detected at t0.
func (h *harness) declare(sev incidents.Severity) *incidents.Incident {
	h.t.Helper()
	inc, err := h.inc.Declare(context.Background(), incidents.DeclareInput{Title: "checkout 500s", Service: "checkout",
		Severity: sev, Lead: "lena", Actor: incidents.SlackActor(lena)})
	if err != nil {
		h.t.Fatal(err)
	}
	return inc
}

func (h *harness) events(id incidents.ID, kind incidents.EventKind) []incidents.Event {
	h.t.Helper()
	evs, err := h.inc.Timeline(context.Background(), id)
	if err != nil {
		h.t.Fatal(err)
	}
	var out []incidents.Event
	for _, e := range evs {
		if e.Kind == kind {
			out = append(out, e)
		}
	}
	return out
}

// history is checkout's deploys as GitHub reports them: v3 live (bad), v2
// before it, a failed v2.1 between them, v1 before.
func history() []deploys.Deploy {
	d := func(id, ref, sha string, st deploys.Status, ago time.Duration) deploys.Deploy {
		return deploys.Deploy{Service: "checkout", Environment: "production", Source: deploys.SourceGitHubDeployments,
			ExternalID: id, Ref: ref, SHA: sha, Status: st, StartedAt: t0.Add(-ago), FinishedAt: t0.Add(-ago + 2*time.Minute),
			URL: fmt.Sprintf("https://github.com/acme/checkout/deployments/%s", id)}
	}
	return []deploys.Deploy{
		d("104", "v3", "3333333333333333", deploys.StatusSuccess, 20*time.Minute),
		d("103", "v2.1", "2111111111111111", deploys.StatusFailed, time.Hour),
		d("102", "v2", "2222222222222222", deploys.StatusInactive, 3*time.Hour),
		d("101", "v1", "1111111111111111", deploys.StatusInactive, 24*time.Hour),
	}
}
