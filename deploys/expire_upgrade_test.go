package deploys_test

import (
	"context"
	"database/sql"
	"fmt"
	"testing"

	"github.com/warroomhq/warroom/deploys"
)

// A proposal stored by a Warroom that did not queue its expiry (before the
// upgrade) gets one when Warroom starts (QueueExpiries), once; a decided
// rollback gets none.
func TestQueueExpiriesForProposalsPendingAtUpgrade(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	_, r := h.propose()
	h.settle()
	// The proposal as an older Warroom left it: without its expiry job.
	db, err := sql.Open("sqlite", h.path)
	if err != nil {
		t.Fatal(err)
	}
	res, err := db.ExecContext(ctx, `DELETE FROM jobs WHERE idem_key = ?`, fmt.Sprint(deploys.JobRollbackExpire, ":", r.ID))
	if n, _ := res.RowsAffected(); err != nil || n != 1 {
		t.Fatalf("deleting the expiry job: %d rows, %v", n, err)
	}
	db.Close()
	h.reopen()
	h.runJobs()
	if got, _ := h.svc.Rollback(ctx, r.ID); got.State != deploys.RollbackProposed {
		t.Fatalf("without its job, the proposal is %s", got.State)
	}

	for range 2 { // once: the second call finds the job
		if err := h.svc.QueueExpiries(ctx); err != nil {
			t.Fatal(err)
		}
	}
	n, err := h.queue.RunAll(ctx, h.clock.Set, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Errorf("%d job attempts, want the one expiry", n)
	}
	if got, _ := h.svc.Rollback(ctx, r.ID); got.State != deploys.RollbackCanceled {
		t.Errorf("after QueueExpiries the proposal is %s, want canceled (expired)", got.State)
	}
}
