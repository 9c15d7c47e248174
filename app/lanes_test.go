package app

import (
	"testing"

	"github.com/warroomhq/warroom/bot"
	"github.com/warroomhq/warroom/deploys"
	"github.com/warroomhq/warroom/incidents"
	"github.com/warroomhq/warroom/paging"
	"github.com/warroomhq/warroom/postmortem"
)

func TestJobLanes(t *testing.T) {
	lane := jobLanes(4)
	for kind, want := range map[string]string{
		bot.JobPost: "slack", bot.JobCreateChannel: "slack", bot.JobDigest: "slack",
		paging.JobNotifySlack: "slack", paging.JobSlackWarning: "slack",
		postmortem.JobPublish: "github", postmortem.JobSync: "github",
		deploys.JobRollbackStart: "github", deploys.JobRollbackFollow: "github",
		bot.JobDeploys: "github", bot.JobProposeRollback: "github",
		paging.JobPagerDuty: "", paging.JobWebhook: "", paging.JobEscalate: "",
		incidents.JobProcessAlerts: "",
	} {
		got, max := lane(kind)
		if got != want || (want != "" && max != 3) {
			t.Errorf("lane(%q) = %q, %d; want %q, 3", kind, got, max, want)
		}
	}
	if _, max := jobLanes(1)("slack.post"); max != 1 {
		t.Errorf("with one worker, the Slack lane has %d", max)
	}
}
