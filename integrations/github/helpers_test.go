package github_test

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/warroomhq/warroom/integrations/github"
	"github.com/warroomhq/warroom/internal/githubfake"
)

const (
	repo   = "acme/postmortems"
	branch = "postmortem/inc-42-checkout-errors"
	file   = "postmortems/2026-11-21-inc-42-checkout-errors.md"

	// API paths, below /api/v3.
	refBranch = "/repos/acme/postmortems/git/ref/heads/" + branch
	refMain   = "/repos/acme/postmortems/git/ref/heads/main"
	refs      = "/repos/acme/postmortems/git/refs"
	contents  = "/repos/acme/postmortems/contents/" + file
	pulls     = "/repos/acme/postmortems/pulls"
	issues    = "/repos/acme/postmortems/issues"
)

// setup starts a fake GitHub with the repository acme/postmortems (main
// holds a README) and a Client pointed at it.
func setup(t *testing.T) (*githubfake.Fake, *github.Client) {
	t.Helper()
	f := githubfake.New()
	t.Cleanup(f.Close)
	f.AddRepo(repo, "main", map[string]string{"README.md": "# Postmortems\n"})
	c, err := github.New(f.Token(), f.APIURL(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return f, c
}

// draft is the request that publishes content for INC-42.
func draft(content, lastSHA string) github.PublishRequest {
	return github.PublishRequest{
		Repo:    repo,
		Base:    "main",
		Branch:  branch,
		Path:    file,
		Content: []byte(content),
		Message: "Postmortem draft for INC-42",
		Title:   "Postmortem: INC-42 Checkout errors",
		Body:    "Drafted by Warroom from INC-42's timeline.",
		LastSHA: lastSHA,
	}
}

func publish(t *testing.T, c *github.Client, req github.PublishRequest) github.PublishResult {
	t.Helper()
	res, err := c.Publish(context.Background(), req)
	if err != nil {
		t.Fatalf("Publish: %v", err)
	}
	return res
}

// checkCalls compares the calls with want, each "METHOD path status".
func checkCalls(t *testing.T, calls []githubfake.Call, want ...string) {
	t.Helper()
	got := make([]string, len(calls))
	for i, c := range calls {
		got[i] = c.String()
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("calls:\n\t%s\nwant:\n\t%s", strings.Join(got, "\n\t"), strings.Join(want, "\n\t"))
	}
}

// checkBody compares a call's JSON body with want, as JSON values.
func checkBody(t *testing.T, c githubfake.Call, want string) {
	t.Helper()
	var got, w any
	if err := json.Unmarshal(c.Body, &got); err != nil {
		t.Fatalf("%s: body %q: %v", c, c.Body, err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("want %q: %v", want, err)
	}
	if !reflect.DeepEqual(got, w) {
		t.Errorf("%s: body\n\t%s\nwant\n\t%s", c, c.Body, want)
	}
}

// checkQuery compares some of a call's query parameters with want.
func checkQuery(t *testing.T, c githubfake.Call, want map[string]string) {
	t.Helper()
	for k, v := range want {
		if got := c.Query.Get(k); got != v {
			t.Errorf("%s: query %s=%q, want %q", c, k, got, v)
		}
	}
}
