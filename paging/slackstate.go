package paging

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/warroomhq/warroom/incidents"
	"github.com/warroomhq/warroom/jobs"
)

// JobSlackPageState tells the Slack adapter that a page was acknowledged or
// resolved, so that every message carrying the page's Acknowledge button
// (its direct messages, its posts in channels, its mentions in the
// incident's channel) is edited to drop the button and say so. It is
// enqueued in the transaction that acknowledges or resolves the page. Key:
// "page:<id>:slack:<state>", so a double click or a second /incident ack
// enqueues nothing more.
const JobSlackPageState = "page.slack_state"

// SlackPageState is JobSlackPageState's payload. State is the state the
// page entered; the adapter shows the page's state when it runs (a page
// resolved in the meantime shows as resolved).
type SlackPageState struct {
	Page     int64        `json:"page"`
	Incident incidents.ID `json:"incident"`
	State    State        `json:"state"`
}

// enqueueSlackState enqueues JobSlackPageState for p, which has just been
// acknowledged or resolved. A page whose first step has not run sent no
// message yet: the notices check the page before they post.
func enqueueSlackState(ctx context.Context, e jobs.Enqueuer, p *Page) error {
	if !triggered(p) {
		return nil
	}
	payload, err := json.Marshal(SlackPageState{Page: p.ID, Incident: p.Incident, State: p.State})
	if err != nil {
		return err
	}
	_, err = e.Enqueue(ctx, jobs.NewJob{Kind: JobSlackPageState, Key: fmt.Sprintf("page:%d:slack:%s", p.ID, p.State), Payload: payload})
	return err
}
