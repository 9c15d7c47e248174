package github

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	gh "github.com/google/go-github/v60/github"

	"github.com/warroomhq/warroom/jobs"
	"github.com/warroomhq/warroom/postmortem"
)

// PublishRequest and PublishResult are the domain's (package postmortem):
// the Client implements postmortem.Repository.
type (
	PublishRequest = postmortem.PublishRequest
	PublishResult  = postmortem.PublishResult
)

var _ postmortem.Repository = (*Client)(nil)

// What a token needs for Publish (fine-grained permissions).
const publishNeeds = "contents: write and pull requests: write"

func validatePublish(r PublishRequest) error {
	switch {
	case r.Base == "":
		return errors.New("no base branch")
	case r.Branch == "":
		return errors.New("no branch")
	case r.Branch == r.Base:
		return fmt.Errorf("the branch is the base branch %q", r.Base)
	case r.Path == "" || strings.HasPrefix(r.Path, "/") || strings.HasSuffix(r.Path, "/") ||
		strings.Contains(r.Path, "..") || strings.ContainsAny(r.Path, "?#"):
		return fmt.Errorf("path %q is not a file path relative to the repository's root", r.Path)
	case r.Title == "":
		return errors.New("no pull request title")
	}
	return nil
}

// Publish proposes req.Content at req.Path on req.Branch, in a draft pull
// request into req.Base. It is idempotent: run again, after a lost answer
// or with a new draft, it never opens a second branch or pull request.
//
//  0. The pull request from Branch into Base is looked up first, in any
//     state: when it was merged or closed, the postmortem is done, and
//     Publish returns it (PRState) without changing anything.
//  1. The branch: made from Base's head unless it exists ("Reference
//     already exists" from a concurrent or retried create counts as made).
//  2. The file on the branch: created if missing; left as is if it already
//     holds Content; updated if it still has LastSHA (Warroom's last
//     write) or one of KnownSHAs (a write whose answer was lost);
//     otherwise people changed it, and it is not overwritten (Edited).
//  3. The pull request: the open one found in step 0, or a new draft (a
//     regular one where the repository has no drafts).
//  4. When Edited, the draft is posted as a comment on the pull request,
//     once per distinct draft.
func (c *Client) Publish(ctx context.Context, req PublishRequest) (PublishResult, error) {
	owner, name, err := splitRepo(req.Repo)
	if err == nil {
		err = validatePublish(req)
	}
	if err != nil {
		return PublishResult{}, jobs.Permanent(fmt.Errorf("github: publishing a postmortem: %w", err))
	}
	if req.Message == "" {
		req.Message = req.Title
	}
	// A postmortem whose pull request was merged or closed is done: no
	// new branch, commit or pull request.
	pr, err := c.findPullRequest(ctx, owner, name, req)
	if err != nil {
		return PublishResult{}, err
	}
	if pr != nil && pr.GetState() != "open" {
		return PublishResult{PRNumber: pr.GetNumber(), PRURL: pr.GetHTMLURL(), PRState: prState(pr)}, nil
	}
	if err := c.ensureBranch(ctx, owner, name, req); err != nil {
		return PublishResult{}, err
	}
	res, err := c.writeFile(ctx, owner, name, req)
	if err != nil {
		return PublishResult{}, err
	}
	if pr == nil {
		if pr, err = c.openPullRequest(ctx, owner, name, req); err != nil {
			return PublishResult{}, err
		}
	}
	res.PRNumber, res.PRURL, res.PRState = pr.GetNumber(), pr.GetHTMLURL(), prState(pr)
	if res.Edited {
		if err := c.commentDraft(ctx, owner, name, pr.GetNumber(), req); err != nil {
			return PublishResult{}, err
		}
	}
	return res, nil
}

// ensureBranch makes req.Branch from req.Base's head unless it exists.
func (c *Client) ensureBranch(ctx context.Context, owner, name string, req PublishRequest) error {
	_, _, err := c.gh.Git.GetRef(ctx, owner, name, "heads/"+req.Branch)
	switch {
	case err == nil:
		return nil
	case !isNotFound(err):
		return c.jobError(err, req.Repo, fmt.Sprintf("github: reading branch %s of %s", req.Branch, req.Repo), publishNeeds)
	}
	base, _, err := c.gh.Git.GetRef(ctx, owner, name, "heads/"+req.Base)
	if isNotFound(err) {
		return jobs.Permanent(c.scrub(fmt.Errorf(
			"github: base branch %s not found in %s (404): check the base branch, the repository's name, and that the token can read it: %w",
			req.Base, req.Repo, err)))
	}
	if err != nil {
		return c.jobError(err, req.Repo, fmt.Sprintf("github: reading base branch %s of %s", req.Base, req.Repo), publishNeeds)
	}
	_, _, err = c.gh.Git.CreateRef(ctx, owner, name, &gh.Reference{
		Ref:    gh.String("refs/heads/" + req.Branch),
		Object: &gh.GitObject{SHA: base.Object.SHA},
	})
	if err != nil && !isValidation(err, "Reference already exists") {
		return c.jobError(err, req.Repo, fmt.Sprintf("github: creating branch %s in %s", req.Branch, req.Repo), publishNeeds)
	}
	return nil
}

// writeFile writes req.Content on the branch unless the file holds it
// already or people changed it.
func (c *Client) writeFile(ctx context.Context, owner, name string, req PublishRequest) (PublishResult, error) {
	what := fmt.Sprintf("github: writing %s on branch %s of %s", req.Path, req.Branch, req.Repo)
	file, dir, _, err := c.gh.Repositories.GetContents(ctx, owner, name, req.Path, &gh.RepositoryContentGetOptions{Ref: req.Branch})
	opts := &gh.RepositoryContentFileOptions{
		Message: gh.String(req.Message),
		Content: req.Content,
		Branch:  gh.String(req.Branch),
	}
	switch {
	case isNotFound(err):
		resp, _, err := c.gh.Repositories.CreateFile(ctx, owner, name, req.Path, opts)
		if err != nil {
			return PublishResult{}, c.jobError(err, req.Repo, what, publishNeeds)
		}
		return PublishResult{FileSHA: resp.GetContent().GetSHA(), Created: true, CommitURL: resp.Commit.GetHTMLURL()}, nil
	case err != nil:
		return PublishResult{}, c.jobError(err, req.Repo, what, publishNeeds)
	case dir != nil || file.GetType() != "file":
		return PublishResult{}, jobs.Permanent(fmt.Errorf("%s: %s is a directory, not a file", what, req.Path))
	}
	switch sha := file.GetSHA(); {
	case sha == postmortem.BlobSHA(req.Content):
		// Already there: written by an earlier run whose answer was lost,
		// or an unchanged draft.
		return PublishResult{FileSHA: sha}, nil
	case sha != req.LastSHA && !slices.Contains(req.KnownSHAs, sha):
		// Not what Warroom wrote last, nor a write of Warroom's whose answer
		// was lost (or Warroom never wrote it): people's.
		return PublishResult{FileSHA: sha, Edited: true}, nil
	default:
		opts.SHA = gh.String(sha)
		resp, _, err := c.gh.Repositories.UpdateFile(ctx, owner, name, req.Path, opts)
		if err != nil {
			return PublishResult{}, c.jobError(err, req.Repo, what, publishNeeds)
		}
		return PublishResult{FileSHA: resp.GetContent().GetSHA(), CommitURL: resp.Commit.GetHTMLURL()}, nil
	}
}

// openPullRequest opens the draft pull request from the branch into the
// base; when GitHub says one already exists (opened meanwhile, or by an
// earlier run whose answer was lost), it returns that one.
func (c *Client) openPullRequest(ctx context.Context, owner, name string, req PublishRequest) (*gh.PullRequest, error) {
	what := fmt.Sprintf("github: opening a pull request from %s into %s in %s", req.Branch, req.Base, req.Repo)
	newPR := &gh.NewPullRequest{
		Title: gh.String(req.Title),
		Head:  gh.String(req.Branch),
		Base:  gh.String(req.Base),
		Body:  gh.String(req.Body),
		Draft: gh.Bool(true),
	}
	pr, _, err := c.gh.PullRequests.Create(ctx, owner, name, newPR)
	if isValidation(err, "Draft pull requests are not supported") {
		newPR.Draft = gh.Bool(false)
		pr, _, err = c.gh.PullRequests.Create(ctx, owner, name, newPR)
	}
	if isValidation(err, "A pull request already exists") {
		// Opened meanwhile, or by an earlier run whose answer was lost and
		// that the list did not show yet.
		pr, err = c.findPullRequest(ctx, owner, name, req)
		if pr == nil && err == nil {
			err = errors.New("GitHub says a pull request already exists, but does not list it yet")
		}
	}
	if err != nil {
		return nil, c.jobError(err, req.Repo, what, publishNeeds)
	}
	return pr, nil
}

// findPullRequest returns the open pull request from the branch into the
// base, or nil.
func (c *Client) findPullRequest(ctx context.Context, owner, name string, req PublishRequest) (*gh.PullRequest, error) {
	prs, _, err := c.gh.PullRequests.List(ctx, owner, name, &gh.PullRequestListOptions{
		State:       "all",
		Head:        owner + ":" + req.Branch,
		Base:        req.Base,
		ListOptions: gh.ListOptions{PerPage: 100},
	})
	if err != nil {
		return nil, c.jobError(err, req.Repo,
			fmt.Sprintf("github: listing pull requests from %s in %s", req.Branch, req.Repo), publishNeeds)
	}
	// The open one, else the newest: GitHub lists the newest first.
	var found *gh.PullRequest
	for _, pr := range prs {
		// GitHub ignores a head filter it cannot read; check.
		if pr.GetHead().GetRef() != req.Branch || pr.GetBase().GetRef() != req.Base {
			continue
		}
		if pr.GetState() == "open" {
			return pr, nil
		}
		if found == nil || pr.GetNumber() > found.GetNumber() {
			found = pr
		}
	}
	return found, nil
}

// prState is "open", "merged" or "closed".
func prState(pr *gh.PullRequest) string {
	switch {
	case pr.GetState() == "open":
		return "open"
	case pr.GetMerged() || pr.MergedAt != nil:
		return "merged"
	}
	return "closed"
}

// draftMarker ends a comment that carries a draft; it identifies the draft
// by its content's SHA-256, so that it is posted once.
func draftMarker(content []byte) string {
	sum := sha256.Sum256(content)
	return "<!-- warroom-draft sha256:" + hex.EncodeToString(sum[:]) + " -->"
}

// maxCommentLength is GitHub's limit on a comment, in characters.
const maxCommentLength = 65536

// commentDraft posts req.Content as a comment on pull request number,
// unless a comment already carries it.
func (c *Client) commentDraft(ctx context.Context, owner, name string, number int, req PublishRequest) error {
	marker := draftMarker(req.Content)
	what := fmt.Sprintf("github: commenting the new draft on pull request #%d of %s", number, req.Repo)
	opts := &gh.IssueListCommentsOptions{ListOptions: gh.ListOptions{PerPage: 100}}
	for {
		comments, resp, err := c.gh.Issues.ListComments(ctx, owner, name, number, opts)
		if err != nil {
			return c.jobError(err, req.Repo, what, publishNeeds)
		}
		for _, cm := range comments {
			if strings.Contains(cm.GetBody(), marker) {
				return nil
			}
		}
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	_, _, err := c.gh.Issues.CreateComment(ctx, owner, name, number, &gh.IssueComment{
		Body: gh.String(draftComment(req.Path, req.Content, marker)),
	})
	return c.jobError(err, req.Repo, what, publishNeeds)
}

// draftComment is the comment that carries a new draft of a file that
// people have changed. A draft too long for a comment is cut at a line.
func draftComment(path string, content []byte, marker string) string {
	draft := strings.ToValidUTF8(string(content), "\uFFFD")
	fence := strings.Repeat("`", max(3, longestRun(draft, '`')+1))
	head := fmt.Sprintf("Warroom has a new draft of this postmortem. `%s` has changed since Warroom last wrote it, "+
		"so Warroom left the file as it is. The new draft is below, to take from what helps.\n\n"+
		"<details><summary>New draft</summary>\n\n%smarkdown\n", path, fence)
	tail := "\n" + fence + "\n\n</details>\n\n" + marker + "\n"
	const cutNote = "\n[The draft is cut here: it is too long for a comment.]"
	room := maxCommentLength - utf8.RuneCountInString(head) - utf8.RuneCountInString(tail)
	if utf8.RuneCountInString(draft) > room {
		runes := []rune(draft)[:max(0, room-utf8.RuneCountInString(cutNote))]
		draft = string(runes)
		if i := strings.LastIndexByte(draft, '\n'); i > 0 {
			draft = draft[:i]
		}
		draft += cutNote
	}
	return head + strings.TrimSuffix(draft, "\n") + tail
}

// longestRun returns the length of the longest run of b in s.
func longestRun(s string, b byte) int {
	longest, run := 0, 0
	for i := 0; i < len(s); i++ {
		if s[i] == b {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	return longest
}
