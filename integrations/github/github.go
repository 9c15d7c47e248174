// Package github is Warroom's adapter to GitHub's REST API: it proposes
// postmortem drafts as draft pull requests (Publish) and files action items
// as issues (EnsureIssue).
//
// Both are meant to run in jobs, which may run more than once, so both
// check before they act: a retry, or a second run after a lost answer, finds
// the branch, file, pull request, comment or issue that the first made and
// does not make another. Errors follow the job contract (package jobs): rate
// limits defer the job, server and network errors are retried with backoff,
// and errors that a retry cannot fix (a refused token, a missing repository,
// a refused request) are permanent and say what to fix. No error carries the
// token.
//
// go-github's types end at this package's edge: callers see PublishRequest,
// PublishResult and plain values.
package github

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	gh "github.com/google/go-github/v60/github"
)

// Client talks to one GitHub (github.com or a GitHub Enterprise Server).
// It is safe for concurrent use.
type Client struct {
	gh    *gh.Client
	token string           // only to keep it out of error messages
	now   func() time.Time // for rate-limit delays when an answer has no Date
}

// New returns a Client that authenticates with token (a personal access
// token or an installation token; empty: anonymous). apiURL is the REST
// API's base URL; empty, or api.github.com, is github.com. Any other URL is
// a GitHub Enterprise Server (or a test server), whose API lives under
// /api/v3/: "https://ghe.example.com", "https://ghe.example.com/" and
// "https://ghe.example.com/api/v3/" are the same. httpClient is copied, not
// changed; nil means a default client.
func New(token, apiURL string, httpClient *http.Client) (*Client, error) {
	c := gh.NewClient(gated(httpClient)) // ratelimit.go: honour Retry-After across jobs
	if token != "" {
		c = c.WithAuthToken(token)
	}
	if apiURL != "" && !isDotCom(apiURL) {
		u, err := url.Parse(apiURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("github: API URL %q is not an absolute http(s) URL", apiURL)
		}
		// go-github adds /api/v3/ to the base URL and /api/uploads/ to the
		// upload URL unless they are there: the upload URL is the host's.
		upload := *u
		upload.Path = strings.TrimSuffix(strings.TrimSuffix(u.Path, "/"), "/api/v3")
		if c, err = c.WithEnterpriseURLs(u.String(), upload.String()); err != nil {
			return nil, fmt.Errorf("github: API URL %q: %w", apiURL, err)
		}
	}
	return &Client{gh: c, token: token, now: time.Now}, nil
}

// isDotCom reports whether apiURL is github.com's API.
func isDotCom(apiURL string) bool {
	u, err := url.Parse(apiURL)
	return err == nil && u.Scheme == "https" && strings.EqualFold(u.Host, "api.github.com") &&
		(u.Path == "" || u.Path == "/")
}

// splitRepo splits "owner/name".
func splitRepo(repo string) (owner, name string, err error) {
	owner, name, ok := strings.Cut(repo, "/")
	if !ok || owner == "" || name == "" || strings.ContainsAny(name, "/ ") || strings.Contains(owner, " ") {
		return "", "", fmt.Errorf("repository %q is not owner/name", repo)
	}
	return owner, name, nil
}

// errorResponse returns GitHub's error answer in err's chain, if any.
func errorResponse(err error) (*gh.ErrorResponse, bool) {
	var e *gh.ErrorResponse
	if errors.As(err, &e) && e.Response != nil {
		return e, true
	}
	return nil, false
}

// isValidation reports whether err is GitHub's 422 whose message, or one of
// whose field errors, contains text.
func isValidation(err error, text string) bool {
	e, ok := errorResponse(err)
	if !ok || e.Response.StatusCode != http.StatusUnprocessableEntity {
		return false
	}
	if strings.Contains(e.Message, text) {
		return true
	}
	for _, fe := range e.Errors {
		if strings.Contains(fe.Message, text) {
			return true
		}
	}
	return false
}

// isNotFound reports whether err is GitHub's 404.
func isNotFound(err error) bool {
	e, ok := errorResponse(err)
	return ok && e.Response.StatusCode == http.StatusNotFound
}
