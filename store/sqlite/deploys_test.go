package sqlite

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/warroomhq/warroom/deploys"
	"github.com/warroomhq/warroom/incidents"
)

func deployTx(t testing.TB, s *Store, fn func(tx deploys.Tx) error) {
	t.Helper()
	if err := s.WithDeployTx(context.Background(), fn); err != nil {
		t.Fatal(err)
	}
}

func TestDeploysUpsertBySourceAndExternalID(t *testing.T) {
	ctx := context.Background()
	s := openTestStore(t)
	d := deploys.Deploy{Service: "checkout", Environment: "production", Source: deploys.SourceWebhook, ExternalID: "42",
		Ref: "v1.2.3", SHA: "0123456789abcdef", Status: deploys.StatusRunning, Creator: "argo", StartedAt: t0}
	var before *deploys.Deploy
	deployTx(t, s, func(tx deploys.Tx) (err error) {
		before, err = tx.SaveDeploy(ctx, &d)
		return err
	})
	if before != nil || d.ID == 0 {
		t.Fatalf("new deploy: before %v, ID %d", before, d.ID)
	}
	firstID := d.ID
	d.Status, d.FinishedAt = deploys.StatusSuccess, t0.Add(3*time.Minute)
	d.ID = 0
	deployTx(t, s, func(tx deploys.Tx) (err error) {
		before, err = tx.SaveDeploy(ctx, &d)
		return err
	})
	if before == nil || before.Status != deploys.StatusRunning || d.ID != firstID {
		t.Fatalf("update: before %+v, ID %d (want %d)", before, d.ID, firstID)
	}
	// Another source with the same external ID is another deploy.
	other := d
	other.Source, other.ID, other.StartedAt = deploys.SourceGitHubActions, 0, t0.Add(time.Hour)
	deployTx(t, s, func(tx deploys.Tx) error { _, err := tx.SaveDeploy(ctx, &other); return err })

	got, err := s.Deploys(ctx, "checkout", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].ID != other.ID || got[1].ID != firstID {
		t.Fatalf("deploys %+v, want newest first", got)
	}
	if g := got[1]; g.Status != deploys.StatusSuccess || !g.FinishedAt.Equal(d.FinishedAt) || g.SHA != d.SHA ||
		g.Environment != "production" || g.Creator != "argo" || !g.StartedAt.Equal(t0) {
		t.Errorf("stored deploy %+v, want %+v", g, d)
	}
	if got, _ := s.Deploys(ctx, "checkout", 1); len(got) != 1 {
		t.Errorf("limit 1 gave %d deploys", len(got))
	}
	if got, _ := s.Deploys(ctx, "search", 10); len(got) != 0 {
		t.Errorf("another service's deploys: %+v", got)
	}
}

func TestRollbacksStoreAndUpdateConditionally(t *testing.T) {
	ctx := context.Background()
	s := openTestStore(t)
	svc := incidents.NewService(s)
	inc, err := svc.Declare(ctx, incidents.DeclareInput{Title: "checkout down", Service: "checkout"})
	if err != nil {
		t.Fatal(err)
	}
	r := &deploys.Rollback{Incident: inc.ID, Service: "checkout", Mechanism: deploys.MechanismWebhook,
		From: deploys.Deploy{Ref: "v2", SHA: "bbbbbbbbbb"}, To: deploys.Deploy{Ref: "v1", SHA: "aaaaaaaaaa", Source: deploys.SourceWebhook},
		State: deploys.RollbackProposed, ProposedBy: "slack:U1", ProposedAt: t0, UpdatedAt: t0}
	deployTx(t, s, func(tx deploys.Tx) error {
		_, existed, err := tx.InsertRollback(ctx, r, "propose-1")
		if existed {
			t.Error("a new rollback existed")
		}
		if err != nil {
			return err
		}
		r.Key = deploys.RollbackKey(r.ID)
		return tx.UpdateRollback(ctx, r)
	})
	// The same proposal key gives the same rollback.
	deployTx(t, s, func(tx deploys.Tx) error {
		again := &deploys.Rollback{Incident: inc.ID, Service: "checkout", Mechanism: deploys.MechanismWebhook, State: deploys.RollbackProposed}
		got, existed, err := tx.InsertRollback(ctx, again, "propose-1")
		if err != nil || !existed || got.ID != r.ID {
			t.Errorf("second proposal with the same key: %+v, %v, %v", got, existed, err)
		}
		return err
	})

	// Two writers that read version 2: the first wins, the second conflicts.
	stale := *r
	r.State, r.ConfirmedBy, r.ConfirmedAt = deploys.RollbackConfirmed, "slack:U2", t0.Add(time.Minute)
	r.Handle = deploys.Handle{ExternalID: "run-9", URL: "https://ci.example.com/9", Pending: true}
	deployTx(t, s, func(tx deploys.Tx) error { return tx.UpdateRollback(ctx, r) })
	stale.State = deploys.RollbackCanceled
	err = s.WithDeployTx(ctx, func(tx deploys.Tx) error { return tx.UpdateRollback(ctx, &stale) })
	if !errors.Is(err, incidents.ErrConflict) {
		t.Fatalf("stale update: %v, want a conflict", err)
	}

	got, err := s.Rollback(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != deploys.RollbackConfirmed || got.Key != deploys.RollbackKey(r.ID) || got.From.SHA != "bbbbbbbbbb" ||
		got.To.Ref != "v1" || got.Handle != r.Handle || got.ConfirmedBy != "slack:U2" || !got.ConfirmedAt.Equal(r.ConfirmedAt) ||
		got.Version != r.Version || got.Incident != inc.ID {
		t.Errorf("stored rollback %+v, want %+v", got, r)
	}
	deployTx(t, s, func(tx deploys.Tx) error {
		byKey, err := tx.RollbackByKey(ctx, r.Key)
		if err != nil || byKey.ID != r.ID {
			t.Errorf("by key: %+v, %v", byKey, err)
		}
		if _, err := tx.RollbackByKey(ctx, "warroom-rollback-999"); !errors.Is(err, incidents.ErrNotFound) {
			t.Errorf("unknown key: %v", err)
		}
		return nil
	})
	if _, err := s.Rollback(ctx, 999); !errors.Is(err, incidents.ErrNotFound) {
		t.Errorf("unknown rollback: %v", err)
	}
	list, err := s.Rollbacks(ctx, inc.ID)
	if err != nil || len(list) != 1 || list[0].ID != r.ID {
		t.Errorf("rollbacks of %s: %v, %v", inc.ID, list, err)
	}
}

func TestManualFreezes(t *testing.T) {
	ctx := context.Background()
	s := openTestStore(t)
	if f, err := s.ManualFreeze(ctx, "checkout"); f != nil || err != nil {
		t.Fatalf("no freeze yet: %+v, %v", f, err)
	}
	deployTx(t, s, func(tx deploys.Tx) error {
		return tx.SetManualFreeze(ctx, deploys.ManualFreeze{Service: "checkout", By: "slack:U1", Reason: "black friday", At: t0})
	})
	deployTx(t, s, func(tx deploys.Tx) error {
		return tx.SetManualFreeze(ctx, deploys.ManualFreeze{Service: "checkout", By: "slack:U2", Reason: "still black friday", At: t0.Add(time.Hour)})
	})
	f, err := s.ManualFreeze(ctx, "checkout")
	if err != nil || f == nil || f.By != "slack:U2" || f.Reason != "still black friday" || !f.At.Equal(t0.Add(time.Hour)) {
		t.Fatalf("freeze %+v, %v", f, err)
	}
	var had, again bool
	deployTx(t, s, func(tx deploys.Tx) (err error) {
		if had, err = tx.DeleteManualFreeze(ctx, "checkout"); err != nil {
			return err
		}
		again, err = tx.DeleteManualFreeze(ctx, "checkout")
		return err
	})
	if !had || again {
		t.Errorf("deleting: first %v, second %v", had, again)
	}
	if f, _ := s.ManualFreeze(ctx, "checkout"); f != nil {
		t.Errorf("freeze after delete: %+v", f)
	}
}

func TestOpenIncidentsOfAService(t *testing.T) {
	ctx := context.Background()
	s := openTestStore(t)
	svc := incidents.NewService(s)
	a, _ := svc.Declare(ctx, incidents.DeclareInput{Title: "a", Service: "checkout", Lead: "alice"})
	b, _ := svc.Declare(ctx, incidents.DeclareInput{Title: "b", Service: "checkout"})
	svc.Declare(ctx, incidents.DeclareInput{Title: "c", Service: "search"})
	if _, err := svc.Resolve(ctx, b.ID, "", "cli:t"); err != nil {
		t.Fatal(err)
	}
	deployTx(t, s, func(tx deploys.Tx) error {
		incs, err := tx.OpenIncidents(ctx, "checkout")
		if err != nil {
			return err
		}
		if len(incs) != 1 || incs[0].ID != a.ID || incs[0].Lead() != "alice" {
			t.Errorf("open incidents of checkout: %+v", incs)
		}
		return nil
	})
}
