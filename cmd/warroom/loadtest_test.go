package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/warroomhq/warroom/incidents"
	"github.com/warroomhq/warroom/internal/loadtest"
	"github.com/warroomhq/warroom/internal/sandbox"
)

// TestLoadtestAgainstWarroom runs warroom loadtest against a whole Warroom
// in this process (the sandbox on the wall clock, its job queue running,
// Slack faked) and checks the report against what Warroom stored.
func TestLoadtestAgainstWarroom(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sb, err := sandbox.New(ctx, sandbox.Options{Dir: t.TempDir(), WallClock: true, NoPaging: true})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	queue := make(chan error, 1)
	go func() { queue <- sb.App.Queue.Run(ctx) }()
	defer func() { cancel(); <-queue }()

	env := map[string]string{"WARROOM_WEBHOOK_TOKEN": sandbox.WebhookToken, "WARROOM_API_TOKEN": sandbox.APIToken}
	code, stdout, stderr := runCLI(t, env, "loadtest", "--url", sb.Server.URL, "--bodies", "12", "--groups", "3",
		"--batch", "1,5", "--concurrency", "3", "--resolve", "--run-id", "cli", "--poll", "20ms", "--wait", "60s", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s\n%s", code, stderr, stdout)
	}
	var rep loadtest.Report
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("the JSON report: %v\n%s", err, stdout)
	}
	f := rep.Fire
	if f.Bodies != 12 || f.Status["200"] != 12 || f.Alerts < 12 || f.Alerts > 60 || f.Accepted != f.Alerts ||
		f.Latency.Max <= 0 || f.Latency.P50 > f.Latency.Max || f.AlertsPerSec <= 0 {
		t.Errorf("firing phase %+v", f)
	}
	if r := rep.Resolve; r == nil || r.Bodies != 12 || r.Status["200"] != 12 || r.Alerts != f.Alerts {
		t.Errorf("resolve phase %+v", r)
	}
	if c := rep.Channels; c == nil || c.Groups != 3 || c.Incidents != 3 || c.WithChannel != 3 || c.ToChannel.Max <= 0 || c.Error != "" {
		t.Errorf("channels %+v (%s)", c, rep.ChannelsSkipped)
	}

	// Warroom agrees: three incidents with a channel, every alert stored.
	incs, err := sb.App.Incidents.List(ctx, incidents.ListFilter{Status: incidents.FilterAll})
	if err != nil {
		t.Fatal(err)
	}
	titles := map[string]bool{}
	for _, inc := range incs {
		if inc.ChannelID == "" {
			t.Errorf("%s has no channel", inc.ID)
		}
		titles[inc.Title] = true
	}
	if len(incs) != 3 || !titles[loadtest.Title("cli", 0)] || !titles[loadtest.Title("cli", 2)] {
		t.Errorf("incidents: %v", titles)
	}

	// Text, without the API token: the channel part is skipped, and says why.
	code, stdout, stderr = runCLI(t, map[string]string{"WARROOM_WEBHOOK_TOKEN": sandbox.WebhookToken},
		"loadtest", "--url", sb.Server.URL, "--bodies", "2", "--source", "generic")
	if code != 0 || !strings.Contains(stdout, "firing: 2 bodies, 2 alerts") || !strings.Contains(stdout, "200 ×2") ||
		!strings.Contains(stdout, "incidents: not checked: no API token") {
		t.Errorf("exit %d: %s\n%s", code, stderr, stdout)
	}
}

func TestLoadtestUsageAndFailures(t *testing.T) {
	if code, _, _ := runCLI(t, nil, "loadtest", "--bodies", "1", "--nope"); code != 2 {
		t.Errorf("bad flag: exit %d, want 2", code)
	}
	if code, _, stderr := runCLI(t, nil, "loadtest", "--bodies", "1"); code != 1 || !strings.Contains(stderr, "WARROOM_WEBHOOK_TOKEN") {
		t.Errorf("no token: exit %d %s", code, stderr)
	}
	if code, _, stderr := runCLI(t, map[string]string{"WARROOM_WEBHOOK_TOKEN": "t"}, "loadtest", "--bodies", "1", "--batch", "ten"); code != 1 || !strings.Contains(stderr, "batch") {
		t.Errorf("bad batch: exit %d %s", code, stderr)
	}
	// Nothing listens: the report is printed and the exit code is 1.
	code, stdout, stderr := runCLI(t, map[string]string{"WARROOM_WEBHOOK_TOKEN": "t"}, "loadtest", "--url", "http://127.0.0.1:1", "--bodies", "2")
	if code != 1 || !strings.Contains(stdout, "error ×2") || !strings.Contains(stderr, "2 bodies were not answered 2xx") {
		t.Errorf("exit %d: %s\n%s", code, stdout, stderr)
	}
}
