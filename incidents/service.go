package incidents

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Limits on text that people type.
const (
	MaxTitleLen = 200
	MaxTextLen  = 4000
)

// Service holds the use cases. The Slack bot, the webhooks and the CLI all
// change incidents through it, so the rules and the timeline are the same
// whichever way a change comes in.
type Service struct {
	store           Store
	now             func() time.Time
	listeners       []Listener
	defaultSeverity Severity
}

// ServiceOption configures a Service.
type ServiceOption func(*Service)

// WithClock makes the service read the time from now (tests, the demo).
func WithClock(now func() time.Time) ServiceOption {
	return func(s *Service) { s.now = now }
}

// WithListener adds a listener that sees every change inside its transaction.
func WithListener(l Listener) ServiceOption {
	return func(s *Service) { s.listeners = append(s.listeners, l) }
}

// WithDefaultSeverity sets the severity of incidents declared without one
// (sev3 unless set).
func WithDefaultSeverity(sev Severity) ServiceOption {
	return func(s *Service) { s.defaultSeverity = sev }
}

// NewService returns the use cases over store.
func NewService(store Store, opts ...ServiceOption) *Service {
	s := &Service{store: store, now: time.Now, defaultSeverity: Sev3}
	for _, o := range opts {
		o(s)
	}
	return s
}

// AddListener adds a listener. Call it during wiring, before the service is
// used concurrently.
func (s *Service) AddListener(l Listener) { s.listeners = append(s.listeners, l) }

// Now is the service's clock.
func (s *Service) Now() time.Time { return s.now().UTC() }

// DeclareInput is what declaring an incident needs.
type DeclareInput struct {
	Title       string
	Severity    Severity // empty means the service's default
	Service     string
	Description string
	Lead        string // the person leading; empty leaves the role open
	Actor       Actor
	// DetectedAt is when the problem started (the first alert's start);
	// zero means the declaration time.
	DetectedAt time.Time
	// Key makes declaring idempotent: a second declaration with the same key
	// returns the first incident instead of a new one (a double-submitted
	// form, a retried webhook).
	Key string
}

// checkTitle trims a title and checks that it is there and not too long.
func checkTitle(title string) (string, error) {
	title = strings.TrimSpace(title)
	switch n := utf8.RuneCountInString(title); {
	case n == 0:
		return "", &ValidationError{Field: "title", Msg: "An incident needs a title: say in a few words what is wrong."}
	case n > MaxTitleLen:
		return "", &ValidationError{Field: "title", Msg: fmt.Sprintf("The title is too long (%d characters); keep it under %d and put details in the description.", n, MaxTitleLen)}
	}
	return title, nil
}

func (in *DeclareInput) normalize(def Severity) error {
	title, err := checkTitle(in.Title)
	if err != nil {
		return err
	}
	in.Title = title
	in.Service = strings.TrimSpace(in.Service)
	in.Description = strings.TrimSpace(in.Description)
	if utf8.RuneCountInString(in.Description) > MaxTextLen {
		return &ValidationError{Field: "description", Msg: fmt.Sprintf("The description is too long; keep it under %d characters.", MaxTextLen)}
	}
	if in.Severity == "" {
		in.Severity = def
	}
	if !in.Severity.Valid() {
		return &ValidationError{Field: "severity", Msg: fmt.Sprintf("%q is not a severity; use sev1 (worst) to sev4", in.Severity)}
	}
	return nil
}

// Declare opens a new incident.
func (s *Service) Declare(ctx context.Context, in DeclareInput) (*Incident, error) {
	if err := in.normalize(s.defaultSeverity); err != nil {
		return nil, err
	}
	var out *Incident
	err := s.store.WithTx(ctx, func(tx Tx) error {
		var err error
		out, _, err = s.declareTx(ctx, tx, in)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// declareTx declares an incident from in, which must be normalized, with
// its event and its listeners' jobs in tx. When in.Key was used before, it
// returns that incident instead, with existed true.
func (s *Service) declareTx(ctx context.Context, tx Tx, in DeclareInput) (inc *Incident, existed bool, err error) {
	now := s.Now()
	inc = &Incident{
		Title:       in.Title,
		Severity:    in.Severity,
		Status:      StatusInvestigating,
		Service:     in.Service,
		Description: in.Description,
		DeclaredBy:  in.Actor,
		Roles:       map[Role]string{},
		DetectedAt:  in.DetectedAt.UTC(),
		DeclaredAt:  now,
		UpdatedAt:   now,
	}
	if inc.DetectedAt.IsZero() || inc.DetectedAt.After(now) {
		inc.DetectedAt = now
	}
	if in.Lead != "" {
		inc.Roles[RoleLead] = in.Lead
	}
	id, existed, err := tx.CreateIncident(ctx, inc, in.Key)
	if err != nil {
		return nil, false, err
	}
	if existed {
		inc, err = tx.Incident(ctx, id)
		return inc, true, err
	}
	text := fmt.Sprintf("Declared %s (%s): %s", id, inc.Severity, inc.Title)
	if inc.Service != "" {
		text = fmt.Sprintf("Declared %s (%s, %s): %s", id, inc.Severity, inc.Service, inc.Title)
	}
	data := map[string]any{"severity": string(inc.Severity), "service": inc.Service, "detected_at": inc.DetectedAt.Format(time.RFC3339)}
	if in.Lead != "" {
		data["lead"] = in.Lead
	}
	evs, err := s.record(ctx, tx, id, in.Actor, now, []Event{{Kind: EventDeclared, Text: text, Data: data}})
	if err != nil {
		return nil, false, err
	}
	return inc, false, s.notify(ctx, tx, Change{After: inc.clone(), Events: evs})
}

// SetStatus moves an incident to another status, following the lifecycle
// rules. Moving to resolved is the same as Resolve without a summary.
func (s *Service) SetStatus(ctx context.Context, id ID, to Status, actor Actor) (*Incident, error) {
	if to == StatusResolved {
		return s.Resolve(ctx, id, "", actor)
	}
	return s.mutate(ctx, id, actor, func(inc *Incident, now time.Time) ([]Event, error) {
		if err := CheckTransition(inc, to); err != nil {
			return nil, err
		}
		from := inc.Status
		inc.Status = to
		if to == StatusMonitoring && inc.MitigatedAt.IsZero() {
			inc.MitigatedAt = now
		}
		return []Event{{Kind: EventStatusChanged, Text: fmt.Sprintf("Status changed from %s to %s", from, to),
			Data: map[string]any{"from": string(from), "to": string(to)}}}, nil
	})
}

// SetSeverity changes an incident's severity. It may change at any time, even
// after resolution (a postmortem may find it was worse than it looked).
func (s *Service) SetSeverity(ctx context.Context, id ID, sev Severity, actor Actor) (*Incident, error) {
	if !sev.Valid() {
		return nil, &ValidationError{Field: "severity", Msg: fmt.Sprintf("%q is not a severity; use sev1 (worst) to sev4", sev)}
	}
	return s.mutate(ctx, id, actor, func(inc *Incident, now time.Time) ([]Event, error) {
		if inc.Severity == sev {
			return nil, &ValidationError{Field: "severity", Msg: fmt.Sprintf("%s is already %s.", inc.ID, sev)}
		}
		from := inc.Severity
		inc.Severity = sev
		verb := "lowered"
		if sev.AtLeast(from) {
			verb = "raised"
		}
		return []Event{{Kind: EventSeverity, Text: fmt.Sprintf("Severity %s from %s to %s", verb, from, sev),
			Data: map[string]any{"from": string(from), "to": string(sev)}}}, nil
	})
}

// SetTitle renames an incident.
func (s *Service) SetTitle(ctx context.Context, id ID, title string, actor Actor) (*Incident, error) {
	title, err := checkTitle(title)
	if err != nil {
		return nil, err
	}
	return s.mutate(ctx, id, actor, func(inc *Incident, now time.Time) ([]Event, error) {
		if inc.Title == title {
			return nil, nil
		}
		from := inc.Title
		inc.Title = title
		return []Event{{Kind: EventTitleChanged, Text: fmt.Sprintf("Title changed to %q", title),
			Data: map[string]any{"from": from, "to": title}}}, nil
	})
}

// AssignRole gives a role to a person, replacing whoever held it.
func (s *Service) AssignRole(ctx context.Context, id ID, role Role, person string, actor Actor) (*Incident, error) {
	person = strings.TrimSpace(person)
	if person == "" {
		return nil, &ValidationError{Field: "person", Msg: fmt.Sprintf("Say who should be %s, for example: role %s @alice", role, role)}
	}
	role, err := ParseRole(string(role))
	if err != nil {
		return nil, err
	}
	return s.mutate(ctx, id, actor, func(inc *Incident, now time.Time) ([]Event, error) {
		prev := inc.Roles[role]
		if prev == person {
			return nil, &ValidationError{Field: "person", Msg: fmt.Sprintf("%s is already %s of %s.", person, role, inc.ID)}
		}
		inc.Roles[role] = person
		data := map[string]any{"role": string(role), "person": person}
		text := fmt.Sprintf("%s is now %s", person, role)
		if prev != "" {
			data["previous"] = prev
			text += fmt.Sprintf(" (was %s)", prev)
		}
		return []Event{{Kind: EventRoleAssigned, Text: text, Data: data}}, nil
	})
}

// AddNote adds a person's note to the timeline.
func (s *Service) AddNote(ctx context.Context, id ID, text string, actor Actor) (Event, error) {
	text = strings.TrimSpace(text)
	if text == "" {
		return Event{}, &ValidationError{Field: "text", Msg: "A note needs some text, for example: note rolled back the canary"}
	}
	if utf8.RuneCountInString(text) > MaxTextLen {
		return Event{}, &ValidationError{Field: "text", Msg: fmt.Sprintf("The note is too long; keep it under %d characters.", MaxTextLen)}
	}
	return s.Record(ctx, id, actor, Event{Kind: EventNote, Text: text})
}

// Record appends an event that changes nothing else, such as a Slack message
// pinned to the timeline or an alert that fired again. Adapters use their own
// dotted kinds. Listeners see it like any other change.
func (s *Service) Record(ctx context.Context, id ID, actor Actor, ev Event) (Event, error) {
	if ev.Kind == "" {
		return Event{}, &ValidationError{Field: "kind", Msg: "a timeline event needs a kind"}
	}
	var out Event
	err := s.store.WithTx(ctx, func(tx Tx) error {
		inc, err := tx.Incident(ctx, id)
		if err != nil {
			return err
		}
		at := ev.At
		if at.IsZero() {
			at = s.Now()
		}
		evs, err := s.record(ctx, tx, id, actor, at, []Event{ev})
		if err != nil {
			return err
		}
		out = evs[0]
		return s.notify(ctx, tx, Change{Before: inc, After: inc, Events: evs})
	})
	return out, err
}

// Resolve ends an incident with an optional summary of what happened.
func (s *Service) Resolve(ctx context.Context, id ID, summary string, actor Actor) (*Incident, error) {
	summary = strings.TrimSpace(summary)
	if utf8.RuneCountInString(summary) > MaxTextLen {
		return nil, &ValidationError{Field: "summary", Msg: fmt.Sprintf("The summary is too long; keep it under %d characters.", MaxTextLen)}
	}
	return s.mutate(ctx, id, actor, func(inc *Incident, now time.Time) ([]Event, error) {
		if err := CheckTransition(inc, StatusResolved); err != nil {
			return nil, err
		}
		from := inc.Status
		inc.Status = StatusResolved
		inc.ResolvedAt = now
		if inc.MitigatedAt.IsZero() {
			// Never went through monitoring: it was mitigated when it was resolved.
			inc.MitigatedAt = now
		}
		if summary != "" {
			inc.Summary = summary
		}
		d := inc.Duration(now)
		text := fmt.Sprintf("Resolved after %s", FormatDuration(d))
		if summary != "" {
			text += ": " + summary
		}
		return []Event{{Kind: EventResolved, Text: text,
			Data: map[string]any{"from": string(from), "summary": summary, "duration_seconds": int64(d.Seconds())}}}, nil
	})
}

// Reopen brings a resolved incident back to investigating.
func (s *Service) Reopen(ctx context.Context, id ID, reason string, actor Actor) (*Incident, error) {
	reason = strings.TrimSpace(reason)
	return s.mutate(ctx, id, actor, reopen(reason))
}

// reopen is the change that Reopen makes.
func reopen(reason string) func(inc *Incident, now time.Time) ([]Event, error) {
	return func(inc *Incident, now time.Time) ([]Event, error) {
		if err := CheckReopen(inc); err != nil {
			return nil, err
		}
		resolvedAt := inc.ResolvedAt
		inc.Status = StatusInvestigating
		inc.ResolvedAt = time.Time{}
		if inc.MitigatedAt.Equal(resolvedAt) {
			// Resolve stood in for a mitigation that never came; the
			// incident is not mitigated any more.
			inc.MitigatedAt = time.Time{}
		}
		text := "Reopened"
		if reason != "" {
			text += ": " + reason
		}
		return []Event{{Kind: EventReopened, Text: text,
			Data: map[string]any{"reason": reason, "was_resolved_at": resolvedAt.Format(time.RFC3339)}}}, nil
	}
}

// Acknowledge records the first acknowledgement of an incident (a page
// acknowledged, or a responder saying "on it"). Later acknowledgements change
// nothing and return the incident as it is.
func (s *Service) Acknowledge(ctx context.Context, id ID, actor Actor) (*Incident, error) {
	return s.mutate(ctx, id, actor, acknowledge)
}

// SetChannel records the incident's Slack channel once it exists.
func (s *Service) SetChannel(ctx context.Context, id ID, channelID, name string, actor Actor) (*Incident, error) {
	return s.mutate(ctx, id, actor, func(inc *Incident, now time.Time) ([]Event, error) {
		if inc.ChannelID == channelID && inc.ChannelName == name {
			return nil, nil
		}
		inc.ChannelID, inc.ChannelName = channelID, name
		return []Event{{Kind: EventChannel, Text: fmt.Sprintf("Channel #%s created", name),
			Data: map[string]any{"channel_id": channelID, "channel_name": name}}}, nil
	})
}

// Get returns one incident.
func (s *Service) Get(ctx context.Context, id ID) (*Incident, error) {
	return s.store.Incident(ctx, id)
}

// List returns incidents, newest first.
func (s *Service) List(ctx context.Context, f ListFilter) ([]*Incident, error) {
	return s.store.Incidents(ctx, f)
}

// Timeline returns an incident's events in order.
func (s *Service) Timeline(ctx context.Context, id ID) ([]Event, error) {
	if _, err := s.store.Incident(ctx, id); err != nil {
		return nil, err
	}
	return s.store.Timeline(ctx, id)
}

// mutate loads an incident in a write transaction, lets fn change it, and
// stores the change with its events and its listeners' jobs. When fn returns
// no events, nothing is written and the incident is returned as it is.
func (s *Service) mutate(ctx context.Context, id ID, actor Actor, fn func(inc *Incident, now time.Time) ([]Event, error)) (*Incident, error) {
	var out *Incident
	err := s.store.WithTx(ctx, func(tx Tx) error {
		var err error
		out, err = s.mutateTx(ctx, tx, id, actor, fn)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// mutateTx is mutate inside a transaction that the caller runs.
func (s *Service) mutateTx(ctx context.Context, tx Tx, id ID, actor Actor, fn func(inc *Incident, now time.Time) ([]Event, error)) (*Incident, error) {
	inc, err := tx.Incident(ctx, id)
	if err != nil {
		return nil, err
	}
	before := inc.clone()
	now := s.Now()
	evs, err := fn(inc, now)
	if err != nil {
		return nil, err
	}
	if len(evs) == 0 {
		return inc, nil
	}
	inc.UpdatedAt = now
	if err := tx.UpdateIncident(ctx, inc); err != nil {
		return nil, err
	}
	evs, err = s.record(ctx, tx, id, actor, now, evs)
	if err != nil {
		return nil, err
	}
	return inc, s.notify(ctx, tx, Change{Before: before, After: inc.clone(), Events: evs})
}

func (s *Service) record(ctx context.Context, tx Tx, id ID, actor Actor, at time.Time, evs []Event) ([]Event, error) {
	for i := range evs {
		ev := &evs[i]
		ev.IncidentID = id
		if ev.At.IsZero() {
			ev.At = at
		}
		ev.At = ev.At.UTC()
		if ev.Actor == "" {
			ev.Actor = actor
		}
		if err := tx.AppendEvent(ctx, ev); err != nil {
			return nil, err
		}
	}
	return evs, nil
}

func (s *Service) notify(ctx context.Context, tx Tx, c Change) error {
	for _, l := range s.listeners {
		if err := l.IncidentChanged(ctx, tx, c); err != nil {
			return err
		}
	}
	return nil
}

// FormatDuration prints a duration the way responders read it: 45s, 12m,
// 1h05m, 2d3h.
func FormatDuration(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 24*time.Hour:
		return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%dd%dh", int(d.Hours())/24, int(d.Hours())%24)
}
