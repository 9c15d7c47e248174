package sqlite

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/warroomhq/warroom/bot"
	"github.com/warroomhq/warroom/incidents"
)

func TestSlackStoreIncidentByChannel(t *testing.T) {
	ctx := context.Background()
	s := openTestStore(t)
	svc := incidents.NewService(s, incidents.WithClock(func() time.Time { return t0 }))
	inc, err := svc.Declare(ctx, incidents.DeclareInput{Title: "Checkout down", Lead: "U01ALICE"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.AssignRole(ctx, inc.ID, incidents.RoleComms, "U02BOB", "cli"); err != nil {
		t.Fatal(err)
	}
	// An incident without a channel must not be found by the empty channel.
	if _, err := svc.Declare(ctx, incidents.DeclareInput{Title: "No channel yet"}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.SetChannel(ctx, inc.ID, "C0INC1", "inc-1-checkout-down", "warroom"); err != nil {
		t.Fatal(err)
	}

	got, err := s.IncidentByChannel(ctx, "C0INC1")
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != inc.ID || got.Title != "Checkout down" || got.ChannelName != "inc-1-checkout-down" {
		t.Errorf("found %+v", got)
	}
	if got.Lead() != "U01ALICE" || got.Roles[incidents.RoleComms] != "U02BOB" {
		t.Errorf("roles %v, want the lead and comms", got.Roles)
	}
	for _, ch := range []string{"C0OTHER", ""} {
		_, err := s.IncidentByChannel(ctx, ch)
		if !errors.Is(err, incidents.ErrNotFound) {
			t.Errorf("channel %q: %v, want ErrNotFound", ch, err)
		}
		if !incidents.IsUserError(err) {
			t.Errorf("channel %q: %v is not a user error", ch, err)
		}
	}
}

func TestSlackStoreIncidentByChannelUsesIndex(t *testing.T) {
	s := openTestStore(t)
	plan := queryPlan(t, s.reader, `SELECT id FROM incidents
		WHERE slack_channel_id = ? AND slack_channel_id <> '' ORDER BY id DESC LIMIT 1`, "C1")
	if !strings.Contains(strings.Join(plan, "\n"), "incidents_slack_channel") {
		t.Errorf("plan %q does not use incidents_slack_channel", plan)
	}
}

func TestSlackStoreRememberEvent(t *testing.T) {
	ctx := context.Background()
	s := openTestStore(t)
	remember := func(id string, at time.Time) bool {
		t.Helper()
		first, err := s.RememberEvent(ctx, id, at)
		if err != nil {
			t.Fatal(err)
		}
		return first
	}
	if !remember("Ev1", t0) {
		t.Fatal("a new event is not first")
	}
	if remember("Ev1", t0.Add(time.Minute)) {
		t.Fatal("a retried event is first again")
	}
	if err := s.ForgetEvent(ctx, "Ev1"); err != nil {
		t.Fatal(err)
	}
	if !remember("Ev1", t0.Add(2*time.Minute)) {
		t.Fatal("a forgotten event is not handled again")
	}
	if err := s.ForgetEvent(ctx, "never-seen"); err != nil {
		t.Errorf("forgetting an unknown event: %v", err)
	}
	if _, err := s.RememberEvent(ctx, "", t0); err == nil {
		t.Error("an empty event ID was remembered")
	}

	remember("Ev2", t0.Add(time.Hour))
	remember("Ev3", t0.Add(2*time.Hour))
	n, err := s.ForgetEvents(ctx, t0.Add(2*time.Hour))
	if err != nil || n != 2 {
		t.Fatalf("pruned %d, %v; want Ev1 and Ev2", n, err)
	}
	if remember("Ev3", t0) {
		t.Error("pruning forgot an event remembered at the cut-off")
	}
	if !remember("Ev2", t0) {
		t.Error("a pruned event is still remembered")
	}
}

func TestSlackStorePosts(t *testing.T) {
	ctx := context.Background()
	s := openTestStore(t)
	if _, ok, err := s.Post(ctx, "summary:INC-1"); err != nil || ok {
		t.Fatalf("missing post: ok %v, %v", ok, err)
	}
	sending := bot.Post{Key: "summary:INC-1", IncidentID: 1, ChannelID: "C1", State: bot.PostSending, Version: 3}
	if err := s.SavePost(ctx, sending); err != nil {
		t.Fatal(err)
	}
	got, ok, err := s.Post(ctx, "summary:INC-1")
	if err != nil || !ok {
		t.Fatalf("post: ok %v, %v", ok, err)
	}
	sending.UpdatedAt = t0 // the store's clock fills a zero time in
	if got != sending {
		t.Errorf("read back %+v, want %+v", got, sending)
	}

	sent := bot.Post{Key: "summary:INC-1", IncidentID: 1, ChannelID: "C1", TS: "1700000000.000100",
		State: bot.PostSent, Version: 4, Text: "topic", UpdatedAt: t0.Add(time.Second)}
	if err := s.SavePost(ctx, sent); err != nil {
		t.Fatal(err)
	}
	if got, _, _ := s.Post(ctx, "summary:INC-1"); got != sent {
		t.Errorf("after replacing: %+v, want %+v", got, sent)
	}
	if err := s.SavePost(ctx, bot.Post{State: bot.PostSent}); err == nil {
		t.Error("a post without a key was saved")
	}
	if err := s.SavePost(ctx, bot.Post{Key: "k"}); err == nil {
		t.Error("a post without a state was saved")
	}
}
