package github_test

import (
	"context"
	"fmt"
	"reflect"
	"testing"

	"github.com/warroomhq/warroom/internal/githubfake"
	"github.com/warroomhq/warroom/jobs"
)

var labels = []string{"postmortem", "inc-42"}

func TestEnsureIssueFilesOnce(t *testing.T) {
	f, c := setup(t)
	ctx := context.Background()

	nIssue, err := c.EnsureIssue(ctx, repo, "Add a retry budget to checkout", "From INC-42's postmortem.", labels, "inc-42/action-1")
	n, url := nIssue.Number, nIssue.URL
	if err != nil {
		t.Fatal(err)
	}
	calls := f.Calls()
	checkCalls(t, calls, "GET "+issues+" 200", "POST "+issues+" 201")
	if len(calls) == 2 {
		checkQuery(t, calls[0], map[string]string{"state": "all", "labels": "postmortem,inc-42", "per_page": "100"})
		checkBody(t, calls[1], `{"title": "Add a retry budget to checkout", "labels": ["postmortem", "inc-42"],
			"body": "From INC-42's postmortem.\n\n<!-- warroom-key:inc-42/action-1 -->\n"}`)
	}

	f.ResetCalls()
	n2Issue, err := c.EnsureIssue(ctx, repo, "Add a retry budget to checkout", "From INC-42's postmortem.", labels, "inc-42/action-1")
	n2, url2 := n2Issue.Number, n2Issue.URL
	if err != nil {
		t.Fatal(err)
	}
	checkCalls(t, f.Calls(), "GET "+issues+" 200")

	want := []githubfake.Issue{{
		Number: 1, Title: "Add a retry budget to checkout", State: "open", Labels: labels,
		Body: "From INC-42's postmortem.\n\n<!-- warroom-key:inc-42/action-1 -->\n",
		URL:  f.URL() + "/acme/postmortems/issues/1",
	}}
	if got := f.Issues(repo); !reflect.DeepEqual(got, want) {
		t.Errorf("issues %+v\nwant %+v", got, want)
	}
	if n != 1 || n2 != 1 || url != want[0].URL || url2 != url {
		t.Errorf("EnsureIssue = %d %s, then %d %s", n, url, n2, url2)
	}

	// Another key is another issue; without a body, it holds the marker.
	if n3Issue, err := c.EnsureIssue(ctx, repo, "Alert on checkout latency", "", labels, "inc-42/action-2"); err != nil || n3Issue.Number != 2 {
		t.Errorf("second action item: %d, %v", n3Issue.Number, err)
	}
	if got := f.Issues(repo); len(got) != 2 || got[1].Body != "<!-- warroom-key:inc-42/action-2 -->\n" {
		t.Errorf("issues %+v", got)
	}
}

func TestEnsureIssueFindsAClosedIssueOnALaterPage(t *testing.T) {
	f, c := setup(t)
	ctx := context.Background()
	nIssue, err := c.EnsureIssue(ctx, repo, "Add a retry budget", "", labels, "inc-42/action-1")
	n := nIssue.Number
	if err != nil {
		t.Fatal(err)
	}
	f.CloseIssue(repo, n)
	for i := range 150 { // newer issues push it to the second page
		f.AddIssue(repo, githubfake.Issue{Title: fmt.Sprintf("Other %d", i), Labels: labels, Body: "<!-- warroom-key:other -->"})
	}
	f.ResetCalls()

	n2Issue, err := c.EnsureIssue(ctx, repo, "Add a retry budget", "", labels, "inc-42/action-1")
	n2 := n2Issue.Number
	if err != nil || n2 != n {
		t.Fatalf("EnsureIssue = %d, %v; want %d", n2, err, n)
	}
	if nIssue.Closed || !n2Issue.Closed {
		t.Errorf("Closed = %v when filed, %v after closing; want false, true", nIssue.Closed, n2Issue.Closed)
	}
	calls := f.Calls()
	checkCalls(t, calls, "GET "+issues+" 200", "GET "+issues+" 200")
	if len(calls) == 2 {
		checkQuery(t, calls[1], map[string]string{"page": "2", "state": "all", "labels": "postmortem,inc-42"})
	}
	if got := len(f.Issues(repo)); got != 151 {
		t.Errorf("%d issues", got)
	}
}

func TestEnsureIssueAfterALostCreateAnswer(t *testing.T) {
	f, c := setup(t)
	ctx := context.Background()
	f.FailNext(githubfake.RouteCreateIssue, githubfake.Fault{Status: 502, Apply: true})
	if _, err := c.EnsureIssue(ctx, repo, "Add a retry budget", "", labels, "inc-42/action-1"); err == nil || jobs.IsPermanent(err) {
		t.Fatalf("EnsureIssue: %v, want a retryable error", err)
	}
	nIssue, err := c.EnsureIssue(ctx, repo, "Add a retry budget", "", labels, "inc-42/action-1")
	n := nIssue.Number
	if err != nil || n != 1 || len(f.Issues(repo)) != 1 {
		t.Errorf("retry: %d, %v; issues %+v", n, err, f.Issues(repo))
	}
}

func TestEnsureIssueSkipsPullRequestsAndOtherLabels(t *testing.T) {
	f, c := setup(t)
	ctx := context.Background()
	// A person's issue that quotes the marker but lacks the labels.
	f.AddIssue(repo, githubfake.Issue{Title: "Copy", Body: "<!-- warroom-key:inc-42/action-1 -->", Labels: []string{"postmortem"}})
	nIssue, err := c.EnsureIssue(ctx, repo, "Add a retry budget", "", labels, "inc-42/action-1")
	n := nIssue.Number
	if err != nil || n != 2 {
		t.Errorf("EnsureIssue = %d, %v; want a new issue #2", n, err)
	}
}

func TestEnsureIssueRefusesBadArguments(t *testing.T) {
	f, c := setup(t)
	for _, tc := range []struct{ repo, title, key string }{
		{"acme", "t", "k"},
		{repo, "", "k"},
		{repo, "t", ""},
		{repo, "t", "a--b"},
		{repo, "t", "a>b"},
		{repo, "t", "a\nb"},
	} {
		if _, err := c.EnsureIssue(context.Background(), tc.repo, tc.title, "", nil, tc.key); !jobs.IsPermanent(err) {
			t.Errorf("%+v: %v, want a permanent error", tc, err)
		}
	}
	if n := len(f.Calls()); n != 0 {
		t.Errorf("%d calls", n)
	}
}
