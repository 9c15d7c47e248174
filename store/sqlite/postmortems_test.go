package sqlite

import (
	"context"
	"testing"
	"time"

	"github.com/warroomhq/warroom/digest"
	"github.com/warroomhq/warroom/incidents"
	"github.com/warroomhq/warroom/postmortem"
)

func TestPostmortemRecordRoundTrip(t *testing.T) {
	s := openTestStore(t)
	ctx := context.Background()
	id := digestIncident(t, s, "Checkout down", t0.Add(-time.Hour), t0, incidents.StatusResolved)

	if _, ok, err := s.PostmortemRecord(ctx, id); err != nil || ok {
		t.Fatalf("before any publish: ok=%v err=%v", ok, err)
	}
	if err := s.SavePostmortemRecord(ctx, postmortem.Record{Incident: id}); err == nil {
		t.Error("a record without repository, branch and path was saved")
	}
	rec := postmortem.Record{Incident: id, Repo: "acme/pm", Branch: "postmortem/inc-1-checkout-down",
		Path: "postmortems/2026-03-01-inc-1-checkout-down.md", PRNumber: 7, PRURL: "https://github.test/acme/pm/pull/7", LastSHA: "abc"}
	if err := s.SavePostmortemRecord(ctx, rec); err != nil {
		t.Fatal(err)
	}
	rec.Edited, rec.PRState = true, "merged"
	if err := s.SavePostmortemRecord(ctx, rec); err != nil {
		t.Fatal(err)
	}
	got, ok, err := s.PostmortemRecord(ctx, id)
	if err != nil || !ok {
		t.Fatalf("PostmortemRecord: ok=%v err=%v", ok, err)
	}
	if got.Repo != rec.Repo || got.Branch != rec.Branch || got.Path != rec.Path || got.PRNumber != 7 ||
		got.PRURL != rec.PRURL || got.LastSHA != "abc" || !got.Edited || got.PRState != "merged" || !got.CreatedAt.Equal(t0) {
		t.Errorf("PostmortemRecord = %+v", got)
	}

	// The sync moves the pull request from open only.
	var moved [2]bool
	err = s.WithTx(ctx, func(tx incidents.Tx) error {
		stx := tx.(postmortem.SyncTx)
		var err error
		if moved[0], err = stx.SetPullRequestState(ctx, id, 7, "closed"); err != nil {
			return err
		}
		moved[1], err = stx.SetPullRequestState(ctx, id, 7, "closed")
		return err
	})
	if err != nil || moved != [2]bool{false, false} {
		t.Errorf("SetPullRequestState on a merged pull request: %v %v", moved, err)
	}

	pms, err := s.Postmortems(ctx, []incidents.ID{id, id + 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(pms) != 1 || pms[id] != (digest.Postmortem{URL: rec.PRURL, State: digest.PullRequestMerged}) {
		t.Errorf("Postmortems = %+v", pms)
	}
}

func TestActionItemsKeepTheirIssue(t *testing.T) {
	s := openTestStore(t)
	ctx := context.Background()
	id := digestIncident(t, s, "Checkout down", t0.Add(-time.Hour), t0, incidents.StatusResolved)
	other := digestIncident(t, s, "Search slow", t0.Add(-time.Hour), t0, incidents.StatusResolved)

	first := postmortem.TrackedItem{Incident: id, Key: "action-1", Text: "Add a retry budget", CreatedAt: t0.Add(-30 * time.Minute),
		IssueNumber: 3, IssueURL: "https://github.test/acme/checkout/issues/3"}
	second := postmortem.TrackedItem{Incident: id, Key: "action-2", Text: "Alert on latency", CreatedAt: t0.Add(-40 * time.Minute)}
	for _, it := range []postmortem.TrackedItem{first, second, {Incident: other, Key: "action-9", Text: "Other"}} {
		if err := s.SaveActionItem(ctx, it); err != nil {
			t.Fatal(err)
		}
	}
	// The issue is closed (the sync), then the item is saved again without
	// its issue (a publish without action_items_as_issues): the issue and
	// its state stay.
	var done bool
	err := s.WithTx(ctx, func(tx incidents.Tx) error {
		var err error
		done, err = tx.(postmortem.SyncTx).MarkActionItemDone(ctx, id, "action-1")
		return err
	})
	if err != nil || !done {
		t.Fatalf("MarkActionItemDone = %v, %v", done, err)
	}
	if err := s.SaveActionItem(ctx, postmortem.TrackedItem{Incident: id, Key: "action-1", Text: "Add a retry budget"}); err != nil {
		t.Fatal(err)
	}
	items, err := s.IncidentActionItems(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 2 || items[0].Key != "action-2" || items[1].Key != "action-1" {
		t.Fatalf("items = %+v", items)
	}
	if it := items[1]; !it.Done || it.IssueNumber != 3 || it.IssueURL != first.IssueURL || !it.CreatedAt.Equal(first.CreatedAt) {
		t.Errorf("updated item = %+v", it)
	}

	all, err := s.ActionItems(ctx, []incidents.ID{id, other})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 3 || all[1].Title != "Add a retry budget" || !all[1].Done || all[1].URL != first.IssueURL {
		t.Errorf("ActionItems = %+v", all)
	}
}
