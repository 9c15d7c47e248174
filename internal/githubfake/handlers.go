package githubfake

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// The handlers run under f.mu, held by serve.

const docsURL = "https://docs.github.com/rest"

// fieldError is one entry of a 422's "errors".
type fieldError struct {
	Resource string `json:"resource"`
	Field    string `json:"field,omitempty"`
	Code     string `json:"code"`
	Message  string `json:"message,omitempty"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, message string, errs ...fieldError) {
	body := map[string]any{"message": message, "documentation_url": docsURL, "status": strconv.Itoa(status)}
	if len(errs) > 0 {
		body["errors"] = errs
	}
	writeJSON(w, status, body)
}

// validation answers 422 Validation Failed with one field error.
func validation(w http.ResponseWriter, e fieldError) {
	writeError(w, http.StatusUnprocessableEntity, "Validation Failed", e)
}

// decode reads a JSON body; on failure it answers 400 as GitHub does.
func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	if err := json.NewDecoder(r.Body).Decode(v); err != nil {
		writeError(w, http.StatusBadRequest, "Problems parsing JSON")
		return false
	}
	return true
}

func (f *Fake) repoOf(w http.ResponseWriter, r *http.Request) *repo {
	rp := f.repos[strings.ToLower(r.PathValue("owner")+"/"+r.PathValue("repo"))]
	if rp == nil {
		writeError(w, http.StatusNotFound, "Not Found")
	}
	return rp
}

func (f *Fake) refJSON(rp *repo, ref, sha string) map[string]any {
	return map[string]any{
		"ref": "refs/" + ref,
		"url": f.apiURL(rp, "git/refs/"+ref),
		"object": map[string]any{
			"sha":  sha,
			"type": "commit",
			"url":  f.apiURL(rp, "git/commits/"+sha),
		},
	}
}

func (f *Fake) getRef(w http.ResponseWriter, r *http.Request) {
	rp := f.repoOf(w, r)
	if rp == nil {
		return
	}
	ref := r.PathValue("ref")
	sha, ok := rp.refs[ref]
	if !ok {
		writeError(w, http.StatusNotFound, "Not Found")
		return
	}
	writeJSON(w, http.StatusOK, f.refJSON(rp, ref, sha))
}

func (f *Fake) createRef(w http.ResponseWriter, r *http.Request) {
	rp := f.repoOf(w, r)
	if rp == nil {
		return
	}
	var in struct {
		Ref *string `json:"ref"`
		SHA *string `json:"sha"`
	}
	if !decode(w, r, &in) {
		return
	}
	switch {
	case in.Ref == nil:
		writeError(w, http.StatusUnprocessableEntity, "Invalid request.\n\n\"ref\" wasn't supplied.")
		return
	case in.SHA == nil:
		writeError(w, http.StatusUnprocessableEntity, "Invalid request.\n\n\"sha\" wasn't supplied.")
		return
	}
	name, ok := strings.CutPrefix(*in.Ref, "refs/")
	if !ok || !strings.Contains(name, "/") || strings.HasSuffix(name, "/") {
		writeError(w, http.StatusUnprocessableEntity, "Reference name is invalid")
		return
	}
	if rp.commits[*in.SHA] == nil {
		writeError(w, http.StatusUnprocessableEntity, "Object does not exist")
		return
	}
	if _, exists := rp.refs[name]; exists {
		writeError(w, http.StatusUnprocessableEntity, "Reference already exists")
		return
	}
	rp.refs[name] = *in.SHA
	writeJSON(w, http.StatusCreated, f.refJSON(rp, name, *in.SHA))
}

func (f *Fake) fileJSON(rp *repo, ref, path string, content []byte, withContent bool) map[string]any {
	sha := BlobSHA(content)
	m := map[string]any{
		"type":     "file",
		"name":     path[strings.LastIndexByte(path, '/')+1:],
		"path":     path,
		"sha":      sha,
		"size":     len(content),
		"url":      f.apiURL(rp, "contents/"+path+"?ref="+ref),
		"html_url": fmt.Sprintf("%s/%s/%s/blob/%s/%s", f.web(), rp.owner, rp.name, ref, path),
		"git_url":  f.apiURL(rp, "git/blobs/"+sha),
	}
	if withContent {
		// GitHub wraps the Base64 at 60 characters.
		enc := base64.StdEncoding.EncodeToString(content)
		var b strings.Builder
		for len(enc) > 60 {
			b.WriteString(enc[:60] + "\n")
			enc = enc[60:]
		}
		b.WriteString(enc + "\n")
		m["encoding"] = "base64"
		m["content"] = b.String()
	}
	return m
}

func (f *Fake) getContents(w http.ResponseWriter, r *http.Request) {
	rp := f.repoOf(w, r)
	if rp == nil {
		return
	}
	ref := r.URL.Query().Get("ref")
	if ref == "" {
		ref = rp.defaultBranch
	}
	sha, ok := rp.refs["heads/"+ref]
	if !ok && rp.commits[ref] != nil {
		sha, ok = ref, true
	}
	if !ok {
		writeError(w, http.StatusNotFound, "No commit found for the ref "+ref)
		return
	}
	tree := rp.commits[sha].tree
	path := strings.Trim(r.PathValue("path"), "/")
	if content, ok := tree[path]; ok {
		writeJSON(w, http.StatusOK, f.fileJSON(rp, ref, path, content, true))
		return
	}
	var entries []map[string]any
	dirs := map[string]bool{}
	for _, p := range slices.Sorted(maps.Keys(tree)) {
		rest, ok := strings.CutPrefix(p, path+"/")
		if !ok && path != "" {
			continue
		}
		if path == "" {
			rest = p
		}
		if dir, _, isDir := strings.Cut(rest, "/"); isDir {
			if !dirs[dir] {
				dirs[dir] = true
				entries = append(entries, map[string]any{"type": "dir", "name": dir, "path": strings.TrimPrefix(path+"/"+dir, "/")})
			}
			continue
		}
		entries = append(entries, f.fileJSON(rp, ref, p, tree[p], false))
	}
	if entries == nil {
		writeError(w, http.StatusNotFound, "Not Found")
		return
	}
	writeJSON(w, http.StatusOK, entries)
}

func (f *Fake) putContents(w http.ResponseWriter, r *http.Request) {
	rp := f.repoOf(w, r)
	if rp == nil {
		return
	}
	var in struct {
		Message *string `json:"message"`
		Content *string `json:"content"`
		SHA     *string `json:"sha"`
		Branch  *string `json:"branch"`
	}
	if !decode(w, r, &in) {
		return
	}
	switch {
	case in.Message == nil:
		writeError(w, http.StatusUnprocessableEntity, "Invalid request.\n\n\"message\" wasn't supplied.")
		return
	case in.Content == nil:
		writeError(w, http.StatusUnprocessableEntity, "Invalid request.\n\n\"content\" wasn't supplied.")
		return
	}
	content, err := base64.StdEncoding.DecodeString(*in.Content)
	if err != nil {
		writeError(w, http.StatusUnprocessableEntity, "content is not valid Base64")
		return
	}
	branch := rp.defaultBranch
	if in.Branch != nil && *in.Branch != "" {
		branch = *in.Branch
	}
	headSHA, ok := rp.refs["heads/"+branch]
	if !ok {
		writeError(w, http.StatusNotFound, "Branch "+branch+" not found")
		return
	}
	path := strings.Trim(r.PathValue("path"), "/")
	old, exists := rp.commits[headSHA].tree[path]
	if exists {
		if in.SHA == nil || *in.SHA == "" {
			writeError(w, http.StatusUnprocessableEntity, "Invalid request.\n\n\"sha\" wasn't supplied.")
			return
		}
		if *in.SHA != BlobSHA(old) {
			writeError(w, http.StatusConflict, path+" does not match "+*in.SHA)
			return
		}
	}
	c := f.commitFile(rp, branch, path, content, *in.Message)
	status := http.StatusCreated
	if exists {
		status = http.StatusOK
	}
	writeJSON(w, status, map[string]any{
		"content": f.fileJSON(rp, branch, path, content, false),
		"commit": map[string]any{
			"sha":      c.sha,
			"message":  c.message,
			"url":      f.apiURL(rp, "git/commits/"+c.sha),
			"html_url": fmt.Sprintf("%s/%s/%s/commit/%s", f.web(), rp.owner, rp.name, c.sha),
			"parents":  []map[string]any{{"sha": headSHA}},
		},
	})
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func (f *Fake) pullJSON(rp *repo, is *issue) map[string]any {
	return map[string]any{
		"number":     is.number,
		"state":      is.state,
		"title":      is.title,
		"body":       is.body,
		"draft":      is.pull.draft,
		"merged":     is.pull.merged,
		"html_url":   f.webURL(rp, is),
		"url":        f.apiURL(rp, fmt.Sprintf("pulls/%d", is.number)),
		"created_at": stamp(is.created),
		"head": map[string]any{
			"ref":   is.pull.head,
			"label": rp.owner + ":" + is.pull.head,
			"sha":   rp.refs["heads/"+is.pull.head],
		},
		"base": map[string]any{
			"ref":   is.pull.base,
			"label": rp.owner + ":" + is.pull.base,
			"sha":   rp.refs["heads/"+is.pull.base],
		},
	}
}

// stateMatches filters by a list's state parameter: "open" (the default),
// "closed" or "all".
func stateMatches(param, state string) bool {
	switch param {
	case "", "open":
		return state == "open"
	case "closed":
		return state == "closed"
	default:
		return true
	}
}

func (f *Fake) listPulls(w http.ResponseWriter, r *http.Request) {
	rp := f.repoOf(w, r)
	if rp == nil {
		return
	}
	q := r.URL.Query()
	// GitHub reads head only as "owner:branch" and ignores it otherwise.
	headOwner, headBranch, byHead := strings.Cut(q.Get("head"), ":")
	base := q.Get("base")
	out := []map[string]any{}
	for _, is := range slices.Backward(rp.issues) { // newest first
		switch {
		case is.pull == nil, !stateMatches(q.Get("state"), is.state):
		case byHead && (!strings.EqualFold(headOwner, rp.owner) || headBranch != is.pull.head):
		case base != "" && base != is.pull.base:
		default:
			out = append(out, f.pullJSON(rp, is))
		}
	}
	writeJSON(w, http.StatusOK, page(f, w, r, out))
}

func (f *Fake) createPull(w http.ResponseWriter, r *http.Request) {
	rp := f.repoOf(w, r)
	if rp == nil {
		return
	}
	var in struct {
		Title *string `json:"title"`
		Head  *string `json:"head"`
		Base  *string `json:"base"`
		Body  *string `json:"body"`
		Draft *bool   `json:"draft"`
	}
	if !decode(w, r, &in) {
		return
	}
	str := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	title, head, base := str(in.Title), str(in.Head), str(in.Base)
	if owner, branch, ok := strings.Cut(head, ":"); ok {
		if !strings.EqualFold(owner, rp.owner) {
			validation(w, fieldError{Resource: "PullRequest", Field: "head", Code: "invalid"})
			return
		}
		head = branch
	}
	switch {
	case title == "":
		validation(w, fieldError{Resource: "PullRequest", Field: "title", Code: "missing_field"})
		return
	case rp.refs["heads/"+base] == "":
		validation(w, fieldError{Resource: "PullRequest", Field: "base", Code: "invalid"})
		return
	case rp.refs["heads/"+head] == "":
		validation(w, fieldError{Resource: "PullRequest", Field: "head", Code: "invalid"})
		return
	}
	for _, is := range rp.issues {
		if is.pull != nil && is.state == "open" && is.pull.head == head && is.pull.base == base {
			validation(w, fieldError{Resource: "PullRequest", Code: "custom", Message: "A pull request already exists for " + rp.owner + ":" + head + "."})
			return
		}
	}
	if rp.isAncestor(rp.refs["heads/"+head], rp.refs["heads/"+base]) {
		validation(w, fieldError{Resource: "PullRequest", Code: "custom", Message: "No commits between " + base + " and " + head})
		return
	}
	draft := in.Draft != nil && *in.Draft
	if draft && rp.noDrafts {
		validation(w, fieldError{Resource: "PullRequest", Code: "custom", Message: "Draft pull requests are not supported in this repository."})
		return
	}
	is := &issue{
		number: len(rp.issues) + 1, title: title, body: str(in.Body), state: "open", created: f.now(),
		pull: &pull{head: head, base: base, draft: draft},
	}
	rp.issues = append(rp.issues, is)
	writeJSON(w, http.StatusCreated, f.pullJSON(rp, is))
}

func (f *Fake) issueJSON(rp *repo, is *issue) map[string]any {
	labels := []map[string]any{}
	for _, l := range is.labels {
		labels = append(labels, map[string]any{"name": l})
	}
	m := map[string]any{
		"number":     is.number,
		"state":      is.state,
		"title":      is.title,
		"body":       is.body,
		"labels":     labels,
		"comments":   len(is.comments),
		"html_url":   f.webURL(rp, is),
		"url":        f.apiURL(rp, fmt.Sprintf("issues/%d", is.number)),
		"created_at": stamp(is.created),
	}
	if is.pull != nil {
		m["pull_request"] = map[string]any{"url": f.apiURL(rp, fmt.Sprintf("pulls/%d", is.number)), "html_url": f.webURL(rp, is)}
	}
	return m
}

func (f *Fake) listIssues(w http.ResponseWriter, r *http.Request) {
	rp := f.repoOf(w, r)
	if rp == nil {
		return
	}
	q := r.URL.Query()
	var want []string
	if l := q.Get("labels"); l != "" {
		want = strings.Split(l, ",")
	}
	issues := slices.Clone(rp.issues)
	if q.Get("direction") != "asc" { // sort=created, newest first by default
		slices.Reverse(issues)
	}
	out := []map[string]any{}
	for _, is := range issues {
		if !stateMatches(q.Get("state"), is.state) {
			continue
		}
		if !allIn(want, is.labels) {
			continue
		}
		out = append(out, f.issueJSON(rp, is))
	}
	writeJSON(w, http.StatusOK, page(f, w, r, out))
}

// allIn reports whether every label in want is in have, ignoring case as
// GitHub does.
func allIn(want, have []string) bool {
	for _, l := range want {
		if !slices.ContainsFunc(have, func(h string) bool { return strings.EqualFold(h, strings.TrimSpace(l)) }) {
			return false
		}
	}
	return true
}

func (f *Fake) createIssue(w http.ResponseWriter, r *http.Request) {
	rp := f.repoOf(w, r)
	if rp == nil {
		return
	}
	var in struct {
		Title  *string  `json:"title"`
		Body   *string  `json:"body"`
		Labels []string `json:"labels"`
	}
	if !decode(w, r, &in) {
		return
	}
	if in.Title == nil || *in.Title == "" {
		validation(w, fieldError{Resource: "Issue", Field: "title", Code: "missing_field"})
		return
	}
	is := &issue{number: len(rp.issues) + 1, title: *in.Title, state: "open", labels: in.Labels, created: f.now()}
	if in.Body != nil {
		is.body = *in.Body
	}
	rp.issues = append(rp.issues, is)
	writeJSON(w, http.StatusCreated, f.issueJSON(rp, is))
}

// issueOf finds the issue or pull request of the path's number, or answers
// 404.
func (f *Fake) issueOf(w http.ResponseWriter, r *http.Request) (*repo, *issue) {
	rp := f.repoOf(w, r)
	if rp == nil {
		return nil, nil
	}
	n, err := strconv.Atoi(r.PathValue("number"))
	if err != nil || n < 1 || n > len(rp.issues) {
		writeError(w, http.StatusNotFound, "Not Found")
		return nil, nil
	}
	return rp, rp.issues[n-1]
}

func (f *Fake) commentJSON(c Comment) map[string]any {
	return map[string]any{"id": c.ID, "body": c.Body, "html_url": c.URL}
}

func (f *Fake) listComments(w http.ResponseWriter, r *http.Request) {
	_, is := f.issueOf(w, r)
	if is == nil {
		return
	}
	out := []map[string]any{}
	for _, c := range is.comments {
		out = append(out, f.commentJSON(c))
	}
	writeJSON(w, http.StatusOK, page(f, w, r, out))
}

func (f *Fake) createComment(w http.ResponseWriter, r *http.Request) {
	rp, is := f.issueOf(w, r)
	if is == nil {
		return
	}
	var in struct {
		Body *string `json:"body"`
	}
	if !decode(w, r, &in) {
		return
	}
	switch {
	case in.Body == nil || *in.Body == "":
		validation(w, fieldError{Resource: "IssueComment", Field: "body", Code: "missing_field"})
		return
	case utf8.RuneCountInString(*in.Body) > MaxCommentLength:
		validation(w, fieldError{Resource: "IssueComment", Field: "body", Code: "custom",
			Message: fmt.Sprintf("body is too long (maximum is %d characters)", MaxCommentLength)})
		return
	}
	f.seq++
	c := Comment{ID: int64(f.seq), Body: *in.Body}
	c.URL = fmt.Sprintf("%s#issuecomment-%d", f.webURL(rp, is), c.ID)
	is.comments = append(is.comments, c)
	writeJSON(w, http.StatusCreated, f.commentJSON(c))
}
