package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes buffer safe for a writer and a reader goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func runCLI(t *testing.T, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb syncBuffer
	code = run(context.Background(), args, &out, &errb, func(k string) string { return env[k] })
	return code, out.String(), errb.String()
}

func TestUsageAndVersion(t *testing.T) {
	code, _, stderr := runCLI(t, nil)
	if code != 2 || !strings.Contains(stderr, "check-config") || !strings.Contains(stderr, "demo") {
		t.Errorf("no arguments: exit %d, usage:\n%s", code, stderr)
	}
	code, _, stderr = runCLI(t, nil, "launch")
	if code != 2 || !strings.Contains(stderr, `unknown command "launch"`) {
		t.Errorf("unknown command: exit %d, %s", code, stderr)
	}
	code, stdout, _ := runCLI(t, nil, "version")
	if code != 0 || !strings.HasPrefix(stdout, "warroom ") {
		t.Errorf("version: exit %d, %q", code, stdout)
	}
	code, _, _ = runCLI(t, nil, "serve", "--no-such-flag")
	if code != 2 {
		t.Errorf("bad flag: exit %d, want 2", code)
	}
}

func TestCheckConfig(t *testing.T) {
	example := filepath.Join("..", "..", "examples", "warroom.yaml")
	code, stdout, _ := runCLI(t, map[string]string{"SLACK_BOT_TOKEN": "xoxb-very-secret"}, "check-config", example)
	if code != 0 || !strings.Contains(stdout, ": ok") || !strings.Contains(stdout, "4 people") {
		t.Fatalf("example config: exit %d\n%s", code, stdout)
	}
	if !regexp.MustCompile(`slack.bot_token\s+set`).MatchString(stdout) || strings.Contains(stdout, "xoxb-very-secret") {
		t.Errorf("summary should say the token is set without showing it:\n%s", stdout)
	}

	bad := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(bad, []byte(`people:
  alice: { slack: U1 }
schedules:
  primary:
    timezone: Mars/Olympus
    rotation: { every: 1w, handoff: "Mon 09:00", start: "2026-11-02" }
    members: [alice, zed]
digest:
  schedule: "every monday"
`), 0o644)
	code, stdout, _ = runCLI(t, nil, "check-config", "--config", bad)
	if code != 1 {
		t.Errorf("bad config: exit %d, want 1", code)
	}
	for _, want := range []string{"Mars/Olympus", "zed", "schedule"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("bad config: output does not mention %q:\n%s", want, stdout)
		}
	}
	code, _, stderr := runCLI(t, nil, "check-config", filepath.Join(t.TempDir(), "missing.yaml"))
	if code != 1 {
		t.Errorf("missing file: exit %d, %s", code, stderr)
	}
}

func TestMigrate(t *testing.T) {
	db := filepath.Join(t.TempDir(), "w.db")
	code, stdout, stderr := runCLI(t, nil, "migrate", "--db", db)
	if code != 0 || !strings.Contains(stdout, "applied migrations 1") {
		t.Fatalf("migrate: exit %d\n%s%s", code, stdout, stderr)
	}
	code, stdout, _ = runCLI(t, map[string]string{"WARROOM_DB": db}, "migrate")
	if code != 0 || !strings.Contains(stdout, "up to date") {
		t.Fatalf("second migrate: exit %d\n%s", code, stdout)
	}
}

func TestServeAnswersHealthzAndStopsOnCancel(t *testing.T) {
	dir := t.TempDir()
	example, err := os.ReadFile(filepath.Join("..", "..", "examples", "warroom.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "warroom.yaml")
	os.WriteFile(cfg, example, 0o644)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	var out syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--config", cfg, "--listen", "127.0.0.1:0", "--log-format", "text"}, &out, pw,
			func(k string) string {
				return map[string]string{"WARROOM_DB": filepath.Join(dir, "w.db"), "WARROOM_API_TOKEN": "tok"}[k]
			})
		pw.Close()
	}()

	addr := make(chan string, 1)
	var logs syncBuffer
	go func() {
		sc := bufio.NewScanner(pr)
		re := regexp.MustCompile(`msg="serving http".* addr=(\S+)`)
		for sc.Scan() {
			logs.Write([]byte(sc.Text() + "\n"))
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				addr <- m[1]
			}
		}
	}()
	var base string
	select {
	case a := <-addr:
		base = "http://" + a
	case code := <-done:
		t.Fatalf("serve exited with %d before listening:\n%s", code, logs.String())
	case <-time.After(20 * time.Second):
		t.Fatalf("serve did not start listening:\n%s", logs.String())
	}
	for _, path := range []string{"/healthz", "/readyz"} {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s: %d", path, resp.StatusCode)
		}
	}
	req, _ := http.NewRequest("GET", base+"/api/incidents", nil)
	req.Header.Set("Authorization", "Bearer tok")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("API with the token from WARROOM_API_TOKEN: %d", resp.StatusCode)
	}

	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("serve exited with %d after shutdown:\n%s", code, logs.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not stop after cancel")
	}
	if strings.Contains(logs.String(), "tok\"") || strings.Contains(logs.String(), "Bearer tok") {
		t.Errorf("a secret reached the logs:\n%s", logs.String())
	}
}
