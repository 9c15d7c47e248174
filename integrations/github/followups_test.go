package github_test

import (
	"context"
	"testing"

	"github.com/warroomhq/warroom/internal/githubfake"
	"github.com/warroomhq/warroom/jobs"
)

func TestPullRequestStateAndIssueClosed(t *testing.T) {
	f, c := setup(t)
	ctx := context.Background()
	is, err := c.EnsureIssue(ctx, repo, "Add a retry budget", "", labels, "inc-42/action-1")
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.Publish(ctx, draft("draft one\n", ""))
	if err != nil {
		t.Fatal(err)
	}
	state := func() string {
		t.Helper()
		s, err := c.PullRequestState(ctx, repo, res.PRNumber)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	closed := func() bool {
		t.Helper()
		b, err := c.IssueClosed(ctx, repo, is.Number)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	if s, b := state(), closed(); s != "open" || b {
		t.Errorf("at first: %s, closed %v", s, b)
	}
	f.MergePull(repo, res.PRNumber)
	f.CloseIssue(repo, is.Number)
	if s, b := state(), closed(); s != "merged" || !b {
		t.Errorf("after merge and close: %s, closed %v", s, b)
	}
	if _, err := c.PullRequestState(ctx, repo, 99); !jobs.IsPermanent(err) {
		t.Errorf("a missing pull request: %v", err)
	}
	if _, err := c.IssueClosed(ctx, "no-slash", 1); !jobs.IsPermanent(err) {
		t.Errorf("a bad repository name: %v", err)
	}
	f.FailNext(githubfake.RouteGetPull, githubfake.Fault{Status: 502})
	if _, err := c.PullRequestState(ctx, repo, res.PRNumber); err == nil || jobs.IsPermanent(err) {
		t.Errorf("a 502: %v, want a retryable error", err)
	}
}
