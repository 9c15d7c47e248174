package oncall

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
)

// MaxShifts bounds the rotation shifts that one call of Shifts works
// through, so that a long period on a short rotation is an error rather
// than a long wait.
const MaxShifts = 10000

// maxYears bounds how far from a rotation's start it is computed.
const maxYears = 200

// Resolver answers who is on call, from the schedules and the overrides in
// the configuration and in an OverrideStore. It is safe for concurrent use.
type Resolver struct {
	schedules map[string]compiled
	store     OverrideStore
}

// compiled is a schedule with its rotation worked out.
type compiled struct {
	Schedule
	rot rotation
	// rotates is false for a schedule without members or a positive
	// length: only its overrides put anyone on call.
	rotates bool
}

// NewResolver returns a Resolver for schedules. store may be nil: then
// only the configuration's overrides count, and AddOverride fails.
func NewResolver(schedules map[string]Schedule, store OverrideStore) *Resolver {
	r := &Resolver{schedules: make(map[string]compiled, len(schedules)), store: store}
	for name, s := range schedules {
		s.Name = name
		if s.Location == nil {
			s.Location = time.UTC
		}
		s.Members = slices.Clone(s.Members)
		s.Overrides = slices.Clone(s.Overrides)
		c := compiled{Schedule: s, rotates: s.Every > 0 && len(s.Members) > 0 && !s.FirstHandoff.IsZero()}
		if c.rotates {
			c.rot = newRotation(s)
		}
		r.schedules[name] = c
	}
	return r
}

// ScheduleNames lists the schedules, sorted.
func (r *Resolver) ScheduleNames() []string {
	names := make([]string, 0, len(r.schedules))
	for n := range r.schedules {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Schedule returns the named schedule, or an error wrapping
// ErrUnknownSchedule.
func (r *Resolver) Schedule(name string) (Schedule, error) {
	c, err := r.schedule(name)
	if err != nil {
		return Schedule{}, err
	}
	return c.Schedule, nil
}

func (r *Resolver) schedule(name string) (compiled, error) {
	c, ok := r.schedules[name]
	if !ok {
		return compiled{}, fmt.Errorf("%w %q (known: %s)", ErrUnknownSchedule, name, strings.Join(r.ScheduleNames(), ", "))
	}
	return c, nil
}

// Who returns the name of the person on call for schedule at at. The error
// wraps ErrUnknownSchedule or ErrNobodyOnCall.
func (r *Resolver) Who(ctx context.Context, schedule string, at time.Time) (string, error) {
	s, err := r.OnCall(ctx, schedule, at)
	if err != nil {
		return "", err
	}
	return s.Person, nil
}

// OnCall returns the shift that at falls in: its End is the next handoff
// or override boundary, when someone else takes over. The error wraps
// ErrUnknownSchedule or ErrNobodyOnCall.
func (r *Resolver) OnCall(ctx context.Context, schedule string, at time.Time) (Shift, error) {
	shifts, err := r.Shifts(ctx, schedule, at, at.Add(1))
	if err != nil {
		return Shift{}, err
	}
	if len(shifts) == 0 {
		c := r.schedules[schedule]
		if c.rotates && at.Before(c.rot.first) {
			return Shift{}, fmt.Errorf("%w for %s at %s: its rotation starts %s", ErrNobodyOnCall, schedule,
				at.In(c.Location).Format(time.RFC3339), c.rot.first.Format(time.RFC3339))
		}
		return Shift{}, fmt.Errorf("%w for %s at %s", ErrNobodyOnCall, schedule, at.In(c.Location).Format(time.RFC3339))
	}
	return shifts[0], nil
}

// Shifts returns, in order, the shifts of schedule that overlap [from, to),
// whole: the first may start before from and the last end after to. A time
// when nobody is on call is a gap between them. The error wraps
// ErrUnknownSchedule, or says that the period holds more than MaxShifts
// rotation shifts.
func (r *Resolver) Shifts(ctx context.Context, schedule string, from, to time.Time) ([]Shift, error) {
	c, err := r.schedule(schedule)
	if err != nil {
		return nil, err
	}
	if !from.Before(to) {
		return nil, fmt.Errorf("shifts of %s: the period must end after it starts", schedule)
	}
	if c.rotates {
		// Beyond this, durations from the start no longer fit a
		// time.Duration.
		lo, hi := c.rot.first.AddDate(-maxYears, 0, 0), c.rot.first.AddDate(maxYears, 0, 0)
		if from.Before(lo) || to.After(hi) {
			return nil, fmt.Errorf("shifts of %s: %s to %s is more than %d years from the rotation's start", schedule,
				from.Format(time.RFC3339), to.Format(time.RFC3339), maxYears)
		}
	}
	// The rotation shifts around the period: [a, b) starts and ends at a
	// handoff, or at from and to where the rotation is not running.
	a, b := from, to
	var kFrom, kTo int64 = 0, -1 // the rotation shifts within [a, b)
	if c.rotates {
		if k, ok := c.rot.index(from); ok {
			kFrom, a = k, c.rot.handoff(k)
		}
		if k, ok := c.rot.index(to.Add(-1)); ok {
			kTo, b = k, c.rot.nextHandoff(k)
		}
		if kTo-kFrom >= MaxShifts {
			return nil, fmt.Errorf("shifts of %s: the period holds more than %d shifts; ask for a shorter one", schedule, MaxShifts)
		}
	}
	ovs, err := r.overrides(ctx, c, a, b, nil)
	if err != nil {
		return nil, err
	}
	segs := c.segments(ovs, a, b, kFrom, kTo)
	// An override's part that reaches past [a, b) goes on until its end
	// or until a later override starts: read the overrides out there too.
	if n := len(segs); n > 0 && (segs[0].ov != nil && segs[0].Start.Equal(a) || segs[n-1].ov != nil && segs[n-1].End.Equal(b)) {
		ea, eb := a, b
		for _, s := range []seg{segs[0], segs[n-1]} {
			if s.ov != nil {
				ea, eb = minTime(ea, s.ov.From), maxTime(eb, s.ov.To)
			}
		}
		if ovs, err = r.overrides(ctx, c, ea, eb, ovs); err != nil {
			return nil, err
		}
		if segs[0].ov != nil && segs[0].Start.Equal(a) {
			segs[0].Start = extendBack(segs[0], ovs)
		}
		if segs[n-1].ov != nil && segs[n-1].End.Equal(b) {
			segs[n-1].End = extendForward(segs[n-1], ovs)
		}
	}
	out := make([]Shift, 0, len(segs))
	for _, s := range segs {
		if s.End.After(from) && s.Start.Before(to) {
			s.Start, s.End = s.Start.In(c.Location), s.End.In(c.Location)
			out = append(out, s.Shift)
		}
	}
	return out, nil
}

// AddOverride validates o and records it in the store. From and To are
// required; the error wraps ErrUnknownSchedule, ErrInvalidOverride or
// ErrNoStore.
func (r *Resolver) AddOverride(ctx context.Context, o Override) (Override, error) {
	if _, err := r.schedule(o.Schedule); err != nil {
		return Override{}, err
	}
	switch {
	case strings.TrimSpace(o.Person) == "":
		return Override{}, fmt.Errorf("%w: it needs a person", ErrInvalidOverride)
	case o.From.IsZero() || o.To.IsZero():
		return Override{}, fmt.Errorf("%w: it needs a start and an end", ErrInvalidOverride)
	case !o.From.Before(o.To):
		return Override{}, fmt.Errorf("%w: it must end after it starts", ErrInvalidOverride)
	}
	if r.store == nil {
		return Override{}, ErrNoStore
	}
	saved, err := r.store.AddOverride(ctx, o)
	if err != nil {
		return Override{}, fmt.Errorf("recording an override of %s: %w", o.Schedule, err)
	}
	return saved, nil
}

// ranked is an override with its precedence: a higher rank wins.
type ranked struct {
	Override
	rank int64
}

// overrides returns the schedule's overrides that overlap [from, to), with
// those in have, lowest rank first. Overrides from the configuration rank
// by their position, those from the store after them by their ID.
func (r *Resolver) overrides(ctx context.Context, c compiled, from, to time.Time, have []ranked) ([]ranked, error) {
	out := slices.Clone(have)
	seen := map[int64]bool{}
	for _, o := range have {
		if o.ID != 0 {
			seen[o.ID] = true
		}
	}
	if have == nil {
		for i, o := range c.Overrides {
			out = append(out, ranked{Override: o, rank: int64(i)})
		}
	}
	if r.store != nil {
		stored, err := r.store.Overrides(ctx, c.Name, from, to)
		if err != nil {
			return nil, fmt.Errorf("reading the overrides of %s: %w", c.Name, err)
		}
		base := int64(len(c.Overrides))
		for _, o := range stored {
			if o.ID <= 0 || seen[o.ID] {
				continue
			}
			seen[o.ID] = true
			o.To = o.Until() // a cancelled one counts until it was cancelled
			out = append(out, ranked{Override: o, rank: base + o.ID})
		}
	}
	out = slices.DeleteFunc(out, func(o ranked) bool { return !o.From.Before(o.To) || o.Person == "" })
	slices.SortStableFunc(out, func(x, y ranked) int {
		switch {
		case x.rank < y.rank:
			return -1
		case x.rank > y.rank:
			return 1
		}
		return 0
	})
	return out, nil
}

// seg is a Shift with what made it: a rotation shift's index, or an
// override.
type seg struct {
	Shift
	k  int64
	ov *ranked
}

// segments divides [a, b) among the rotation shifts kFrom..kTo and the
// overrides ovs (lowest rank first), the highest-ranked override winning
// wherever one applies. Times when nobody is on call are left out.
func (c compiled) segments(ovs []ranked, a, b time.Time, kFrom, kTo int64) []seg {
	// Every instant where the owner may change.
	points := []time.Time{a, b}
	for k := kFrom; k <= kTo; k++ {
		points = append(points, c.rot.handoff(k))
	}
	for _, o := range ovs {
		points = append(points, o.From, o.To)
	}
	points = slices.DeleteFunc(points, func(t time.Time) bool { return t.Before(a) || t.After(b) })
	slices.SortFunc(points, func(x, y time.Time) int { return x.Compare(y) })
	points = slices.CompactFunc(points, func(x, y time.Time) bool { return x.Equal(y) })

	var out []seg
	k := kFrom
	for i := 0; i+1 < len(points); i++ {
		p, q := points[i], points[i+1]
		var s seg
		switch o := winner(ovs, p); {
		case o != nil:
			s = seg{Shift: Shift{Person: o.Person, Override: true, OverrideID: o.ID, OverrideBy: o.CreatedBy}, ov: o}
		case c.rotates && kFrom <= kTo && !p.Before(c.rot.first):
			for k < kTo && !c.rot.handoff(k+1).After(p) {
				k++
			}
			s = seg{Shift: Shift{Person: c.Members[int(k%int64(len(c.Members)))]}, k: k}
		default:
			continue // nobody
		}
		s.Schedule, s.Start, s.End = c.Name, p, q
		if n := len(out); n > 0 && out[n-1].End.Equal(p) && out[n-1].ov == s.ov && (s.ov != nil || out[n-1].k == s.k) {
			out[n-1].End = q
			continue
		}
		out = append(out, s)
	}
	return out
}

// winner is the highest-ranked override in ovs (lowest rank first) that
// covers t, or nil.
func winner(ovs []ranked, t time.Time) *ranked {
	for i := len(ovs) - 1; i >= 0; i-- {
		if o := &ovs[i]; !t.Before(o.From) && t.Before(o.To) {
			return o
		}
	}
	return nil
}

// extendForward is where the override segment s, cut at the end of the
// period looked at, really ends: at the override's end, or where a
// later-created override starts.
func extendForward(s seg, ovs []ranked) time.Time {
	end := s.ov.To
	for _, o := range ovs {
		if o.rank > s.ov.rank && !o.From.Before(s.End) && o.From.Before(end) {
			end = o.From
		}
	}
	return end
}

// extendBack is where the override segment s, cut at the start of the
// period looked at, really starts.
func extendBack(s seg, ovs []ranked) time.Time {
	start := s.ov.From
	for _, o := range ovs {
		if o.rank > s.ov.rank && !o.To.After(s.Start) && o.To.After(start) {
			start = o.To
		}
	}
	return start
}

// nextHandoff is the first handoff after shift k's start: the end of shift
// k, skipping empty shifts.
func (r rotation) nextHandoff(k int64) time.Time {
	start := r.handoff(k)
	for {
		k++
		if h := r.handoff(k); h.After(start) {
			return h
		}
	}
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
