package main

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/warroomhq/warroom/bot"
	"github.com/warroomhq/warroom/incidents"
	"github.com/warroomhq/warroom/internal/githubfake"
	"github.com/warroomhq/warroom/internal/sandbox"
)

// demoRepo is checkout's repository in examples/warroom.yaml.
const demoRepo = "acme/checkout"

// demoGitHub gives the GitHub fake checkout's repository, its last two
// production deploys (2026.11.03-1 went live at 13:58, just before the
// first alert) and its rollback workflow.
func demoGitHub(gh *githubfake.Fake) {
	gh.AddRepo(demoRepo, "main", nil)
	gh.AddWorkflow(demoRepo, githubfake.Workflow{File: "rollback.yml", Name: "Rollback"})
	at := func(day, hour, min int) time.Time { return time.Date(2026, 11, day, hour, min, 0, 0, time.UTC) }
	gh.AddDeployment(demoRepo, githubfake.Deployment{Ref: "2026.11.02-2", SHA: "9f2c4e1a7b3d5f60718293a4b5c6d7e8f9012345",
		Environment: "production", Creator: "deploy-bot", CreatedAt: at(2, 16, 0),
		Statuses: []githubfake.DeploymentStatus{{State: "success", CreatedAt: at(2, 16, 4)}, {State: "inactive", CreatedAt: at(3, 13, 58)}}})
	gh.AddDeployment(demoRepo, githubfake.Deployment{Ref: "2026.11.03-1", SHA: "c0ffee1234567890abcdef1234567890abcdef12",
		Environment: "production", Creator: "deploy-bot", CreatedAt: at(3, 13, 54),
		Statuses: []githubfake.DeploymentStatus{{State: "success", CreatedAt: at(3, 13, 58)}}})
}

// rollBack has alice roll checkout back from the incident channel: the
// confirmation, her click, the workflow dispatch, and its outcome.
func (d *demo) rollBack(inc *incidents.Incident) error {
	reply, err := d.command(demoAlice, inc.ChannelID, "rollback checkout")
	if err != nil {
		return err
	}
	d.say("alice: /incident rollback checkout")
	d.quote(reply)
	if err := d.run(); err != nil {
		return err
	}
	rbs, err := d.sb.App.Deploys.Rollbacks(d.ctx, inc.ID)
	if err != nil || len(rbs) != 1 {
		return fmt.Errorf("no rollback proposed: %v", err)
	}
	d.say("Warroom posts what it will do, with Confirm and Cancel; alice leads, so she may confirm:")
	d.quote(lastBotMessage(d.sb, inc.ChannelID))
	if err := d.click(demoAlice, inc, bot.ActionRollbackConfirm, strconv.FormatInt(rbs[0].ID, 10)); err != nil {
		return err
	}
	d.say("alice clicks Confirm rollback. One rollback.start job dispatches rollback.yml on main")
	if _, err := d.sb.App.Queue.RunDue(d.ctx); err != nil {
		return err
	}
	runs := d.sb.GitHub.Runs(demoRepo)
	if len(runs) != 1 {
		return fmt.Errorf("%d workflow runs after the confirmation", len(runs))
	}
	var inputs []string
	for _, k := range slices.Sorted(maps.Keys(runs[0].Inputs)) {
		inputs = append(inputs, k+"="+runs[0].Inputs[k])
	}
	d.say("with inputs %s; the run succeeds and Warroom, polling it, reports:", strings.Join(inputs, ", "))
	d.sb.GitHub.SetRun(demoRepo, runs[0].ID, "completed", "success", "", "")
	if err := d.run(); err != nil {
		return err
	}
	d.quote(lastBotMessage(d.sb, inc.ChannelID))
	return nil
}

// lastBotMessage is the text of Warroom's last message in a channel.
func lastBotMessage(sb *sandbox.Sandbox, channel string) string {
	msgs := sb.Slack.Messages(channel)
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].User == sb.Slack.BotUser() && !msgs[i].Pinned {
			return msgs[i].Text
		}
	}
	return ""
}

// replacer writes to w what it is given, with r's replacements. Each
// Write is replaced on its own: the demo writes whole lines and messages.
type replacer struct {
	w io.Writer
	r *strings.Replacer
}

func (r *replacer) Write(p []byte) (int, error) {
	if _, err := io.WriteString(r.w, r.r.Replace(string(p))); err != nil {
		return 0, err
	}
	return len(p), nil
}
