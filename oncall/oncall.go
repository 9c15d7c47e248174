// Package oncall answers "who is on call?" for the schedules of the
// configuration: rotations of any length in a schedule's time zone, with
// time-bounded overrides from the configuration and from the database.
//
// # Handoffs
//
// A schedule hands over to its next member at each handoff; its members
// take turns in order, the first at FirstHandoff. When the rotation's
// length is
//
//   - a whole number of days (1d, 1w, 2w): handoffs happen at the same local
//     wall-clock time every n calendar days in the schedule's Location, so a
//     weekly "Mon 09:00" handoff stays Monday 09:00 local across daylight
//     saving changes (and a shift that spans one is an hour shorter or
//     longer);
//   - shorter than a day and dividing 24h (12h, 8h, 6h, 1h): handoffs happen
//     at fixed local wall-clock slots of each day, anchored on the handoff
//     time (every 12h from 09:00: at 09:00 and 21:00 local, every day);
//   - anything else (36h, 5h): handoffs are FirstHandoff plus whole multiples
//     of the length, in absolute time, whatever the local clock says.
//
// A local handoff time that does not exist, because the clocks jump over it
// (02:30 on 2026-03-29 in Europe/Berlin), happens at the moment of the jump:
// 03:00 CEST. A local time that happens twice, because the clocks go back
// (02:30 on 2026-10-25 in Europe/Berlin), happens at its first occurrence:
// 02:30 CEST, 00:30 UTC. Both rules keep handoffs in order; two slots that
// fall on the same instant make an empty shift, which is skipped (its member
// is not on call that turn).
//
// Before FirstHandoff the rotation has nobody on call.
//
// # Overrides
//
// An override puts someone on call from From until To, replacing the
// rotation's member for that window; the rotation's shift is cut at the
// override's boundaries. Overrides apply before FirstHandoff too. When
// overrides overlap, the one created later wins: overrides from the
// configuration (ID 0) count as created first, in the order they are
// written, and those stored in the database after them, in order of their
// IDs.
package oncall

import (
	"context"
	"errors"
	"time"

	"github.com/warroomhq/warroom/config"
)

var (
	// ErrUnknownSchedule is wrapped by the errors about a schedule that is
	// not configured.
	ErrUnknownSchedule = errors.New("unknown schedule")
	// ErrNobodyOnCall is wrapped by the errors about a time when a schedule
	// has nobody on call: before its rotation starts, without an override.
	ErrNobodyOnCall = errors.New("nobody is on call")
	// ErrNoStore is wrapped by AddOverride's error when the Resolver has no
	// OverrideStore.
	ErrNoStore = errors.New("overrides cannot be recorded: no database")
	// ErrInvalidOverride is wrapped by AddOverride's errors about an
	// override that cannot be recorded (no person, an empty window).
	ErrInvalidOverride = errors.New("invalid override")
)

// Schedule is an on-call rotation, built from the configuration by
// FromConfig.
type Schedule struct {
	Name string
	// Location is the time zone of the handoffs. Nil means UTC.
	Location *time.Location
	// Every is the length of a shift; it must be positive.
	Every time.Duration
	// FirstHandoff is when the first member's first shift begins.
	FirstHandoff time.Time
	// Handoff is the local wall-clock time of the handoffs, as the time
	// since local midnight (9*time.Hour for 09:00). Zero means the local
	// time of FirstHandoff, which is the same unless FirstHandoff fell in a
	// daylight saving gap. FromConfig sets it.
	Handoff time.Duration
	// Members take turns in this order.
	Members []string
	// Overrides from the configuration.
	Overrides []Override
}

// Override puts Person on call for Schedule from From until To.
type Override struct {
	// ID is the database's ID; 0 for an override from the configuration.
	ID       int64
	Schedule string
	// Person is a person's name from the configuration.
	Person string
	From   time.Time
	To     time.Time
	// CreatedBy says who recorded it (a Slack user ID, "cli"). Optional.
	CreatedBy string
	// CreatedAt is when it was recorded; the store sets it when zero.
	CreatedAt time.Time
	Reason    string
	// CancelledAt is when it was cancelled, zero while it stands;
	// CancelledBy says who cancelled it. A cancelled override is kept for
	// the record and puts nobody on call from then on (see Until).
	CancelledAt time.Time
	CancelledBy string
}

// Shift is a stretch of time during which Person is on call for Schedule:
// a rotation shift, or the part of one that overrides leave, or the part of
// an override that no later override replaces. Start and End are in the
// schedule's time zone.
type Shift struct {
	Schedule string
	Person   string
	Start    time.Time
	End      time.Time
	// Override tells whether an override put Person on call.
	Override bool
	// OverrideID is that override's ID (0 for one from the configuration)
	// and OverrideBy who set it.
	OverrideID int64
	OverrideBy string
}

// OverrideStore keeps the overrides recorded at run time (from Slack).
type OverrideStore interface {
	// AddOverride records o and returns it with its ID and CreatedAt set.
	AddOverride(ctx context.Context, o Override) (Override, error)
	// Overrides returns the overrides of schedule that overlap [from, to),
	// in the order they were created. A cancelled one is returned, with its
	// CancelledAt, when the part of it before the cancellation (see Until)
	// overlaps; one cancelled before it started never is.
	Overrides(ctx context.Context, schedule string, from, to time.Time) ([]Override, error)
}

// FromConfig converts the validated configuration's schedules.
func FromConfig(schedules map[string]config.Schedule) map[string]Schedule {
	out := make(map[string]Schedule, len(schedules))
	for name, cs := range schedules {
		loc := cs.Location
		if loc == nil {
			loc = time.UTC
		}
		r := cs.Rotation
		h := r.HandoffAt
		s := Schedule{
			Name:     name,
			Location: loc,
			Every:    r.Every.D(),
			Handoff:  time.Duration(h.Hour)*time.Hour + time.Duration(h.Minute)*time.Minute,
			Members:  append([]string(nil), cs.Members...),
		}
		if !r.StartDate.IsZero() {
			d := r.StartDate.In(loc)
			days := 0
			if h.HasWeekday {
				days = (int(h.Weekday) - int(d.Weekday()) + 7) % 7
			}
			s.FirstHandoff = localTime(d.Year(), d.Month(), d.Day()+days, s.Handoff, loc)
		} else {
			s.FirstHandoff = r.FirstHandoff
		}
		for _, o := range cs.Overrides {
			s.Overrides = append(s.Overrides, Override{
				Schedule: name, Person: o.Person, From: o.FromTime, To: o.ToTime, CreatedBy: "config",
			})
		}
		out[name] = s
	}
	return out
}
