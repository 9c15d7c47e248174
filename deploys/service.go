package deploys

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/warroomhq/warroom/incidents"
)

// Timeline event kinds that the deploys service records.
const (
	// EventDeploy is a deploy of the incident's service that was reported
	// while the incident was open (and each change of its status). Data has
	// "deploy_id", "service", "environment", "source", "ref", "sha",
	// "status", "url".
	EventDeploy incidents.EventKind = "deploy"
	// The steps of a rollback. Data has "rollback_id", "service",
	// "mechanism", "from_ref", "from_sha", "to_ref", "to_sha", and where
	// known "url" and "message".
	EventRollbackProposed  incidents.EventKind = "rollback.proposed"
	EventRollbackRefused   incidents.EventKind = "rollback.refused"
	EventRollbackConfirmed incidents.EventKind = "rollback.confirmed"
	EventRollbackStarted   incidents.EventKind = "rollback.started"
	EventRollbackProgress  incidents.EventKind = "rollback.progress"
	EventRollbackSucceeded incidents.EventKind = "rollback.succeeded"
	EventRollbackFailed    incidents.EventKind = "rollback.failed"
	EventRollbackCanceled  incidents.EventKind = "rollback.canceled"
	// EventRollbackUnknown is a rollback Warroom stopped following before
	// it ended; the text says where to look.
	EventRollbackUnknown incidents.EventKind = "rollback.unknown"
	// EventFreeze and EventUnfreeze are a manual freeze of the incident's
	// service set or lifted. Data has "service" and "reason".
	EventFreeze   incidents.EventKind = "deploys.frozen"
	EventUnfreeze incidents.EventKind = "deploys.unfrozen"
)

// Defaults for the zero fields of Options.
const (
	DefaultFollowEvery     = 15 * time.Second
	DefaultFollowFor       = 2 * time.Hour
	DefaultProviderTimeout = 10 * time.Second
	// DefaultProposalTTL is how long a proposed rollback may be confirmed:
	// after that, what is live may have changed since it was proposed.
	DefaultProposalTTL = 30 * time.Minute
	// RecentLimit is how many deploys Recent reads when asked for 0.
	RecentLimit = 10
)

// ServiceConfig is what the deploys service knows of one service.
type ServiceConfig struct {
	// Environment, when set, keeps stored deploys to other environments
	// out of Recent.
	Environment string
	// Providers read the service's deploys, one per configured source.
	// Without any, Recent shows only the deploys reported to Warroom.
	Providers []Provider
	// Rollbacker rolls the service back; nil when no rollback is
	// configured.
	Rollbacker Rollbacker
	// Approvers may confirm the service's rollbacks besides the
	// incident's lead: configured people's names (or Slack user IDs).
	Approvers []string
	// HasDeploySources is true when deploys of the service are reported
	// to Warroom (a deploy webhook), so that it has deploys to show even
	// without a provider.
	HasDeploySources bool
}

// Options configure a Service.
type Options struct {
	Incidents *incidents.Service
	Store     Store
	// Services are the configured services, by name. A service that is not
	// here is unknown: its deploys are refused and it cannot be frozen.
	Services map[string]ServiceConfig
	// People maps a configured person's name to the actor they act as
	// ("slack:U01ALICE"), to recognise leads and approvers named in config.
	People map[string]incidents.Actor
	// Resolver, when set, tells who the people that People leaves out are
	// (people configured by email only), so that they may confirm
	// rollbacks as approvers. Optional.
	Resolver PeopleResolver
	// FollowEvery is how often a running rollback's progress is asked
	// (default 15s); FollowFor how long it is followed at most (default 2h).
	FollowEvery, FollowFor time.Duration
	// ProviderTimeout bounds each provider's Recent (default 10s).
	ProviderTimeout time.Duration
	// ProposalTTL is how long a proposed rollback may be confirmed
	// (default 30m); a later confirmation is refused and it is canceled.
	ProposalTTL time.Duration
	// Notify wakes the job queue after a change enqueued a job. Optional.
	Notify func()
	// OnOutcome, when set, is told of each rollback that reached a final
	// state (succeeded, failed, canceled, unknown), once, after it is
	// stored: for metrics.
	OnOutcome func(m Mechanism, outcome RollbackState)
	Now       func() time.Time // default time.Now
	Logger    *slog.Logger     // default slog.Default()
}

// Service holds the use cases of deploys, rollbacks and freezes. The Slack
// bot, the HTTP API and the inbound deploy webhooks all go through it.
type Service struct {
	opts Options

	// reads is what each service's providers answered when Recent last
	// read them, for Known.
	mu    sync.Mutex
	reads map[string]providerRead
}

// providerRead is what a service's providers answered at one time.
type providerRead struct {
	at      time.Time
	deploys []Deploy
	errors  []SourceError
}

var _ Recorder = (*Service)(nil)

// NewService returns the deploys service.
func NewService(opts Options) (*Service, error) {
	if opts.Incidents == nil || opts.Store == nil {
		return nil, errors.New("deploys: Incidents and Store are required")
	}
	if opts.FollowEvery <= 0 {
		opts.FollowEvery = DefaultFollowEvery
	}
	if opts.FollowFor <= 0 {
		opts.FollowFor = DefaultFollowFor
	}
	if opts.ProviderTimeout <= 0 {
		opts.ProviderTimeout = DefaultProviderTimeout
	}
	if opts.ProposalTTL <= 0 {
		opts.ProposalTTL = DefaultProposalTTL
	}
	if opts.Notify == nil {
		opts.Notify = func() {}
	}
	if opts.OnOutcome == nil {
		opts.OnOutcome = func(Mechanism, RollbackState) {}
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Services == nil {
		opts.Services = map[string]ServiceConfig{}
	}
	return &Service{opts: opts, reads: map[string]providerRead{}}, nil
}

func (s *Service) now() time.Time { return s.opts.Now().UTC() }

// Services lists the configured services' names, sorted.
func (s *Service) Services() []string {
	names := make([]string, 0, len(s.opts.Services))
	for n := range s.opts.Services {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Config returns the configuration of a service, and false for an unknown
// one.
func (s *Service) Config(service string) (ServiceConfig, bool) {
	c, ok := s.opts.Services[service]
	return c, ok
}

// HasDeploys reports whether the service's deploys can be shown: it has a
// provider or deploys are reported to Warroom for it.
func (s *Service) HasDeploys(service string) bool {
	c, ok := s.opts.Services[service]
	return ok && (len(c.Providers) > 0 || c.HasDeploySources)
}

// RollbackMechanism reports how the service is rolled back, and false when
// no rollback is configured.
func (s *Service) RollbackMechanism(service string) (Mechanism, bool) {
	c, ok := s.opts.Services[service]
	if !ok || c.Rollbacker == nil {
		return "", false
	}
	return c.Rollbacker.Mechanism(), true
}

// UnknownServiceError is a service name that is not configured.
type UnknownServiceError struct{ Service string }

func (e *UnknownServiceError) Error() string {
	if e.Service == "" {
		return "say which service: it is missing"
	}
	return fmt.Sprintf("%q is not a configured service", e.Service)
}

// service returns a configured service's configuration, or a validation
// error saying it is unknown.
func (s *Service) service(name string) (ServiceConfig, error) {
	c, ok := s.opts.Services[name]
	if !ok {
		return c, &incidents.ValidationError{Field: "service", Msg: (&UnknownServiceError{Service: name}).Error()}
	}
	return c, nil
}

// Limits on deploys reported from outside.
const (
	maxDeployField = 1000
	maxDeployText  = incidents.MaxTextLen
)

// normalize checks a reported deploy and fills its defaults.
func (s *Service) normalize(d *Deploy) error {
	d.Service = strings.TrimSpace(d.Service)
	d.ExternalID = strings.TrimSpace(d.ExternalID)
	if _, err := s.service(d.Service); err != nil {
		return err
	}
	switch d.Source {
	case SourceGitHubDeployments, SourceGitHubActions, SourceWebhook:
	default:
		return &incidents.ValidationError{Field: "source", Msg: fmt.Sprintf("%q is not a deploy source", d.Source)}
	}
	if d.ExternalID == "" {
		return &incidents.ValidationError{Field: "id", Msg: "a deploy needs an ID that its source gave it"}
	}
	if d.Status == "" {
		d.Status = StatusUnknown
	}
	switch d.Status {
	case StatusPending, StatusRunning, StatusSuccess, StatusFailed, StatusInactive, StatusCanceled, StatusUnknown:
	default:
		return &incidents.ValidationError{Field: "status", Msg: fmt.Sprintf("%q is not a deploy status; use pending, running, success, failed, inactive or canceled", d.Status)}
	}
	for name, v := range map[string]string{"id": d.ExternalID, "environment": d.Environment, "ref": d.Ref, "sha": d.SHA,
		"creator": d.Creator, "url": d.URL} {
		if utf8.RuneCountInString(v) > maxDeployField {
			return &incidents.ValidationError{Field: name, Msg: fmt.Sprintf("the deploy's %s is too long (at most %d characters)", name, maxDeployField)}
		}
	}
	if utf8.RuneCountInString(d.Description) > maxDeployText {
		return &incidents.ValidationError{Field: "description", Msg: fmt.Sprintf("the deploy's description is too long (at most %d characters)", maxDeployText)}
	}
	d.StartedAt, d.FinishedAt = d.StartedAt.UTC(), d.FinishedAt.UTC()
	return nil
}

// mergeDeploy applies a report d over the stored deploy before (nil for a
// new one), and reports false for a stale report that changes nothing: a
// finished deploy never goes back to unfinished (a late or redelivered
// "running"), a report of an earlier Attempt is stale, and a report without
// a status, times or attempt keeps the stored ones; a later Attempt (a
// re-run) replaces the stored deploy whatever its status. Attempt 0 is
// unknown (a source without attempts, or a deploy stored before Warroom
// kept them): it is no re-run, nor stale, nor earlier than any. A deploy
// reported without a start started now; a finished one without an end
// finished now.
func (s *Service) mergeDeploy(before *Deploy, d *Deploy) bool {
	switch {
	case before == nil:
	case d.Attempt > 0 && d.Attempt < before.Attempt:
		return false // an earlier attempt's report, late
	case before.Attempt > 0 && d.Attempt > before.Attempt:
		before = nil // a re-run: it starts over
	case d.Attempt == 0:
		d.Attempt = before.Attempt
	}
	if before != nil {
		if d.Status == StatusUnknown {
			d.Status = before.Status
		}
		if before.Status.Done() && !d.Status.Done() {
			return false
		}
		if d.StartedAt.IsZero() {
			d.StartedAt = before.StartedAt
		}
		if d.FinishedAt.IsZero() && d.Status.Done() {
			d.FinishedAt = before.FinishedAt
		}
	}
	if d.StartedAt.IsZero() {
		d.StartedAt = s.now()
	}
	if d.FinishedAt.IsZero() && d.Status.Done() && d.Status != StatusInactive {
		d.FinishedAt = s.now()
	}
	return true
}

// RecordDeploy stores a deploy reported by a webhook, or updates the stored
// one with the same Source and ExternalID, and returns it as stored. A new
// deploy, or a change of its status, goes on the timeline of every open
// incident of its service that it happened during. Reporting the same
// deploy again changes nothing, and neither does a stale report that would
// move a finished deploy back to pending or running; times and a status
// that a report leaves out are kept.
func (s *Service) RecordDeploy(ctx context.Context, d Deploy) (Deploy, error) {
	if err := s.normalize(&d); err != nil {
		return Deploy{}, err
	}
	var queued bool
	err := s.opts.Store.WithDeployTx(ctx, func(tx Tx) error {
		before, err := tx.FindDeploy(ctx, d.Source, d.ExternalID)
		if err != nil {
			return err
		}
		if !s.mergeDeploy(before, &d) {
			d = *before // stale: the stored deploy stays as it is
			return nil
		}
		if _, err := tx.SaveDeploy(ctx, &d); err != nil {
			return err
		}
		if before != nil && before.Status == d.Status && sameAttempt(before.Attempt, d.Attempt) {
			return nil
		}
		incs, err := tx.OpenIncidents(ctx, d.Service)
		if err != nil {
			return err
		}
		last := d.StartedAt
		if !d.FinishedAt.IsZero() {
			last = d.FinishedAt
		}
		for _, inc := range incs {
			if last.Before(inc.DetectedAt) {
				continue // over before the incident began
			}
			if _, err := s.opts.Incidents.RecordTx(ctx, tx, inc.ID, DeployActor(d), deployEvent(d)); err != nil {
				return err
			}
			queued = true
		}
		return nil
	})
	if err != nil {
		return Deploy{}, err
	}
	if queued {
		s.opts.Notify()
	}
	return d, nil
}

// sameAttempt reports whether a stored attempt and a reported one are the
// same try: equal, or the stored one unknown (0: stored before Warroom kept
// attempts, whose first read after the upgrade reports 1, or more).
func sameAttempt(stored, reported int) bool {
	return stored == reported || stored == 0
}

// DeployLabel names a deploy for people: "v1.4.2 (abc1234)".
func DeployLabel(d Deploy) string {
	short := ShortSHA(d.SHA)
	switch {
	case d.Ref != "" && short != "" && d.Ref != d.SHA:
		return d.Ref + " (" + short + ")"
	case d.Ref != "":
		return d.Ref
	case short != "":
		return short
	}
	return "an unknown version"
}

// ShortSHA is the first 7 characters of a commit SHA.
func ShortSHA(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}

func deployEvent(d Deploy) incidents.Event {
	return incidents.Event{Kind: EventDeploy, Text: DeployText(d), Data: map[string]any{
		"deploy_id": d.ID, "service": d.Service, "environment": d.Environment, "source": string(d.Source),
		"ref": d.Ref, "sha": d.SHA, "status": string(d.Status), "url": d.URL, "rollback": d.Rollback,
		"attempt": d.Attempt,
	}}
}

// Recent is a service's recent deploys, from its providers and from what
// was reported to Warroom.
type Recent struct {
	Service string
	// Deploys are newest first.
	Deploys []Deploy
	// Live is the deploy that is live now, and LastGood the last deploy
	// before it that went live with another version; nil when unknown.
	Live     *Deploy
	LastGood *Deploy
	// Errors are the providers that could not be read; Deploys has what
	// the others and the store know.
	Errors []SourceError
	// ReadAt is when the providers were read: now for Recent; for Known,
	// when Recent last read them (zero when it has not since Warroom
	// started, or the service has no provider).
	ReadAt time.Time
	// rolledBack are the deploys (by source and external ID) that were
	// rolled back from: never offered as a version to go back to.
	rolledBack map[string]bool
}

// RolledBack reports whether d was rolled back from: it was live when a
// rollback of its service was confirmed, or a later rollback deploy
// replaced it. It is not a version to go back to.
func (r Recent) RolledBack(d Deploy) bool { return r.rolledBack[deployKey(d)] }

func deployKey(d Deploy) string { return string(d.Source) + "\x00" + d.ExternalID }

// SourceError is a provider that could not be read.
type SourceError struct {
	Source Source
	Err    error
}

func (e SourceError) Error() string {
	return fmt.Sprintf("reading deploys from %s: %v", e.Source, e.Err)
}

// Recent returns up to limit deploys of service, newest first (RecentLimit
// when limit is 0), merged from its providers and the stored deploys, with
// what is live and the last good deploy before it. A provider that fails
// is reported in Errors and does not hide the others or the stored deploys.
// It calls the providers (GitHub): it runs in jobs, never in a request;
// requests use Known.
func (s *Service) Recent(ctx context.Context, service string, limit int) (Recent, error) {
	cfg, err := s.service(service)
	if err != nil {
		return Recent{}, err
	}
	if limit <= 0 {
		limit = RecentLimit
	}
	read := providerRead{at: s.now()}
	for _, p := range cfg.Providers {
		pctx, cancel := context.WithTimeout(ctx, s.opts.ProviderTimeout)
		// Read more than shown, to find the last good deploy behind a
		// few bad ones.
		ds, err := p.Recent(pctx, max(limit, 2*RecentLimit))
		cancel()
		if err != nil {
			s.opts.Logger.Warn("reading recent deploys failed", "service", service, "source", p.Source(), "error", err)
			read.errors = append(read.errors, SourceError{Source: p.Source(), Err: err})
			continue
		}
		read.deploys = append(read.deploys, ds...)
	}
	if len(cfg.Providers) > 0 {
		s.mu.Lock()
		s.reads[service] = read
		s.mu.Unlock()
	}
	return s.merge(ctx, service, cfg, limit, read)
}

// Known is Recent without calling any provider: the stored deploys and
// what the providers answered when Recent last read them (ReadAt says
// when). The HTTP API serves it, so that a request never waits on GitHub.
func (s *Service) Known(ctx context.Context, service string, limit int) (Recent, error) {
	cfg, err := s.service(service)
	if err != nil {
		return Recent{}, err
	}
	if limit <= 0 {
		limit = RecentLimit
	}
	s.mu.Lock()
	read := s.reads[service]
	s.mu.Unlock()
	return s.merge(ctx, service, cfg, limit, read)
}

// merge merges the stored deploys with what the providers answered. The
// provider's answer wins, except over a stored later attempt (as in
// mergeDeploy: 0 is unknown) or a stored end of the same attempt.
func (s *Service) merge(ctx context.Context, service string, cfg ServiceConfig, limit int, read providerRead) (Recent, error) {
	out := Recent{Service: service, Errors: read.errors, ReadAt: read.at}
	stored, err := s.opts.Store.Deploys(ctx, service, max(limit, 2*RecentLimit))
	if err != nil {
		return Recent{}, err
	}
	merged := map[string]Deploy{}
	add := func(d Deploy, fromProvider bool) {
		if d.Service == "" {
			d.Service = service
		}
		k := deployKey(d)
		prev, ok := merged[k]
		switch {
		case !ok:
		case !fromProvider:
			return
		case d.Attempt > 0 && d.Attempt < prev.Attempt:
			return // the stored one heard of a later attempt (a cached read)
		case prev.Attempt > 0 && d.Attempt > prev.Attempt:
			// a re-run the store has not heard of: the provider's
		case prev.Status.Done() && !d.Status.Done():
			return // the stored one heard it finish
		}
		if ok && d.ID == 0 {
			d.ID = prev.ID
		}
		merged[k] = d
	}
	for _, d := range stored {
		if cfg.Environment != "" && d.Environment != "" && d.Environment != cfg.Environment {
			continue
		}
		add(d, false)
	}
	for _, d := range read.deploys {
		add(d, true)
	}
	for _, d := range merged {
		out.Deploys = append(out.Deploys, d)
	}
	slices.SortFunc(out.Deploys, func(a, b Deploy) int {
		if c := deployTime(b).Compare(deployTime(a)); c != 0 {
			return c
		}
		return cmp.Compare(b.ExternalID, a.ExternalID)
	})
	rbs, err := s.opts.Store.ServiceRollbacks(ctx, service, 2*RecentLimit)
	if err != nil {
		return Recent{}, err
	}
	out.rolledBack = rolledBack(out.Deploys, rbs)
	out.Live, out.LastGood = liveAndLastGood(out.Deploys, out.rolledBack)
	if len(out.Deploys) > limit {
		out.Deploys = out.Deploys[:limit]
	}
	return out, nil
}

func deployTime(d Deploy) time.Time {
	if !d.StartedAt.IsZero() {
		return d.StartedAt
	}
	return d.FinishedAt
}

// rolledBack finds, in deploys sorted newest first, the deploys that were
// rolled back from: a deploy of the version a rollback went back from
// (confirmed, running or succeeded) that started before the rollback was
// proposed, and the deploy that was live before a rollback deploy replaced
// it. A later deploy of the same version (the fix, redeployed) is not.
func rolledBack(ds []Deploy, rbs []*Rollback) map[string]bool {
	bad := map[string]bool{}
	for _, rb := range rbs {
		switch rb.State {
		case RollbackConfirmed, RollbackRunning, RollbackSucceeded:
		default:
			continue
		}
		if rb.From.Ref == "" && rb.From.SHA == "" {
			continue
		}
		for _, d := range ds {
			if sameVersion(d, rb.From) && !deployTime(d).After(rb.ProposedAt) {
				bad[deployKey(d)] = true
			}
		}
	}
	for i, d := range ds {
		if !d.Rollback || !d.Live() {
			continue
		}
		for _, older := range ds[i+1:] {
			if older.Live() && !sameVersion(older, d) {
				bad[deployKey(older)] = true
				break
			}
		}
	}
	return bad
}

// liveAndLastGood finds, in deploys sorted newest first, the newest
// successful deploy and the newest deploy before it that went live with
// another version and was not rolled back from. When no deploy is live
// now, LastGood is the newest one that was.
func liveAndLastGood(ds []Deploy, rolledBack map[string]bool) (live, lastGood *Deploy) {
	i := slices.IndexFunc(ds, func(d Deploy) bool { return d.Status == StatusSuccess })
	if i >= 0 {
		l := ds[i]
		live = &l
	}
	for j := i + 1; j < len(ds); j++ {
		if ds[j].Live() && !rolledBack[deployKey(ds[j])] && (live == nil || !sameVersion(ds[j], *live)) {
			g := ds[j]
			return live, &g
		}
	}
	return live, nil
}

// SameVersion reports whether two deploys deployed the same version (the
// same commit, else the same ref).
func SameVersion(a, b Deploy) bool { return sameVersion(a, b) }

// sameVersion reports whether two deploys deployed the same thing.
func sameVersion(a, b Deploy) bool {
	if a.SHA != "" && b.SHA != "" {
		return strings.EqualFold(a.SHA, b.SHA)
	}
	return a.Ref != "" && a.Ref == b.Ref
}

// matchesRef reports whether d is what ref names: its ref, or a prefix of
// at least 7 characters of its SHA.
func matchesRef(d Deploy, ref string) bool {
	if d.Ref == ref {
		return true
	}
	return len(ref) >= 7 && d.SHA != "" && strings.HasPrefix(strings.ToLower(d.SHA), strings.ToLower(ref))
}
