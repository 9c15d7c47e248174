package githubfake

import (
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The routes the fake serves, as http.ServeMux patterns of the API path
// below /api/v3. Calls and FailNext name routes with them.
const (
	RouteGetRef        = "GET /repos/{owner}/{repo}/git/ref/{ref...}"
	RouteCreateRef     = "POST /repos/{owner}/{repo}/git/refs"
	RouteGetContents   = "GET /repos/{owner}/{repo}/contents/{path...}"
	RoutePutContents   = "PUT /repos/{owner}/{repo}/contents/{path...}"
	RouteListPulls     = "GET /repos/{owner}/{repo}/pulls"
	RouteCreatePull    = "POST /repos/{owner}/{repo}/pulls"
	RouteListIssues    = "GET /repos/{owner}/{repo}/issues"
	RouteCreateIssue   = "POST /repos/{owner}/{repo}/issues"
	RouteListComments  = "GET /repos/{owner}/{repo}/issues/{number}/comments"
	RouteCreateComment = "POST /repos/{owner}/{repo}/issues/{number}/comments"
	RouteGetPull       = "GET /repos/{owner}/{repo}/pulls/{number}"
	RouteGetIssue      = "GET /repos/{owner}/{repo}/issues/{number}"
)

// APIPrefix is where the fake serves the API, as GitHub Enterprise Server
// does.
const APIPrefix = "/api/v3"

// DefaultToken is the token a Fake accepts unless WithToken says otherwise.
const DefaultToken = "ghp_githubfakeDefaultToken0000000000000"

// Epoch is the default time of a Fake's clock.
var Epoch = time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)

// MaxCommentLength is GitHub's limit on a comment's body, in characters.
const MaxCommentLength = 65536

// A Fake is a stateful fake GitHub REST API on a local httptest.Server.
type Fake struct {
	srv   *httptest.Server
	mux   *http.ServeMux
	token string
	now   func() time.Time
	// webBase starts web links; "" means the server's own URL.
	webBase string

	mu     sync.Mutex
	repos  map[string]*repo // by lower-case "owner/name"
	calls  []Call
	faults map[string][]Fault // by route
	seq    int                // commits and comments

	deploys deployState // deployments and workflow runs (deploys.go)
}

// Option configures a Fake.
type Option func(*Fake)

// WithToken sets the token the fake accepts, as "Bearer <token>" or
// "token <token>" in the Authorization header.
func WithToken(token string) Option { return func(f *Fake) { f.token = token } }

// WithWebURL makes the fake's web links (html_url of pull requests,
// issues, files and commits) start with base, such as
// "https://github.example.com", instead of its own random address, so
// that output that shows them is the same on every run.
func WithWebURL(base string) Option {
	return func(f *Fake) { f.webBase = strings.TrimSuffix(base, "/") }
}

// WithClock sets the clock that dates responses (the Date header),
// commits, issues and pull requests. The default is fixed at Epoch.
func WithClock(now func() time.Time) Option { return func(f *Fake) { f.now = now } }

// New starts a Fake. Close it when done.
func New(opts ...Option) *Fake {
	f := &Fake{
		token:  DefaultToken,
		now:    func() time.Time { return Epoch },
		repos:  map[string]*repo{},
		faults: map[string][]Fault{},
		mux:    http.NewServeMux(),
	}
	for _, o := range opts {
		o(f)
	}
	f.mux.HandleFunc(RouteGetRef, f.getRef)
	f.mux.HandleFunc(RouteCreateRef, f.createRef)
	f.mux.HandleFunc(RouteGetContents, f.getContents)
	f.mux.HandleFunc(RoutePutContents, f.putContents)
	f.mux.HandleFunc(RouteListPulls, f.listPulls)
	f.mux.HandleFunc(RouteCreatePull, f.createPull)
	f.mux.HandleFunc(RouteListIssues, f.listIssues)
	f.mux.HandleFunc(RouteCreateIssue, f.createIssue)
	f.mux.HandleFunc(RouteListComments, f.listComments)
	f.mux.HandleFunc(RouteCreateComment, f.createComment)
	f.mux.HandleFunc(RouteGetPull, f.getPull)
	f.mux.HandleFunc(RouteGetIssue, f.getIssue)
	f.routeDeploys()
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	return f
}

// Close shuts the server down.
func (f *Fake) Close() { f.srv.Close() }

// URL is the root of the fake, where its web pages (html_url) would be:
// "http://127.0.0.1:port".
func (f *Fake) URL() string { return f.srv.URL }

// APIURL is the REST API's base URL: URL() + "/api/v3/".
func (f *Fake) APIURL() string { return f.srv.URL + APIPrefix + "/" }

// Token is the token the fake accepts.
func (f *Fake) Token() string { return f.token }

// Now is the fake's current time.
func (f *Fake) Now() time.Time { return f.now() }

// Call is a request the fake received.
type Call struct {
	// Route is the route it matched (RouteGetRef, ...), or "" for none.
	Route  string
	Method string
	// Path is the request's path below /api/v3, unescaped, or its whole
	// path when it was not below /api/v3.
	Path   string
	Query  url.Values
	Header http.Header
	Body   []byte
	// Status is the status the client was answered with.
	Status int
	// Received is when it arrived by the wall clock, whatever the fake's
	// clock, for checking how long a client waited between calls.
	Received time.Time
}

// String is "METHOD path status".
func (c Call) String() string { return fmt.Sprintf("%s %s %d", c.Method, c.Path, c.Status) }

// Calls returns the calls received so far, in order; with routes, only the
// calls to them.
func (f *Fake) Calls(routes ...string) []Call {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Call
	for _, c := range f.calls {
		if len(routes) == 0 || slices.Contains(routes, c.Route) {
			out = append(out, c)
		}
	}
	return out
}

// ResetCalls forgets the calls received so far.
func (f *Fake) ResetCalls() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = nil
}

// Fault is an answer the fake gives instead of its own.
type Fault struct {
	Status int
	Header http.Header
	// Body is the answer's body; empty means {"message": <status text>}.
	Body string
	// Apply makes the call take effect before the fault is answered: the
	// answer was lost on its way back.
	Apply bool
}

// FailNext makes the next call to route answer with fault. Faults queue:
// each is used once, in the order they were added.
func (f *Fake) FailNext(route string, fault Fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults[route] = append(f.faults[route], fault)
}

// serve authenticates, records and routes a request, or answers with a
// fault.
func (f *Fake) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	defer f.mu.Unlock()

	sw := &statusWriter{ResponseWriter: w}
	w.Header().Set("Date", f.now().UTC().Format(http.TimeFormat))
	call := Call{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Header: r.Header.Clone(), Body: body, Received: time.Now()}
	defer func() {
		call.Status = sw.status
		f.calls = append(f.calls, call)
	}()

	if !f.authorized(r.Header.Get("Authorization")) {
		writeError(sw, http.StatusUnauthorized, "Bad credentials")
		return
	}
	path, ok := strings.CutPrefix(r.URL.Path, APIPrefix)
	if !ok || !strings.HasPrefix(path, "/") {
		writeError(sw, http.StatusNotFound, "Not Found")
		return
	}
	call.Path = path
	r2 := r.Clone(r.Context())
	r2.URL.Path, r2.URL.RawPath = path, ""
	r2.Body = io.NopCloser(bytes.NewReader(body))
	_, call.Route = f.mux.Handler(r2)

	if q := f.faults[call.Route]; call.Route != "" && len(q) > 0 {
		fault := q[0]
		f.faults[call.Route] = q[1:]
		if fault.Apply {
			f.mux.ServeHTTP(httptest.NewRecorder(), r2)
		}
		for k, v := range fault.Header {
			sw.Header()[k] = v
		}
		b := fault.Body
		if b == "" {
			b = fmt.Sprintf(`{"message":%q}`, http.StatusText(fault.Status))
		}
		sw.Header().Set("Content-Type", "application/json; charset=utf-8")
		sw.WriteHeader(fault.Status)
		io.WriteString(sw, b)
		return
	}
	f.mux.ServeHTTP(sw, r2)
}

func (f *Fake) authorized(header string) bool {
	scheme, token, ok := strings.Cut(header, " ")
	return ok && (strings.EqualFold(scheme, "bearer") || strings.EqualFold(scheme, "token")) && token == f.token
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

// repo is a repository: commits, branches, and issues and pull requests,
// which share their numbers as on GitHub.
type repo struct {
	owner, name   string
	defaultBranch string
	refs          map[string]string // "heads/main" → commit SHA
	commits       map[string]*commit
	issues        []*issue // issue number n is issues[n-1]
	noDrafts      bool
}

type commit struct {
	sha     string
	parent  string
	message string
	tree    map[string][]byte // path → content
}

type issue struct {
	number   int
	title    string
	body     string
	state    string
	labels   []string
	created  time.Time
	comments []Comment
	pull     *pull // nil for an issue
}

type pull struct {
	head, base string
	draft      bool
	merged     bool
}

// BlobSHA is the git blob SHA of content, which GitHub reports as a file's
// "sha".
func BlobSHA(content []byte) string {
	h := sha1.New()
	fmt.Fprintf(h, "blob %d\x00", len(content))
	h.Write(content)
	return hex.EncodeToString(h.Sum(nil))
}

// AddRepo creates the repository fullName ("owner/name") with one commit
// holding files on defaultBranch.
func (f *Fake) AddRepo(fullName, defaultBranch string, files map[string]string) {
	owner, name, ok := strings.Cut(fullName, "/")
	if !ok {
		panic("githubfake: repository " + fullName + " is not owner/name")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	rp := &repo{owner: owner, name: name, defaultBranch: defaultBranch, refs: map[string]string{}, commits: map[string]*commit{}}
	tree := map[string][]byte{}
	for p, c := range files {
		tree[p] = []byte(c)
	}
	c := f.newCommit(rp, "", "Initial commit", tree)
	rp.refs["heads/"+defaultBranch] = c.sha
	f.repos[strings.ToLower(fullName)] = rp
}

// DisableDrafts makes the repository refuse draft pull requests, as GitHub
// does on plans without them.
func (f *Fake) DisableDrafts(fullName string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.mustRepo(fullName).noDrafts = true
}

func (f *Fake) mustRepo(fullName string) *repo {
	rp := f.repos[strings.ToLower(fullName)]
	if rp == nil {
		panic("githubfake: no repository " + fullName)
	}
	return rp
}

func (f *Fake) newCommit(rp *repo, parent, message string, tree map[string][]byte) *commit {
	f.seq++
	sum := sha1.Sum(fmt.Appendf(nil, "commit %d %s %s", f.seq, parent, message))
	c := &commit{sha: hex.EncodeToString(sum[:]), parent: parent, message: message, tree: tree}
	rp.commits[c.sha] = c
	return c
}

// commitFile writes content at path on branch as a new commit, and
// returns it.
func (f *Fake) commitFile(rp *repo, branch, path string, content []byte, message string) *commit {
	head := rp.commits[rp.refs["heads/"+branch]]
	tree := maps.Clone(head.tree)
	tree[path] = bytes.Clone(content)
	c := f.newCommit(rp, head.sha, message, tree)
	rp.refs["heads/"+branch] = c.sha
	return c
}

// isAncestor reports whether commit a is b or one of b's ancestors.
func (rp *repo) isAncestor(a, b string) bool {
	for c := rp.commits[b]; c != nil; c = rp.commits[c.parent] {
		if c.sha == a {
			return true
		}
	}
	return false
}

// Ref returns the commit SHA that ref ("heads/main") points at.
func (f *Fake) Ref(fullName, ref string) (sha string, ok bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	sha, ok = f.mustRepo(fullName).refs[ref]
	return sha, ok
}

// File returns the content and blob SHA of path on branch.
func (f *Fake) File(fullName, branch, path string) (content []byte, sha string, ok bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	rp := f.mustRepo(fullName)
	head, ok := rp.refs["heads/"+branch]
	if !ok {
		return nil, "", false
	}
	content, ok = rp.commits[head].tree[path]
	if !ok {
		return nil, "", false
	}
	return bytes.Clone(content), BlobSHA(content), true
}

// CommitFile is a person committing content at path on branch (which
// must exist). It returns the file's new blob SHA.
func (f *Fake) CommitFile(fullName, branch, path, content, message string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	rp := f.mustRepo(fullName)
	if _, ok := rp.refs["heads/"+branch]; !ok {
		panic("githubfake: no branch " + branch + " in " + fullName)
	}
	f.commitFile(rp, branch, path, []byte(content), message)
	return BlobSHA([]byte(content))
}

// PullRequest is a pull request as the fake holds it.
type PullRequest struct {
	Number      int
	Title, Body string
	Head, Base  string // branch names
	State       string // "open" or "closed"
	Draft       bool
	URL         string // html_url
}

// Issue is an issue as the fake holds it.
type Issue struct {
	Number      int
	Title, Body string
	State       string // "open" (the default for AddIssue) or "closed"
	Labels      []string
	URL         string // html_url
}

// Comment is a comment on an issue or a pull request.
type Comment struct {
	ID   int64
	Body string
	URL  string // html_url
}

// PullRequests returns the repository's pull requests, by number.
func (f *Fake) PullRequests(fullName string) []PullRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	rp := f.mustRepo(fullName)
	var out []PullRequest
	for _, is := range rp.issues {
		if is.pull != nil {
			out = append(out, PullRequest{
				Number: is.number, Title: is.title, Body: is.body, Head: is.pull.head, Base: is.pull.base,
				State: is.state, Draft: is.pull.draft, URL: f.webURL(rp, is),
			})
		}
	}
	return out
}

// Issues returns the repository's issues (not pull requests), by number.
func (f *Fake) Issues(fullName string) []Issue {
	f.mu.Lock()
	defer f.mu.Unlock()
	rp := f.mustRepo(fullName)
	var out []Issue
	for _, is := range rp.issues {
		if is.pull == nil {
			out = append(out, Issue{
				Number: is.number, Title: is.title, Body: is.body, State: is.state,
				Labels: slices.Clone(is.labels), URL: f.webURL(rp, is),
			})
		}
	}
	return out
}

// Comments returns the comments on issue or pull request number, in order.
func (f *Fake) Comments(fullName string, number int) []Comment {
	f.mu.Lock()
	defer f.mu.Unlock()
	rp := f.mustRepo(fullName)
	if number < 1 || number > len(rp.issues) {
		return nil
	}
	return slices.Clone(rp.issues[number-1].comments)
}

// AddIssue is a person opening an issue; only Title, Body, State and
// Labels are read. It returns the issue's number.
func (f *Fake) AddIssue(fullName string, is Issue) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	rp := f.mustRepo(fullName)
	state := is.State
	if state == "" {
		state = "open"
	}
	n := len(rp.issues) + 1
	rp.issues = append(rp.issues, &issue{
		number: n, title: is.Title, body: is.Body, state: state,
		labels: slices.Clone(is.Labels), created: f.now(),
	})
	return n
}

// CloseIssue is a person closing issue or pull request number.
func (f *Fake) CloseIssue(fullName string, number int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.mustRepo(fullName).issues[number-1].state = "closed"
}

func (f *Fake) webURL(rp *repo, is *issue) string {
	kind := "issues"
	if is.pull != nil {
		kind = "pull"
	}
	return fmt.Sprintf("%s/%s/%s/%s/%d", f.web(), rp.owner, rp.name, kind, is.number)
}

// web is the base of the fake's web links.
func (f *Fake) web() string {
	if f.webBase != "" {
		return f.webBase
	}
	return f.srv.URL
}

func (f *Fake) apiURL(rp *repo, rest string) string {
	return fmt.Sprintf("%s%s/repos/%s/%s/%s", f.srv.URL, APIPrefix, rp.owner, rp.name, rest)
}

// page cuts items to the page that the request asks for (page, per_page:
// 30 by default, at most 100) and sets the Link header to the next and
// last pages, as GitHub does.
func page[T any](f *Fake, w http.ResponseWriter, r *http.Request, items []T) []T {
	q := r.URL.Query()
	perPage, err := strconv.Atoi(q.Get("per_page"))
	if err != nil || perPage < 1 {
		perPage = 30
	}
	perPage = min(perPage, 100)
	n, err := strconv.Atoi(q.Get("page"))
	if err != nil || n < 1 {
		n = 1
	}
	last := max(1, (len(items)+perPage-1)/perPage)
	if n < last {
		link := func(p int) string {
			q.Set("page", strconv.Itoa(p))
			q.Set("per_page", strconv.Itoa(perPage))
			return fmt.Sprintf("<%s%s%s?%s>", f.srv.URL, APIPrefix, r.URL.Path, q.Encode())
		}
		w.Header().Set("Link", link(n+1)+`; rel="next", `+link(last)+`; rel="last"`)
	}
	start := min((n-1)*perPage, len(items))
	end := min(start+perPage, len(items))
	return append([]T{}, items[start:end]...)
}
