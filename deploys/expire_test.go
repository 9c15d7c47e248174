package deploys_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/warroomhq/warroom/deploys"
	"github.com/warroomhq/warroom/incidents"
)

// settle runs the jobs due within a minute, moving the clock to each, and
// leaves later ones (a proposal's expiry) alone, so a test can act first.
func (h *harness) settle() {
	h.t.Helper()
	ctx := context.Background()
	for range 1000 {
		if _, err := h.queue.RunDue(ctx); err != nil {
			h.t.Fatal(err)
		}
		next, ok, err := h.queue.NextRunAt(ctx)
		if err != nil {
			h.t.Fatal(err)
		}
		if !ok || next.After(h.clock.Now().Add(time.Minute)) {
			return
		}
		if next.After(h.clock.Now()) {
			h.clock.Set(next)
		}
	}
	h.t.Fatal("jobs keep falling due")
}

func TestAProposalNobodyDecidesExpiresOnTime(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	inc, r := h.propose()
	proposed := h.clock.Now()
	h.settle()
	if got, _ := h.svc.Rollback(ctx, r.ID); got.State != deploys.RollbackProposed {
		t.Fatalf("before its time the proposal is %s", got.State)
	}
	// Nobody clicks: the expiry job cancels it 30 minutes after.
	h.runJobs()
	got, _ := h.svc.Rollback(ctx, r.ID)
	if got.State != deploys.RollbackCanceled || !got.FinishedAt.Equal(proposed.Add(deploys.DefaultProposalTTL)) {
		t.Fatalf("after 30 minutes: %s, finished %s (proposed %s)", got.State, got.FinishedAt, proposed)
	}
	evs := h.events(inc.ID, deploys.EventRollbackCanceled)
	if len(evs) != 1 || evs[0].Actor != incidents.System || evs[0].Data[deploys.DataDecision] != string(deploys.DecisionExpired) ||
		!strings.Contains(evs[0].Text, "expired") {
		t.Fatalf("expiry events %+v", evs)
	}
	if ttl, _ := evs[0].Data["ttl_seconds"].(float64); ttl != 1800 {
		t.Errorf("ttl_seconds %v", evs[0].Data["ttl_seconds"])
	}
	if h.outcomeList() != "[github_workflow/canceled]" {
		t.Errorf("outcomes %s", h.outcomeList())
	}
	if h.rb.startCalls() != 0 {
		t.Error("an expired proposal was started")
	}
}

func TestADecidedProposalDoesNotExpire(t *testing.T) {
	ctx := context.Background()
	for _, confirm := range []bool{true, false} {
		h := newHarness(t)
		h.rb.progress = []deploys.Progress{{Status: deploys.StatusSuccess}}
		inc, r := h.propose()
		decide, want := h.svc.CancelRollback, deploys.DecisionCanceled
		if confirm {
			decide, want = h.svc.ConfirmRollback, deploys.DecisionConfirmed
		}
		if _, err := decide(ctx, r.ID, incidents.SlackActor(alice)); err != nil {
			t.Fatal(err)
		}
		h.runJobs() // past the expiry
		got, _ := h.svc.Rollback(ctx, r.ID)
		if confirm && got.State != deploys.RollbackSucceeded || !confirm && got.State != deploys.RollbackCanceled {
			t.Errorf("confirm=%v: %s", confirm, got.State)
		}
		kind := deploys.EventRollbackCanceled
		if confirm {
			kind = deploys.EventRollbackConfirmed
		}
		evs := h.events(inc.ID, kind)
		if len(evs) != 1 || evs[0].Data[deploys.DataDecision] != string(want) || evs[0].Data["proposed_by"] != string(incidents.SlackActor(dave)) {
			t.Errorf("confirm=%v: decision events %+v", confirm, evs)
		}
		if n := len(h.events(inc.ID, deploys.EventRollbackCanceled)); confirm && n != 0 {
			t.Errorf("a confirmed rollback got %d cancel events", n)
		}
	}
}

func TestConfirmingJustBeforeTheExpiryWins(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	_, r := h.propose()
	// A proposal holds 30 minutes from when it was made, whoever asks.
	h.clock.Advance(deploys.DefaultProposalTTL - time.Second)
	if _, err := h.svc.ConfirmRollback(ctx, r.ID, incidents.SlackActor(alice)); err != nil {
		t.Fatalf("confirming a second before the expiry: %v", err)
	}
	h.runJobs()
	if got, _ := h.svc.Rollback(ctx, r.ID); got.State == deploys.RollbackCanceled {
		t.Error("the expiry canceled a confirmed rollback")
	}
}
