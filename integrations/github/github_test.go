package github_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/warroomhq/warroom/integrations/github"
	"github.com/warroomhq/warroom/internal/githubfake"
	"github.com/warroomhq/warroom/jobs"
)

// A GitHub Enterprise Server serves its API under /api/v3/, and people write
// its URL in any of these ways.
func TestEnterpriseURLs(t *testing.T) {
	f := githubfake.New()
	t.Cleanup(f.Close)
	f.AddRepo(repo, "main", nil)
	for i, apiURL := range []string{
		f.URL(),
		f.URL() + "/",
		f.URL() + "/api/v3",
		f.URL() + "/api/v3/",
	} {
		c, err := github.New(f.Token(), apiURL, nil)
		if err != nil {
			t.Fatalf("New(%q): %v", apiURL, err)
		}
		f.ResetCalls()
		nIssue, err := c.EnsureIssue(context.Background(), repo, "Action", "", nil, "k")
		n := nIssue.Number
		if err != nil || n != 1 {
			t.Errorf("%s: EnsureIssue = %d, %v", apiURL, n, err)
		}
		want := []string{"GET " + issues + " 200"}
		if i == 0 {
			want = append(want, "POST "+issues+" 201")
		}
		checkCalls(t, f.Calls(), want...)
	}
}

// recorder stands in for the internet: it records requests and answers 503.
type recorder struct {
	mu   sync.Mutex
	reqs []*http.Request
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reqs = append(r.reqs, req)
	return &http.Response{
		StatusCode: 503, Status: "503 Service Unavailable", Request: req,
		Header: http.Header{"Content-Type": {"application/json"}},
		Body:   io.NopCloser(strings.NewReader(`{"message": "unavailable"}`)),
	}, nil
}

func TestDotComURLs(t *testing.T) {
	for _, apiURL := range []string{"", "https://api.github.com", "https://api.github.com/"} {
		rec := &recorder{}
		hc := &http.Client{Transport: rec}
		c, err := github.New("ghp_dotcom", apiURL, hc)
		if err != nil {
			t.Fatalf("New(%q): %v", apiURL, err)
		}
		_, err = c.Publish(context.Background(), draft(draft1, ""))
		if err == nil || jobs.IsPermanent(err) {
			t.Errorf("%q: a 503 gave %v", apiURL, err)
		}
		if len(rec.reqs) != 1 {
			t.Fatalf("%q: %d requests", apiURL, len(rec.reqs))
		}
		req := rec.reqs[0]
		if got, want := req.URL.Path, "/repos/acme/postmortems/pulls"; req.URL.Host != "api.github.com" || got != want {
			t.Errorf("%q: asked %s, want %s", apiURL, got, want)
		}
		if got := req.Header.Get("Authorization"); got != "Bearer ghp_dotcom" {
			t.Errorf("%q: Authorization %q", apiURL, got)
		}
		if hc.Transport != rec {
			t.Errorf("New changed the caller's http.Client")
		}
	}
}

func TestNewRefusesABadURL(t *testing.T) {
	for _, apiURL := range []string{"ghe.example.com", "ftp://ghe.example.com", "https://", "http://[::1"} {
		if _, err := github.New("t", apiURL, nil); err == nil {
			t.Errorf("New(%q) accepted it", apiURL)
		}
	}
}
