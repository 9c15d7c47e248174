package deploys_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/warroomhq/warroom/deploys"
	"github.com/warroomhq/warroom/incidents"
)

func TestFrozenWhileASev1OrSev2IsOpen(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	st, err := h.svc.Frozen(ctx, "checkout")
	if err != nil || st.Frozen || len(st.Incidents) != 0 || st.Manual != nil {
		t.Fatalf("no incident: %+v, %v", st, err)
	}
	low := h.declare(incidents.Sev3)
	if st, _ := h.svc.Frozen(ctx, "checkout"); st.Frozen {
		t.Errorf("frozen by a sev3: %+v", st)
	}
	high := h.declare(incidents.Sev2)
	st, _ = h.svc.Frozen(ctx, "checkout")
	if !st.Frozen || len(st.Incidents) != 1 || st.Incidents[0].ID != high.ID {
		t.Fatalf("sev2 open: %+v", st)
	}
	if other, _ := h.svc.Frozen(ctx, "search"); other.Frozen {
		t.Errorf("another service frozen: %+v", other)
	}
	if _, err := h.inc.SetSeverity(ctx, low.ID, incidents.Sev1, "cli:t"); err != nil {
		t.Fatal(err)
	}
	if st, _ := h.svc.Frozen(ctx, "checkout"); len(st.Incidents) != 2 {
		t.Errorf("two high incidents: %+v", st.Incidents)
	}
	for _, id := range []incidents.ID{low.ID, high.ID} {
		if _, err := h.inc.Resolve(ctx, id, "", "cli:t"); err != nil {
			t.Fatal(err)
		}
	}
	if st, _ := h.svc.Frozen(ctx, "checkout"); st.Frozen {
		t.Errorf("frozen after resolving: %+v", st)
	}
	for _, name := range []string{"", "nope"} {
		if _, err := h.svc.Frozen(ctx, name); err == nil || !deploys.IsUserError(err) {
			t.Errorf("service %q: %v", name, err)
		}
	}
}

func TestManualFreezeAndUnfreeze(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	inc := h.declare(incidents.Sev3)
	st, err := h.svc.Freeze(ctx, "checkout", incidents.SlackActor(alice), "  black friday  ")
	if err != nil {
		t.Fatal(err)
	}
	if !st.Frozen || st.Manual == nil || st.Manual.Reason != "black friday" || st.Manual.By != incidents.SlackActor(alice) ||
		!st.Manual.At.Equal(t0) || len(st.Incidents) != 0 {
		t.Fatalf("after freeze: %+v", st)
	}
	evs := h.events(inc.ID, deploys.EventFreeze)
	if len(evs) != 1 || evs[0].Text != "Froze deploys of checkout: black friday" {
		t.Errorf("freeze events %+v", evs)
	}
	st, err = h.svc.Unfreeze(ctx, "checkout", incidents.SlackActor(bob))
	if err != nil || st.Frozen || st.Manual != nil {
		t.Fatalf("after unfreeze: %+v, %v", st, err)
	}
	if _, err := h.svc.Unfreeze(ctx, "checkout", incidents.SlackActor(bob)); err == nil ||
		!strings.Contains(err.Error(), "not frozen by hand") {
		t.Errorf("second unfreeze: %v", err)
	}
	if n := len(h.events(inc.ID, deploys.EventUnfreeze)); n != 1 {
		t.Errorf("%d unfreeze events", n)
	}
	if _, err := h.svc.Freeze(ctx, "nope", incidents.SlackActor(bob), ""); !deploys.IsUserError(err) {
		t.Errorf("unknown service: %v", err)
	}
	// The freeze outlives a restart.
	if _, err := h.svc.Freeze(ctx, "search", incidents.SlackActor(bob), "migration"); err != nil {
		t.Fatal(err)
	}
	h.reopen()
	if st, _ := h.svc.Frozen(ctx, "search"); !st.Frozen || st.Manual.Reason != "migration" {
		t.Errorf("after a restart: %+v", st)
	}
}

func TestOnlyTheFreezerTheLeadOrAnApproverMayLiftAFreeze(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	inc := h.declare(incidents.Sev3) // led by lena
	if _, err := h.svc.Freeze(ctx, "checkout", incidents.SlackActor(dave), "risky migration"); err != nil {
		t.Fatal(err)
	}
	stranger := incidents.SlackActor("U09ZED")
	_, err := h.svc.Unfreeze(ctx, "checkout", stranger)
	var refused *deploys.FreezeRefusedError
	if !errors.As(err, &refused) || !deploys.IsUserError(err) || err.Error() !=
		"Only who froze it (slack:U01DAVE), the lead of an open incident of checkout (lena), checkout's rollback approvers (alice, bob) may lift or replace the manual freeze of checkout." {
		t.Fatalf("a stranger unfreezing: %v", err)
	}
	// Nor may they replace it (and so own it).
	if _, err := h.svc.Freeze(ctx, "checkout", stranger, "mine now"); !errors.As(err, &refused) {
		t.Fatalf("a stranger replacing the freeze: %v", err)
	}
	if st, _ := h.svc.Frozen(ctx, "checkout"); st.Manual == nil || st.Manual.By != incidents.SlackActor(dave) {
		t.Fatalf("freeze after refusals: %+v", st.Manual)
	}
	for _, who := range []incidents.Actor{incidents.SlackActor(dave), incidents.SlackActor(lena), incidents.SlackActor(bob)} {
		if _, err := h.svc.Freeze(ctx, "checkout", incidents.SlackActor(dave), "again"); err != nil {
			t.Fatal(err)
		}
		if st, err := h.svc.Unfreeze(ctx, "checkout", who); err != nil || st.Manual != nil {
			t.Errorf("%s unfreezing: %+v, %v", who, st, err)
		}
	}
	evs := h.events(inc.ID, deploys.EventUnfreeze)
	if len(evs) != 3 || evs[1].Actor != incidents.SlackActor(lena) || evs[1].Data["frozen_by"] != "slack:U01DAVE" {
		t.Errorf("unfreeze events %+v", evs)
	}
}
