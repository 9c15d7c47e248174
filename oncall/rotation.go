package oncall

import (
	"time"
)

const day = 24 * time.Hour

// localTime is the instant when the wall clock in loc reads clock (the time
// since midnight, which may exceed a day) on the date y-m-d (which may be
// out of range, as in time.Date). A wall time that loc skips maps to the
// moment of the jump; one that happens twice maps to its first occurrence.
// Unlike time.Date, whose choice in those cases is unspecified, the result
// never goes backwards as the wall time goes forwards.
func localTime(y int, m time.Month, d int, clock time.Duration, loc *time.Location) time.Time {
	// The wall time, written as if it were UTC.
	wall := time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Add(clock)
	// Any transition that could make this wall time ambiguous or missing
	// lies within a day of it; the offsets in force around it are the
	// candidates.
	var (
		best  time.Time
		found bool
		late  time.Time // the latest candidate instant, for the gap case
	)
	for _, probe := range [...]time.Duration{-day, 0, day} {
		_, off := wall.Add(probe).In(loc).Zone()
		at := wall.Add(-time.Duration(off) * time.Second)
		if at.After(late) {
			late = at
		}
		if _, o := at.In(loc).Zone(); o == off && (!found || at.Before(best)) {
			best, found = at, true
		}
	}
	if found {
		return best.In(loc)
	}
	// In a gap: read with the offset from before the jump, the wall time
	// falls after it, in the zone that the jump starts.
	start, _ := late.In(loc).ZoneBounds()
	return start.In(loc)
}

// mode is how a rotation counts its handoffs.
type mode int

const (
	byDays  mode = iota // every n calendar days, at the same wall time
	bySlots             // at fixed wall-clock slots of each day
	byClock             // at FirstHandoff plus multiples of Every
)

// rotation computes a schedule's handoffs. Handoff k (k >= 0) starts the
// shift of member k mod len(members).
type rotation struct {
	mode  mode
	loc   *time.Location
	every time.Duration
	first time.Time     // handoff 0
	y     int           // the local date of handoff 0
	m     time.Month    //
	d     int           //
	clock time.Duration // the local wall time of the handoffs
	days  int           // byDays: days per shift
	slots int64         // bySlots: handoffs per day
}

func newRotation(s Schedule) rotation {
	loc := s.Location
	if loc == nil {
		loc = time.UTC
	}
	r := rotation{loc: loc, every: s.Every, first: s.FirstHandoff.In(loc), clock: s.Handoff}
	if r.clock == 0 {
		h, mi, sec := r.first.Clock()
		r.clock = time.Duration(h)*time.Hour + time.Duration(mi)*time.Minute + time.Duration(sec)*time.Second +
			time.Duration(r.first.Nanosecond())
	}
	r.y, r.m, r.d = r.first.Date()
	switch {
	case s.Every%day == 0:
		r.mode, r.days = byDays, int(s.Every/day)
	case day%s.Every == 0:
		r.mode, r.slots = bySlots, int64(day/s.Every)
	default:
		r.mode = byClock
	}
	if r.mode != byClock {
		// Handoff 0 as the rules compute it, should FirstHandoff have been
		// worked out another way.
		r.first = r.handoff(0)
	}
	return r
}

// handoff returns the start of shift k.
func (r rotation) handoff(k int64) time.Time {
	switch r.mode {
	case byDays:
		return localTime(r.y, r.m, r.d+int(k)*r.days, r.clock, r.loc)
	case bySlots:
		q, s := k/r.slots, k%r.slots
		if s < 0 {
			q, s = q-1, s+r.slots
		}
		return localTime(r.y, r.m, r.d+int(q), r.clock+time.Duration(s)*r.every, r.loc)
	}
	return r.first.Add(time.Duration(k) * r.every)
}

// index returns the shift that t falls in, and false before the first
// handoff. Shift k runs from handoff(k) until handoff(k+1); an empty shift
// (two handoffs at one instant) is never returned.
func (r rotation) index(t time.Time) (int64, bool) {
	if t.Before(r.first) {
		return 0, false
	}
	var k int64
	switch r.mode {
	case byDays:
		k = int64(civilDays(t.In(r.loc))-civilDays(r.first)) / int64(r.days)
	case bySlots:
		lt := t.In(r.loc)
		h, mi, s := lt.Clock()
		since := time.Duration(h)*time.Hour + time.Duration(mi)*time.Minute + time.Duration(s)*time.Second
		k = int64(civilDays(lt)-civilDays(r.first))*r.slots + floorDiv(since-r.clock, r.every)
	default:
		k = int64(t.Sub(r.first) / r.every)
	}
	// The estimate is off by at most a shift or two around daylight saving
	// changes; walk to the right one.
	k = max(k, 0)
	for k > 0 && r.handoff(k).After(t) {
		k--
	}
	for !r.handoff(k + 1).After(t) {
		k++
	}
	return k, true
}

// civilDays numbers t's calendar date in its own zone.
func civilDays(t time.Time) int {
	y, m, d := t.Date()
	return int(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400)
}

// floorDiv is a/b rounded down.
func floorDiv(a, b time.Duration) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return int64(q)
}
