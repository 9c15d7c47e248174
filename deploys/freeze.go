package deploys

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/warroomhq/warroom/incidents"
)

// FreezeStatus says whether a service's deploys are frozen, and why.
type FreezeStatus struct {
	Service string
	Frozen  bool
	// Incidents are the service's open sev1 and sev2 incidents, newest
	// first: each freezes it while it is open.
	Incidents []*incidents.Incident
	// Manual is the freeze someone set by hand, or nil.
	Manual *ManualFreeze
}

// freezesAtOrAbove is the lowest severity whose open incidents freeze
// their service.
const freezesAtOrAbove = incidents.Sev2

// Frozen reports whether service's deploys are frozen: while a sev1 or sev2
// incident is open for it, or by hand.
func (s *Service) Frozen(ctx context.Context, service string) (FreezeStatus, error) {
	service = strings.TrimSpace(service)
	if _, err := s.service(service); err != nil {
		return FreezeStatus{}, err
	}
	incs, err := s.opts.Incidents.List(ctx, incidents.ListFilter{Status: incidents.FilterOpen, Service: service})
	if err != nil {
		return FreezeStatus{}, err
	}
	st := FreezeStatus{Service: service, Incidents: []*incidents.Incident{}}
	for _, inc := range incs {
		if inc.Severity.AtLeast(freezesAtOrAbove) {
			st.Incidents = append(st.Incidents, inc)
		}
	}
	if st.Manual, err = s.opts.Store.ManualFreeze(ctx, service); err != nil {
		return FreezeStatus{}, err
	}
	st.Frozen = len(st.Incidents) > 0 || st.Manual != nil
	return st, nil
}

// FreezeRefusedError is a person who may not lift (or replace) a manual
// freeze: only who set it, the lead of one of the service's open incidents
// and the service's rollback approvers may.
type FreezeRefusedError struct {
	Service   string
	Actor     incidents.Actor
	FrozenBy  incidents.Actor
	Leads     []string // of the service's open incidents
	Approvers []string
}

func (e *FreezeRefusedError) Error() string {
	who := []string{"who froze it (" + string(e.FrozenBy) + ")"}
	if len(e.Leads) > 0 {
		who = append(who, "the lead of an open incident of "+e.Service+" ("+strings.Join(e.Leads, ", ")+")")
	}
	if len(e.Approvers) > 0 {
		who = append(who, e.Service+"'s rollback approvers ("+strings.Join(e.Approvers, ", ")+")")
	}
	return fmt.Sprintf("Only %s may lift or replace the manual freeze of %s.", strings.Join(who, ", "), e.Service)
}

// mayLift reports whether actor may lift or replace the manual freeze f of
// service, whose open incidents are incs; or the refusal.
func (s *Service) mayLift(ctx context.Context, f *ManualFreeze, service string, incs []*incidents.Incident, actor incidents.Actor) *FreezeRefusedError {
	if f == nil || f.By == actor {
		return nil
	}
	approvers := s.opts.Services[service].Approvers
	if slices.ContainsFunc(approvers, func(p string) bool { return s.isPerson(ctx, p, actor) }) {
		return nil
	}
	refused := &FreezeRefusedError{Service: service, Actor: actor, FrozenBy: f.By, Approvers: approvers}
	for _, inc := range incs {
		if lead := inc.Lead(); lead != "" {
			if s.isPerson(ctx, lead, actor) {
				return nil
			}
			if !slices.Contains(refused.Leads, lead) {
				refused.Leads = append(refused.Leads, lead)
			}
		}
	}
	return refused
}

// Freeze freezes a service's deploys by hand until Unfreeze, replacing an
// earlier manual freeze. It is recorded on the service's open incidents.
// Replacing someone else's freeze (which makes the replacer its owner) is
// allowed to whoever may lift it, and refused to others with a
// *FreezeRefusedError.
func (s *Service) Freeze(ctx context.Context, service string, actor incidents.Actor, reason string) (FreezeStatus, error) {
	service, reason = strings.TrimSpace(service), strings.TrimSpace(reason)
	if _, err := s.service(service); err != nil {
		return FreezeStatus{}, err
	}
	if utf8Len(reason) > incidents.MaxTextLen {
		return FreezeStatus{}, &incidents.ValidationError{Field: "reason", Msg: fmt.Sprintf("The reason is too long; keep it under %d characters.", incidents.MaxTextLen)}
	}
	err := s.opts.Store.WithDeployTx(ctx, func(tx Tx) error {
		prev, err := tx.ManualFreeze(ctx, service)
		if err != nil {
			return err
		}
		if prev != nil && prev.By != actor {
			incs, err := tx.OpenIncidents(ctx, service)
			if err != nil {
				return err
			}
			if refused := s.mayLift(ctx, prev, service, incs, actor); refused != nil {
				return refused
			}
		}
		if err := tx.SetManualFreeze(ctx, ManualFreeze{Service: service, By: actor, Reason: reason, At: s.now()}); err != nil {
			return err
		}
		text := "Froze deploys of " + service
		if reason != "" {
			text += ": " + reason
		}
		return s.recordOnOpen(ctx, tx, service, actor, incidents.Event{Kind: EventFreeze, Text: text,
			Data: map[string]any{"service": service, "reason": reason}})
	})
	if err != nil {
		return FreezeStatus{}, err
	}
	s.opts.Notify()
	return s.Frozen(ctx, service)
}

// Unfreeze lifts a manual freeze. Only who set it, the lead of one of the
// service's open incidents and the service's rollback approvers may; others
// get a *FreezeRefusedError. The service stays frozen while a sev1 or sev2
// incident is open for it; the answer says so.
func (s *Service) Unfreeze(ctx context.Context, service string, actor incidents.Actor) (FreezeStatus, error) {
	service = strings.TrimSpace(service)
	if _, err := s.service(service); err != nil {
		return FreezeStatus{}, err
	}
	err := s.opts.Store.WithDeployTx(ctx, func(tx Tx) error {
		f, err := tx.ManualFreeze(ctx, service)
		if err != nil {
			return err
		}
		if f == nil {
			return &incidents.ValidationError{Field: "service", Msg: service + " is not frozen by hand."}
		}
		incs, err := tx.OpenIncidents(ctx, service)
		if err != nil {
			return err
		}
		if refused := s.mayLift(ctx, f, service, incs, actor); refused != nil {
			return refused
		}
		if _, err := tx.DeleteManualFreeze(ctx, service); err != nil {
			return err
		}
		return s.recordOnOpen(ctx, tx, service, actor, incidents.Event{Kind: EventUnfreeze,
			Text: "Lifted the manual freeze of " + service + " (set by " + string(f.By) + ")",
			Data: map[string]any{"service": service, "frozen_by": string(f.By), "reason": f.Reason}})
	})
	if err != nil {
		return FreezeStatus{}, err
	}
	s.opts.Notify()
	return s.Frozen(ctx, service)
}

func (s *Service) recordOnOpen(ctx context.Context, tx Tx, service string, actor incidents.Actor, ev incidents.Event) error {
	incs, err := tx.OpenIncidents(ctx, service)
	if err != nil {
		return err
	}
	for _, inc := range incs {
		if _, err := s.opts.Incidents.RecordTx(ctx, tx, inc.ID, actor, ev); err != nil {
			return err
		}
	}
	return nil
}
