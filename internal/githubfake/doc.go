// Package githubfake is a stateful fake of the parts of GitHub's REST API
// that Warroom talks to, for tests and end-to-end runs.
//
// A Fake serves, under /api/v3/ as GitHub Enterprise Server does, git
// references (get, create), file contents (get, create or update), pull
// requests (list, create), issues (list, create) and issue comments (list,
// create) on a local httptest.Server. It keeps repositories as commits and
// branches, so that a branch made from main sees main's files and a file
// written on it is a new commit, and it answers the way GitHub does: 422
// "Reference already exists", 422 `"sha" wasn't supplied` and 409 "does not
// match" for file writes, 422 "A pull request already exists for
// owner:branch." and "No commits between", 404 for a missing repository,
// branch or file, 401 "Bad credentials" for a wrong token. File SHAs are git
// blob SHAs, as on GitHub. Lists are paginated with a Link header, and the
// pulls list ignores a head filter without an "owner:" prefix, as GitHub
// does.
//
// It also serves what deploys and rollbacks use (deploys.go): the
// repository (for its default branch), deployments (list with their sha,
// ref, task and environment filters, create, get; the payload kept as
// sent) and their statuses (list newest first, create; a success makes the
// environment's earlier successful deployments inactive), and GitHub
// Actions: a workflow's runs (list newest first with branch, event, status
// and created filters), a run, its jobs, and workflow_dispatch, which
// refuses inputs the workflow does not declare and answers 204 while
// creating a queued run titled by the workflow's run-name. Tests move runs
// on with SetRun, and SetRunDelay makes runs appear in lists some time
// after their dispatch, as on GitHub.
//
// Point a go-github client at it with
//
//	c, _ := github.NewClient(nil).WithAuthToken(token).WithEnterpriseURLs(f.APIURL(), f.APIURL())
//
// Every call is recorded with its route, body and status (Calls). People's
// actions are methods (CommitFile, AddIssue, CloseIssue). Faults can be
// injected per route with FailNext: an HTTP error with headers (a rate limit,
// a 502), a stale answer (an empty list, a 404 from a lagging replica), or,
// with Fault.Apply, a lost answer: the call changes the state and the client
// still sees the fault.
//
// Responses carry a Date header from the fake's clock (WithClock), fixed by
// default, so that rate-limit resets can be stated exactly. A Fake is safe
// for concurrent use and never touches the network beyond its own loopback
// listener.
package githubfake
