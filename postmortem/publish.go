package postmortem

import (
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/warroomhq/warroom/incidents"
	"github.com/warroomhq/warroom/jobs"
)

// Timeline event kinds of postmortems.
const (
	// EventRequested is someone asking for the draft (/incident
	// postmortem). Its listener queues JobPublish.
	EventRequested incidents.EventKind = "postmortem.requested"
	// EventPublished is the draft committed and its pull request opened
	// or updated. Data has "pr_url", "pr_number", "branch", "path",
	// "created", "edited", "findings" and "issues".
	EventPublished incidents.EventKind = "postmortem.published"
	// EventDrafted is a draft written without GitHub (no repository
	// configured). Data has "findings" and "excerpt".
	EventDrafted incidents.EventKind = "postmortem.drafted"
	// EventFailed is a publish that will not be retried. Data has "error".
	EventFailed incidents.EventKind = "postmortem.failed"
)

// JobPublish writes an incident's draft and proposes it on GitHub (or,
// without GitHub, records it). It runs once per request or resolution, one
// at a time per incident.
const JobPublish = "postmortem.publish"

// PublishJob is JobPublish's payload.
type PublishJob struct {
	Incident incidents.ID `json:"incident"`
	// Reason is "requested" or "resolved".
	Reason string `json:"reason"`
}

// PublishRequest is a postmortem draft to propose as a pull request.
type PublishRequest struct {
	Repo   string // "owner/name"
	Base   string // the pull request's base branch, e.g. "main"
	Branch string // the draft's branch, e.g. postmortem.BranchName
	Path   string // the file, from the repository's root
	// Content is the draft, written as is.
	Content []byte
	// Message is the commit message; empty means Title.
	Message string
	// Title and Body are the pull request's, used when it is opened.
	Title, Body string
	// LastSHA is the file's SHA after Warroom last wrote it (a previous
	// PublishResult.FileSHA), or "" if it never did. The file is
	// overwritten only while it still has this SHA: a file that people
	// have changed is left to them.
	LastSHA string
	// KnownSHAs are the SHAs of drafts that Warroom tried to write since,
	// whose answers may have been lost: a file with one of them is still
	// Warroom's, not people's.
	KnownSHAs []string
}

// PublishResult is what Publish did.
type PublishResult struct {
	PRNumber int
	PRURL    string
	// FileSHA is the file's SHA on the branch after Publish. When Edited,
	// it is the people's version: keep the LastSHA you had rather than this
	// one, or the next Publish will take their version for Warroom's and
	// overwrite it.
	FileSHA string
	// Created reports that this call created the file.
	Created bool
	// Edited reports that people changed the file since Warroom last wrote
	// it, so it was left alone and the draft was posted as a comment on the
	// pull request instead.
	Edited bool
	// CommitURL is the commit this call made, or "" when it made none (the
	// file already held the draft, or was Edited).
	CommitURL string
	// PRState is the pull request's state: "open", or "merged" or "closed"
	// when it was already over, in which case Publish changed nothing.
	PRState string
}

// BlobSHA is the git blob SHA of content: the "sha" GitHub reports for a
// file with that content, which tells whether a file holds it without
// downloading it.
func BlobSHA(content []byte) string {
	h := sha1.New()
	h.Write([]byte("blob " + strconv.Itoa(len(content)) + "\x00"))
	h.Write(content)
	return hex.EncodeToString(h.Sum(nil))
}

// Issue is an issue filed for an action item.
type Issue struct {
	Number int
	URL    string
	Closed bool
}

// Repository is where drafts are proposed and action items filed; the
// GitHub adapter (integrations/github) implements it. Its errors carry the
// queue's verdicts (jobs.Permanent, jobs.Defer for rate limits).
type Repository interface {
	// Publish proposes a draft as a pull request, idempotently.
	Publish(ctx context.Context, req PublishRequest) (PublishResult, error)
	// EnsureIssue files an issue in repo unless one was filed under key.
	EnsureIssue(ctx context.Context, repo, title, body string, labels []string, key string) (Issue, error)
	// PullRequestState is "open", "merged" or "closed".
	PullRequestState(ctx context.Context, repo string, number int) (string, error)
	// IssueClosed reports whether an issue is closed.
	IssueClosed(ctx context.Context, repo string, number int) (bool, error)
}

// Record is what Warroom knows of an incident's postmortem on GitHub.
type Record struct {
	Incident incidents.ID
	// Repo, Branch and Path are fixed by the first publish, so that a
	// renamed incident keeps its branch and file.
	Repo, Branch, Path string
	PRNumber           int
	PRURL              string
	// PRState is "open", "merged" or "closed" as last seen.
	PRState string
	// LastSHA is the file's blob sha as Warroom last wrote it.
	LastSHA string
	// PendingSHAs are the blob shas of drafts being written since: saved
	// before each write, cleared once one is answered.
	PendingSHAs []string
	// Edited is true when the last publish found people's edits.
	Edited    bool
	CreatedAt time.Time
	UpdatedAt time.Time
}

// TrackedItem is an action item of an incident, with its issue.
type TrackedItem struct {
	Incident incidents.ID `json:"incident"`
	// Key is stable for the same text within an incident.
	Key         string    `json:"key"`
	Text        string    `json:"text"`
	Done        bool      `json:"done"`
	IssueRepo   string    `json:"issue_repo,omitempty"`
	IssueNumber int       `json:"issue_number,omitempty"`
	IssueURL    string    `json:"issue_url,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// Store keeps postmortem records and action items; the SQLite store
// implements it.
type Store interface {
	// PostmortemRecord returns the incident's record, and false if its
	// draft was never published.
	PostmortemRecord(ctx context.Context, id incidents.ID) (Record, bool, error)
	// SavePostmortemRecord creates or replaces the incident's record.
	SavePostmortemRecord(ctx context.Context, r Record) error
	// IncidentActionItems lists the incident's action items, oldest first.
	IncidentActionItems(ctx context.Context, id incidents.ID) ([]TrackedItem, error)
	// SaveActionItem creates or updates the item with its incident and key.
	SaveActionItem(ctx context.Context, it TrackedItem) error
	// OpenPostmortemRecords lists the records whose pull request is open.
	OpenPostmortemRecords(ctx context.Context) ([]Record, error)
	// OpenActionItems lists the items not done that have an issue.
	OpenActionItems(ctx context.Context) ([]TrackedItem, error)
}

// PublishConfig is where drafts go.
type PublishConfig struct {
	// Repo ("owner/name"), Base and Path are config's postmortem
	// repository, base_branch and path. Without Repo, drafts are recorded
	// but not proposed.
	Repo, Base, Path string
	// DraftOnResolve lists the severities whose incidents are drafted
	// when they resolve.
	DraftOnResolve []incidents.Severity
	// ActionItemsAsIssues files each action item in ServiceRepo(service).
	ActionItemsAsIssues bool
	// ServiceRepo is a service's repository, or "" when it has none.
	ServiceRepo func(service string) string
}

// Publisher carries drafts to GitHub through the job queue: the listener
// queues JobPublish on a request or a resolution, and HandleJob drafts,
// files action items and proposes the draft.
type Publisher struct {
	Drafter   *Drafter
	Repo      Repository // nil when GitHub is not configured
	Store     Store
	Incidents *incidents.Service
	Config    PublishConfig
	Logger    *slog.Logger // default slog.Default()
}

// Maximums of what an event carries for Slack.
const (
	maxEventFindings = 10
	excerptLines     = 15
	maxIssueTitle    = 120
)

// Request asks for an incident's draft, on behalf of actor: it records
// EventRequested, and the listener queues the job in the same transaction.
func (p *Publisher) Request(ctx context.Context, id incidents.ID, actor incidents.Actor) error {
	_, err := p.Incidents.Record(ctx, id, actor, incidents.Event{Kind: EventRequested, Text: "Asked for the postmortem draft"})
	return err
}

// Listener queues JobPublish for each EventRequested, and for each
// resolution of an incident whose severity is in DraftOnResolve. The job's
// key names the event, so a retried change queues it once.
func (p *Publisher) Listener() incidents.Listener {
	return incidents.ListenerFunc(func(ctx context.Context, tx incidents.Tx, c incidents.Change) error {
		for _, ev := range c.Events {
			reason := ""
			switch {
			case ev.Kind == EventRequested:
				reason = "requested"
			case ev.Kind == incidents.EventResolved && slices.Contains(p.Config.DraftOnResolve, c.After.Severity):
				reason = "resolved"
			default:
				continue
			}
			payload, err := json.Marshal(PublishJob{Incident: c.After.ID, Reason: reason})
			if err != nil {
				return err
			}
			_, err = tx.Enqueue(ctx, jobs.NewJob{
				Kind:      JobPublish,
				Key:       fmt.Sprintf("postmortem:%d:ev%d", c.After.ID, ev.ID),
				SerialKey: fmt.Sprintf("postmortem:%d", c.After.ID),
				Payload:   payload,
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
}

// HandleJob runs JobPublish. Each step is idempotent, so a retry after a
// lost answer or a restart repeats nothing: issues are found by key, the
// branch, file and pull request by name and sha. A failure that no retry
// can fix is recorded on the timeline, so that people hear of it.
func (p *Publisher) HandleJob(ctx context.Context, j jobs.Job) error {
	var job PublishJob
	if err := json.Unmarshal(j.Payload, &job); err != nil {
		return jobs.Permanent(fmt.Errorf("decoding %s payload: %w", JobPublish, err))
	}
	err := p.publish(ctx, job)
	// A deferred job (a rate limit) gets its attempt back, and a cancelled
	// one (shutdown) runs again: neither is a last attempt.
	_, deferred := jobs.DeferOf(err)
	final := jobs.IsPermanent(err) || (j.Attempt >= j.MaxAttempts && !deferred && ctx.Err() == nil)
	if err != nil && !errors.Is(err, incidents.ErrNotFound) && final {
		text := "The postmortem draft could not be proposed on GitHub: " + err.Error()
		if _, rerr := p.Incidents.Record(ctx, job.Incident, incidents.System, incidents.Event{
			Kind: EventFailed, Text: text, Data: map[string]any{"error": err.Error()},
		}); rerr != nil {
			return errors.Join(err, rerr)
		}
	}
	if errors.Is(err, incidents.ErrNotFound) {
		return jobs.Permanent(err)
	}
	return err
}

func (p *Publisher) publish(ctx context.Context, job PublishJob) error {
	draft, err := p.Drafter.Build(ctx, job.Incident)
	if err != nil {
		return err
	}
	inc := draft.Incident
	if p.Repo == nil || p.Config.Repo == "" {
		md, err := p.Drafter.Render(draft)
		if err != nil {
			return err
		}
		findings := Lint(md)
		_, err = p.Incidents.Record(ctx, inc.ID, incidents.System, incidents.Event{
			Kind: EventDrafted,
			Text: "Wrote the postmortem draft (no GitHub repository is configured)",
			Data: map[string]any{"findings": findingsData(findings), "findings_total": len(findings), "excerpt": excerpt(md, excerptLines)},
		})
		return err
	}

	rec, ok, err := p.Store.PostmortemRecord(ctx, inc.ID)
	if err != nil {
		return err
	}
	if !ok {
		rec = Record{
			Incident: inc.ID,
			Repo:     p.Config.Repo,
			Branch:   BranchName(inc),
			Path:     path.Join(p.Config.Path, FileName(inc, p.Drafter.now().In(p.Drafter.location()))),
			PRState:  "open",
		}
	}
	issues := 0
	if p.Config.ActionItemsAsIssues && len(draft.ActionItems) > 0 {
		if issues, err = p.fileIssues(ctx, inc, rec, draft.ActionItems); err != nil {
			return err
		}
		if draft, err = p.Drafter.Build(ctx, inc.ID); err != nil { // with the issues' links
			return err
		}
	} else if err := p.trackItems(ctx, inc.ID, draft.ActionItems); err != nil {
		return err
	}
	md, err := p.Drafter.Render(draft)
	if err != nil {
		return err
	}
	// Remember the draft before writing it: should the answer be lost, the
	// next attempt (whose draft of an open incident differs) still knows
	// the file on the branch for Warroom's. This also fixes the branch and
	// path at the first attempt.
	known, prevSHA, first := rec.PendingSHAs, rec.LastSHA, rec.PRNumber == 0
	rec.PendingSHAs = appendSHA(rec.PendingSHAs, BlobSHA(md))
	if err := p.Store.SavePostmortemRecord(ctx, rec); err != nil {
		return err
	}
	res, err := p.Repo.Publish(ctx, PublishRequest{
		Repo:      rec.Repo,
		Base:      p.Config.Base,
		Branch:    rec.Branch,
		Path:      rec.Path,
		Content:   md,
		Message:   fmt.Sprintf("Postmortem draft for %s", inc.ID),
		Title:     fmt.Sprintf("Postmortem: %s %s", inc.ID, inc.Title),
		Body:      prBody(inc, rec),
		LastSHA:   rec.LastSHA,
		KnownSHAs: known,
	})
	if err != nil {
		return err
	}
	rec.PRNumber, rec.PRURL = res.PRNumber, res.PRURL
	if res.PRState != "" {
		rec.PRState = res.PRState
	}
	if res.PRState == "" || res.PRState == "open" {
		rec.Edited = res.Edited
		if !res.Edited {
			rec.LastSHA, rec.PendingSHAs = res.FileSHA, nil
		}
	}
	if err := p.Store.SavePostmortemRecord(ctx, rec); err != nil {
		return err
	}
	findings := Lint(md)
	data := map[string]any{
		"pr_url": res.PRURL, "pr_number": res.PRNumber, "branch": rec.Branch, "path": rec.Path,
		"repo": rec.Repo, "created": first, "edited": res.Edited, "reason": job.Reason,
		"findings": findingsData(findings), "findings_total": len(findings), "issues": issues,
	}
	var text string
	switch {
	case res.PRState == "merged" || res.PRState == "closed":
		data["pr_state"] = res.PRState
		text = fmt.Sprintf("The postmortem's pull request #%d is %s, so Warroom opened no other; change the postmortem in %s", res.PRNumber, res.PRState, rec.Repo)
	case res.Edited:
		text = fmt.Sprintf("The postmortem file in pull request #%d was edited by people, so it was left as it is; the new draft is a comment on the pull request", res.PRNumber)
	case first:
		text = fmt.Sprintf("Opened the postmortem draft as pull request #%d", res.PRNumber)
	case res.FileSHA == prevSHA:
		// Not a lost write of an earlier attempt: the draft did not change.
		if job.Reason != "requested" {
			return nil // nothing new to tell anyone
		}
		data["unchanged"] = true
		text = fmt.Sprintf("The postmortem draft in pull request #%d is up to date", res.PRNumber)
	default:
		text = fmt.Sprintf("Updated the postmortem draft in pull request #%d", res.PRNumber)
	}
	_, err = p.Incidents.Record(ctx, inc.ID, incidents.System, incidents.Event{Kind: EventPublished, Text: text, Data: data})
	return err
}

// maxPendingSHAs bounds the drafts remembered between answered writes.
const maxPendingSHAs = 20

// appendSHA adds sha to shas unless it is there, keeping the newest
// maxPendingSHAs.
func appendSHA(shas []string, sha string) []string {
	if slices.Contains(shas, sha) {
		return shas
	}
	shas = append(shas, sha)
	return shas[max(0, len(shas)-maxPendingSHAs):]
}

// itemKey is an action item's stable key: its text's hash.
func itemKey(text string) string {
	sum := sha256.Sum256([]byte(text))
	return "action-" + hex.EncodeToString(sum[:6])
}

// trackItems records the draft's action items, without issues.
func (p *Publisher) trackItems(ctx context.Context, id incidents.ID, items []Entry) error {
	for _, e := range items {
		if err := p.Store.SaveActionItem(ctx, TrackedItem{Incident: id, Key: itemKey(e.Text), Text: e.Text, CreatedAt: e.At}); err != nil {
			return err
		}
	}
	return nil
}

// fileIssues files an issue for each action item in the service's
// repository, labelled "incident" and "inc-<id>", and records the items
// with their issues. It returns how many items have an issue.
func (p *Publisher) fileIssues(ctx context.Context, inc *incidents.Incident, rec Record, items []Entry) (int, error) {
	repo := ""
	if p.Config.ServiceRepo != nil {
		repo = p.Config.ServiceRepo(inc.Service)
	}
	if repo == "" {
		return 0, p.trackItems(ctx, inc.ID, items)
	}
	label := strings.ToLower(inc.ID.String())
	n := 0
	for _, e := range items {
		key := itemKey(e.Text)
		body := fmt.Sprintf("An action item from the postmortem of %s (%s).\n\nThe postmortem is `%s` on the branch `%s` of %s.",
			inc.ID, noMentions(oneLine(inc.Title)), rec.Path, rec.Branch, rec.Repo)
		is, err := p.Repo.EnsureIssue(ctx, repo, issueTitle(e.Text), body, []string{"incident", label}, label+"/"+key)
		if err != nil {
			return n, err
		}
		n++
		err = p.Store.SaveActionItem(ctx, TrackedItem{
			Incident: inc.ID, Key: key, Text: e.Text, Done: is.Closed,
			IssueRepo: repo, IssueNumber: is.Number, IssueURL: is.URL, CreatedAt: e.At,
		})
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// issueTitle is an action item's text on one line, cut to maxIssueTitle
// characters.
func issueTitle(text string) string {
	t := noMentions(oneLine(text))
	if utf8.RuneCountInString(t) > maxIssueTitle {
		r := []rune(t)
		t = strings.TrimSpace(string(r[:maxIssueTitle-1])) + "…"
	}
	return t
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// noMentions keeps an @name in text from notifying anyone on GitHub: a
// zero-width space after the @ leaves it readable but not a mention.
func noMentions(s string) string { return strings.ReplaceAll(s, "@", "@\u200b") }

// prBody is the pull request's description.
func prBody(inc *incidents.Incident, rec Record) string {
	return fmt.Sprintf(`A blameless postmortem draft for %s, written by Warroom from the incident's timeline.

- Fill in the sections that only people can write: contributing factors, what went well, what was hard, where we got lucky.
- Edit the file on this branch freely: Warroom never overwrites people's edits. Asking for the draft again posts the new draft as a comment.
- `+"`warroom postmortem lint %s`"+` checks the wording for blame.
`, inc.ID, path.Base(rec.Path))
}

// findingsData is findings as an event's data: at most maxEventFindings.
func findingsData(fs []Finding) []any {
	out := make([]any, 0, min(len(fs), maxEventFindings))
	for _, f := range fs[:min(len(fs), maxEventFindings)] {
		out = append(out, map[string]any{"line": f.Line, "phrase": f.Phrase, "suggestion": f.Suggestion})
	}
	return out
}

// excerpt is the first n lines of md.
func excerpt(md []byte, n int) string {
	lines := strings.SplitN(string(md), "\n", n+1)
	return strings.Join(lines[:min(len(lines), n)], "\n")
}

// JobSync refreshes what Warroom knows of postmortems on GitHub: whether
// each open pull request was merged or closed, and whether each open
// action item's issue was closed. serve queues it hourly (QueueSync).
const JobSync = "postmortem.sync"

// Timeline event kinds of a pull request's end, recorded by JobSync.
const (
	EventMerged incidents.EventKind = "postmortem.merged"
	EventClosed incidents.EventKind = "postmortem.closed"
)

// SyncInterval is how often JobSync runs.
const SyncInterval = time.Hour

// QueueSync queues the sync run of now's hour, keyed by that hour, so that
// a restart within the hour queues nothing twice. It reports whether it
// queued a new run.
func QueueSync(ctx context.Context, e jobs.Enqueuer, now time.Time) (bool, error) {
	hour := now.UTC().Truncate(SyncInterval)
	return e.Enqueue(ctx, jobs.NewJob{Kind: JobSync, Key: fmt.Sprintf("%s:%d", JobSync, hour.Unix()), MaxAttempts: 3})
}

// SyncTx is the write transaction the sync's updates run in, so that a
// state change and its timeline event are committed together; the SQLite
// store's transaction has it.
type SyncTx interface {
	incidents.Tx
	// SetPullRequestState moves the incident's pull request number from
	// "open" to state, and reports whether it was open (a sync or publish
	// running at the same time may have moved it already).
	SetPullRequestState(ctx context.Context, id incidents.ID, number int, state string) (bool, error)
	// MarkActionItemDone marks the incident's item with key done, and
	// reports whether it was open.
	MarkActionItemDone(ctx context.Context, id incidents.ID, key string) (bool, error)
}

// HandleSync runs JobSync. An answer no retry fixes for one pull request
// or issue (deleted, or the token lost access) skips that one, with a
// warning in the log; a rate limit or an outage retries the run. Each
// change is a narrow update (only from open), so a publish running at the
// same time loses nothing, and the timeline event of a merge or close is
// committed with it.
func (p *Publisher) HandleSync(ctx context.Context, j jobs.Job) error {
	if p.Repo == nil {
		return nil
	}
	recs, err := p.Store.OpenPostmortemRecords(ctx)
	if err != nil {
		return err
	}
	for _, rec := range recs {
		state, err := p.Repo.PullRequestState(ctx, rec.Repo, rec.PRNumber)
		if jobs.IsPermanent(err) {
			p.logger().WarnContext(ctx, "cannot follow a postmortem pull request", "incident", rec.Incident.String(), "pr", rec.PRNumber, "err", err)
			continue
		}
		if err != nil {
			return err
		}
		if state == "open" {
			continue
		}
		err = p.Incidents.InTx(ctx, func(tx incidents.Tx) error {
			stx, ok := tx.(SyncTx)
			if !ok {
				return jobs.Permanent(errors.New("the store cannot update postmortems in a transaction"))
			}
			moved, err := stx.SetPullRequestState(ctx, rec.Incident, rec.PRNumber, state)
			if err != nil || !moved {
				return err
			}
			kind, text := EventClosed, fmt.Sprintf("The postmortem's pull request #%d was closed without merging", rec.PRNumber)
			if state == "merged" {
				kind, text = EventMerged, fmt.Sprintf("The postmortem's pull request #%d was merged", rec.PRNumber)
			}
			_, err = p.Incidents.RecordTx(ctx, tx, rec.Incident, incidents.System, incidents.Event{Kind: kind, Text: text,
				Data: map[string]any{"pr_url": rec.PRURL, "pr_number": rec.PRNumber}})
			return err
		})
		if err != nil {
			return err
		}
	}
	items, err := p.Store.OpenActionItems(ctx)
	if err != nil {
		return err
	}
	for _, it := range items {
		closed, err := p.Repo.IssueClosed(ctx, it.IssueRepo, it.IssueNumber)
		if jobs.IsPermanent(err) {
			p.logger().WarnContext(ctx, "cannot follow an action item's issue", "incident", it.Incident.String(), "repo", it.IssueRepo, "issue", it.IssueNumber, "err", err)
			continue
		}
		if err != nil {
			return err
		}
		if !closed {
			continue
		}
		err = p.Incidents.InTx(ctx, func(tx incidents.Tx) error {
			stx, ok := tx.(SyncTx)
			if !ok {
				return jobs.Permanent(errors.New("the store cannot update action items in a transaction"))
			}
			_, err := stx.MarkActionItemDone(ctx, it.Incident, it.Key)
			return err
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func (p *Publisher) logger() *slog.Logger {
	if p.Logger != nil {
		return p.Logger
	}
	return slog.Default()
}
