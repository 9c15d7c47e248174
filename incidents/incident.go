// Package incidents is Warroom's domain: incidents, their lifecycle and
// timeline, and the use cases that the Slack bot, the alert webhooks and the
// CLI all call.
//
// The package defines the interfaces it needs (Store, Tx, Listener) and
// imports no vendor API: Slack, GitHub and PagerDuty adapters implement or
// listen to it, never the other way round.
package incidents

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ID is an incident's sequential number, shown as INC-42.
type ID int64

// String formats the ID for people: INC-42.
func (id ID) String() string { return "INC-" + strconv.FormatInt(int64(id), 10) }

// ParseID accepts "42", "INC-42" and "inc-42".
func ParseID(s string) (ID, error) {
	t := strings.TrimSpace(s)
	if len(t) > 4 && strings.EqualFold(t[:4], "INC-") {
		t = t[4:]
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n <= 0 {
		return 0, &ValidationError{Field: "id", Msg: fmt.Sprintf("%q is not an incident ID; use a number like 42 or INC-42", s)}
	}
	return ID(n), nil
}

// Severity is how bad an incident is: sev1 is the worst.
type Severity string

// The severities, worst first.
const (
	Sev1 Severity = "sev1"
	Sev2 Severity = "sev2"
	Sev3 Severity = "sev3"
	Sev4 Severity = "sev4"
)

// Severities lists every severity, worst first.
var Severities = []Severity{Sev1, Sev2, Sev3, Sev4}

// ParseSeverity accepts "sev2", "SEV2", "2" and "S2"-free forms people type.
func ParseSeverity(s string) (Severity, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	t = strings.TrimPrefix(t, "sev")
	switch t {
	case "1", "2", "3", "4":
		return Severity("sev" + t), nil
	}
	return "", &ValidationError{Field: "severity", Msg: fmt.Sprintf("%q is not a severity; use sev1 (worst) to sev4", s)}
}

// Rank is 1 for sev1 up to 4 for sev4, and 0 for an unknown severity.
func (s Severity) Rank() int {
	for i, v := range Severities {
		if v == s {
			return i + 1
		}
	}
	return 0
}

// AtLeast reports whether s is as bad as other or worse (sev1 is at least sev2).
func (s Severity) AtLeast(other Severity) bool {
	return s.Rank() != 0 && other.Rank() != 0 && s.Rank() <= other.Rank()
}

// Valid reports whether s is one of the four severities.
func (s Severity) Valid() bool { return s.Rank() != 0 }

// Status is where an incident is in its lifecycle.
type Status string

// The statuses, in their usual order.
const (
	StatusInvestigating Status = "investigating" // looking for the cause
	StatusIdentified    Status = "identified"    // cause known, working on a fix
	StatusMonitoring    Status = "monitoring"    // mitigated, watching that it holds
	StatusResolved      Status = "resolved"      // over
)

// Statuses lists every status in lifecycle order.
var Statuses = []Status{StatusInvestigating, StatusIdentified, StatusMonitoring, StatusResolved}

// ParseStatus accepts a status name in any case.
func ParseStatus(s string) (Status, error) {
	t := Status(strings.ToLower(strings.TrimSpace(s)))
	for _, v := range Statuses {
		if v == t {
			return v, nil
		}
	}
	return "", &ValidationError{Field: "status", Msg: fmt.Sprintf("%q is not a status; use investigating, identified, monitoring or resolved", s)}
}

// Open reports whether an incident in this status is still open.
func (s Status) Open() bool { return s != StatusResolved }

// Role is a responsibility in an incident that one person holds.
type Role string

// The roles every incident has.
const (
	RoleLead  Role = "lead"  // incident commander: coordinates, decides
	RoleComms Role = "comms" // keeps stakeholders informed
)

// Roles lists the known roles.
var Roles = []Role{RoleLead, RoleComms}

// ParseRole accepts a role name in any case; "commander" and "ic" mean lead.
func ParseRole(s string) (Role, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "lead", "commander", "ic":
		return RoleLead, nil
	case "comms", "communications":
		return RoleComms, nil
	}
	return "", &ValidationError{Field: "role", Msg: fmt.Sprintf("%q is not a role; use lead or comms", s)}
}

// Actor is who did something: a Slack user ("slack:U123"), a system
// ("alertmanager", "warroom") or a CLI user ("cli:alice").
type Actor string

// SlackActor is the actor for a Slack user ID.
func SlackActor(userID string) Actor { return Actor("slack:" + userID) }

// System is the actor for Warroom's own automatic changes.
const System Actor = "warroom"

// Incident is one incident.
type Incident struct {
	ID          ID
	Title       string
	Severity    Severity
	Status      Status
	Service     string
	Description string
	Summary     string // what happened, set on resolve
	DeclaredBy  Actor
	Roles       map[Role]string // role → person (a Slack user ID or a configured person)

	// The Slack channel, once there is one.
	ChannelID   string
	ChannelName string

	// Key times; zero means "not yet".
	DetectedAt     time.Time // the first alert's start, or the declaration
	DeclaredAt     time.Time
	AcknowledgedAt time.Time // first acknowledgement of a page or by a person
	MitigatedAt    time.Time // first move to monitoring
	ResolvedAt     time.Time // the last resolution (cleared by reopen)
	UpdatedAt      time.Time

	// Version increases with every change; stores use it to refuse lost updates.
	Version int64
}

// Lead is the person holding the lead role, or "".
func (i *Incident) Lead() string { return i.Roles[RoleLead] }

// Duration is how long the incident has lasted: from detection to resolution,
// or to now while it is open.
func (i *Incident) Duration(now time.Time) time.Duration {
	start := i.DetectedAt
	if start.IsZero() {
		start = i.DeclaredAt
	}
	end := now
	if !i.Status.Open() && !i.ResolvedAt.IsZero() {
		end = i.ResolvedAt
	}
	if start.IsZero() || end.Before(start) {
		return 0
	}
	return end.Sub(start)
}

// clone returns a deep copy, so a listener can compare before and after.
func (i *Incident) clone() *Incident {
	c := *i
	c.Roles = make(map[Role]string, len(i.Roles))
	for k, v := range i.Roles {
		c.Roles[k] = v
	}
	return &c
}
