package deploys

import (
	"context"
	"fmt"
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

// Freeze freezes a service's deploys by hand until Unfreeze, replacing an
// earlier manual freeze. It is recorded on the service's open incidents.
func (s *Service) Freeze(ctx context.Context, service string, actor incidents.Actor, reason string) (FreezeStatus, error) {
	service, reason = strings.TrimSpace(service), strings.TrimSpace(reason)
	if _, err := s.service(service); err != nil {
		return FreezeStatus{}, err
	}
	if utf8Len(reason) > incidents.MaxTextLen {
		return FreezeStatus{}, &incidents.ValidationError{Field: "reason", Msg: fmt.Sprintf("The reason is too long; keep it under %d characters.", incidents.MaxTextLen)}
	}
	err := s.opts.Store.WithDeployTx(ctx, func(tx Tx) error {
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

// Unfreeze lifts a manual freeze. The service stays frozen while a sev1 or
// sev2 incident is open for it; the answer says so.
func (s *Service) Unfreeze(ctx context.Context, service string, actor incidents.Actor) (FreezeStatus, error) {
	service = strings.TrimSpace(service)
	if _, err := s.service(service); err != nil {
		return FreezeStatus{}, err
	}
	err := s.opts.Store.WithDeployTx(ctx, func(tx Tx) error {
		had, err := tx.DeleteManualFreeze(ctx, service)
		if err != nil {
			return err
		}
		if !had {
			return &incidents.ValidationError{Field: "service", Msg: service + " is not frozen by hand."}
		}
		return s.recordOnOpen(ctx, tx, service, actor, incidents.Event{Kind: EventUnfreeze,
			Text: "Lifted the manual freeze of " + service, Data: map[string]any{"service": service}})
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
