package app_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/warroomhq/warroom/incidents"
	"github.com/warroomhq/warroom/internal/sandbox"
)

// TestDigestIsPostedOnceAndPreviewed starts Warroom on a Monday evening,
// after the 09:00 (Berlin) digest was due: the missed run is posted to
// #incident-review once, however often Warroom starts, and /incident digest
// shows the same digest to whoever asks.
func TestDigestIsPostedOnceAndPreviewed(t *testing.T) {
	ctx := context.Background()
	monday := time.Date(2026, 11, 23, 17, 0, 0, 0, time.UTC)
	sb, err := sandbox.New(ctx, sandbox.Options{Dir: t.TempDir(), Start: monday.Add(-26 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	// A sev1 on Sunday, resolved 40 minutes later.
	inc, err := sb.App.Incidents.Declare(ctx, incidents.DeclareInput{Title: "Checkout <!channel> down", Severity: incidents.Sev1,
		Service: "checkout", Actor: "slack:U01ALICE"})
	if err != nil {
		t.Fatal(err)
	}
	sb.Clock.Advance(40 * time.Minute)
	if _, err := sb.App.Incidents.Resolve(ctx, inc.ID, "rolled back", "slack:U01ALICE"); err != nil {
		t.Fatal(err)
	}
	if _, err := sb.Run(ctx, 1000); err != nil {
		t.Fatal(err)
	}
	sb.Clock.Set(monday)

	if sb.App.Digest == nil {
		t.Fatal("the example config has a digest schedule, but no scheduler runs")
	}
	for range 2 { // a start, and a restart the same evening
		if err := sb.App.Digest.CatchUp(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := sb.Run(ctx, 1000); err != nil {
			t.Fatal(err)
		}
	}
	posts := sb.Slack.Messages("#incident-review")
	if len(posts) != 1 {
		t.Fatalf("%d digests in #incident-review, want 1", len(posts))
	}
	blocks := strings.NewReplacer(`\u0026`, "&", `\u003c`, "<", `\u003e`, ">").Replace(string(posts[0].Blocks)) // as JSON encodes them
	for _, want := range []string{
		"Incident review: Mon 16 Nov – Mon 23 Nov 2026", // the week before 09:00 Berlin (08:00 UTC)
		"1 (↑1 from 0)", "median 40m",
		// sev1 is in draft_on_resolve: the resolve opened its postmortem.
		"in review: INC-1 SEV1 checkout: Checkout &lt;!channel&gt; down — <https://github.example.com/acme/postmortems/pull/1|pull request>",
	} {
		if !strings.Contains(blocks, want) {
			t.Errorf("digest lacks %q:\n%s", want, blocks)
		}
	}
	if !strings.Contains(posts[0].Text, "Incident review") || strings.Contains(blocks, "<!channel>") {
		t.Errorf("fallback text %q, or an unescaped title", posts[0].Text)
	}

	reply, err := sb.Driver.Command(ctx, "U01BOB", "payments", "digest")
	if err != nil || reply.Status != 200 {
		t.Fatalf("/incident digest: %v %+v", err, reply)
	}
	if text, _ := reply.JSON["text"].(string); !strings.Contains(text, "1 opened, 1 resolved") {
		t.Fatalf("/incident digest answered %q", text)
	}
	if rt, _ := reply.JSON["response_type"].(string); rt != "ephemeral" {
		t.Fatalf("the preview is %q, want ephemeral", rt)
	}
}
