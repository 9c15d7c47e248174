package main

import (
	"bufio"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestBinaryServesAndStopsOnSIGTERM does what a new user does: build the
// binary, start it on the example config, ask /healthz, and stop it with
// SIGTERM, which must end it cleanly.
func TestBinaryServesAndStopsOnSIGTERM(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "warroom")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building warroom: %v\n%s", err, out)
	}
	example, err := os.ReadFile(filepath.Join("..", "..", "examples", "warroom.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "warroom.yaml")
	if err := os.WriteFile(cfg, example, 0o644); err != nil {
		t.Fatal(err)
	}

	cmd := exec.Command(bin, "serve", "--config", cfg)
	cmd.Env = append(os.Environ(),
		"WARROOM_LISTEN=127.0.0.1:0",
		"WARROOM_DB="+filepath.Join(dir, "w.db"),
		"SLACK_SIGNING_SECRET=do-not-log-me",
	)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()

	type logLine struct {
		Msg  string `json:"msg"`
		Addr string `json:"addr"`
	}
	addr := make(chan string, 1)
	var logs strings.Builder
	logsDone := make(chan struct{})
	go func() {
		defer close(logsDone)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			logs.WriteString(sc.Text() + "\n")
			var l logLine
			if json.Unmarshal(sc.Bytes(), &l) == nil && l.Msg == "serving http" {
				addr <- l.Addr
			}
		}
	}()

	var base string
	select {
	case a := <-addr:
		base = "http://" + a
	case <-logsDone:
		t.Fatalf("warroom exited before serving:\n%s", logs.String())
	case <-time.After(30 * time.Second):
		t.Fatal("warroom did not start serving")
	}
	resp, err := http.Get(base + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/healthz: %d", resp.StatusCode)
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { <-logsDone; exited <- cmd.Wait() }()
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("warroom exited with %v after SIGTERM:\n%s", err, logs.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("warroom did not stop after SIGTERM")
	}
	out := logs.String()
	if !strings.Contains(out, `"msg":"stopped"`) {
		t.Errorf("no clean stop in the log:\n%s", out)
	}
	if strings.Contains(out, "do-not-log-me") {
		t.Errorf("a secret reached the log:\n%s", out)
	}
}
