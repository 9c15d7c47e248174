package github

import (
	"context"
	"errors"
	"fmt"
	"strings"

	gh "github.com/google/go-github/v60/github"

	"github.com/warroomhq/warroom/jobs"
	"github.com/warroomhq/warroom/postmortem"
)

// What a token needs for EnsureIssue (fine-grained permissions).
const issuesNeeds = "issues: write"

// issueMarker ends the body of an issue that Warroom filed under key.
func issueMarker(key string) string { return "<!-- warroom-key:" + key + " -->" }

// validKey reports whether key can sit in an HTML comment on one line.
func validKey(key string) bool {
	return key != "" && !strings.Contains(key, "--") && !strings.ContainsAny(key, "<>\r\n")
}

// EnsureIssue files an issue in repo ("owner/name") unless Warroom already
// filed one under key, and returns it (number, URL, and whether it is closed). The issue's body is
// body followed by a hidden marker, <!-- warroom-key:KEY -->, by which it is
// found again among the repository's issues, open or closed, that have all
// of labels; a found issue is returned as it is, even if closed or edited,
// as long as it keeps the marker and the labels. key is, for example,
// "inc-42/action-3"; it must not contain "--", "<", ">" or line breaks.
func (c *Client) EnsureIssue(ctx context.Context, repo, title, body string, labels []string, key string) (postmortem.Issue, error) {
	owner, name, err := splitRepo(repo)
	switch {
	case err != nil:
	case title == "":
		err = errors.New("no title")
	case !validKey(key):
		err = fmt.Errorf("key %q cannot be marked in an issue (empty, or with --, <, > or a line break)", key)
	}
	if err != nil {
		return postmortem.Issue{}, jobs.Permanent(fmt.Errorf("github: filing an issue: %w", err))
	}
	marker := issueMarker(key)

	what := fmt.Sprintf("github: looking for issue %s in %s", key, repo)
	opts := &gh.IssueListByRepoOptions{State: "all", Labels: labels, ListOptions: gh.ListOptions{PerPage: 100}}
	for {
		issues, resp, err := c.gh.Issues.ListByRepo(ctx, owner, name, opts)
		if err != nil {
			return postmortem.Issue{}, c.jobError(err, repo, what, issuesNeeds)
		}
		for _, is := range issues {
			if !is.IsPullRequest() && strings.Contains(is.GetBody(), marker) {
				return issueOf(is), nil
			}
		}
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}

	text := marker + "\n"
	if b := strings.TrimRight(body, "\n"); b != "" {
		text = b + "\n\n" + text
	}
	req := &gh.IssueRequest{Title: gh.String(title), Body: gh.String(text)}
	if len(labels) > 0 {
		req.Labels = &labels
	}
	is, _, err := c.gh.Issues.Create(ctx, owner, name, req)
	if err != nil {
		return postmortem.Issue{}, c.jobError(err, repo, fmt.Sprintf("github: filing issue %s in %s", key, repo), issuesNeeds)
	}
	return issueOf(is), nil
}

func issueOf(is *gh.Issue) postmortem.Issue {
	return postmortem.Issue{Number: is.GetNumber(), URL: is.GetHTMLURL(), Closed: is.GetState() == "closed"}
}
