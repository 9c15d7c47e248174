package oncall

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// TestRandomSchedulesAgreeWithBruteForce checks OnCall and Shifts against
// a direct reading of the rules: the latest-created override that covers a
// time, else the rotation's member, with handoffs walked one by one.
func TestRandomSchedulesAgreeWithBruteForce(t *testing.T) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 2))
	zones := []string{"UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe"}
	lengths := []time.Duration{time.Hour, 6 * time.Hour, 8 * time.Hour, 12 * time.Hour, day, 7 * day, 5 * time.Hour, 36 * time.Hour}
	base := utc("2026-03-01T00:00:00Z")
	rounds := 200
	if testing.Short() {
		rounds = 40
	}
	for round := range rounds {
		loc := zone(t, zones[rng.IntN(len(zones))])
		every := lengths[rng.IntN(len(lengths))]
		clock := time.Duration(rng.IntN(24*4)) * 15 * time.Minute
		y, m, d := base.AddDate(0, 0, rng.IntN(300)).Date()
		s := Schedule{Name: "s", Location: loc, Every: every, Handoff: clock, FirstHandoff: localTime(y, m, d, clock, loc),
			Members: []string{"a", "b", "c"}[:1+rng.IntN(3)]}
		st := &memStore{}
		span := 400 * day
		randTime := func() time.Time { return base.Add(time.Duration(rng.Int64N(int64(span)))).Truncate(time.Minute) }
		for range rng.IntN(4) {
			from := randTime()
			s.Overrides = append(s.Overrides, Override{Schedule: "s", Person: "cfg", From: from, To: from.Add(time.Duration(1+rng.IntN(200)) * time.Hour)})
		}
		r := NewResolver(map[string]Schedule{"s": s}, st)
		for i := range rng.IntN(6) {
			from := randTime()
			if _, err := r.AddOverride(ctx, Override{Schedule: "s", Person: string(rune('p' + i)), From: from,
				To: from.Add(time.Duration(1+rng.IntN(300)) * time.Hour)}); err != nil {
				t.Fatal(err)
			}
		}
		rot := newRotation(s)
		// Every handoff, walked one by one from the first.
		var hs []time.Time
		for k := int64(0); ; k++ {
			h := rot.handoff(k)
			hs = append(hs, h)
			if h.After(base.Add(span + 60*day)) {
				break
			}
		}
		// owner reads the rules directly: who is on call, and by which
		// override or rotation shift.
		owner := func(at time.Time) (string, string) {
			for i := len(st.ovs) - 1; i >= 0; i-- {
				if o := st.ovs[i]; !at.Before(o.From) && at.Before(o.To) {
					return o.Person, fmt.Sprint("db", i)
				}
			}
			for i := len(s.Overrides) - 1; i >= 0; i-- {
				if o := s.Overrides[i]; !at.Before(o.From) && at.Before(o.To) {
					return o.Person, fmt.Sprint("config", i)
				}
			}
			if at.Before(rot.first) {
				return "", "nobody"
			}
			k := 0
			for !hs[k+1].After(at) {
				k++
			}
			return s.Members[k%len(s.Members)], fmt.Sprint("shift", k)
		}
		who := func(at time.Time) string { p, _ := owner(at); return p }
		// whole checks that sh is all one owner's, and all of it.
		whole := func(sh Shift) bool {
			p, key := owner(sh.Start)
			_, last := owner(sh.End.Add(-1))
			_, before := owner(sh.Start.Add(-1))
			_, after := owner(sh.End)
			return p == sh.Person && key == last && before != key && after != key
		}
		for range 20 {
			at := randTime().Add(time.Duration(rng.IntN(60)) * time.Second)
			sh, err := r.OnCall(ctx, "s", at)
			want := who(at)
			if want == "" {
				if err == nil {
					t.Fatalf("round %d (%+v) at %s: %+v, want nobody", round, s, at, sh)
				}
				continue
			}
			if err != nil || sh.Person != want || sh.Start.After(at) || !sh.End.After(at) {
				t.Fatalf("round %d (%s every %s from %s) at %s: %+v %v, want %s", round, loc, every, s.FirstHandoff, at, sh, err, want)
			}
			if !whole(sh) {
				t.Fatalf("round %d (%s every %s from %s) at %s: shift %+v is not one whole shift of %s", round, loc, every, s.FirstHandoff, at, sh, want)
			}
		}
		from := randTime()
		shifts, err := r.Shifts(ctx, "s", from, from.Add(20*day))
		if err != nil {
			t.Fatal(err)
		}
		for i, sh := range shifts {
			if !sh.Start.Before(sh.End) || !whole(sh) {
				t.Fatalf("round %d: shift %d %+v", round, i, sh)
			}
			if i > 0 && sh.Start.Before(shifts[i-1].End) {
				t.Fatalf("round %d: shift %d %+v overlaps %+v", round, i, sh, shifts[i-1])
			}
		}
	}
}
