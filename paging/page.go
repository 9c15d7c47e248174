// Package paging wakes people up: pages, escalation policies and
// acknowledgement.
//
// A page is started for an incident (by its service's escalation policy when
// it is declared, or by hand with /incident page) and persisted with its
// state and the deadline of its next step. Escalation runs from those stored
// deadlines, never from timers in memory: each step is a durable job of the
// queue (JobEscalate) that runs at the step's deadline and, in one
// transaction, checks that the page still waits at that step, enqueues the
// notifications of the step, records the step in the incident's timeline,
// advances the page and enqueues the next step's job. A restart resumes
// exactly where it stopped: a step whose job committed is never run again,
// one whose job did not commit runs (late, if Warroom was down at its
// deadline), and the jobs that notify people are keyed per page, round, step
// and recipient, so none is sent twice.
//
// The package is the domain side of paging and imports no vendor package:
// Slack, PagerDuty and webhooks are adapters that run its notification jobs
// (JobNotifySlack, JobPagerDuty, JobWebhook) through the narrow interfaces
// defined here.
package paging

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/warroomhq/warroom/incidents"
)

// State is where a page is in its life.
type State string

// The states of a page.
const (
	// StateTriggered: the first step ran (or is about to); nobody has
	// acknowledged yet.
	StateTriggered State = "triggered"
	// StateEscalated: a later step (or round) ran; nobody has acknowledged
	// yet.
	StateEscalated State = "escalated"
	// StateAcknowledged: someone acknowledged; escalation stopped.
	StateAcknowledged State = "acknowledged"
	// StateResolved: the incident was resolved; escalation stopped.
	StateResolved State = "resolved"
)

// Open reports whether a page in this state still escalates.
func (s State) Open() bool { return s == StateTriggered || s == StateEscalated }

// TargetKind is what a target names.
type TargetKind string

// The kinds of targets.
const (
	TargetSchedule TargetKind = "schedule" // whoever is on call
	TargetPerson   TargetKind = "person"   // a configured person
	TargetChannel  TargetKind = "channel"  // a Slack channel, "#payments" or an ID
	TargetUser     TargetKind = "user"     // a Slack user ID (a manual page of someone not configured)
	TargetService  TargetKind = "service"  // a service's escalation policy (a page's target only)
)

// Target is whom a step notifies, or what a page was started for.
type Target struct {
	Kind TargetKind
	Name string
}

// String is the target as written in the configuration: "person:bob".
func (t Target) String() string {
	if t.Kind == "" {
		return ""
	}
	return string(t.Kind) + ":" + t.Name
}

// ParseTarget reads a target written as "kind:name".
func ParseTarget(s string) (Target, error) {
	kind, name, ok := strings.Cut(s, ":")
	t := Target{Kind: TargetKind(kind), Name: name}
	switch t.Kind {
	case TargetSchedule, TargetPerson, TargetChannel, TargetUser, TargetService:
		if ok && name != "" {
			return t, nil
		}
	}
	return Target{}, fmt.Errorf("%q is not a target: use schedule:<name>, person:<name>, channel:#name, user:<Slack ID> or service:<name>", s)
}

// Page is one page of an incident.
type Page struct {
	ID       int64
	Incident incidents.ID
	// Policy is the escalation policy that the page follows; "" for a
	// manual page of a person, user or schedule, which has one step and no
	// repeats.
	Policy string
	// Target is what was paged: "service:checkout" for a service's policy,
	// or the person, user or schedule of a manual page.
	Target Target
	State  State
	// Round and Step are the next step to run (0-based) and the round it
	// belongs to (0 is the first run of the steps; the policy's repeats are
	// rounds 1 to Repeat).
	Round, Step int
	// NextAt is the deadline of that step, stored: escalation runs from it.
	// Zero once the last step of the last round ran, or the page is over.
	NextAt     time.Time
	CreatedAt  time.Time
	CreatedBy  incidents.Actor
	AckedAt    time.Time
	AckedBy    incidents.Actor
	ResolvedAt time.Time
	UpdatedAt  time.Time
}

// Label is how people see the page: "page 3 (payments)".
func (p *Page) Label() string {
	if p.Policy != "" {
		return fmt.Sprintf("page %d (%s)", p.ID, p.Policy)
	}
	return fmt.Sprintf("page %d (%s)", p.ID, p.Target)
}

// Policy is an escalation policy: whom to notify, and when, until someone
// acknowledges.
type Policy struct {
	Name string
	// Steps run in order; each one's After is measured from the start of
	// its round (the page's start for the first round).
	Steps []Step
	// Repeat is how many more rounds run while nobody acknowledges.
	Repeat int
	// PagerDuty, when it has a routing key, also pages through PagerDuty.
	PagerDuty PagerDutyConfig
	// Webhook, when it has a URL, also POSTs each page event.
	Webhook WebhookConfig
	// MinSeverity, when set, is the lowest severity of an incident that
	// the policy pages for by itself (on declare, or when the severity is
	// raised to it); "" pages every severity. A page by hand ignores it.
	MinSeverity incidents.Severity
}

// Pages reports whether the policy pages by itself for an incident of
// severity sev.
func (p *Policy) Pages(sev incidents.Severity) bool {
	return p.MinSeverity == "" || sev.AtLeast(p.MinSeverity)
}

// Step is one step of a policy.
type Step struct {
	After   time.Duration
	Targets []Target
}

// PagerDutyConfig is a policy's PagerDuty Events API v2 integration.
type PagerDutyConfig struct {
	RoutingKey string // secret; empty means off
	URL        string // events endpoint; empty means PagerDuty's
}

// WebhookConfig is a policy's page webhook.
type WebhookConfig struct {
	URL    string // empty means off
	Secret []byte // HMAC-SHA256 key of the signature
}

// DefaultRepeatGap is how long the last step of a round waits before the
// next round when the policy has no gap between steps to go by (one step,
// or every step at the same time).
const DefaultRepeatGap = 15 * time.Minute

// RoundLength is how long one round of the steps lasts: the last step's
// After plus the gap before it (the time the step before it was given to
// be answered). Steps at 0m, 10m and 20m make rounds of 30m: the repeats
// start at 30m and 60m, and every step is answered for 10 minutes before
// the next one runs, the last step of a round included. Without a gap to go
// by, the last step waits DefaultRepeatGap.
func (p *Policy) RoundLength() time.Duration {
	if len(p.Steps) == 0 {
		return DefaultRepeatGap
	}
	last := p.Steps[len(p.Steps)-1].After
	gap := DefaultRepeatGap
	for i := len(p.Steps) - 2; i >= 0; i-- {
		if d := last - p.Steps[i].After; d > 0 {
			gap = d
			break
		}
	}
	return last + gap
}

// Deadline is when step of round runs, for a page started at start.
func (p *Policy) Deadline(start time.Time, round, step int) time.Time {
	return start.Add(time.Duration(round)*p.RoundLength() + p.Steps[step].After)
}

// Next is the step after step of round, and false after the last step of
// the last round.
func (p *Policy) Next(round, step int) (nextRound, nextStep int, ok bool) {
	if step+1 < len(p.Steps) {
		return round, step + 1, true
	}
	if round+1 <= p.Repeat {
		return round + 1, 0, true
	}
	return 0, 0, false
}

// Check reports what is wrong with a policy: it needs steps, each with
// targets, in the order they run.
func (p *Policy) Check() error {
	if len(p.Steps) == 0 {
		return fmt.Errorf("escalation policy %s has no steps", p.Name)
	}
	if p.Repeat < 0 {
		return fmt.Errorf("escalation policy %s: repeat %d is negative", p.Name, p.Repeat)
	}
	if p.MinSeverity != "" && !p.MinSeverity.Valid() {
		return fmt.Errorf("escalation policy %s: min_severity %q is not a severity", p.Name, p.MinSeverity)
	}
	if !slices.IsSortedFunc(p.Steps, func(a, b Step) int { return cmp.Compare(a.After, b.After) }) {
		return fmt.Errorf("escalation policy %s: steps must be in the order of their after", p.Name)
	}
	for i, st := range p.Steps {
		if st.After < 0 {
			return fmt.Errorf("escalation policy %s: step %d runs before the page starts", p.Name, i+1)
		}
		if len(st.Targets) == 0 {
			return fmt.Errorf("escalation policy %s: step %d notifies nobody", p.Name, i+1)
		}
		for _, t := range st.Targets {
			switch t.Kind {
			case TargetSchedule, TargetPerson, TargetChannel, TargetUser:
			default:
				return fmt.Errorf("escalation policy %s: step %d: %q cannot be notified", p.Name, i+1, t)
			}
		}
	}
	return nil
}
