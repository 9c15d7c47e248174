package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/warroomhq/warroom/config"
	"github.com/warroomhq/warroom/examples"
	"github.com/warroomhq/warroom/internal/githubfake"
	"github.com/warroomhq/warroom/internal/pagerdutyfake"
	"github.com/warroomhq/warroom/internal/sandbox"
	"github.com/warroomhq/warroom/internal/slackfake"
	"github.com/warroomhq/warroom/internal/webhookfake"
)

// The secrets the harness gives Warroom through the environment.
const (
	SigningSecret = "e2e-signing-secret"
	WebhookToken  = "e2e-webhook-token"
	APIToken      = "e2e-api-token"
	// GitHubWebURL starts the GitHub fake's web links (pull requests).
	GitHubWebURL = "https://github.example.com"
)

// ConfigReplacements are the old/new pairs that Config applies to
// examples/warroom.yaml, in order: the payments policy's steps run at 0s,
// 4s and 8s (a round is 12 s) instead of 0m, 10m and 20m, and alice alone
// is on call for payments-primary at any time since 2020 (no override), so
// that who is paged does not depend on the day the tests run.
var ConfigReplacements = []string{
	`{ after: 0m,  notify:`, `{ after: 0s,  notify:`,
	`{ after: 10m, notify:`, `{ after: 4s, notify:`,
	`{ after: 20m, notify:`, `{ after: 8s, notify:`,
	`start: "2026-11-02"`, `start: "2020-01-06"`,
	`members: [alice, bob, carol]`, `members: [alice]`,
	"    overrides:\n      - { person: dave, from: \"2026-12-24T00:00:00+01:00\", to: \"2026-12-27T00:00:00+01:00\" }\n", "",
}

// Config returns examples/warroom.yaml with ConfigReplacements and then
// the given old/new pairs applied (each old text must occur; its first
// occurrence is replaced). For example, slower escalation:
//
//	e2e.Config(t, "after: 4s", "after: 2m", "after: 8s", "after: 4m")
func Config(t testing.TB, replacements ...string) []byte {
	t.Helper()
	if len(replacements)%2 != 0 {
		t.Fatalf("e2e.Config: %d replacement strings; give old/new pairs", len(replacements))
	}
	cfg := slices.Clone(examples.Config)
	pairs := append(slices.Clone(ConfigReplacements), replacements...)
	for i := 0; i < len(pairs); i += 2 {
		if !bytes.Contains(cfg, []byte(pairs[i])) {
			t.Fatalf("e2e.Config: the config has no %q", pairs[i])
		}
		cfg = bytes.Replace(cfg, []byte(pairs[i]), []byte(pairs[i+1]), 1)
	}
	return cfg
}

// Options configure Start. The zero value runs Config(t) with fresh fakes.
type Options struct {
	// Config is the YAML config (default Config(t)). ${VAR}s are filled
	// from the harness's environment (see Warroom.Env).
	Config []byte
	// Env adds or overrides environment variables of the process.
	Env map[string]string
	// Slack, GitHub, PagerDuty are extra options of the fakes, applied
	// after the harness's own (every fake runs on the wall clock, as the
	// process does; the GitHub fake's web links start with GitHubWebURL).
	Slack     []slackfake.Option
	GitHub    []githubfake.Option
	PagerDuty []pagerdutyfake.Option
	// Args are extra `warroom serve` flags (such as "--workers", "8").
	Args []string
	// LogLevel is --log-level (default info).
	LogLevel string
}

// Warroom is a warroom process with its fakes. Create it with Start; the
// test's cleanup kills the process and closes the fakes.
type Warroom struct {
	Slack     *slackfake.Fake
	GitHub    *githubfake.Fake
	PagerDuty *pagerdutyfake.Fake
	Webhook   *webhookfake.Fake
	// Driver sends signed Slack requests to the process (its BaseURL
	// follows restarts).
	Driver *slackfake.Driver
	// Users maps each configured person to their Slack user ID.
	Users map[string]string
	// Cfg is the config as the process reads it.
	Cfg *config.Config
	// Dir holds the config, the database and the log.
	Dir, ConfigPath, DBPath, LogPath string
	// Env is the process's environment, besides PATH, HOME and TMPDIR.
	Env map[string]string

	t           testing.TB
	args        []string
	githubProxy *latencyProxy // between Warroom and the GitHub fake
	client      *http.Client

	mu      sync.Mutex
	addr    string // host:port the process listens on; kept across restarts
	proc    *process
	starts  int
	logFile *os.File
}

// process is one run of the binary.
type process struct {
	cmd    *exec.Cmd
	exited chan struct{} // closed when Wait returned
	err    error         // Wait's error, once exited is closed
	addr   chan string   // the "serving http" address, once
}

// Start starts fresh fakes and a warroom process on a new database, and
// waits until it is ready (GET /readyz answers 200).
func Start(t testing.TB, opts Options) *Warroom {
	t.Helper()
	bin := Binary(t)
	if opts.Config == nil {
		opts.Config = Config(t)
	}
	dir := t.TempDir()
	w := &Warroom{
		t:     t,
		Slack: slackfake.New(append([]slackfake.Option{slackfake.WithClock(time.Now)}, opts.Slack...)...),
		GitHub: githubfake.New(append([]githubfake.Option{githubfake.WithClock(time.Now),
			githubfake.WithWebURL(GitHubWebURL)}, opts.GitHub...)...),
		PagerDuty:  pagerdutyfake.New(append([]pagerdutyfake.Option{pagerdutyfake.WithClock(time.Now)}, opts.PagerDuty...)...),
		Webhook:    webhookfake.New(webhookfake.WithClock(time.Now)),
		Users:      map[string]string{},
		Dir:        dir,
		ConfigPath: filepath.Join(dir, "warroom.yaml"),
		DBPath:     filepath.Join(dir, "warroom.db"),
		LogPath:    filepath.Join(dir, "warroom.log"),
		addr:       "127.0.0.1:0",
		client: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
			MaxIdleConns: 256, MaxIdleConnsPerHost: 256, IdleConnTimeout: 30 * time.Second}},
	}
	w.githubProxy = newLatencyProxy(w.GitHub.URL())
	t.Cleanup(w.cleanup)
	w.Env = map[string]string{
		"SLACK_BOT_TOKEN":        w.Slack.Token(),
		"SLACK_SIGNING_SECRET":   SigningSecret,
		"SLACK_APP_TOKEN":        "",
		"WARROOM_SLACK_API_URL":  w.Slack.APIURL(),
		"GITHUB_TOKEN":           w.GitHub.Token(),
		"WARROOM_GITHUB_API_URL": w.githubProxy.srv.URL + githubfake.APIPrefix + "/",
		"WARROOM_WEBHOOK_TOKEN":  WebhookToken,
		"WARROOM_API_TOKEN":      APIToken,
		"PAGERDUTY_ROUTING_KEY":  pagerdutyfake.RoutingKey,
		"WARROOM_PAGERDUTY_URL":  w.PagerDuty.URL(),
		"PAGER_WEBHOOK_URL":      w.Webhook.URL(),
		"PAGER_WEBHOOK_SECRET":   string(w.Webhook.Secret()),
		"WARROOM_LOG_FORMAT":     "json",
	}
	for k, v := range opts.Env {
		w.Env[k] = v
	}
	cfg, err := config.Load(opts.Config, func(k string) string { return w.Env[k] })
	if err != nil {
		t.Fatalf("e2e: the config does not load: %v", err)
	}
	w.Cfg = cfg
	if err := os.WriteFile(w.ConfigPath, opts.Config, 0o600); err != nil {
		t.Fatal(err)
	}
	w.populate()
	w.Driver = &slackfake.Driver{SigningSecret: SigningSecret, Fake: w.Slack, Client: w.client}

	w.args = []string{"serve", "--config", w.ConfigPath, "--db", w.DBPath}
	if opts.LogLevel != "" {
		w.args = append(w.args, "--log-level", opts.LogLevel)
	}
	w.args = append(w.args, opts.Args...)
	w.logFile, err = os.OpenFile(w.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.start(bin); err != nil {
		t.Fatal(err)
	}
	return w
}

// populate gives the fakes the people, channels and repositories the
// config names, as the in-process sandbox does.
func (w *Warroom) populate() {
	maps.Copy(w.Users, sandbox.Populate(w.Cfg, w.Slack, w.GitHub))
}

// environ is the process's environment: PATH, HOME and TMPDIR from the
// test's, and Env. Nothing else leaks in (a developer's SLACK_APP_TOKEN
// would switch Warroom to Socket Mode).
func (w *Warroom) environ() []string {
	var env []string
	for _, k := range []string{"PATH", "HOME", "TMPDIR"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	for k, v := range w.Env {
		env = append(env, k+"="+v)
	}
	slices.Sort(env)
	return env
}

// start runs the binary, reads its address from the log and waits for
// /readyz.
func (w *Warroom) start(bin string) error {
	w.mu.Lock()
	w.starts++
	n, addr := w.starts, w.addr
	w.mu.Unlock()
	fmt.Fprintf(w.logFile, "=== e2e: start %d: warroom %s --listen %s\n", n, strings.Join(w.args, " "), addr)

	p := &process{exited: make(chan struct{}), addr: make(chan string, 1)}
	p.cmd = exec.Command(bin, append(slices.Clone(w.args), "--listen", addr)...)
	p.cmd.Env = w.environ()
	p.cmd.Dir = w.Dir
	p.cmd.Stdout = w.logFile
	p.cmd.Stderr = &addrWriter{out: w.logFile, found: p.addr}
	if err := p.cmd.Start(); err != nil {
		return fmt.Errorf("e2e: starting warroom: %w", err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.exited)
	}()
	w.mu.Lock()
	w.proc = p
	w.mu.Unlock()

	select {
	case a := <-p.addr:
		w.mu.Lock()
		w.addr = a
		w.mu.Unlock()
		w.Driver.BaseURL = "http://" + a
	case <-p.exited:
		return fmt.Errorf("e2e: warroom exited before serving (%v); log:\n%s", p.err, w.Logs())
	case <-time.After(30 * time.Second):
		return fmt.Errorf("e2e: warroom did not log \"serving http\" within 30s; log:\n%s", w.Logs())
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := w.client.Get(w.URL() + "/readyz")
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-p.exited:
			return fmt.Errorf("e2e: warroom exited before it was ready (%v); log:\n%s", p.err, w.Logs())
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("e2e: /readyz not 200 within 30s (last: %v); log:\n%s", err, w.Logs())
		}
		time.Sleep(20 * time.Millisecond) // polling for readiness, not waiting for an effect
	}
}

// addrWriter copies the process's standard error to out and sends the
// address of the first "serving http" log line to found.
type addrWriter struct {
	out   io.Writer
	found chan string
	line  []byte
	done  bool
}

func (a *addrWriter) Write(p []byte) (int, error) {
	if !a.done {
		a.line = append(a.line, p...)
		for {
			i := bytes.IndexByte(a.line, '\n')
			if i < 0 {
				break
			}
			var l struct {
				Msg  string `json:"msg"`
				Addr string `json:"addr"`
			}
			if json.Unmarshal(a.line[:i], &l) == nil && l.Msg == "serving http" && l.Addr != "" {
				a.found <- l.Addr
				a.done, a.line = true, nil
				break
			}
			a.line = a.line[i+1:]
		}
	}
	return a.out.Write(p)
}

// URL is the running process's root URL, such as http://127.0.0.1:40123.
// It stays the same across restarts.
func (w *Warroom) URL() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return "http://" + w.addr
}

// Running reports whether the process is running.
func (w *Warroom) Running() bool {
	w.mu.Lock()
	p := w.proc
	w.mu.Unlock()
	if p == nil {
		return false
	}
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// Kill kills the process with SIGKILL, as a crash or `kill -9` does, and
// waits until it is gone.
func (w *Warroom) Kill() {
	w.t.Helper()
	w.mu.Lock()
	p := w.proc
	w.mu.Unlock()
	if p == nil {
		w.t.Fatal("e2e: Kill: warroom is not running")
	}
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	select {
	case <-p.exited:
	case <-time.After(10 * time.Second):
		w.t.Fatal("e2e: warroom did not die within 10s of SIGKILL")
	}
	fmt.Fprintf(w.logFile, "=== e2e: killed with SIGKILL\n")
}

// Stop sends SIGTERM and waits (up to 40 s) for a clean exit; the test
// fails if the exit status is not 0.
func (w *Warroom) Stop() {
	w.t.Helper()
	w.mu.Lock()
	p := w.proc
	w.mu.Unlock()
	if p == nil {
		w.t.Fatal("e2e: Stop: warroom is not running")
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(40 * time.Second):
		_ = p.cmd.Process.Kill()
		w.t.Fatal("e2e: warroom did not stop within 40s of SIGTERM")
	}
	if p.err != nil {
		w.t.Fatalf("e2e: warroom exited with %v after SIGTERM", p.err)
	}
	fmt.Fprintf(w.logFile, "=== e2e: stopped with SIGTERM\n")
}

// Restart starts the binary again on the same database, config, fakes and
// address, once the previous process has exited (Kill or Stop first), and
// waits until it is ready.
func (w *Warroom) Restart() {
	w.t.Helper()
	if w.Running() {
		w.t.Fatal("e2e: Restart: warroom is still running; Kill or Stop it first")
	}
	if err := w.start(Binary(w.t)); err != nil {
		w.t.Fatal(err)
	}
}

// Logs returns what the process (every start of it) wrote so far.
func (w *Warroom) Logs() string {
	b, _ := os.ReadFile(w.LogPath)
	return string(b)
}

// cleanup kills the process, shows its log if the test failed, and closes
// the fakes.
func (w *Warroom) cleanup() {
	w.mu.Lock()
	p := w.proc
	w.mu.Unlock()
	if p != nil {
		_ = p.cmd.Process.Kill()
		select {
		case <-p.exited:
		case <-time.After(10 * time.Second):
		}
	}
	if w.t.Failed() {
		logs := w.Logs()
		const max = 64 << 10
		if len(logs) > max {
			logs = "...\n" + logs[len(logs)-max:]
		}
		w.t.Logf("e2e: warroom's log (%s):\n%s", w.LogPath, logs)
		if os.Getenv("WARROOM_E2E_KEEP") != "" {
			if dir, err := os.MkdirTemp("", "warroom-e2e-failed-"); err == nil && os.CopyFS(dir, os.DirFS(w.Dir)) == nil {
				w.t.Logf("e2e: WARROOM_E2E_KEEP: the config, database and log are kept in %s", dir)
			}
		}
	}
	if w.logFile != nil {
		w.logFile.Close()
	}
	w.Slack.Close()
	w.githubProxy.srv.Close()
	w.GitHub.Close()
	w.PagerDuty.Close()
	w.Webhook.Close()
}

// HTTP sends a request to the process (path such as "/hooks/generic") and
// returns the answer's status and body. It does not fail the test, so that
// it may be used from any goroutine and while the process is down.
func (w *Warroom) HTTP(method, path string, header http.Header, body []byte) (int, []byte, error) {
	req, err := http.NewRequestWithContext(context.Background(), method, w.URL()+path, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := w.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// PostAlerts posts an alert webhook body to /hooks/<source>
// ("alertmanager", "grafana", "generic") with the webhook token as a
// bearer token, and returns the answer. Safe from any goroutine.
func (w *Warroom) PostAlerts(source string, body []byte) (int, []byte, error) {
	return w.HTTP(http.MethodPost, "/hooks/"+source, http.Header{
		"Authorization": {"Bearer " + WebhookToken},
		"Content-Type":  {"application/json"},
	}, body)
}

// API GETs path ("/api/incidents/1") with the API token and, on 200,
// decodes the JSON answer into out (when not nil). It returns the status;
// a transport error or an undecodable 200 fails the test.
func (w *Warroom) API(path string, out any) int {
	w.t.Helper()
	status, body, err := w.HTTP(http.MethodGet, path, http.Header{"Authorization": {"Bearer " + APIToken}}, nil)
	if err != nil {
		w.t.Fatalf("e2e: GET %s: %v", path, err)
	}
	if status == http.StatusOK && out != nil {
		if err := json.Unmarshal(body, out); err != nil {
			w.t.Fatalf("e2e: GET %s: decoding %s: %v", path, body, err)
		}
	}
	return status
}

// Command sends the slash command "/incident <text>" by user (a Slack ID)
// in channel (an ID or "#name"). A transport error fails the test.
func (w *Warroom) Command(user, channel, text string) slackfake.Response {
	w.t.Helper()
	resp, err := w.Driver.Command(context.Background(), user, channel, text)
	if err != nil {
		w.t.Fatalf("e2e: /incident %s: %v", text, err)
	}
	return resp
}

// Interaction sends an interaction payload (see slackfake.Driver). A
// transport error fails the test.
func (w *Warroom) Interaction(payload any) slackfake.Response {
	w.t.Helper()
	resp, err := w.Driver.Interaction(context.Background(), payload)
	if err != nil {
		w.t.Fatalf("e2e: interaction: %v", err)
	}
	return resp
}

// Event sends an Events API event with eventID (see slackfake.Driver). A
// transport error fails the test.
func (w *Warroom) Event(eventID string, ev map[string]any) slackfake.Response {
	w.t.Helper()
	resp, err := w.Driver.Event(context.Background(), eventID, ev)
	if err != nil {
		w.t.Fatalf("e2e: event %s: %v", eventID, err)
	}
	return resp
}

// Button is a button found in a message's blocks.
type Button struct {
	ActionID, BlockID, Value, Text string
}

// Buttons returns the buttons of a message, in order.
func Buttons(m slackfake.Message) []Button {
	// An element's text is an object in a button and a string in a context
	// block: elements are decoded one by one, and what is not a button
	// skipped.
	type element struct {
		Type     string `json:"type"`
		ActionID string `json:"action_id"`
		Value    string `json:"value"`
		Text     struct {
			Text string `json:"text"`
		} `json:"text"`
	}
	var blocks []struct {
		BlockID   string            `json:"block_id"`
		Elements  []json.RawMessage `json:"elements"`
		Accessory json.RawMessage   `json:"accessory"`
	}
	if json.Unmarshal(m.Blocks, &blocks) != nil {
		return nil
	}
	var out []Button
	for _, b := range blocks {
		for _, raw := range append(b.Elements, b.Accessory) {
			var e element
			if len(raw) == 0 || json.Unmarshal(raw, &e) != nil || e.Type != "button" {
				continue
			}
			out = append(out, Button{ActionID: e.ActionID, BlockID: b.BlockID, Value: e.Value, Text: e.Text.Text})
		}
	}
	return out
}

// FindButton returns the first button with actionID in the messages, and
// the message it is in, latest message first.
func FindButton(msgs []slackfake.Message, actionID string) (Button, slackfake.Message, bool) {
	for i := len(msgs) - 1; i >= 0; i-- {
		for _, b := range Buttons(msgs[i]) {
			if b.ActionID == actionID {
				return b, msgs[i], true
			}
		}
	}
	return Button{}, slackfake.Message{}, false
}

// Click sends the block_actions interaction of user clicking button b of
// message m, as Slack does, and returns Warroom's answer. A transport
// error fails the test.
func (w *Warroom) Click(user string, m slackfake.Message, b Button) slackfake.Response {
	w.t.Helper()
	name := user
	if u, ok := w.Slack.User(user); ok {
		name = u.Name
	}
	now := time.Now()
	return w.Interaction(map[string]any{
		"type":       "block_actions",
		"user":       map[string]any{"id": user, "name": name, "team_id": w.Slack.TeamID()},
		"team":       map[string]any{"id": w.Slack.TeamID(), "domain": w.Slack.TeamDomain()},
		"channel":    map[string]any{"id": m.Channel},
		"container":  map[string]any{"type": "message", "message_ts": m.TS, "channel_id": m.Channel},
		"message":    map[string]any{"ts": m.TS, "text": m.Text},
		"trigger_id": w.Slack.NewTriggerID(),
		"api_app_id": slackfake.AppID,
		"actions": []any{map[string]any{
			"type": "button", "action_id": b.ActionID, "block_id": b.BlockID, "value": b.Value,
			"text":      map[string]any{"type": "plain_text", "text": b.Text},
			"action_ts": fmt.Sprintf("%d.%06d", now.Unix(), now.Nanosecond()/1000),
		}},
	})
}

// CLI runs another subcommand of the binary (such as "oncall") with the
// process's environment, and returns its standard output; a non-zero exit
// fails the test. It may run while serve runs: the CLI reads the same
// database.
func (w *Warroom) CLI(args ...string) []byte {
	w.t.Helper()
	cmd := exec.Command(Binary(w.t), args...)
	cmd.Env = w.environ()
	cmd.Dir = w.Dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		w.t.Fatalf("e2e: warroom %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return out
}

// Digest runs `warroom digest --config <config> --db <db> --format json`
// with extra arguments (such as "--since", "1d") and decodes its output
// into out.
func (w *Warroom) Digest(out any, args ...string) {
	w.t.Helper()
	b := w.CLI(append([]string{"digest", "--config", w.ConfigPath, "--db", w.DBPath, "--format", "json"}, args...)...)
	if err := json.Unmarshal(b, out); err != nil {
		w.t.Fatalf("e2e: warroom digest: decoding %s: %v", b, err)
	}
}

// Eventually polls cond every 50 ms until it returns true, and fails the
// test (with what, and cond's last explanation) if it has not within
// timeout. cond returns its verdict and, when false, why (for the failure
// message). The process runs on the wall clock, so waiting for one of its
// effects is polling with a deadline, never a fixed sleep.
func Eventually(t testing.TB, timeout time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, why := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("e2e: %s: not so within %s: %s", what, timeout, why)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
