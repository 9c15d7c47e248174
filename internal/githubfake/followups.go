package githubfake

import "net/http"

// getPull answers GET /repos/{owner}/{repo}/pulls/{number}.
func (f *Fake) getPull(w http.ResponseWriter, r *http.Request) {
	rp, is := f.issueOf(w, r)
	if is == nil {
		return
	}
	if is.pull == nil {
		writeError(w, http.StatusNotFound, "Not Found")
		return
	}
	writeJSON(w, http.StatusOK, f.pullJSON(rp, is))
}

// getIssue answers GET /repos/{owner}/{repo}/issues/{number}; a pull
// request is an issue too, as on GitHub.
func (f *Fake) getIssue(w http.ResponseWriter, r *http.Request) {
	rp, is := f.issueOf(w, r)
	if is == nil {
		return
	}
	writeJSON(w, http.StatusOK, f.issueJSON(rp, is))
}

// MergePull merges pull request number, as a reviewer would: it is closed
// and merged.
func (f *Fake) MergePull(fullName string, number int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	is := f.mustRepo(fullName).issues[number-1]
	is.state, is.pull.merged = "closed", true
}
