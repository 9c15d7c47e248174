// Package e2e runs the real warroom binary as a separate process against the
// fakes of the outside systems, and drives it only from outside: alert
// webhooks, signed Slack requests and the JSON API. It is the harness of
// the end-to-end and fault tests (issue 9); the tests themselves live in
// this package's _test.go files, and other test packages may import it.
//
// # Building
//
// Binary builds `warroom` once per test process (CGO_ENABLED=0, from the
// module root that `go env GOMOD` names) into a temporary directory. A
// package that uses the harness calls Main from its TestMain, which removes
// that directory when the tests are done:
//
//	func TestMain(m *testing.M) { e2e.Main(m) }
//
// # Starting
//
// Start(t, Options{}) starts fresh fakes (slackfake, githubfake,
// pagerdutyfake, webhookfake), writes a config (Config: examples/warroom.yaml
// with the harness's replacements, see ConfigReplacements) and runs
//
//	warroom serve --config <dir>/warroom.yaml --db <dir>/warroom.db --listen 127.0.0.1:0
//
// with an environment made from scratch (PATH, HOME, TMPDIR and the
// variables the config names) that points Slack, GitHub, PagerDuty and the
// page webhook at the fakes. The bound address is read from the server's
// "serving http" log line (JSON logs on standard error); Start then waits
// for GET /readyz to answer 200. Standard output and error go to LogPath,
// which is printed (its last 64 KiB) when the test fails.
//
// The Slack fake knows every configured person as a user (people known only
// by email get the ID "U0"+upper-case name, as in internal/sandbox; Users
// maps names to IDs) and every '#channel' the config names. The GitHub fake
// has every repository the config names, each with a README on main.
//
// # Driving
//
// The process runs on the wall clock, so tests wait with Eventually (polling
// with a deadline), never with fixed sleeps. Kill sends SIGKILL, Stop
// SIGTERM (and checks a clean exit); Restart starts the binary again on the
// same database, config and address. PostAlerts, API and HTTP talk to
// Warroom's HTTP endpoints; Command, Interaction, Event and Click send signed
// Slack requests through the fake's Driver; Digest runs `warroom digest
// --format json` on the database, and CLI any other subcommand.
//
// Helpers for what tests send and read: AlertmanagerBody builds alert
// webhook bodies; Incidents, Timeline and Alerts read the JSON API into
// Incident, TimelineEvent and IncidentAlerts; Buttons and FindButton find
// the buttons of the messages the Slack fake holds, and Click clicks one
// as its user would (a block_actions interaction).
//
// # Faults
//
// The fakes' own fault injection works as it does in unit tests
// (Slack.FailNext and Slack.SetFaultFunc, with a Fault.Delay for a slow
// Slack; GitHub.FailNext; PagerDuty.FailNext; Webhook.FailNext). Warroom
// reaches the GitHub fake through a proxy, so that SetGitHubLatency can
// make GitHub slow (the call is carried out at once, its answer is late).
// Every fake runs on the wall clock, as the process does.
//
// With WARROOM_E2E_KEEP=1 in the environment, a failed test's config,
// database and log are copied to a directory that is kept (its path is
// logged), for a look with sqlite3.
//
// The methods that end in a test failure (API, Command, Interaction, Event,
// Click, Digest, CLI, Restart, Stop, Kill) must be called from the test's
// goroutine; PostAlerts and HTTP return errors instead and may be called
// from any goroutine (alert storms).
package e2e
