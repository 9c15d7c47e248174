package incidents

import (
	"fmt"
	"strings"
)

// transitions lists the status moves that SetStatus allows. Moving back is
// allowed while the incident is open (a fix that did not hold sends it from
// monitoring back to investigating). Leaving resolved is not a status move:
// it is Reopen, which says why and is recorded as such.
var transitions = map[Status][]Status{
	StatusInvestigating: {StatusIdentified, StatusMonitoring, StatusResolved},
	StatusIdentified:    {StatusInvestigating, StatusMonitoring, StatusResolved},
	StatusMonitoring:    {StatusInvestigating, StatusIdentified, StatusResolved},
	StatusResolved:      {},
}

// AllowedMoves lists the statuses an incident in status from may move to.
func AllowedMoves(from Status) []Status {
	return append([]Status(nil), transitions[from]...)
}

// CheckTransition reports whether inc may move to status to, with an error a
// person can act on when it may not.
func CheckTransition(inc *Incident, to Status) error {
	from := inc.Status
	refuse := func(format string, args ...any) error {
		return &TransitionError{ID: inc.ID, From: from, To: to, Msg: fmt.Sprintf(format, args...)}
	}
	switch {
	case from == to:
		return refuse("%s is already %s.", inc.ID, to)
	case from == StatusResolved:
		return refuse("%s is resolved; reopen it first (/incident reopen) to change its status.", inc.ID)
	}
	for _, s := range transitions[from] {
		if s == to {
			return nil
		}
	}
	names := make([]string, 0, len(transitions[from]))
	for _, s := range transitions[from] {
		names = append(names, string(s))
	}
	return refuse("%s cannot move from %s to %s; it can move to %s.", inc.ID, from, to, strings.Join(names, ", "))
}

// CheckReopen reports whether inc may be reopened.
func CheckReopen(inc *Incident) error {
	if inc.Status != StatusResolved {
		return &TransitionError{ID: inc.ID, From: inc.Status, To: StatusInvestigating,
			Msg: fmt.Sprintf("%s is still open (%s); only a resolved incident can be reopened.", inc.ID, inc.Status)}
	}
	return nil
}
