package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/warroomhq/warroom/config"
	"github.com/warroomhq/warroom/incidents"
	"github.com/warroomhq/warroom/oncall"
)

// OnCallDirectory is what /incident oncall reads and records: the
// schedules, who is on call, and overrides. *oncall.Resolver has all but
// ServiceSchedules, which the wiring adds from the escalation policies.
type OnCallDirectory interface {
	// ScheduleNames lists the schedules, sorted.
	ScheduleNames() []string
	// Schedule returns a schedule; the error wraps oncall.ErrUnknownSchedule.
	Schedule(name string) (oncall.Schedule, error)
	// ServiceSchedules lists the schedules that the service's escalation
	// policy pages, in the order of its steps.
	ServiceSchedules(service string) []string
	// OnCall returns the shift that at falls in; the error wraps
	// oncall.ErrUnknownSchedule or oncall.ErrNobodyOnCall.
	OnCall(ctx context.Context, schedule string, at time.Time) (oncall.Shift, error)
	// AddOverride records an override.
	AddOverride(ctx context.Context, o oncall.Override) (oncall.Override, error)
	// ListOverrides, Override and CancelOverride list the overrides that
	// have not ended, read one stored override, and cancel one
	// (oncall_overrides.go).
	ListOverrides(ctx context.Context, schedule string, now time.Time) ([]oncall.Override, error)
	Override(ctx context.Context, id int64) (oncall.Override, error)
	CancelOverride(ctx context.Context, id int64, by string, at time.Time) (oncall.Override, error)
}

// MaxOverride is the longest override that can be set from Slack; longer
// ones belong in the configuration.
const MaxOverride = 30 * 24 * time.Hour

// onCallTime shows a handoff in its schedule's zone.
const onCallTime = "Mon 2 Jan 15:04 MST"

const onCallArgs = "[schedule|service]  ·  override <schedule> @user <duration> [reason]  ·  overrides [schedule]  ·  override cancel <id>"

// addOnCallCommands adds /incident oncall.
func (b *Bot) addOnCallCommands() {
	b.cmds.Add(Command{Name: "oncall", Args: onCallArgs,
		Help: "Show who is on call and the next handoff; override: put someone on call for a while; overrides: list them",
		Run:  b.runOnCall})
}

func (b *Bot) runOnCall(ctx context.Context, r *Request) (Reply, error) {
	words := argWords(r.Args)
	if len(words) > 0 && strings.EqualFold(words[0], "override") {
		if len(words) > 1 && len(words) <= 3 && strings.EqualFold(words[1], "cancel") {
			return b.runCancelOverride(ctx, r, words[2:])
		}
		return b.runOverride(ctx, r, words[1:])
	}
	if len(words) > 0 && strings.EqualFold(words[0], "overrides") {
		return b.runListOverrides(ctx, r, words[1:])
	}
	dir := b.opts.OnCall
	var names []string
	title := ""
	switch {
	case len(words) > 1:
		return Reply{}, &UsageError{}
	case len(words) == 1:
		arg := slackText(words[0])
		if name, ok := b.scheduleNamed(arg); ok {
			names = []string{name}
		} else if svc, ok := b.serviceNamed(arg); ok {
			names, title = dir.ServiceSchedules(svc), svc
			if len(names) == 0 {
				return Reply{Text: "No schedule pages for " + Escape(svc) + " (its escalation policy names none)."}, nil
			}
		} else {
			return Reply{}, &UsageError{Msg: fmt.Sprintf("I know no schedule or service %q. Schedules: %s.",
				arg, strings.Join(dir.ScheduleNames(), ", "))}
		}
	case r.Incident != nil && r.Incident.Service != "" && len(dir.ServiceSchedules(r.Incident.Service)) > 0:
		names, title = dir.ServiceSchedules(r.Incident.Service), r.Incident.Service
	default:
		names = dir.ScheduleNames()
		if len(names) == 0 {
			return Reply{Text: "No on-call schedules are configured."}, nil
		}
	}
	now := b.now()
	lines := make([]string, 0, len(names)+1)
	if title != "" {
		lines = append(lines, "On call for *"+Escape(title)+"*:")
	}
	for _, name := range names {
		line, err := b.onCallLine(ctx, name, now)
		if err != nil {
			return Reply{}, err
		}
		lines = append(lines, line)
	}
	return Reply{Text: strings.Join(lines, "\n")}, nil
}

// onCallLine is one schedule's "who now, and who next".
func (b *Bot) onCallLine(ctx context.Context, name string, now time.Time) (string, error) {
	dir := b.opts.OnCall
	head := "• *" + Escape(name) + "*: "
	cur, err := dir.OnCall(ctx, name, now)
	if errors.Is(err, oncall.ErrNobodyOnCall) {
		s, err := dir.Schedule(name)
		if err != nil {
			return "", err
		}
		if s.FirstHandoff.After(now) {
			first, err := dir.OnCall(ctx, name, s.FirstHandoff)
			if err == nil {
				return head + "nobody yet; " + b.render.Person(first.Person) + " from " +
					first.Start.Format(onCallTime) + ".", nil
			}
		}
		return head + "nobody is on call.", nil
	}
	if err != nil {
		return "", err
	}
	line := head + b.render.Person(cur.Person)
	if cur.Override {
		line += " (" + overrideNote(cur) + ")"
	}
	line += " until " + cur.End.Format(onCallTime)
	if next, err := dir.OnCall(ctx, name, cur.End); err == nil {
		line += ", then " + b.render.Person(next.Person)
	}
	return line + ".", nil
}

// scheduleNamed finds a schedule by name, in any case.
func (b *Bot) scheduleNamed(name string) (string, bool) {
	names := b.opts.OnCall.ScheduleNames()
	for _, n := range names {
		if n == name {
			return n, true
		}
	}
	for _, n := range names {
		if strings.EqualFold(n, name) {
			return n, true
		}
	}
	return "", false
}

// overrideArgs is "/incident oncall override" taken apart.
type overrideArgs struct {
	schedule string // as typed, Slack markup removed
	who      string // as typed: <@U…>, @name or name
	length   time.Duration
	reason   string
}

// parseOverrideArgs takes apart the words after "override": a schedule, a
// person, a duration (config.ParseDuration: 30m, 2h, 1d) and an optional
// reason. It checks the duration's range, not the names.
func parseOverrideArgs(words []string) (overrideArgs, error) {
	if len(words) < 3 {
		return overrideArgs{}, &UsageError{Msg: "Say which schedule, who, and for how long: " +
			"`/incident oncall override payments-primary @bob 2h`."}
	}
	d, err := config.ParseDuration(words[2])
	if err != nil || d <= 0 {
		return overrideArgs{}, &UsageError{Msg: fmt.Sprintf("%q is not a duration such as 30m, 2h or 1d.", slackText(words[2]))}
	}
	if d.D() > MaxOverride {
		return overrideArgs{}, &UsageError{Msg: fmt.Sprintf("An override from Slack lasts at most %d days; put longer ones in the configuration.",
			MaxOverride/(24*time.Hour))}
	}
	return overrideArgs{
		schedule: slackText(words[0]),
		who:      words[1],
		length:   d.D(),
		reason:   strings.TrimSpace(slackText(strings.Join(words[3:], " "))),
	}, nil
}

// runOverride records an override from now, and tells the channel.
func (b *Bot) runOverride(ctx context.Context, r *Request, words []string) (Reply, error) {
	a, err := parseOverrideArgs(words)
	if err != nil {
		return Reply{}, err
	}
	// Only people in the configuration may change who gets paged.
	if _, ok, err := b.personOfUser(ctx, r.UserID); err != nil {
		return Reply{}, err
	} else if !ok {
		return notConfigured, nil
	}
	schedule, ok := b.scheduleNamed(a.schedule)
	if !ok {
		return Reply{}, &UsageError{Msg: fmt.Sprintf("I know no schedule %q. Schedules: %s.",
			a.schedule, strings.Join(b.opts.OnCall.ScheduleNames(), ", "))}
	}
	person, err := b.configuredPerson(a.who)
	if err != nil {
		return Reply{}, err
	}
	now := b.now()
	o, err := b.opts.OnCall.AddOverride(ctx, oncall.Override{
		Schedule: schedule, Person: person, From: now, To: now.Add(a.length),
		CreatedBy: r.UserID, Reason: a.reason,
	})
	if err != nil {
		return Reply{}, err
	}
	b.log.InfoContext(ctx, "on-call override recorded", slog.Int64("override", o.ID), slog.String("schedule", schedule),
		slog.String("person", person), slog.Time("until", o.To), slog.String("by", r.UserID))
	s, err := b.opts.OnCall.Schedule(schedule)
	if err != nil {
		return Reply{}, err
	}
	text := fmt.Sprintf(":arrows_counterclockwise: <@%s> put %s on call for *%s* until %s (%s).", r.UserID,
		b.render.Person(person), Escape(schedule), o.To.In(s.Location).Format(onCallTime), config.Duration(a.length))
	if a.reason != "" {
		text += " Reason: " + Escape(a.reason)
	}
	text += fmt.Sprintf("\nOverride %d: `/incident oncall override cancel %d` ends it early.", o.ID, o.ID)
	return Reply{Text: text, InChannel: true}, nil
}

// configuredPerson finds the person of the configuration that a command
// argument names: a mention of their Slack ID, or their name.
func (b *Bot) configuredPerson(s string) (string, error) {
	if m := argMention.FindStringSubmatch(s); m != nil {
		if name, ok := b.personBySlackID(m[1]); ok {
			return name, nil
		}
		return "", &UsageError{Msg: "The person you mentioned is not in the configuration's people with their Slack ID, " +
			"so they cannot be paged. Use a name from people instead."}
	}
	name := strings.TrimPrefix(slackText(s), "@")
	if _, ok := b.opts.People[name]; ok {
		return name, nil
	}
	for n := range b.opts.People {
		if strings.EqualFold(n, name) {
			return n, nil
		}
	}
	if name, ok := b.personBySlackID(name); ok {
		return name, nil
	}
	return "", &UsageError{Msg: fmt.Sprintf("%q is not in the configuration's people, so they cannot be paged. "+
		"Mention them (@bob) or use a name from people.", name)}
}

// notConfigured refuses a change of who is on call to a Slack user who is
// not a configured person (personOfUser).
var notConfigured = Reply{Text: warning("Only people in the configuration can change who is on call " +
	"(by their Slack ID, or by their email once Slack has said whose it is).")}

// personOfUser finds the configured person whom Slack user id is: by their
// Slack ID, else, for people configured by email only, by what Slack said
// their email is (SlackPeople: from the store, Slack is not called).
// Setting and cancelling overrides both go by it.
func (b *Bot) personOfUser(ctx context.Context, id string) (string, bool, error) {
	if name, ok := b.personBySlackID(id); ok || !slackUserID.MatchString(id) {
		return name, ok, nil
	}
	byEmail := SlackPeople(b.opts.Store, b.opts.People, b.now)
	for _, name := range slices.Sorted(maps.Keys(b.opts.People)) {
		if slackUserID.MatchString(b.opts.People[name].Slack) {
			continue // known by Slack ID: not this user
		}
		a, ok, err := byEmail.ActorOf(ctx, name)
		if err != nil {
			return "", false, err
		}
		if ok && a == incidents.SlackActor(id) {
			return name, true, nil
		}
	}
	return "", false, nil
}

// personBySlackID finds the configured person with Slack user ID id.
func (b *Bot) personBySlackID(id string) (string, bool) {
	if id == "" {
		return "", false
	}
	found := ""
	for name, p := range b.opts.People {
		if p.Slack == id && (found == "" || name < found) {
			found = name
		}
	}
	return found, found != ""
}
