package githubfake

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// do sends a request to the fake's API and decodes its JSON answer.
func do(t *testing.T, f *Fake, method, path, body string) (int, http.Header, any) {
	t.Helper()
	req, err := http.NewRequest(method, f.APIURL()+strings.TrimPrefix(path, "/"), strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "token "+f.Token())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%s %s: %d %q: %v", method, path, resp.StatusCode, b, err)
	}
	return resp.StatusCode, resp.Header, v
}

func message(v any) string {
	m, _ := v.(map[string]any)
	s, _ := m["message"].(string)
	if errs, ok := m["errors"].([]any); ok && len(errs) > 0 {
		e, _ := errs[0].(map[string]any)
		s += ": " + e["message"].(string)
	}
	return s
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func TestFileWritesAnswerLikeGitHub(t *testing.T) {
	f := New()
	defer f.Close()
	f.AddRepo("acme/docs", "main", map[string]string{"a.md": "A\n"})
	sha := BlobSHA([]byte("A\n"))
	if sha != "f70f10e4db19068f79bc43844b49f3eece45c4e8" { // git hash-object of "A\n"
		t.Fatalf("BlobSHA = %s", sha)
	}
	for _, tc := range []struct {
		body   string
		status int
		msg    string
	}{
		{`{"message": "m", "content": "` + b64("B\n") + `"}`, 422, "Invalid request.\n\n\"sha\" wasn't supplied."},
		{`{"message": "m", "content": "` + b64("B\n") + `", "sha": "deadbeef"}`, 409, "a.md does not match deadbeef"},
		{`{"message": "m", "content": "` + b64("B\n") + `", "branch": "nope", "sha": "` + sha + `"}`, 404, "Branch nope not found"},
		{`{"content": "` + b64("B\n") + `", "sha": "` + sha + `"}`, 422, "Invalid request.\n\n\"message\" wasn't supplied."},
		{`{"message": "m", "content": "` + b64("B\n") + `", "sha": "` + sha + `"}`, 200, ""},
	} {
		status, _, v := do(t, f, "PUT", "repos/acme/docs/contents/a.md", tc.body)
		if status != tc.status || message(v) != tc.msg {
			t.Errorf("PUT %s: %d %q, want %d %q", tc.body, status, message(v), tc.status, tc.msg)
		}
	}
	if content, _, _ := f.File("acme/docs", "main", "a.md"); string(content) != "B\n" {
		t.Errorf("a.md = %q", content)
	}
}

func TestListsArePaginatedAndHeadNeedsAnOwner(t *testing.T) {
	f := New()
	defer f.Close()
	f.AddRepo("acme/docs", "main", nil)
	for _, b := range []string{"one", "two", "three"} {
		f.mu.Lock()
		rp := f.repos["acme/docs"]
		rp.refs["heads/"+b] = rp.refs["heads/main"]
		f.commitFile(rp, b, b+".md", []byte(b), b)
		f.mu.Unlock()
		if status, _, v := do(t, f, "POST", "repos/acme/docs/pulls", `{"title": "`+b+`", "head": "`+b+`", "base": "main"}`); status != 201 {
			t.Fatalf("create %s: %d %v", b, status, v)
		}
	}
	status, _, v := do(t, f, "POST", "repos/acme/docs/pulls", `{"title": "again", "head": "acme:two", "base": "main"}`)
	if status != 422 || message(v) != "Validation Failed: A pull request already exists for acme:two." {
		t.Errorf("a second pull request: %d %q", status, message(v))
	}

	count := func(path string) int {
		_, _, v := do(t, f, "GET", path, "")
		return len(v.([]any))
	}
	if n := count("repos/acme/docs/pulls?head=acme:two"); n != 1 {
		t.Errorf("head=acme:two: %d", n)
	}
	if n := count("repos/acme/docs/pulls?head=two"); n != 3 {
		t.Errorf("head=two (no owner, ignored): %d", n)
	}
	_, h, v := do(t, f, "GET", "repos/acme/docs/issues?per_page=2", "")
	if len(v.([]any)) != 2 || !strings.Contains(h.Get("Link"), `page=2&per_page=2>; rel="next"`) {
		t.Errorf("page 1: %d items, Link %q", len(v.([]any)), h.Get("Link"))
	}
	_, h, v = do(t, f, "GET", "repos/acme/docs/issues?per_page=2&page=2", "")
	if len(v.([]any)) != 1 || h.Get("Link") != "" {
		t.Errorf("page 2: %d items, Link %q", len(v.([]any)), h.Get("Link"))
	}
}

func TestWrongTokenIsRefused(t *testing.T) {
	f := New(WithToken("right"))
	defer f.Close()
	f.AddRepo("acme/docs", "main", nil)
	status, _, v := do(t, f, "GET", "repos/acme/docs/issues", "") // sends f.Token(): accepted
	if status != 200 {
		t.Errorf("right token: %d %v", status, v)
	}
	resp, err := http.Get(f.APIURL() + "repos/acme/docs/issues")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Errorf("no token: %d", resp.StatusCode)
	}
}
