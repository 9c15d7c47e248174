package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/warroomhq/warroom/oncall"
)

// /incident oncall overrides [schedule] lists the overrides that have not
// ended (from the database, with their IDs, and from the configuration);
// /incident oncall override cancel <id> cancels one from the database.
//
// Who may cancel an override: people in the configuration (as for setting
// one: personOfUser), and of them the person who set it, and the person it
// puts on call (who may hand the shift back). Anyone else asks one of them, or
// sets a newer override, which wins. Overrides from the configuration are
// changed in the configuration.

// onCallUTC shows an override's bounds in UTC, next to its schedule's zone.
const onCallUTC = "Mon 2 Jan 15:04"

// parseOverrideID reads the ID of "/incident oncall override cancel <id>":
// "12" or "#12".
func parseOverrideID(words []string) (int64, error) {
	if len(words) != 1 {
		return 0, &UsageError{Msg: "Say which override to cancel, by the ID that `/incident oncall overrides` shows: " +
			"`/incident oncall override cancel 12`."}
	}
	w := strings.TrimPrefix(slackText(words[0]), "#")
	id, err := strconv.ParseInt(w, 10, 64)
	if err != nil || id <= 0 {
		return 0, &UsageError{Msg: fmt.Sprintf("%q is not an override ID such as 12.", w)}
	}
	return id, nil
}

// mayCancelOverride reports whether Slack user user, who is the configured
// person person (personOfUser, as for setting an override), may cancel o:
// they set it, or it puts them on call. Someone no longer in the
// configuration may not, even if they set it.
func (b *Bot) mayCancelOverride(o oncall.Override, user, person string) bool {
	if user == "" || person == "" {
		return false
	}
	return o.CreatedBy == user || o.Person == person || b.opts.People[o.Person].Slack == user
}

func (b *Bot) runListOverrides(ctx context.Context, r *Request, words []string) (Reply, error) {
	dir := b.opts.OnCall
	schedule := ""
	switch len(words) {
	case 0:
	case 1:
		name, ok := b.scheduleNamed(slackText(words[0]))
		if !ok {
			return Reply{}, &UsageError{Msg: fmt.Sprintf("I know no schedule %q. Schedules: %s.",
				slackText(words[0]), strings.Join(dir.ScheduleNames(), ", "))}
		}
		schedule = name
	default:
		return Reply{}, &UsageError{Msg: "`/incident oncall overrides` takes at most a schedule."}
	}
	now := b.now()
	list, err := dir.ListOverrides(ctx, schedule, now)
	if err != nil {
		return Reply{}, err
	}
	if len(list) == 0 {
		if schedule != "" {
			return Reply{Text: "No current or future overrides for *" + Escape(schedule) + "*."}, nil
		}
		return Reply{Text: "No current or future overrides."}, nil
	}
	lines := []string{"Current and future on-call overrides:"}
	for _, o := range list {
		s, err := dir.Schedule(o.Schedule)
		if err != nil {
			return Reply{}, err
		}
		lines = append(lines, b.overrideLine(o, s.Location, now))
	}
	if len(lines) > 41 {
		lines = append(lines[:41], fmt.Sprintf("… and %d more.", len(lines)-41))
	}
	return Reply{Text: strings.Join(lines, "\n")}, nil
}

// overrideLine is one override for /incident oncall overrides.
func (b *Bot) overrideLine(o oncall.Override, loc *time.Location, now time.Time) string {
	if loc == nil {
		loc = time.UTC
	}
	id := "config"
	if o.ID != 0 {
		id = "#" + strconv.FormatInt(o.ID, 10)
	}
	line := fmt.Sprintf("• `%s` *%s*: %s from %s until %s (%s – %s UTC)", id, Escape(o.Schedule), b.render.Person(o.Person),
		o.From.In(loc).Format(onCallTime), o.To.In(loc).Format(onCallTime),
		o.From.UTC().Format(onCallUTC), o.To.UTC().Format(onCallUTC))
	if !o.From.After(now) {
		line += ", now"
	}
	if o.ID == 0 {
		return line + "; from the configuration, changed there."
	}
	line += "; set by " + b.setter(o.CreatedBy)
	if o.Reason != "" {
		line += ": " + Escape(o.Reason)
	}
	return line + "."
}

// setter renders who set an override: a Slack user, or as recorded.
func (b *Bot) setter(by string) string {
	switch {
	case by == "":
		return "someone"
	case slackUserID.MatchString(by):
		return "<@" + by + ">"
	}
	return Escape(by)
}

// overrideNote says which override put someone on call, for
// /incident oncall: "override 12, set by @bob".
func overrideNote(s oncall.Shift) string {
	if s.OverrideID == 0 {
		return "override from the configuration"
	}
	note := fmt.Sprintf("override %d", s.OverrideID)
	if slackUserID.MatchString(s.OverrideBy) {
		note += ", set by <@" + s.OverrideBy + ">"
	}
	return note
}

func (b *Bot) runCancelOverride(ctx context.Context, r *Request, words []string) (Reply, error) {
	id, err := parseOverrideID(words)
	if err != nil {
		return Reply{}, err
	}
	// Only people in the configuration may change who gets paged.
	person, ok, err := b.personOfUser(ctx, r.UserID)
	if err != nil {
		return Reply{}, err
	}
	if !ok {
		return notConfigured, nil
	}
	dir := b.opts.OnCall
	o, err := dir.Override(ctx, id)
	switch {
	case errors.Is(err, oncall.ErrOverrideNotFound):
		return Reply{}, &UsageError{Msg: fmt.Sprintf("There is no override %d; `/incident oncall overrides` lists them.", id)}
	case errors.Is(err, oncall.ErrNoStore):
		return Reply{Text: warning("Overrides are not kept in a database here, so none can be cancelled.")}, nil
	case err != nil:
		return Reply{}, err
	}
	if !b.mayCancelOverride(o, r.UserID, person) {
		return Reply{Text: warning(fmt.Sprintf("Only whoever set override %d, or the person it puts on call, can cancel it. "+
			"Ask them, or set a newer override: it wins.", id))}, nil
	}
	now := b.now()
	o, err = dir.CancelOverride(ctx, id, r.UserID, now)
	if errors.Is(err, oncall.ErrOverrideOver) {
		return Reply{Text: fmt.Sprintf("Override %d is over already: it was cancelled or has ended.", id)}, nil
	}
	if err != nil {
		return Reply{}, err
	}
	b.log.InfoContext(ctx, "on-call override cancelled", slog.Int64("override", o.ID), slog.String("schedule", o.Schedule),
		slog.String("person", o.Person), slog.String("by", r.UserID))
	// The cancellation is done: what follows only words the reply. An
	// override of a schedule removed from the configuration since is
	// shown in UTC.
	loc, configured := time.UTC, true
	switch s, err := dir.Schedule(o.Schedule); {
	case err == nil && s.Location != nil:
		loc = s.Location
	case errors.Is(err, oncall.ErrUnknownSchedule):
		configured = false
	case err != nil:
		b.log.WarnContext(ctx, "reading the schedule of a cancelled override", slog.Int64("override", o.ID),
			slog.String("schedule", o.Schedule), slog.Any("err", err))
	}
	text := fmt.Sprintf(":arrows_counterclockwise: <@%s> cancelled override %d: %s was on call for *%s* until now (%s) instead of until %s.",
		r.UserID, o.ID, b.render.Person(o.Person), Escape(o.Schedule), o.Until().In(loc).Format(onCallTime),
		o.To.In(loc).Format(onCallTime))
	if o.From.After(now) {
		text = fmt.Sprintf(":arrows_counterclockwise: <@%s> cancelled override %d: %s will not be on call for *%s* from %s until %s.",
			r.UserID, o.ID, b.render.Person(o.Person), Escape(o.Schedule),
			o.From.In(loc).Format(onCallTime), o.To.In(loc).Format(onCallTime))
	}
	if !configured {
		text += " *" + Escape(o.Schedule) + "* is no longer in the configuration."
	} else if cur, err := dir.OnCall(ctx, o.Schedule, now); err == nil {
		text += " On call now: " + b.render.Person(cur.Person) + "."
	} else if errors.Is(err, oncall.ErrNobodyOnCall) {
		text += " Nobody is on call for it now."
	}
	return Reply{Text: text, InChannel: true}, nil
}
