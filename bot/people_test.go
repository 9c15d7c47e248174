package bot_test

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"
	"testing/synctest"
	"time"

	"github.com/warroomhq/warroom/bot"
	"github.com/warroomhq/warroom/config"
	"github.com/warroomhq/warroom/incidents"
	"github.com/warroomhq/warroom/internal/slackfake"
	"github.com/warroomhq/warroom/jobs"
	"github.com/warroomhq/warroom/store/sqlite"
)

// alice is configured with her Slack ID; an email mapping learned earlier
// (when she was configured by email only, or from an invite) says her
// email is another user's. The configured ID is the only one.
func TestAConfiguredSlackIDWinsOverALearnedEmail(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.OpenMigrated(ctx, filepath.Join(t.TempDir(), "w.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	now := time.Date(2026, 11, 3, 14, 0, 0, 0, time.UTC)
	for _, email := range []string{"alice@example.com", "carol@example.com"} {
		if err := st.SavePost(ctx, bot.Post{Key: "slack-user:" + email, State: bot.PostSent, Text: "U0MALLORY", UpdatedAt: now}); err != nil {
			t.Fatal(err)
		}
	}
	r := bot.SlackPeople(st, map[string]config.Person{
		"alice": {Slack: "U01ALICE", Email: "alice@example.com"},
		"carol": {Email: "Carol@Example.com"},
	}, func() time.Time { return now })
	if a, ok, err := r.ActorOf(ctx, "alice"); ok || err != nil {
		t.Errorf("alice (slack U01ALICE) also acts as %s (%v)", a, err)
	}
	// carol, by email only, is who her email's mapping says.
	if a, ok, err := r.ActorOf(ctx, "carol"); !ok || err != nil || a != incidents.SlackActor("U0MALLORY") {
		t.Errorf("carol: %s %t %v", a, ok, err)
	}
}

// What a lookup learned stands for PersonMaxAge: a person whose later
// lookups failed is not recognised on an old answer.
func TestALearnedEmailExpires(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.OpenMigrated(ctx, filepath.Join(t.TempDir(), "w.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	learned := time.Date(2026, 11, 3, 14, 0, 0, 0, time.UTC)
	if err := st.SavePost(ctx, bot.Post{Key: "slack-user:carol@example.com", State: bot.PostSent, Text: "U01CAROL", UpdatedAt: learned}); err != nil {
		t.Fatal(err)
	}
	now := learned
	r := bot.SlackPeople(st, map[string]config.Person{"carol": {Email: "carol@example.com"}}, func() time.Time { return now })
	for _, tc := range []struct {
		after time.Duration
		known bool
	}{{0, true}, {bot.PersonMaxAge, true}, {bot.PersonMaxAge + time.Second, false}} {
		now = learned.Add(tc.after)
		if _, ok, err := r.ActorOf(ctx, "carol"); ok != tc.known || err != nil {
			t.Errorf("%s after the lookup: known %t (%v), want %t", tc.after, ok, err, tc.known)
		}
	}
}

// TestPeopleAreLookedUpAgainAndForgotten: carol (email only in
// examples/warroom.yaml) is looked up when Warroom starts and again each
// day; a deactivated user, a guest or no user with her email forgets
// whom it was.
func TestPeopleAreLookedUpAgainAndForgotten(t *testing.T) {
	ctx := context.Background()
	sb, _ := deploySandboxConfig(t, &e2eRollbacker{}, testConfig(t))
	runJobs(t, sb)
	carolID := sb.Users["carol"]
	carol, ok := sb.Slack.User(carolID)
	if !ok {
		t.Fatal("carol has no Slack user in the fake")
	}
	r := bot.SlackPeople(sb.App.Store, sb.App.Config.People, sb.Clock.Now)
	check := func(when string, want incidents.Actor) {
		t.Helper()
		a, ok, err := r.ActorOf(ctx, "carol")
		if err != nil || ok != (want != "") || a != want {
			t.Errorf("%s: carol is %q (%t, %v), want %q", when, a, ok, err, want)
		}
	}
	lookups := func() int { return len(sb.Slack.Calls("users.lookupByEmail")) }
	nextDay := func() {
		t.Helper()
		sb.Clock.Set(sb.Clock.Now().Add(24 * time.Hour))
		if err := sb.App.Bot.LookUpPeople(ctx); err != nil {
			t.Fatal(err)
		}
		runJobs(t, sb)
	}
	check("after the lookup at start", incidents.SlackActor(carolID))

	// The same day, no second lookup.
	n := lookups()
	if err := sb.App.Bot.LookUpPeople(ctx); err != nil {
		t.Fatal(err)
	}
	runJobs(t, sb)
	if lookups() != n {
		t.Errorf("%d lookups the same day", lookups()-n)
	}
	// Without a lookup for more than PersonMaxAge, carol is unknown; the
	// next day's lookup knows her again.
	sb.Clock.Set(sb.Clock.Now().Add(bot.PersonMaxAge + time.Minute))
	check("two days without a lookup", "")
	nextDay()
	check("after the next day's lookup", incidents.SlackActor(carolID))

	for _, tc := range []struct {
		name string
		edit func(u *slackfake.User)
	}{
		{"deactivated", func(u *slackfake.User) { u.Deleted = true }},
		{"a guest", func(u *slackfake.User) { u.Guest = true }},
		{"a bot", func(u *slackfake.User) { u.IsBot = true }},
		{"no user has her email", func(u *slackfake.User) { u.Email = "carol@elsewhere.example" }},
	} {
		u := carol
		tc.edit(&u)
		sb.Slack.AddUser(u)
		nextDay()
		check(tc.name, "")
		sb.Slack.AddUser(carol)
		nextDay()
		check("back after "+tc.name, incidents.SlackActor(carolID))
	}
}

// RunPeopleLookups queues the lookups again each day while Warroom runs.
func TestRunPeopleLookupsEachDay(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := &keyRecorder{}
		b, err := bot.New(bot.Options{Incidents: &incidents.Service{}, Store: struct{ bot.Store }{}, Jobs: q,
			People: map[string]config.Person{"carol": {Email: "carol@example.com"}, "dave": {Slack: "U01DAVE", Email: "dave@example.com"}}})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error)
		go func() { done <- b.RunPeopleLookups(ctx, time.Hour) }()
		day := time.Now().UTC()
		time.Sleep(49*time.Hour + time.Minute)
		synctest.Wait()
		cancel()
		if err := <-done; err != nil {
			t.Errorf("RunPeopleLookups: %v", err)
		}
		want := map[string]bool{}
		for d := range 3 {
			want[bot.JobLookUpPerson+":carol@example.com:"+day.AddDate(0, 0, d).Format(time.DateOnly)] = true
		}
		if len(q.keys) != len(want) {
			t.Errorf("queued %v, want %v", q.keys, want)
		}
		for _, k := range q.keys {
			if !want[k] {
				t.Errorf("queued %s; want only %v", k, want)
			}
		}
	})
}

// keyRecorder is a jobs.Enqueuer that keeps each key once.
type keyRecorder struct{ keys []string }

func (r *keyRecorder) Enqueue(_ context.Context, j jobs.NewJob) (bool, error) {
	for _, k := range r.keys {
		if k == j.Key {
			return false, nil
		}
	}
	r.keys = append(r.keys, j.Key)
	return true, nil
}

// An email that moves to the Slack user another configured email was
// learned for (carol's address now belongs to erin's user): the user acts
// for erin only, not for both until carol's next lookup.
func TestAMovedEmailForgetsTheUsersOtherEmail(t *testing.T) {
	ctx := context.Background()
	cfg := bytes.Replace(testConfig(t), []byte("  dave:  { slack: U01DAVE }\n"),
		[]byte("  dave:  { slack: U01DAVE }\n  erin:  { email: erin@example.com }\n"), 1)
	sb, _ := deploySandboxConfig(t, &e2eRollbacker{}, cfg)
	runJobs(t, sb)
	carolID := sb.Users["carol"]
	carol, ok := sb.Slack.User(carolID)
	if !ok {
		t.Fatal("carol has no Slack user in the fake")
	}
	r := bot.SlackPeople(sb.App.Store, sb.App.Config.People, sb.Clock.Now)
	if a, ok, err := r.ActorOf(ctx, "carol"); err != nil || !ok || a != incidents.SlackActor(carolID) {
		t.Fatalf("carol is %q (%t, %v) after the lookup at start", a, ok, err)
	}
	// The user's address changes; only erin's lookup runs before carol's.
	carol.Email = "erin@example.com"
	sb.Slack.AddUser(carol)
	if _, err := sb.App.Store.Enqueue(ctx, jobs.NewJob{Kind: bot.JobLookUpPerson, Key: "test:erin",
		Payload: []byte(`{"email":"erin@example.com"}`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := sb.App.Queue.RunDue(ctx); err != nil {
		t.Fatal(err)
	}
	if a, ok, err := r.ActorOf(ctx, "erin"); err != nil || !ok || a != incidents.SlackActor(carolID) {
		t.Errorf("erin is %q (%t, %v), want the user who has her email now", a, ok, err)
	}
	if a, ok, err := r.ActorOf(ctx, "carol"); err != nil || ok {
		t.Errorf("carol is still %q (%t, %v): the user acts for two people", a, ok, err)
	}
}
