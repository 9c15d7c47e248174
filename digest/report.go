package digest

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/warroomhq/warroom/incidents"
)

// The thresholds of the review's lists.
const (
	// repeatAt is how many incidents in the period make a service or an
	// alert name a repeat offender.
	repeatAt = 2
	// noisiestGroups is how many of the noisiest alert groups are listed.
	noisiestGroups = 5
	// noisyAt is how many firings without an incident make an alert name
	// noise worth looking at.
	noisyAt = 3
)

// Report is the weekly incident review: the period [From, To) against the
// period of the same length just before it, [PreviousFrom, From).
//
// An incident is opened in a period when it was declared in it, and
// resolved in it when its last resolution falls in it (a reopened incident
// is not resolved until it is resolved again). Severities and services are
// the incidents' current ones.
type Report struct {
	From         time.Time `json:"from"`
	To           time.Time `json:"to"`
	PreviousFrom time.Time `json:"previous_from"`

	Opened   Trend `json:"opened"`
	Resolved Trend `json:"resolved"`
	// OpenAtEnd counts the incidents declared before To and not resolved
	// by then, however old.
	OpenAtEnd int `json:"open_at_end"`
	// BySeverity has every severity, worst first.
	BySeverity []SeverityCounts `json:"by_severity"`
	// ByService has every service with an incident opened or resolved in
	// either period (an incident without a service under ""), most opened
	// first, then most resolved, then by name.
	ByService []ServiceCounts `json:"by_service"`

	// TimeToAcknowledge is DetectedAt to AcknowledgedAt, over the
	// incidents acknowledged in each period.
	TimeToAcknowledge ResponseTime `json:"time_to_acknowledge"`
	// TimeToResolve is DetectedAt to ResolvedAt, over the incidents
	// resolved in each period.
	TimeToResolve ResponseTime `json:"time_to_resolve"`
	// Longest is the longest of the incidents resolved in the period and
	// of those still open at To (counted until To); nil when there are
	// none.
	Longest *LongestIncident `json:"longest"`

	// RepeatServices are the services with at least two incidents opened
	// in the period, most first, then by name.
	RepeatServices []RepeatService `json:"repeat_services"`
	// RepeatAlerts are the alert names that fired in the period and are
	// attached to at least two incidents, most incidents first, then by
	// name.
	RepeatAlerts []NameActivity `json:"repeat_alerts"`

	Postmortems PostmortemStatus `json:"postmortems"`
	ActionItems ActionItemStatus `json:"action_items"`

	// NoisiestGroups are the five alert groups that fired most in the
	// period, most first, then by key.
	NoisiestGroups []GroupActivity `json:"noisiest_groups"`
	// FiredWithoutIncident are the alert names that fired at least three
	// times in the period and are attached to no incident, most firings
	// first, then by name.
	FiredWithoutIncident []NameActivity `json:"fired_without_incident"`
}

// Trend is a count in the period and in the period before it.
type Trend struct {
	Current  int `json:"current"`
	Previous int `json:"previous"`
	Change   int `json:"change"` // Current minus Previous
}

func trend(current, previous int) Trend {
	return Trend{Current: current, Previous: previous, Change: current - previous}
}

// SeverityCounts is the incidents of one severity.
type SeverityCounts struct {
	Severity incidents.Severity `json:"severity"`
	Opened   Trend              `json:"opened"`
	Resolved Trend              `json:"resolved"`
}

// ServiceCounts is the incidents of one service.
type ServiceCounts struct {
	Service  string `json:"service"`
	Opened   Trend  `json:"opened"`
	Resolved Trend  `json:"resolved"`
}

// Duration is a time.Duration that JSON shows as whole seconds.
type Duration time.Duration

// MarshalJSON writes the duration as a number of seconds, rounded down.
func (d Duration) MarshalJSON() ([]byte, error) {
	return strconv.AppendInt(nil, int64(time.Duration(d)/time.Second), 10), nil
}

// UnmarshalJSON reads a number of seconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	n, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		return fmt.Errorf("a duration is a whole number of seconds: %w", err)
	}
	*d = Duration(time.Duration(n) * time.Second)
	return nil
}

// DurationStats sums up the durations of Count incidents. Median and P90
// are nearest-rank percentiles: of the n durations in ascending order, the
// p-th percentile is the one at rank ⌈p·n/100⌉ (counting from 1). Each is
// thus an actual incident's duration; with an even count the median is
// the lower of the two middle ones. Both are 0 when Count is.
type DurationStats struct {
	Count  int      `json:"count"`
	Median Duration `json:"median_seconds"`
	P90    Duration `json:"p90_seconds"`
}

// ResponseTime is one measure in the period and in the period before it.
type ResponseTime struct {
	Current  DurationStats `json:"current"`
	Previous DurationStats `json:"previous"`
}

// IncidentRef names an incident in the report.
type IncidentRef struct {
	ID       incidents.ID       `json:"id"`
	Title    string             `json:"title"`
	Severity incidents.Severity `json:"severity"`
	Service  string             `json:"service"`
	Status   incidents.Status   `json:"status"` // as it is now, not at To
}

func refOf(inc *incidents.Incident) IncidentRef {
	return IncidentRef{ID: inc.ID, Title: inc.Title, Severity: inc.Severity, Service: inc.Service, Status: inc.Status}
}

// LongestIncident is the incident that lasted longest.
type LongestIncident struct {
	IncidentRef
	Duration Duration `json:"duration_seconds"`
	// Open is true when the incident was still open at To: Duration runs
	// until To.
	Open bool `json:"open"`
}

// RepeatService is a service with several incidents opened in the period.
type RepeatService struct {
	Service   string         `json:"service"`
	Incidents []incidents.ID `json:"incidents"` // ascending
}

// PostmortemSource tells which incidents have a postmortem. The postmortem
// feature implements it; Build works without one.
type PostmortemSource interface {
	// Postmortems returns the postmortems of those incidents among ids
	// that have one; the others are absent from the map.
	Postmortems(ctx context.Context, ids []incidents.ID) (map[incidents.ID]Postmortem, error)
}

// Postmortem is an incident's postmortem, as its pull request stands.
type Postmortem struct {
	URL   string           `json:"url"` // the pull request
	State PullRequestState `json:"state"`
}

// PullRequestState is where a postmortem's pull request is.
type PullRequestState string

// The states of a pull request. A draft pull request is open.
const (
	PullRequestOpen   PullRequestState = "open"
	PullRequestMerged PullRequestState = "merged"
	PullRequestClosed PullRequestState = "closed" // without merging: no postmortem after all
)

// PostmortemStatus is the postmortems of the period's sev1 and sev2
// incidents: those declared or resolved in the period.
type PostmortemStatus struct {
	// Tracked is false when Build had no PostmortemSource: every sev1 and
	// sev2 incident is then listed as missing one.
	Tracked bool `json:"tracked"`
	// Missing are the incidents without a postmortem, or whose pull
	// request was closed without merging, by ID.
	Missing []IncidentRef `json:"missing"`
	// OpenPullRequests are the postmortems still in review, by incident.
	OpenPullRequests []PostmortemPullRequest `json:"open_pull_requests"`
}

// PostmortemPullRequest is a postmortem's open pull request.
type PostmortemPullRequest struct {
	IncidentRef
	URL string `json:"url"`
}

// ActionItemSource lists the follow-up work of incidents. The postmortem
// feature implements it; Build works without one.
type ActionItemSource interface {
	// ActionItems returns the action items of the incidents among ids.
	ActionItems(ctx context.Context, ids []incidents.ID) ([]ActionItem, error)
}

// ActionItem is one piece of follow-up work from an incident.
type ActionItem struct {
	Incident incidents.ID `json:"incident"`
	// Created is when the item was written down; the digest shows its age.
	Created time.Time `json:"created"`
	Title   string    `json:"title"`
	Owner   string    `json:"owner"`
	URL     string    `json:"url"`
	Done    bool      `json:"done"`
}

// ActionItemStatus is the action items of the period's incidents (those
// declared or resolved in the period).
type ActionItemStatus struct {
	// Tracked is false when Build had no ActionItemSource.
	Tracked bool `json:"tracked"`
	// Open are the items not done yet, oldest first.
	Open []ActionItem `json:"open"`
	Done int          `json:"done"`
}

// Option configures Build.
type Option func(*options)

type options struct {
	postmortems PostmortemSource
	actionItems ActionItemSource
}

// WithPostmortems makes the report say which postmortems exist.
func WithPostmortems(src PostmortemSource) Option {
	return func(o *options) { o.postmortems = src }
}

// WithActionItems makes the report list open action items.
func WithActionItems(src ActionItemSource) Option {
	return func(o *options) { o.actionItems = src }
}

// period is a half-open interval of time [from, to).
type period struct{ from, to time.Time }

// has reports whether t, a key time that may be "not yet", is in p.
func (p period) has(t time.Time) bool {
	return !t.IsZero() && !t.Before(p.from) && t.Before(p.to)
}

// Build reads the period [from, to) and the one before it from src and sums
// them up. A zero from means Period before to.
func Build(ctx context.Context, src Source, from, to time.Time, opts ...Option) (*Report, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if from.IsZero() {
		from = to.Add(-Period)
	}
	if !from.Before(to) {
		return nil, fmt.Errorf("the digest period from %s to %s is empty", from.Format(time.RFC3339), to.Format(time.RFC3339))
	}
	cur := period{from, to}
	prev := period{from.Add(-to.Sub(from)), from}
	incs, err := src.IncidentsBetween(ctx, prev.from, to)
	if err != nil {
		return nil, fmt.Errorf("reading incidents for the digest: %w", err)
	}
	act, err := src.AlertActivity(ctx, from, to)
	if err != nil {
		return nil, fmt.Errorf("reading alert activity for the digest: %w", err)
	}
	r := &Report{From: from, To: to, PreviousFrom: prev.from}
	r.countIncidents(incs, cur, prev)
	r.responseTimes(incs, cur, prev)
	r.findRepeats(incs, cur, act)
	r.alertHygiene(act)
	// The incidents the review talks about: declared or resolved in it.
	var talked []*incidents.Incident
	for _, inc := range incs {
		if cur.has(inc.DeclaredAt) || cur.has(inc.ResolvedAt) {
			talked = append(talked, inc)
		}
	}
	slices.SortFunc(talked, func(a, b *incidents.Incident) int { return cmp.Compare(a.ID, b.ID) })
	if err := r.postmortems(ctx, o.postmortems, talked); err != nil {
		return nil, err
	}
	if err := r.actionItems(ctx, o.actionItems, talked); err != nil {
		return nil, err
	}
	return r, nil
}

// countIncidents fills the counts and their breakdowns.
func (r *Report) countIncidents(incs []*incidents.Incident, cur, prev period) {
	// For each severity and service: opened now, before, resolved now, before.
	type counts [4]int
	bySev := map[incidents.Severity]*counts{}
	bySvc := map[string]*counts{}
	var total counts
	for _, inc := range incs {
		var c counts
		for i, hit := range []bool{cur.has(inc.DeclaredAt), prev.has(inc.DeclaredAt), cur.has(inc.ResolvedAt), prev.has(inc.ResolvedAt)} {
			if hit {
				c[i] = 1
			}
		}
		if c != (counts{}) {
			for _, m := range []*counts{&total, at(bySev, inc.Severity), at(bySvc, inc.Service)} {
				for i := range m {
					m[i] += c[i]
				}
			}
		}
		if inc.DeclaredAt.Before(cur.to) && !resolvedBy(inc, cur.to) {
			r.OpenAtEnd++
		}
	}
	r.Opened, r.Resolved = trend(total[0], total[1]), trend(total[2], total[3])

	sevs := slices.Clone(incidents.Severities)
	var other []incidents.Severity
	for s := range bySev {
		if !s.Valid() {
			other = append(other, s)
		}
	}
	slices.Sort(other)
	r.BySeverity = []SeverityCounts{}
	for _, s := range append(sevs, other...) {
		c := at(bySev, s)
		r.BySeverity = append(r.BySeverity, SeverityCounts{Severity: s, Opened: trend(c[0], c[1]), Resolved: trend(c[2], c[3])})
	}
	r.ByService = []ServiceCounts{}
	for svc, c := range bySvc {
		r.ByService = append(r.ByService, ServiceCounts{Service: svc, Opened: trend(c[0], c[1]), Resolved: trend(c[2], c[3])})
	}
	slices.SortFunc(r.ByService, func(a, b ServiceCounts) int {
		return cmp.Or(-cmp.Compare(a.Opened.Current, b.Opened.Current),
			-cmp.Compare(a.Resolved.Current, b.Resolved.Current), cmp.Compare(a.Service, b.Service))
	})
}

// at returns m[k], adding a zero value first if needed.
func at[K comparable, V any](m map[K]*V, k K) *V {
	v := m[k]
	if v == nil {
		v = new(V)
		m[k] = v
	}
	return v
}

// resolvedBy reports whether inc's last resolution came before t.
func resolvedBy(inc *incidents.Incident, t time.Time) bool {
	return !inc.ResolvedAt.IsZero() && inc.ResolvedAt.Before(t)
}

// start is when an incident began: its detection, or its declaration.
func start(inc *incidents.Incident) time.Time {
	if inc.DetectedAt.IsZero() {
		return inc.DeclaredAt
	}
	return inc.DetectedAt
}

// since is how long after inc began t came; never negative.
func since(inc *incidents.Incident, t time.Time) time.Duration {
	return max(t.Sub(start(inc)), 0)
}

// responseTimes fills the times to acknowledge and resolve, and the longest
// incident.
func (r *Report) responseTimes(incs []*incidents.Incident, cur, prev period) {
	var tta, ttr [2][]time.Duration
	for _, inc := range incs {
		for i, p := range []period{cur, prev} {
			if p.has(inc.AcknowledgedAt) {
				tta[i] = append(tta[i], since(inc, inc.AcknowledgedAt))
			}
			if p.has(inc.ResolvedAt) {
				ttr[i] = append(ttr[i], since(inc, inc.ResolvedAt))
			}
		}
		var d time.Duration
		open := false
		switch {
		case cur.has(inc.ResolvedAt):
			d = since(inc, inc.ResolvedAt)
		case inc.DeclaredAt.Before(cur.to) && !resolvedBy(inc, cur.to):
			d, open = since(inc, cur.to), true
		default:
			continue
		}
		if l := r.Longest; l == nil || time.Duration(l.Duration) < d || (time.Duration(l.Duration) == d && inc.ID < l.ID) {
			r.Longest = &LongestIncident{IncidentRef: refOf(inc), Duration: Duration(d), Open: open}
		}
	}
	r.TimeToAcknowledge = ResponseTime{Current: summarize(tta[0]), Previous: summarize(tta[1])}
	r.TimeToResolve = ResponseTime{Current: summarize(ttr[0]), Previous: summarize(ttr[1])}
}

// summarize computes the count, median and 90th percentile of ds, which it
// sorts.
func summarize(ds []time.Duration) DurationStats {
	slices.Sort(ds)
	return DurationStats{Count: len(ds), Median: Duration(nearestRank(ds, 50)), P90: Duration(nearestRank(ds, 90))}
}

// nearestRank returns the p-th percentile (0 < p <= 100) of sorted by the
// nearest-rank method: the element at rank ⌈p·n/100⌉, counting from 1. It
// returns 0 for no elements.
func nearestRank(sorted []time.Duration, p int) time.Duration {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	rank := (p*n + 99) / 100 // ⌈p·n/100⌉ in integers
	return sorted[min(max(rank, 1), n)-1]
}

// findRepeats fills the repeat offenders.
func (r *Report) findRepeats(incs []*incidents.Incident, cur period, act AlertActivity) {
	bySvc := map[string][]incidents.ID{}
	for _, inc := range incs {
		if inc.Service != "" && cur.has(inc.DeclaredAt) {
			bySvc[inc.Service] = append(bySvc[inc.Service], inc.ID)
		}
	}
	r.RepeatServices = []RepeatService{}
	for svc, ids := range bySvc {
		if len(ids) >= repeatAt {
			slices.Sort(ids)
			r.RepeatServices = append(r.RepeatServices, RepeatService{Service: svc, Incidents: ids})
		}
	}
	slices.SortFunc(r.RepeatServices, func(a, b RepeatService) int {
		return cmp.Or(-cmp.Compare(len(a.Incidents), len(b.Incidents)), cmp.Compare(a.Service, b.Service))
	})
	r.RepeatAlerts = []NameActivity{}
	for _, n := range act.Names {
		if n.Incidents >= repeatAt {
			r.RepeatAlerts = append(r.RepeatAlerts, n)
		}
	}
	slices.SortFunc(r.RepeatAlerts, func(a, b NameActivity) int {
		return cmp.Or(-cmp.Compare(a.Incidents, b.Incidents), cmp.Compare(a.Name, b.Name))
	})
}

// alertHygiene fills the noisiest groups and the names that fire without
// an incident.
func (r *Report) alertHygiene(act AlertActivity) {
	groups := append([]GroupActivity{}, act.Groups...)
	slices.SortFunc(groups, func(a, b GroupActivity) int {
		return cmp.Or(-cmp.Compare(a.Fired, b.Fired), cmp.Compare(a.Key, b.Key))
	})
	r.NoisiestGroups = groups[:min(len(groups), noisiestGroups)]
	for i := range r.NoisiestGroups {
		if r.NoisiestGroups[i].Incidents == nil {
			r.NoisiestGroups[i].Incidents = []incidents.ID{}
		}
	}
	r.FiredWithoutIncident = []NameActivity{}
	for _, n := range act.Names {
		if n.Fired >= noisyAt && n.Incidents == 0 {
			r.FiredWithoutIncident = append(r.FiredWithoutIncident, n)
		}
	}
	slices.SortFunc(r.FiredWithoutIncident, func(a, b NameActivity) int {
		return cmp.Or(-cmp.Compare(a.Fired, b.Fired), cmp.Compare(a.Name, b.Name))
	})
}

// postmortems fills the postmortem section from the period's incidents,
// sorted by ID.
func (r *Report) postmortems(ctx context.Context, src PostmortemSource, talked []*incidents.Incident) error {
	var severe []*incidents.Incident
	var ids []incidents.ID
	for _, inc := range talked {
		if inc.Severity.AtLeast(incidents.Sev2) {
			severe = append(severe, inc)
			ids = append(ids, inc.ID)
		}
	}
	var pms map[incidents.ID]Postmortem
	if src != nil && len(ids) > 0 {
		var err error
		if pms, err = src.Postmortems(ctx, ids); err != nil {
			return fmt.Errorf("reading postmortems for the digest: %w", err)
		}
	}
	r.Postmortems = PostmortemStatus{Tracked: src != nil, Missing: []IncidentRef{}, OpenPullRequests: []PostmortemPullRequest{}}
	for _, inc := range severe {
		pm, ok := pms[inc.ID]
		switch {
		case !ok || pm.State == PullRequestClosed:
			r.Postmortems.Missing = append(r.Postmortems.Missing, refOf(inc))
		case pm.State == PullRequestOpen:
			r.Postmortems.OpenPullRequests = append(r.Postmortems.OpenPullRequests,
				PostmortemPullRequest{IncidentRef: refOf(inc), URL: pm.URL})
		}
	}
	return nil
}

// actionItems fills the action-item section from the period's incidents.
func (r *Report) actionItems(ctx context.Context, src ActionItemSource, talked []*incidents.Incident) error {
	r.ActionItems = ActionItemStatus{Tracked: src != nil, Open: []ActionItem{}}
	if src == nil || len(talked) == 0 {
		return nil
	}
	ids := make([]incidents.ID, len(talked))
	for i, inc := range talked {
		ids[i] = inc.ID
	}
	items, err := src.ActionItems(ctx, ids)
	if err != nil {
		return fmt.Errorf("reading action items for the digest: %w", err)
	}
	for _, it := range items {
		if it.Done {
			r.ActionItems.Done++
		} else {
			r.ActionItems.Open = append(r.ActionItems.Open, it)
		}
	}
	// Oldest first: what has waited longest is on the agenda first.
	slices.SortStableFunc(r.ActionItems.Open, func(a, b ActionItem) int {
		return cmp.Or(a.Created.Compare(b.Created), cmp.Compare(a.Incident, b.Incident), cmp.Compare(a.Title, b.Title))
	})
	return nil
}

// Tracking returns the options that src supports: WithPostmortems when it
// is a PostmortemSource, WithActionItems when it is an ActionItemSource.
// The SQLite store is both, so a digest built from it tracks postmortems
// and action items.
func Tracking(src any) []Option {
	var opts []Option
	if pm, ok := src.(PostmortemSource); ok {
		opts = append(opts, WithPostmortems(pm))
	}
	if ai, ok := src.(ActionItemSource); ok {
		opts = append(opts, WithActionItems(ai))
	}
	return opts
}
