package bot

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/slack-go/slack"

	"github.com/warroomhq/warroom/jobs"
	"github.com/warroomhq/warroom/paging"
)

// A page's Acknowledge button is in its direct messages, its posts in
// channels and its mentions in the incident's channel. Once the page is
// acknowledged (by any button, /incident ack, or any other path through
// paging.Service.Acknowledge) or resolved, every one of those messages is
// edited to drop the button and say who acknowledged when, or that the page
// was resolved:
//
//   - each such message is posted with its page recorded on its Post
//     (Post.Page, written with the "sending" record, before the Web API
//     call), so the messages of a page are found by its ID;
//   - the transaction that acknowledges or resolves the page enqueues
//     paging.JobSlackPageState, whose handler (runPageState) enqueues one
//     JobPageButton per message, keyed by message and state;
//   - JobPageButton (runPageButton) edits one message to show the page's
//     current state, unless it shows that state already (Post.Version holds
//     the state shown: see buttonRank), so a job run twice, or an
//     acknowledgement followed by a resolution, never edits backwards or
//     twice;
//   - a message whose post was still on its way when the state job looked
//     is covered from both sides: the edit job waits for a "sending" post
//     to be sent, and the post, once sent, reads the page again and
//     enqueues the edit itself when the page ended meanwhile. A message not
//     posted yet when the page ends is never posted (postPageMessage).

// JobPageButton edits one message that carries a page's Acknowledge button
// to show that the page is acknowledged or resolved. Key:
// "slack.page_button:<post key>:<state>[:posted]".
const JobPageButton = "slack.page_button"

// PageButtonJob is JobPageButton's payload: the key of the Post to edit.
type PageButtonJob struct {
	Key string `json:"key"`
}

// postInFlight is how long a "sending" post may be on its way: the edit
// job waits that long for it before it looks for the message in Slack.
const postInFlight = 2 * time.Minute

// buttonRank is what a page's message shows, as stored in Post.Version:
// 0 the button, 1 acknowledged, 2 resolved. Edits only go up.
func buttonRank(s paging.State) int64 {
	switch s {
	case paging.StateAcknowledged:
		return 1
	case paging.StateResolved:
		return 2
	}
	return 0
}

// postPageMessage posts m, which carries the Acknowledge button of page
// m.page, unless the page is over: nobody is woken up for a page that was
// acknowledged or resolved. It reports whether the message is in Slack (or
// may be). After posting it reads the page again: if the page ended while
// the message was on its way, it enqueues the message's edit.
func (b *Bot) postPageMessage(ctx context.Context, m message) (bool, error) {
	if b.pager == nil {
		return false, jobs.Permanent(errors.New("paging is not enabled in the Slack adapter"))
	}
	p, err := b.pageOf(ctx, m.page)
	if err != nil {
		return false, err
	}
	if !p.State.Open() {
		prev, ok, err := b.opts.Store.Post(ctx, m.key)
		if err != nil || !ok || prev.State == PostRefused {
			b.log.InfoContext(ctx, "page over before its message was posted", "page", p.ID, "state", p.State, "key", m.key)
			return false, err
		}
		// An earlier attempt posted it (or may have): it gets its edit.
		return false, b.enqueuePageButton(ctx, prev.Key, p.State, ":posted")
	}
	posted, err := b.postOnce(ctx, m)
	if err != nil {
		return false, err
	}
	if p, err = b.pageOf(ctx, m.page); err != nil {
		return true, err
	}
	if !p.State.Open() {
		return true, b.enqueuePageButton(ctx, posted.Key, p.State, ":posted")
	}
	return true, nil
}

// pageOf reads a page; a page that does not exist parks the job.
func (b *Bot) pageOf(ctx context.Context, id int64) (*paging.Page, error) {
	p, err := b.pager.Get(ctx, id)
	if errors.Is(err, paging.ErrNotFound) {
		return nil, jobs.Permanent(fmt.Errorf("%w: %w", errPageGone, err))
	}
	return p, err
}

// enqueuePageButton enqueues the edit of the post with key to show state.
// Edits of one message run one at a time.
func (b *Bot) enqueuePageButton(ctx context.Context, key string, state paging.State, suffix string) error {
	return b.enqueueNow(ctx, JobPageButton, key+":"+string(state)+suffix, "page-button:"+key, PageButtonJob{Key: key})
}

// runPageState enqueues the edit of every message that carries the page's
// button (paging.JobSlackPageState).
func (b *Bot) runPageState(ctx context.Context, j jobs.Job) error {
	st, err := decode[paging.SlackPageState](j)
	if err != nil {
		return err
	}
	posts, err := b.opts.Store.PagePosts(ctx, st.Page)
	if err != nil {
		return err
	}
	for _, p := range posts {
		if p.State == PostRefused {
			continue // Slack said it did not post it; its retry reads the page first
		}
		if err := b.enqueuePageButton(ctx, p.Key, st.State, ""); err != nil {
			return err
		}
	}
	return nil
}

// runPageButton edits one message of a page to show the page's state
// (JobPageButton).
func (b *Bot) runPageButton(ctx context.Context, j jobs.Job) error {
	in, err := decode[PageButtonJob](j)
	if err != nil {
		return err
	}
	if b.pager == nil {
		return jobs.Permanent(errors.New("paging is not enabled in the Slack adapter"))
	}
	post, ok, err := b.opts.Store.Post(ctx, in.Key)
	if err != nil {
		return err
	}
	if !ok || post.Page == 0 || post.State == PostRefused {
		return nil
	}
	page, err := b.pageOf(ctx, post.Page)
	if err != nil {
		return err
	}
	rank := buttonRank(page.State)
	if rank == 0 || post.Version >= rank {
		return nil // still paging, or showing this state already
	}
	if post.State == PostSending {
		if wait := post.UpdatedAt.Add(postInFlight).Sub(b.now()); wait > 0 {
			return jobs.Defer(min(wait, 5*time.Second), nil)
		}
		// The attempt that posted it died: is the message in Slack?
		found, err := b.findPosted(ctx, post.Key, post)
		if isSlackError(err, "missing_scope", "not_in_channel", "channel_not_found") {
			// A direct message's history needs im:history (in the
			// app manifest; an app installed before it was added may
			// lack it): the message keeps its button.
			b.log.WarnContext(ctx, "cannot look for a page's message whose post was interrupted; not edited",
				"page", page.ID, "key", post.Key, "err", err)
			return nil
		}
		if err != nil {
			return err
		}
		if found.TS == "" {
			b.log.InfoContext(ctx, "a page's message was never posted; nothing to edit", "page", page.ID, "key", post.Key)
			return nil
		}
		post = found
	}
	line := b.pageStateLine(page)
	text := post.Text + "\n" + line
	var blocks []slack.Block
	if post.Text != "" {
		blocks = append(blocks, section(post.Text))
	}
	blocks = append(blocks, contextBlock(line))
	err = b.call(ctx, "chat.update", "", func(ctx context.Context) error {
		_, _, _, err := b.api.UpdateMessageContext(ctx, post.ChannelID, post.TS,
			slack.MsgOptionText(text, false), slack.MsgOptionBlocks(blocks...))
		return err
	})
	if messageGone(err) {
		b.log.InfoContext(ctx, "a page's message cannot be edited any more (deleted, or its channel archived); not edited",
			"page", page.ID, "key", post.Key, "err", err)
		return nil
	}
	if err != nil {
		return err
	}
	post.Version, post.UpdatedAt = rank, b.now()
	return b.opts.Store.SavePost(ctx, post)
}

// pageStateLine says how a page ended, for its messages: ":white_check_mark:
// Acknowledged by <@U…> at 14:12 UTC.", and "Resolved at 15:40 UTC." once
// resolved.
func (b *Bot) pageStateLine(p *paging.Page) string {
	acked := ""
	if !p.AckedAt.IsZero() {
		acked = fmt.Sprintf("Acknowledged by %s at %s UTC.", b.render.Actor(p.AckedBy), p.AckedAt.UTC().Format("15:04"))
	}
	switch p.State {
	case paging.StateAcknowledged:
		return ":white_check_mark: " + acked
	case paging.StateResolved:
		resolved := "Resolved"
		if !p.ResolvedAt.IsZero() {
			resolved += " at " + p.ResolvedAt.UTC().Format("15:04") + " UTC"
		}
		if acked == "" {
			return ":white_check_mark: " + resolved + ", with the incident."
		}
		return ":white_check_mark: " + acked + " " + resolved + "."
	}
	return ""
}

// pageText is the text a page's message keeps in its Post, for its edit;
// "" for other messages.
func (m message) pageText() string {
	if m.page == 0 {
		return ""
	}
	return m.text
}
