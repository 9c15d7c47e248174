package github

import (
	"context"
	"fmt"

	"github.com/warroomhq/warroom/jobs"
)

// What a token needs to read pull requests and issues.
const readNeeds = "pull requests: read and issues: read"

// PullRequestState reports whether pull request number in repo is "open",
// "merged" or "closed" (without merging).
func (c *Client) PullRequestState(ctx context.Context, repo string, number int) (string, error) {
	owner, name, err := splitRepo(repo)
	if err != nil {
		return "", jobs.Permanent(err)
	}
	pr, _, err := c.gh.PullRequests.Get(ctx, owner, name, number)
	if err != nil {
		return "", c.jobError(err, repo, fmt.Sprintf("github: reading pull request #%d of %s", number, repo), readNeeds)
	}
	return prState(pr), nil
}

// IssueClosed reports whether issue number in repo is closed.
func (c *Client) IssueClosed(ctx context.Context, repo string, number int) (bool, error) {
	owner, name, err := splitRepo(repo)
	if err != nil {
		return false, jobs.Permanent(err)
	}
	is, _, err := c.gh.Issues.Get(ctx, owner, name, number)
	if err != nil {
		return false, c.jobError(err, repo, fmt.Sprintf("github: reading issue #%d of %s", number, repo), readNeeds)
	}
	return is.GetState() == "closed", nil
}
