package bot

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/slack-go/slack"

	"github.com/warroomhq/warroom/deploys"
	"github.com/warroomhq/warroom/incidents"
	"github.com/warroomhq/warroom/jobs"
)

// JobRollbackDecided edits a rollback's confirmation message once the
// proposal is decided (confirmed, canceled, or expired): the Confirm and
// Cancel buttons go, and the message says what became of it. Its key is
// the rollback's ID (a proposal is decided once), and it shares the
// channel's serial key with the post of the confirmation, so it runs after
// that post, even one that was still waiting for Slack when the decision
// came.
const JobRollbackDecided = "slack.rollback_decided"

// RollbackDecidedJob is JobRollbackDecided's payload: the edited message,
// rendered when the decision was made.
type RollbackDecidedJob struct {
	Incident incidents.ID    `json:"incident"`
	Channel  string          `json:"channel"`
	Rollback int64           `json:"rollback"`
	Text     string          `json:"text"`
	Blocks   json.RawMessage `json:"blocks"`
}

// decidedMark is stored in the Text of a confirmation's Post once it has
// been edited to show the decision.
const decidedMark = "decided"

// proposalKey is the JobPost key of a rollback's confirmation message; its
// Post's key is JobPost + ":" + proposalKey.
func proposalKey(inc incidents.ID, rollback int64) string {
	return inc.String() + ":rollback:" + strconv.FormatInt(rollback, 10)
}

// rollbackDecided enqueues the edit of the confirmation message when ev
// decides a proposal (its data has deploys.DataDecision).
func (b *Bot) rollbackDecided(ctx context.Context, tx incidents.Tx, inc *incidents.Incident, ev incidents.Event) error {
	decision := deploys.Decision(dataString(ev, deploys.DataDecision))
	id, ok := dataInt(ev, "rollback_id")
	if decision == "" || !ok {
		return nil
	}
	text, blocks := b.render.RollbackDecision(ev, decision)
	raw, err := json.Marshal(blocks)
	if err != nil {
		return err
	}
	return enqueue(ctx, tx, JobRollbackDecided, strconv.FormatInt(id, 10), "channel:"+inc.ChannelID,
		RollbackDecidedJob{Incident: inc.ID, Channel: inc.ChannelID, Rollback: id, Text: text, Blocks: raw})
}

// RollbackDecision renders a decided proposal: what was proposed, by whom,
// and what became of it, without buttons.
func (r *Renderer) RollbackDecision(ev incidents.Event, d deploys.Decision) (string, []slack.Block) {
	head := ":rewind: " + r.Actor(incidents.Actor(dataString(ev, "proposed_by"))) + " proposed rolling back " + r.rollbackWhat(ev) + "."
	at := ev.At.UTC().Format("15:04") + " UTC"
	var outcome string
	switch d {
	case deploys.DecisionConfirmed:
		outcome = ":white_check_mark: Confirmed by " + r.Actor(ev.Actor) + " at " + at + " — rolling back…"
	case deploys.DecisionExpired:
		ttl := deploys.DefaultProposalTTL
		if s, ok := dataInt(ev, "ttl_seconds"); ok && s > 0 {
			ttl = time.Duration(s) * time.Second
		}
		outcome = ":hourglass: Expired unconfirmed after " + longDuration(ttl) + "."
	default:
		outcome = ":no_entry_sign: Cancelled by " + r.Actor(ev.Actor) + " at " + at + "."
	}
	return fallback(head, []string{outcome}), []slack.Block{section(head), contextBlock(outcome)}
}

// longDuration writes a duration in words: "30 minutes", "1 hour", else
// as incidents.FormatDuration does.
func longDuration(d time.Duration) string {
	plural := func(n int64, unit string) string {
		if n == 1 {
			return "1 " + unit
		}
		return strconv.FormatInt(n, 10) + " " + unit + "s"
	}
	switch {
	case d >= time.Hour && d%time.Hour == 0:
		return plural(int64(d/time.Hour), "hour")
	case d >= time.Minute && d%time.Minute == 0:
		return plural(int64(d/time.Minute), "minute")
	}
	return incidents.FormatDuration(d)
}

// runRollbackDecided edits a rollback's confirmation message to show its
// decision. It runs after the confirmation's post (same serial key): a
// confirmation that was never posted (its job failed for good) or whose
// message is gone is left alone, and an edited one is not edited again.
func (b *Bot) runRollbackDecided(ctx context.Context, j jobs.Job) error {
	p, err := decode[RollbackDecidedJob](j)
	if err != nil {
		return err
	}
	post, ok, err := b.proposalPost(ctx, p)
	if err != nil || !ok {
		return err
	}
	log := b.log.With("incident", p.Incident, "rollback", p.Rollback, "post", post.Key)
	switch post.State {
	case PostSending:
		// Its post job ended without knowing whether Slack posted it.
		found, err := b.findPosted(ctx, post.Key, post)
		if err != nil {
			return err
		}
		if found.TS == "" {
			log.Info("the rollback's confirmation is not in Slack; nothing to edit")
			return nil
		}
		post = found
	case PostRefused:
		log.Info("the rollback's confirmation was never posted; nothing to edit")
		return nil
	}
	if post.Text == decidedMark {
		return nil
	}
	var bl slack.Blocks
	if err := json.Unmarshal(p.Blocks, &bl); err != nil {
		return jobs.Permanent(fmt.Errorf("decoding blocks: %w", err))
	}
	err = b.call(ctx, "chat.update", post.ChannelID, func(ctx context.Context) error {
		_, _, _, err := b.api.UpdateMessageContext(ctx, post.ChannelID, post.TS,
			slack.MsgOptionText(p.Text, false), slack.MsgOptionBlocks(bl.BlockSet...))
		return err
	})
	if messageGone(err) {
		log.Info("the rollback's confirmation cannot be edited any more (deleted, or its channel archived); not edited", "error", err)
		return nil
	}
	if err != nil {
		return err
	}
	post.Text, post.UpdatedAt = decidedMark, b.now()
	return b.opts.Store.SavePost(ctx, post)
}

// proposalPost finds the Post of a rollback's confirmation: by its key, or,
// for a confirmation posted before confirmations had their own key, by the
// key of its proposal event. It reports false when there is none.
func (b *Bot) proposalPost(ctx context.Context, p RollbackDecidedJob) (Post, bool, error) {
	post, ok, err := b.opts.Store.Post(ctx, JobPost+":"+proposalKey(p.Incident, p.Rollback))
	if err != nil || ok {
		return post, ok, err
	}
	evs, err := b.opts.Incidents.Timeline(ctx, p.Incident)
	if err != nil {
		return Post{}, false, notFoundIsPermanent(err)
	}
	for _, ev := range evs {
		if id, _ := dataInt(ev, "rollback_id"); ev.Kind == deploys.EventRollbackProposed && id == p.Rollback {
			post, ok, err = b.opts.Store.Post(ctx, fmt.Sprintf("%s:%s:event:%d", JobPost, p.Incident, ev.ID))
			if err != nil || ok {
				return post, ok, err
			}
		}
	}
	b.log.Info("the rollback's confirmation was never posted; nothing to edit", "incident", p.Incident, "rollback", p.Rollback)
	return Post{}, false, nil
}
