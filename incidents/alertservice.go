package incidents

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/warroomhq/warroom/jobs"
)

// The timeline event kinds that alerts write.
const (
	// EventAlertFiring: an alert fired, or fired again.
	EventAlertFiring EventKind = "alert.firing"
	// EventAlertResolved: an alert resolved.
	EventAlertResolved EventKind = "alert.resolved"
	// EventAlertsBatch sums up the alert changes of one processing run
	// beyond the first MaxAlertEventsPerRun.
	EventAlertsBatch EventKind = "alerts.batch"
	// EventAlertsResolved: every alert of the incident has resolved.
	EventAlertsResolved EventKind = "alerts.all_resolved"
)

// JobProcessAlerts is the job that applies a group's alert changes to its
// incident. Its payload is ProcessAlertsJob.
const JobProcessAlerts = "alerts.process"

// JobPruneAlertBodies deletes raw webhook bodies older than
// AlertPolicy.KeepBodies. Ingesting enqueues it at most once an hour.
const JobPruneAlertBodies = "alerts.prune_bodies"

// ProcessAlertsJob is JobProcessAlerts's payload.
type ProcessAlertsJob struct {
	Group int64 `json:"group"`
}

// Limits of alert processing.
const (
	// MaxAlertEventsPerRun is how many alert changes of one processing run
	// get a timeline event each; the rest are summed up in one
	// EventAlertsBatch event, so that a storm does not bury the timeline.
	MaxAlertEventsPerRun = 20
	// maxChangesPerRun bounds the changes one run loads; the rest wait for
	// the next run.
	maxChangesPerRun = 5000
	// Group commit: one transaction takes at most this many bodies or
	// alerts.
	maxBodiesPerCommit = 64
	// pendingTimeout is how long a group's processing job may stay queued
	// before ingesting queues another.
	pendingTimeout     = 10 * time.Minute
	maxAlertsPerCommit = 10000
)

// AlertGroupChange tells alert listeners what processing did to a group
// that has no open incident (alerts for triage), or that was just declared.
type AlertGroupChange struct {
	Group *AlertGroup
	// Firing is true while any alert of the group fires.
	Firing bool
	// Severity is the worst severity among the alerts that fired in this
	// run, or among those that changed when none fired.
	Severity Severity
	// Incident is the group's open incident; nil while it is in triage.
	Incident *Incident
	// Declared is true when this run declared Incident.
	Declared bool
}

// AlertListener reacts to alert groups inside the transaction that changed
// them (the Slack adapter posts alerts for triage).
type AlertListener interface {
	AlertGroupChanged(ctx context.Context, tx Tx, c AlertGroupChange) error
}

// AlertService turns alerts into incidents: it stores each webhook body and
// its alerts before the sender is answered, deduplicates them, groups and
// routes them, and then, in a job per group, declares, reopens or updates
// the group's incident.
type AlertService struct {
	incidents *Service
	store     AlertStore
	policy    AlertPolicy
	listeners []AlertListener
	notify    func() // called after a commit that queued jobs

	mu        sync.Mutex
	queue     []*pendingBody
	leading   bool
	nextPrune time.Time // when ingesting next enqueues JobPruneAlertBodies
}

// AlertOption configures an AlertService.
type AlertOption func(*AlertService)

// WithJobNotify makes the service call notify after committing jobs, so
// that the queue runs them at once.
func WithJobNotify(notify func()) AlertOption {
	return func(a *AlertService) { a.notify = notify }
}

// WithAlertListener adds a listener.
func WithAlertListener(l AlertListener) AlertOption {
	return func(a *AlertService) { a.listeners = append(a.listeners, l) }
}

// NewAlertService returns the alert use cases. Incidents are declared and
// changed through svc, so alerts follow the same path as people.
func NewAlertService(svc *Service, store AlertStore, policy AlertPolicy, opts ...AlertOption) *AlertService {
	policy.withDefaults()
	a := &AlertService{incidents: svc, store: store, policy: policy, notify: func() {}}
	for _, o := range opts {
		o(a)
	}
	return a
}

// AddListener adds a listener. Call it during wiring.
func (a *AlertService) AddListener(l AlertListener) { a.listeners = append(a.listeners, l) }

// Policy returns the policy in use.
func (a *AlertService) Policy() AlertPolicy { return a.policy }

// pendingBody is one body waiting for a group commit.
type pendingBody struct {
	batch   *AlertBatch
	res     IngestResult
	err     error
	done    chan struct{}
	promote chan struct{} // closed to make this body's caller commit
}

// Ingest stores a body and its alerts and queues their processing. When it
// returns nil, everything is committed, so the sender may be answered.
//
// Concurrent calls are committed together (group commit): one caller at a
// time commits every body waiting, in one transaction, then hands the
// commit over to a caller still waiting. Bodies that fail together are
// retried one by one, so one bad body does not fail the others.
func (a *AlertService) Ingest(ctx context.Context, b *AlertBatch) (IngestResult, error) {
	if err := b.Validate(); err != nil {
		return IngestResult{}, err
	}
	p := &pendingBody{batch: b, done: make(chan struct{}), promote: make(chan struct{})}
	a.mu.Lock()
	a.queue = append(a.queue, p)
	if !a.leading {
		a.leading = true
		a.mu.Unlock()
		a.lead(ctx, p)
	} else {
		a.mu.Unlock()
		select {
		case <-p.done:
		case <-p.promote:
			a.lead(ctx, p)
		}
	}
	<-p.done
	return p.res, p.err
}

// lead commits waiting bodies until own is committed, then hands over to the
// next waiting caller, if any.
func (a *AlertService) lead(ctx context.Context, own *pendingBody) {
	// Other callers' bodies are committed too: a cancelled request must not
	// fail them.
	ctx = context.WithoutCancel(ctx)
	for {
		a.mu.Lock()
		select {
		case <-own.done:
			if len(a.queue) > 0 {
				close(a.queue[0].promote)
			} else {
				a.leading = false
			}
			a.mu.Unlock()
			return
		default:
		}
		n, alerts := 0, 0
		for n < len(a.queue) && n < maxBodiesPerCommit && (n == 0 || alerts+len(a.queue[n].batch.Alerts) <= maxAlertsPerCommit) {
			alerts += len(a.queue[n].batch.Alerts)
			n++
		}
		batch := a.queue[:n:n]
		a.queue = a.queue[n:]
		a.mu.Unlock()
		a.commit(ctx, batch)
	}
}

// commit stores bodies in one transaction, or one by one when that fails.
func (a *AlertService) commit(ctx context.Context, bodies []*pendingBody) {
	err := a.ingestTx(ctx, bodies)
	if err != nil && len(bodies) > 1 {
		for _, p := range bodies {
			p.err = a.ingestTx(ctx, []*pendingBody{p})
			close(p.done)
		}
		return
	}
	for _, p := range bodies {
		p.err = err
		close(p.done)
	}
}

// ingestTx stores bodies in one transaction and sets their results. A
// panic (a bug) becomes an error, so that the callers waiting on this
// commit are answered and the next one can lead.
func (a *AlertService) ingestTx(ctx context.Context, bodies []*pendingBody) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("storing alerts: panic: %v", p)
		}
	}()
	queued := false
	err = a.store.WithAlertTx(ctx, func(tx AlertTx) error {
		in := &ingest{a: a, tx: tx, now: a.incidents.Now(), groups: map[string]*ingestGroup{}}
		for _, p := range bodies {
			res, err := in.body(ctx, p.batch)
			if err != nil {
				return err
			}
			p.res = res
		}
		n, err := in.flush(ctx)
		if err != nil {
			return err
		}
		pruned, err := a.queuePrune(ctx, tx, in.now)
		queued = n > 0 || pruned
		return err
	})
	if err != nil {
		// A prune job this transaction would have queued was rolled back:
		// let the next commit queue it.
		a.mu.Lock()
		a.nextPrune = time.Time{}
		a.mu.Unlock()
	}
	if err == nil && queued {
		a.notify()
	}
	return err
}

// ingest is the state of one ingest transaction.
type ingest struct {
	a      *AlertService
	tx     AlertTx
	now    time.Time
	groups map[string]*ingestGroup
	order  []*ingestGroup
}

type ingestGroup struct {
	g       *AlertGroup
	dirty   bool
	changed bool // has new changes to process
}

// current is the incident that the group's alerts go to while its
// episode lasts, or 0. Storing it with the alert spares processing a write
// of each alert row; processing moves alerts whose incident turns out to
// be another.
func (ig *ingestGroup) current() ID {
	if ig.g.Active {
		return ig.g.IncidentID
	}
	return 0
}

func (in *ingest) group(ctx context.Context, key, title, service string) (*ingestGroup, error) {
	if ig := in.groups[key]; ig != nil {
		return ig, nil
	}
	g, err := in.tx.AlertGroupByKey(ctx, key)
	if err != nil {
		return nil, err
	}
	ig := &ingestGroup{g: g}
	if g == nil {
		ig.g = &AlertGroup{Key: key, Title: truncate(title, MaxTitleLen), Service: service, FirstSeen: in.now, UpdatedAt: in.now}
		if err := in.tx.InsertAlertGroup(ctx, ig.g); err != nil {
			return nil, err
		}
	}
	in.groups[key] = ig
	in.order = append(in.order, ig)
	return ig, nil
}

// body stores one body and its alerts.
func (in *ingest) body(ctx context.Context, b *AlertBatch) (IngestResult, error) {
	res := IngestResult{Alerts: len(b.Alerts)}
	body := &AlertBody{Source: b.Source, ReceivedAt: in.now, Alerts: len(b.Alerts), Raw: b.Raw}
	if err := in.tx.SaveAlertBody(ctx, body); err != nil {
		return res, err
	}
	res.BodyID = body.ID
	fps := make([]string, 0, len(b.Alerts))
	for i := range b.Alerts {
		fps = append(fps, b.Alerts[i].Fingerprint)
	}
	stored, err := in.tx.AlertsByFingerprint(ctx, b.Source, fps)
	if err != nil {
		return res, err
	}
	var touched []int64
	groups := map[int64]bool{}
	for i := range b.Alerts {
		al := &b.Alerts[i]
		r := in.a.policy.Route(b.Source, al)
		title := b.Title
		if title == "" {
			title = al.Title
		}
		ig, err := in.group(ctx, r.Group, title, r.Service)
		if err != nil {
			return res, err
		}
		groups[ig.g.ID] = true
		if ig.g.Service == "" && r.Service != "" {
			ig.g.Service, ig.dirty = r.Service, true
		}
		st := stored[al.Fingerprint]
		switch {
		case st == nil:
			st = &StoredAlert{Source: b.Source, Alert: *al, GroupID: ig.g.ID, Service: r.Service, Severity: r.Severity,
				Declare: r.Declare, FirstSeen: in.now, LastSeen: in.now, ChangedAt: in.now, Received: 1,
				IncidentID: ig.current()}
			if err := in.tx.InsertAlert(ctx, st); err != nil {
				return res, err
			}
			stored[al.Fingerprint] = st
			res.New++
			if al.Status == AlertFiring {
				if err := in.change(ctx, ig, st, body.ID, true); err != nil {
					return res, err
				}
			}
		case st.Status == al.Status && !refired(st, al):
			res.Repeated++
			touched = append(touched, st.ID)
		case stale(st, al):
			res.Stale++
			touched = append(touched, st.ID)
		default:
			startsAt := st.StartsAt
			st.Alert = *al
			if al.StartsAt.IsZero() && al.Status == AlertResolved {
				// A resolution without a start keeps the firing's, which
				// tells a late retry of that firing from news.
				st.StartsAt = startsAt
			}
			st.GroupID, st.Service, st.Severity, st.Declare = ig.g.ID, r.Service, r.Severity, r.Declare
			if id := ig.current(); id != 0 {
				st.IncidentID = id
			}
			st.LastSeen, st.ChangedAt = in.now, in.now
			st.Received++
			if err := in.tx.UpdateAlert(ctx, st); err != nil {
				return res, err
			}
			res.Changed++
			if err := in.change(ctx, ig, st, body.ID, false); err != nil {
				return res, err
			}
		}
	}
	if len(touched) > 0 {
		if err := in.tx.TouchAlerts(ctx, touched, in.now); err != nil {
			return res, err
		}
	}
	res.Groups = len(groups)
	return res, nil
}

// refired reports whether al fired again although no resolution came in
// between: it is firing, as stored, but with a later start. Senders that
// do not send resolutions (send_resolved: false), or that resolve and fire
// again within one notification interval, look like this.
func refired(st *StoredAlert, al *Alert) bool {
	return al.Status == AlertFiring && st.Status == AlertFiring &&
		!al.StartsAt.IsZero() && !st.StartsAt.IsZero() && al.StartsAt.After(st.StartsAt)
}

// stale reports whether al is older than what is stored: a retried body
// that arrives after a newer one. Alertmanager gives an alert that fires
// again a new start time, so the same start time on a firing alert that is
// stored resolved, or an earlier one, is news from the past.
func stale(st *StoredAlert, al *Alert) bool {
	if al.StartsAt.IsZero() || st.StartsAt.IsZero() {
		return false
	}
	if al.StartsAt.Before(st.StartsAt) {
		return true
	}
	return al.Status == AlertFiring && st.Status == AlertResolved && al.StartsAt.Equal(st.StartsAt)
}

func (in *ingest) change(ctx context.Context, ig *ingestGroup, st *StoredAlert, bodyID int64, first bool) error {
	c := &AlertChange{AlertID: st.ID, GroupID: ig.g.ID, BodyID: bodyID, At: in.now, Status: st.Status, First: first}
	if err := in.tx.AppendAlertChange(ctx, c); err != nil {
		return err
	}
	ig.changed = true
	return nil
}

// flush stores the groups that changed and queues a processing job for each
// group with new changes and none queued. It returns how many it queued.
func (in *ingest) flush(ctx context.Context) (int, error) {
	n := 0
	for _, ig := range in.order {
		// A job queued long ago that has not run is presumed lost (parked
		// after its last attempt): queue another, or the group's changes
		// would wait for ever. Two jobs of a group run one after the other,
		// and the second finds nothing left to do.
		stuck := ig.g.Pending && in.now.Sub(ig.g.UpdatedAt) > pendingTimeout
		if ig.changed && (!ig.g.Pending || stuck) {
			if err := in.a.queueProcess(ctx, in.tx, ig.g, time.Time{}); err != nil {
				return n, err
			}
			ig.dirty = true
			n++
		}
		if ig.dirty {
			ig.g.UpdatedAt = in.now
			if err := in.tx.UpdateAlertGroup(ctx, ig.g); err != nil {
				return n, err
			}
		}
	}
	return n, nil
}

// queueProcess marks g pending and enqueues the job that processes it.
// Jobs of one group run one at a time, in order.
func (a *AlertService) queueProcess(ctx context.Context, tx AlertTx, g *AlertGroup, runAt time.Time) error {
	g.Pending = true
	g.Gen++
	payload, err := json.Marshal(ProcessAlertsJob{Group: g.ID})
	if err != nil {
		return err
	}
	_, err = tx.Enqueue(ctx, jobs.NewJob{
		Kind:      JobProcessAlerts,
		Key:       fmt.Sprintf("%s:%d:%d", JobProcessAlerts, g.ID, g.Gen),
		SerialKey: "alert-group:" + strconv.FormatInt(g.ID, 10),
		Payload:   payload,
		RunAt:     runAt,
	})
	return err
}

// queuePrune enqueues JobPruneAlertBodies once per hour of the clock (the
// key names the hour, so restarts do not repeat it).
func (a *AlertService) queuePrune(ctx context.Context, tx AlertTx, now time.Time) (bool, error) {
	a.mu.Lock()
	due := !now.Before(a.nextPrune)
	if due {
		a.nextPrune = now.Truncate(time.Hour).Add(time.Hour)
	}
	a.mu.Unlock()
	if !due {
		return false, nil
	}
	hour := now.Truncate(time.Hour)
	return tx.Enqueue(ctx, jobs.NewJob{
		Kind:    JobPruneAlertBodies,
		Key:     fmt.Sprintf("%s:%d", JobPruneAlertBodies, hour.Unix()),
		Payload: []byte(strconv.FormatInt(hour.Add(-a.policy.KeepBodies).UnixMilli(), 10)),
	})
}

// HandlePruneJob runs JobPruneAlertBodies: it deletes the bodies received
// before the time in its payload (milliseconds since the epoch).
func (a *AlertService) HandlePruneJob(ctx context.Context, j jobs.Job) error {
	ms, err := strconv.ParseInt(string(j.Payload), 10, 64)
	if err != nil {
		return jobs.Permanent(fmt.Errorf("bad %s payload %q", JobPruneAlertBodies, j.Payload))
	}
	_, err = a.store.PruneAlertBodies(ctx, time.UnixMilli(ms))
	return err
}

// HandleJob runs JobProcessAlerts.
func (a *AlertService) HandleJob(ctx context.Context, j jobs.Job) error {
	var p ProcessAlertsJob
	if err := json.Unmarshal(j.Payload, &p); err != nil || p.Group == 0 {
		return jobs.Permanent(fmt.Errorf("bad %s payload %q", JobProcessAlerts, j.Payload))
	}
	return a.Process(ctx, p.Group)
}

// Process applies a group's pending alert changes, in one transaction:
//
//   - while the group's incident is open, the changes are added to it;
//   - when it was resolved less than ReopenWithin ago and an alert fires
//     again, it is reopened;
//   - otherwise a firing alert starts a new episode of the group: an
//     incident is declared when one of its firing alerts calls for it, and
//     otherwise the group is handed to the listeners for triage.
//
// Each change becomes a timeline event (up to MaxAlertEventsPerRun, then one
// event sums up the rest), and when the last alert of an incident resolves,
// an EventAlertsResolved event says so.
func (a *AlertService) Process(ctx context.Context, groupID int64) error {
	queued := false
	err := a.store.WithAlertTx(ctx, func(tx AlertTx) error {
		queued = false
		g, err := tx.AlertGroup(ctx, groupID)
		if err != nil {
			return err
		}
		g.Pending = false
		changes, err := tx.PendingAlertChanges(ctx, g.ID, maxChangesPerRun, MaxAlertEventsPerRun)
		if err != nil {
			return err
		}
		if len(changes) == maxChangesPerRun {
			// More are waiting: process them in the next job, after this one.
			if err := a.queueProcess(ctx, tx, g, time.Time{}); err != nil {
				return err
			}
			queued = true
		}
		if len(changes) > 0 {
			if err := a.apply(ctx, tx, g, changes); err != nil {
				return err
			}
			if err := tx.MarkAlertChangesDone(ctx, g.ID, changes[len(changes)-1].ID); err != nil {
				return err
			}
		}
		g.UpdatedAt = a.incidents.Now()
		return tx.UpdateAlertGroup(ctx, g)
	})
	if err == nil && queued {
		a.notify()
	}
	return err
}

func (a *AlertService) apply(ctx context.Context, tx AlertTx, g *AlertGroup, changes []AlertChange) error {
	now := a.incidents.Now()
	newFiring, declareNow := false, false
	for _, c := range changes {
		if c.Status == AlertFiring {
			newFiring = true
			declareNow = declareNow || c.Alert.Declare
		}
	}
	var inc *Incident
	if g.IncidentID != 0 {
		var err error
		if inc, err = tx.Incident(ctx, g.IncidentID); err != nil {
			return err
		}
	}
	actor := Actor(changes[0].Alert.Source)
	declared, allFiring := false, false
	var err error
	switch {
	case inc != nil && (inc.Status.Open() || !newFiring):
		// Added to the incident; resolutions that come after it was
		// resolved are recorded too, for the postmortem.
	case !newFiring:
	case inc != nil && a.policy.ReopenWithin > 0 && now.Sub(inc.ResolvedAt) <= a.policy.ReopenWithin:
		name := firstFiring(changes).Name
		if inc, err = a.incidents.mutateTx(ctx, tx, inc.ID, actor, reopen(name+" fired again")); err != nil {
			return err
		}
		allFiring = true
	default:
		if !g.Active || inc != nil {
			// A new episode, from when its first alert arrived.
			g.Episode++
			g.EpisodeStart = changes[0].At
			g.IncidentID, inc = 0, nil
		}
		g.Active = true
		// Alerts of earlier runs of this episode did not call for an
		// incident (or it would exist): only this run's can.
		if declareNow {
			fs, err := tx.GroupFiring(ctx, g.ID)
			if err != nil {
				return err
			}
			if inc, err = a.declareGroup(ctx, tx, g, fs, actor); err != nil {
				return err
			}
			declared, allFiring = true, true
		} else if err := a.detach(ctx, tx, g, changes); err != nil {
			return err
		}
	}
	if inc != nil {
		if inc, err = a.addToIncident(ctx, tx, g, inc, changes, allFiring, actor); err != nil {
			return err
		}
	}
	firing := newFiring
	switch {
	case inc != nil && inc.Status.Open():
		g.Active = true
	case newFiring:
		g.Active = true
	default:
		// Only resolutions, and no open incident: the episode lasts while
		// anything still fires.
		fs, err := tx.GroupFiring(ctx, g.ID)
		if err != nil {
			return err
		}
		firing = fs.Count > 0
		g.Active = firing
	}
	if inc == nil && g.Episode == 0 {
		return nil // resolutions of alerts never seen firing
	}
	if inc != nil && !declared {
		return nil
	}
	return a.tellListeners(ctx, tx, g, inc, declared, firing, changes)
}

// detach takes the changed alerts off an incident that ingest expected
// them to join: the group is in triage now.
func (a *AlertService) detach(ctx context.Context, tx AlertTx, g *AlertGroup, changes []AlertChange) error {
	ids := make([]int64, 0, len(changes))
	for _, c := range changes {
		if c.Alert.IncidentID != 0 {
			ids = append(ids, c.AlertID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	_, err := tx.AttachAlerts(ctx, g.ID, ids, false, 0)
	return err
}

func firstFiring(changes []AlertChange) AlertChange {
	for _, c := range changes {
		if c.Status == AlertFiring {
			return c
		}
	}
	return changes[0]
}

// declareGroup declares the incident of g's current episode.
func (a *AlertService) declareGroup(ctx context.Context, tx AlertTx, g *AlertGroup, fs FiringSummary, actor Actor) (*Incident, error) {
	if g.Episode == 0 {
		g.Episode, g.Active = 1, true
		g.EpisodeStart = fs.Since
		if g.EpisodeStart.IsZero() {
			g.EpisodeStart = a.incidents.Now()
		}
	}
	title := g.Title
	if title == "" {
		title = fs.Title
	}
	if strings.TrimSpace(title) == "" {
		title = "Alert group " + strconv.FormatInt(g.ID, 10)
	}
	sev := fs.Worst
	if !sev.Valid() {
		sev = a.policy.DefaultSeverity
	}
	desc := fs.Description
	if fs.RunbookURL != "" {
		desc = strings.TrimSpace(desc + "\nRunbook: " + fs.RunbookURL)
	}
	in := DeclareInput{
		Title:       truncate(title, MaxTitleLen),
		Severity:    sev,
		Service:     g.Service,
		Description: truncate(desc, MaxTextLen),
		Actor:       actor,
		DetectedAt:  fs.Since,
		Key:         fmt.Sprintf("alerts:%d:%d", g.ID, g.Episode),
	}
	if err := in.normalize(a.policy.DefaultSeverity); err != nil {
		return nil, err
	}
	inc, _, err := a.incidents.declareTx(ctx, tx, in)
	if err != nil {
		return nil, err
	}
	g.IncidentID = inc.ID
	return inc, nil
}

// addToIncident attaches the changed alerts (and, with allFiring, every
// firing alert of the group) to inc and records the changes in its
// timeline.
func (a *AlertService) addToIncident(ctx context.Context, tx AlertTx, g *AlertGroup, inc *Incident, changes []AlertChange, allFiring bool, actor Actor) (*Incident, error) {
	ids := make([]int64, 0, len(changes))
	resolvedNow := false
	for _, c := range changes {
		ids = append(ids, c.AlertID)
		if c.Status == AlertResolved {
			resolvedNow = true
		}
	}
	if _, err := tx.AttachAlerts(ctx, g.ID, ids, allFiring, inc.ID); err != nil {
		return nil, err
	}
	var counts AlertCounts
	if resolvedNow && inc.Status.Open() {
		var err error
		if counts, err = tx.IncidentAlertCounts(ctx, inc.ID, 0); err != nil {
			return nil, err
		}
	}
	return a.incidents.mutateTx(ctx, tx, inc.ID, actor, func(inc *Incident, now time.Time) ([]Event, error) {
		evs := alertEvents(changes)
		if resolvedNow && inc.Status.Open() && counts.Firing == 0 && counts.Resolved > 0 {
			text := fmt.Sprintf("All %d alerts have resolved", counts.Resolved)
			if counts.Resolved == 1 {
				text = "The alert has resolved"
			}
			evs = append(evs, Event{Kind: EventAlertsResolved, Text: text, Data: map[string]any{"resolved": counts.Resolved}})
		}
		return evs, nil
	})
}

// alertEvents turns changes into timeline events: one each for the first
// MaxAlertEventsPerRun, then one that sums up the rest.
func alertEvents(changes []AlertChange) []Event {
	n := min(len(changes), MaxAlertEventsPerRun)
	if len(changes) > MaxAlertEventsPerRun {
		n = MaxAlertEventsPerRun - 1 // the last slot sums up the rest
	}
	evs := make([]Event, 0, n+1)
	for _, c := range changes[:n] {
		evs = append(evs, alertEvent(c))
	}
	rest := changes[n:]
	if len(rest) == 0 {
		return evs
	}
	fired, resolved := 0, 0
	names := map[string]int{}
	for _, c := range rest {
		if c.Status == AlertFiring {
			fired++
		} else {
			resolved++
		}
		names[c.Name]++
	}
	type nc struct {
		name string
		n    int
	}
	var byName []nc
	for k, v := range names {
		byName = append(byName, nc{k, v})
	}
	sort.Slice(byName, func(i, j int) bool {
		if byName[i].n != byName[j].n {
			return byName[i].n > byName[j].n
		}
		return byName[i].name < byName[j].name
	})
	var parts []string
	for i, x := range byName {
		if i == 5 {
			parts = append(parts, fmt.Sprintf("%d more names", len(byName)-5))
			break
		}
		parts = append(parts, fmt.Sprintf("%s ×%d", x.name, x.n))
	}
	var what []string
	if fired > 0 {
		what = append(what, fmt.Sprintf("%d fired", fired))
	}
	if resolved > 0 {
		what = append(what, fmt.Sprintf("%d resolved", resolved))
	}
	text := fmt.Sprintf("%d more alert changes: %s (%s)", len(rest), strings.Join(what, ", "), strings.Join(parts, ", "))
	data := map[string]any{"fired": fired, "resolved": resolved, "names": names}
	return append(evs, Event{Kind: EventAlertsBatch, Text: text, Data: data})
}

// whereLabels name where an alert fires, to tell alerts of the same name
// apart in the timeline; the first one an alert has is shown.
var whereLabels = []string{"instance", "pod", "host", "node"}

// alertEvent is the timeline event of one change.
func alertEvent(c AlertChange) Event {
	al := c.Alert
	kind, verb := EventAlertFiring, "fired"
	if c.Status == AlertResolved {
		kind, verb = EventAlertResolved, "resolved"
	} else if !c.First {
		verb = "fired again"
	}
	text := al.Name()
	for _, l := range whereLabels {
		if v := al.Labels[l]; v != "" {
			text += " on " + v
			break
		}
	}
	text += " " + verb
	if al.Title != "" && al.Title != al.Name() {
		text += ": " + al.Title
	}
	data := map[string]any{
		"alert_id":    al.ID,
		"source":      al.Source,
		"fingerprint": al.Fingerprint,
		"name":        al.Name(),
		"status":      string(c.Status),
		"severity":    string(al.Severity),
		"labels":      al.Labels,
	}
	if s := al.Annotations["summary"]; s != "" {
		data["summary"] = s
	}
	if al.Description != "" {
		data["description"] = truncate(al.Description, 1000)
	}
	if al.RunbookURL != "" {
		data["runbook_url"] = al.RunbookURL
	}
	if al.GeneratorURL != "" {
		data["generator_url"] = al.GeneratorURL
	}
	if len(al.Links) > 0 {
		data["links"] = al.Links
	}
	if !al.StartsAt.IsZero() {
		data["starts_at"] = al.StartsAt.UTC().Format(time.RFC3339)
	}
	if c.Status == AlertResolved && !al.EndsAt.IsZero() {
		data["ends_at"] = al.EndsAt.UTC().Format(time.RFC3339)
	}
	return Event{Kind: kind, Text: truncate(text, MaxTitleLen+100), Data: data}
}

func (a *AlertService) tellListeners(ctx context.Context, tx AlertTx, g *AlertGroup, inc *Incident, declared, firing bool, changes []AlertChange) error {
	var sev Severity
	for _, c := range changes {
		if s := c.Alert.Severity; s.Valid() && (!sev.Valid() || s.AtLeast(sev)) && (c.Status == AlertFiring || !firing) {
			sev = s
		}
	}
	gc := *g
	c := AlertGroupChange{Group: &gc, Firing: firing, Severity: sev, Incident: inc, Declared: declared}
	for _, l := range a.listeners {
		if err := l.AlertGroupChanged(ctx, tx, c); err != nil {
			return err
		}
	}
	return nil
}

// DeclareGroup declares an incident for a group in triage (a person pressed
// "Declare incident"). It is idempotent: when the group already has an open
// incident, that incident is returned.
func (a *AlertService) DeclareGroup(ctx context.Context, groupID int64, actor Actor) (*Incident, error) {
	var out *Incident
	err := a.store.WithAlertTx(ctx, func(tx AlertTx) error {
		g, err := tx.AlertGroup(ctx, groupID)
		if err != nil {
			return err
		}
		newEpisode := false
		if g.IncidentID != 0 {
			inc, err := tx.Incident(ctx, g.IncidentID)
			if err != nil {
				return err
			}
			if inc.Status.Open() {
				out = inc
				return nil
			}
			g.Episode++
			g.IncidentID, newEpisode = 0, true
		}
		fs, err := tx.GroupFiring(ctx, g.ID)
		if err != nil {
			return err
		}
		if newEpisode {
			g.EpisodeStart = fs.Since
			if g.EpisodeStart.IsZero() {
				g.EpisodeStart = a.incidents.Now()
			}
		}
		inc, err := a.declareGroup(ctx, tx, g, fs, actor)
		if err != nil {
			return err
		}
		g.Active = true
		if _, err := tx.AttachAlerts(ctx, g.ID, nil, true, inc.ID); err != nil {
			return err
		}
		out = inc
		if err := a.tellListeners(ctx, tx, g, inc, true, fs.Count > 0, nil); err != nil {
			return err
		}
		g.UpdatedAt = a.incidents.Now()
		return tx.UpdateAlertGroup(ctx, g)
	})
	if err != nil {
		return nil, err
	}
	a.notify()
	return out, nil
}

// truncate shortens s to at most n runes, ending with "…" when cut.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
