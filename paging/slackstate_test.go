package paging_test

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/warroomhq/warroom/incidents"
	"github.com/warroomhq/warroom/jobs"
	"github.com/warroomhq/warroom/paging"
)

// stateJob reads the JobSlackPageState job with key, or reports false when
// there is none.
func (w *world) stateJob(key string) (paging.SlackPageState, bool) {
	w.t.Helper()
	info, err := w.store.GetJob(w.ctx, key)
	if errors.Is(err, jobs.ErrNotFound) {
		return paging.SlackPageState{}, false
	}
	if err != nil {
		w.t.Fatal(err)
	}
	if info.Kind != paging.JobSlackPageState {
		w.t.Fatalf("job %s is a %s", key, info.Kind)
	}
	var s paging.SlackPageState
	if err := json.Unmarshal(info.Payload, &s); err != nil {
		w.t.Fatal(err)
	}
	return s, true
}

// TestAcknowledgingAndResolvingTellSlackOnce: acknowledging a page (by its
// button or for all pages) enqueues one JobSlackPageState, however often
// it is acknowledged; resolving enqueues another.
func TestAcknowledgingAndResolvingTellSlackOnce(t *testing.T) {
	w := newWorld(t)
	inc := w.declare("checkout")
	w.at(0)
	if _, ok := w.stateJob("page:1:slack:acknowledged"); ok {
		t.Fatal("a state job before any acknowledgement")
	}
	w.clock.Set(t0.Add(4 * time.Minute))
	for _, actor := range []incidents.Actor{"slack:U01ALICE", "slack:U01BOB"} { // a double click
		if _, err := w.paging.Acknowledge(w.ctx, inc.ID, 1, actor); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.paging.Acknowledge(w.ctx, inc.ID, 0, "slack:U01BOB"); err != nil { // and /incident ack
		t.Fatal(err)
	}
	got, ok := w.stateJob("page:1:slack:acknowledged")
	if !ok || got.Page != 1 || got.Incident != inc.ID || got.State != paging.StateAcknowledged {
		t.Fatalf("state job after the acknowledgement: %+v %v", got, ok)
	}
	if _, err := w.inc.Resolve(w.ctx, inc.ID, "", "slack:U01BOB"); err != nil {
		t.Fatal(err)
	}
	if got, ok := w.stateJob("page:1:slack:resolved"); !ok || got.State != paging.StateResolved {
		t.Fatalf("state job after the resolution: %+v %v", got, ok)
	}
}

// TestPageOverBeforeItsFirstStepTellsSlackNothing: a page whose first step
// has not run posted nothing, so there is nothing to edit.
func TestPageOverBeforeItsFirstStepTellsSlackNothing(t *testing.T) {
	w := newWorld(t)
	inc := w.declare("ledger") // its only step runs at 5m
	w.at(2 * time.Minute)
	if _, err := w.paging.Acknowledge(w.ctx, inc.ID, 0, "slack:U01BOB"); err != nil {
		t.Fatal(err)
	}
	if _, err := w.inc.Resolve(w.ctx, inc.ID, "", "slack:U01BOB"); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"page:1:slack:acknowledged", "page:1:slack:resolved"} {
		if _, ok := w.stateJob(key); ok {
			t.Errorf("%s was enqueued", key)
		}
	}
}
