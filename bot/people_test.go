package bot_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/warroomhq/warroom/bot"
	"github.com/warroomhq/warroom/config"
	"github.com/warroomhq/warroom/incidents"
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
	})
	if a, ok, err := r.ActorOf(ctx, "alice"); ok || err != nil {
		t.Errorf("alice (slack U01ALICE) also acts as %s (%v)", a, err)
	}
	// carol, by email only, is who her email's mapping says.
	if a, ok, err := r.ActorOf(ctx, "carol"); !ok || err != nil || a != incidents.SlackActor("U0MALLORY") {
		t.Errorf("carol: %s %t %v", a, ok, err)
	}
}
