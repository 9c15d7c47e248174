package app

import (
	"strings"

	"github.com/warroomhq/warroom/bot"
	"github.com/warroomhq/warroom/deploys"
	"github.com/warroomhq/warroom/jobs/runner"
	"github.com/warroomhq/warroom/paging"
	"github.com/warroomhq/warroom/postmortem"
)

// jobLanes puts the jobs that call Slack in one lane and those that call
// GitHub in another, each allowed one worker fewer than the queue has: when
// Slack (or GitHub) hangs until its client's timeout, a worker is still
// free for the rest, so that a page still reaches PagerDuty and alerts are
// still declared while Slack is down.
func jobLanes(workers int) func(kind string) (string, int) {
	if workers <= 0 {
		workers = runner.DefaultWorkers
	}
	max := max(1, workers-1)
	return func(kind string) (string, int) {
		switch {
		case kind == postmortem.JobPublish, kind == postmortem.JobSync,
			kind == deploys.JobRollbackStart, kind == deploys.JobRollbackFollow, kind == deploys.JobSnapshot,
			// These read the deploys from GitHub before they post: a
			// GitHub that hangs must not hold Slack's lane.
			kind == bot.JobDeploys, kind == bot.JobProposeRollback:
			return "github", max
		case strings.HasPrefix(kind, "slack."), kind == paging.JobNotifySlack, kind == paging.JobSlackWarning:
			return "slack", max
		}
		return "", 0
	}
}
