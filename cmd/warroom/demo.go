package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/warroomhq/warroom/bot"
	"github.com/warroomhq/warroom/digest"
	"github.com/warroomhq/warroom/incidents"
	"github.com/warroomhq/warroom/internal/githubfake"
	"github.com/warroomhq/warroom/internal/sandbox"
	"github.com/warroomhq/warroom/jobs"
	"github.com/warroomhq/warroom/templates"
)

// The demo's people, as the shipped example config names them.
const (
	demoAlice = "U01ALICE"
	demoBob   = "U01BOB"
)

// demoHorizon is how far ahead the jobs run after each step of the story
// reach: far enough for summary edits and retries, short of the next step
// of a page (which the story acknowledges before it is due).
const demoHorizon = time.Minute

func cmdDemo(e *env, args []string) error {
	fs := e.newFlags("demo")
	db := fs.String("db", "", "also keep the demo's database at this path, which must not exist (default: a temporary one, removed afterwards)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *db != "" {
		if _, err := os.Stat(*db); err == nil {
			return fmt.Errorf("--db %s: the file exists; the demo writes a new database and will not replace it", *db)
		} else if !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("--db: %w", err)
		}
	}
	dir, err := os.MkdirTemp("", "warroom-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	tmpl, err := templates.New("")
	if err != nil {
		return err
	}
	// The sandbox runs the whole app against the Slack fake, on a manual
	// clock that starts at 2026-11-03 14:02 UTC and moves only when the
	// story or the job queue says so: the output is the same on every run.
	sb, err := sandbox.New(e.ctx, sandbox.Options{
		Dir:    dir,
		Logger: slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	if err != nil {
		return fmt.Errorf("starting the sandbox: %w", err)
	}
	demoGitHub(sb.GitHub)
	// The GitHub fake listens on a random port; the story shows its links
	// as GitHub's, the same on every run.
	out := &replacer{w: e.stdout, r: strings.NewReplacer(sb.GitHub.URL(), sandbox.GitHubWebURL)}
	err = runDemo(e.ctx, out, sb, tmpl)
	sb.Close()
	if err != nil {
		return err
	}
	if *db != "" {
		return keepDatabase(filepath.Join(dir, "warroom.db"), *db)
	}
	return nil
}

// keepDatabase copies the closed demo database (and a WAL file, should one
// be left) to dst.
func keepDatabase(src, dst string) error {
	for _, suffix := range []string{"", "-wal"} {
		data, err := os.ReadFile(src + suffix)
		if errors.Is(err, fs.ErrNotExist) && suffix != "" {
			continue
		}
		if err != nil {
			return fmt.Errorf("keeping the database: %w", err)
		}
		if err := os.WriteFile(dst+suffix, data, 0o600); err != nil {
			return fmt.Errorf("keeping the database: %w", err)
		}
	}
	return nil
}

// demo is one run of the story: the sandbox and where the story is told.
type demo struct {
	ctx      context.Context
	w        io.Writer
	sb       *sandbox.Sandbox
	events   int    // Events API deliveries so far, for their IDs
	lastHook string // the last webhook answer
}

func runDemo(ctx context.Context, w io.Writer, sb *sandbox.Sandbox, tmpl *templates.Set) error {
	d := &demo{ctx: ctx, w: w, sb: sb}
	fmt.Fprintln(w, "Warroom demo: an incident from the first alert to resolution, told through Slack.")
	fmt.Fprintln(w, "Everything runs in this process, offline: Warroom's HTTP endpoints (alerts arrive")
	fmt.Fprintln(w, "over HTTP as Alertmanager sends them), its job queue,")
	fmt.Fprintln(w, "a SQLite database in a temporary directory, a fake GitHub, and a fake Slack workspace with")
	fmt.Fprintln(w, "alice, bob, carol and dave from examples/warroom.yaml.")

	d.heading("1. Alertmanager fires")
	if err := d.at(14, 2); err != nil {
		return err
	}
	detected := time.Date(2026, 11, 3, 14, 0, 30, 0, time.UTC)
	body := demoAlertmanagerBody("firing", detected, time.Time{})
	if err := d.alerts("alertmanager", body); err != nil {
		return err
	}
	d.say("Alertmanager posts to /hooks/alertmanager: CheckoutHigh5xxRate is firing on api-1 and api-2")
	d.say("(severity \"error\", which alerts.severity_map makes sev2: at or above declare_at_or_above).")
	d.say("Warroom stores the body and both alerts, then answers 200:")
	d.quote(d.lastHook)
	warning := demoWarningBody(detected)
	if err := d.alerts("alertmanager", warning); err != nil {
		return err
	}
	d.say("A sev3 warning, CheckoutSlowQueries, arrives in another group: below the threshold.")

	d.heading("2. Warroom's jobs declare the incident and set it up")
	if err := d.run(); err != nil {
		return err
	}
	incs, err := sb.App.Incidents.List(ctx, incidents.ListFilter{Status: incidents.FilterAll, Limit: 1})
	if err != nil {
		return err
	}
	if len(incs) != 1 {
		return fmt.Errorf("the alert declared no incident")
	}
	inc := incs[0]
	d.say("The alert group declares %s through the same path as /incident declare.", inc.ID)
	d.say("Warroom's jobs create #%s, post and pin the summary (with the alert counts),", inc.ChannelName)
	d.say("set the topic, announce %s in #incidents, and post the warning in #payments", inc.ID)
	d.say("for triage, with a \"Declare incident\" button:")
	d.callSummary(0)
	fmt.Fprintf(w, "\nWhat Slack shows now:\n\n")
	fmt.Fprint(w, sb.Slack.Transcript())

	d.heading("3. The on-call person is paged and acknowledges")
	pages, err := sb.App.Paging.Pages(ctx, inc.ID)
	if err != nil {
		return err
	}
	if len(pages) != 1 {
		return fmt.Errorf("%s has %d pages, want 1", inc.ID, len(pages))
	}
	d.say("checkout's escalation policy \"payments\" paged the on-call person of payments-primary,")
	d.say("alice this week (step 1; bob joins at 10 minutes, dave and #payments at 20 minutes,")
	d.say("and the steps repeat twice more while nobody acknowledges). Her direct messages:")
	for _, m := range sb.Slack.DirectMessages(demoAlice) {
		d.quote(m.Text)
	}
	if err := d.at(14, 3); err != nil {
		return err
	}
	if err := d.clickIn(demoAlice, "D"+demoAlice, bot.ActionAcknowledgePage, fmt.Sprintf("%s|%d", inc.ID, pages[0].ID)); err != nil {
		return err
	}
	d.say("alice clicks Acknowledge in the direct message: escalation stops, the timeline")
	d.say("records the time to acknowledge, and the button gives way to \"Acknowledged by alice\"")
	d.say("in her direct message and in the channel")
	if err := d.run(); err != nil {
		return err
	}
	sb.Slack.Join(inc.ChannelID, demoAlice)
	if err := d.event(map[string]any{"type": "member_joined_channel", "user": demoAlice, "channel": inc.ChannelID,
		"channel_type": "C"}); err != nil {
		return err
	}
	d.say("alice joins the channel she was invited to")
	if _, err := d.command(demoAlice, inc.ChannelID, "lead <@"+demoAlice+"|alice>"); err != nil {
		return err
	}
	d.say("alice: /incident lead @alice (Warroom invites its lead; Slack answers already_in_channel, which counts as done)")
	if err := d.run(); err != nil {
		return err
	}

	d.heading("4. People join and work in the channel")
	calls := len(sb.Slack.Calls())
	role := "role comms <@" + demoBob + "|bob>"
	if _, err := d.command(demoAlice, inc.ChannelID, role); err != nil {
		return err
	}
	d.say("alice: /incident role comms @bob")
	if err := d.run(); err != nil {
		return err
	}
	// Warroom invited bob; Slack tells it he joined.
	if err := d.event(map[string]any{"type": "member_joined_channel", "user": demoBob, "channel": inc.ChannelID,
		"channel_type": "C", "inviter": sb.Slack.BotUser()}); err != nil {
		return err
	}
	d.say("bob joins the channel (Slack sends member_joined_channel)")
	if err := d.run(); err != nil {
		return err
	}
	if err := d.at(14, 4); err != nil {
		return err
	}
	const finding = "502s started right after deploy 2026.11.03-1"
	ts := sb.Slack.Post(inc.ChannelID, demoBob, finding)
	d.say("bob: %s", finding)
	sb.Slack.React(inc.ChannelID, ts, demoAlice, "pushpin")
	if err := d.event(map[string]any{"type": "reaction_added", "user": demoAlice, "reaction": "pushpin",
		"item": map[string]any{"type": "message", "channel": inc.ChannelID, "ts": ts}, "item_user": demoBob}); err != nil {
		return err
	}
	d.say("alice reacts to it with :pushpin:, which copies it into the timeline")
	if err := d.run(); err != nil {
		return err
	}
	d.callSummary(calls)

	d.heading("5. The response moves on")
	calls = len(sb.Slack.Calls())
	for _, s := range []struct {
		hour, min int
		text      string
	}{
		{14, 6, "sev 1"},
		{14, 8, "status identified"},
		{14, 9, "note rolling back deploy 2026.11.03-1"},
		{14, 12, "note TODO: add a canary stage to the checkout deploy"},
	} {
		if err := d.at(s.hour, s.min); err != nil {
			return err
		}
		reply, err := d.command(demoAlice, inc.ChannelID, s.text)
		if err != nil {
			return err
		}
		d.say("alice: /incident %s", s.text)
		d.quote(reply)
		if err := d.run(); err != nil {
			return err
		}
	}
	if err := d.rollBack(inc); err != nil {
		return err
	}
	if err := d.at(14, 14); err != nil {
		return err
	}
	if err := d.click(demoBob, inc, bot.ActionStatus, inc.ID.String()+"|"+string(incidents.StatusMonitoring)); err != nil {
		return err
	}
	d.say("bob picks Monitoring in the summary's status menu")
	if err := d.run(); err != nil {
		return err
	}
	d.callSummary(calls)

	d.heading("6. The alerts resolve, and alice resolves the incident")
	calls = len(sb.Slack.Calls())
	if err := d.at(14, 27); err != nil {
		return err
	}
	if err := d.alerts("alertmanager", demoAlertmanagerBody("resolved", detected, time.Date(2026, 11, 3, 14, 26, 30, 0, time.UTC))); err != nil {
		return err
	}
	d.say("Alertmanager posts both alerts again, resolved; Warroom tells the channel and offers a resolve")
	if err := d.run(); err != nil {
		return err
	}
	if err := d.at(14, 29); err != nil {
		return err
	}
	const resolve = "resolve Rolled back 2026.11.03-1; error rate back to baseline"
	reply, err := d.command(demoAlice, inc.ChannelID, resolve)
	if err != nil {
		return err
	}
	d.say("alice: /incident %s", resolve)
	d.quote(reply)
	if err := d.run(); err != nil {
		return err
	}
	if err := d.at(14, 30); err != nil {
		return err
	}
	if err := d.click(demoBob, inc, bot.ActionResolve, inc.ID.String()); err != nil {
		return err
	}
	d.say("bob clicks the summary's Resolve button too; Warroom refuses, and tells only him why")
	if err := d.run(); err != nil {
		return err
	}
	d.callSummary(calls)

	if err := d.postmortem(inc.ID); err != nil {
		return err
	}

	d.heading("What Slack shows at the end")
	fmt.Fprint(w, sb.Slack.Transcript())

	final, err := sb.App.Incidents.Get(ctx, inc.ID)
	if err != nil {
		return err
	}
	evs, err := sb.App.Incidents.Timeline(ctx, inc.ID)
	if err != nil {
		return err
	}
	d.heading("The timeline Warroom kept")
	if err := tmpl.Execute(w, "timeline.txt.tmpl", map[string]any{"Incident": final, "Events": evs}); err != nil {
		return err
	}
	fmt.Fprintf(w, "\nKey times (from detection at %s):\n", final.DetectedAt.Format("15:04"))
	for _, kt := range []struct {
		name string
		at   time.Time
	}{
		{"acknowledge", final.AcknowledgedAt},
		{"mitigate", final.MitigatedAt},
		{"resolve", final.ResolvedAt},
	} {
		if !kt.at.IsZero() {
			fmt.Fprintf(w, "  time to %-12s %s\n", kt.name, incidents.FormatDuration(kt.at.Sub(final.DetectedAt)))
		}
	}

	line, err := d.tally()
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "\n%s\n", line)

	d.heading("The weekly review digest")
	fmt.Fprintln(w, "What `warroom digest` prints for the week that ends now (the same digest is posted")
	fmt.Fprintln(w, "to #incident-review every Monday at 09:00 Berlin time, and /incident digest previews it):")
	fmt.Fprintln(w)
	end := sb.Clock.Now().UTC()
	rep, err := digest.Build(ctx, sb.App.Store, end.Add(-digest.Period), end, digest.Tracking(sb.App.Store)...)
	if err != nil {
		return err
	}
	if err := rep.Text(w); err != nil {
		return err
	}
	fmt.Fprintln(w, "\nNext: run `warroom serve --config examples/warroom.yaml` with a Slack app (see README).")
	return nil
}

func (d *demo) heading(title string) {
	fmt.Fprintf(d.w, "\n== %s ==\n\n", title)
}

// say narrates a step at the clock's time.
func (d *demo) say(format string, args ...any) {
	fmt.Fprintf(d.w, "%s  %s\n", d.sb.Clock.Now().Format("15:04"), fmt.Sprintf(format, args...))
}

// quote prints what Warroom answered, indented below the step.
func (d *demo) quote(text string) {
	if text == "" {
		return
	}
	for l := range strings.SplitSeq(text, "\n") {
		fmt.Fprintln(d.w, strings.TrimRight("       │ "+l, " "))
	}
}

// at moves the story's clock to hh:mm on the demo's day. Jobs may have
// moved it a little past the last step; it never goes back.
func (d *demo) at(hour, min int) error {
	now := d.sb.Clock.Now()
	t := time.Date(now.Year(), now.Month(), now.Day(), hour, min, 0, 0, time.UTC)
	if t.Before(now) {
		return fmt.Errorf("demo: the story is at %s, but the clock already shows %s", t.Format("15:04"), now.Format("15:04:05"))
	}
	d.sb.Clock.Set(t)
	return nil
}

// run runs the jobs the last step enqueued, as Warroom's workers would.
func (d *demo) run() error {
	if _, err := d.sb.Settle(d.ctx, demoHorizon); err != nil {
		return fmt.Errorf("running jobs: %w", err)
	}
	return nil
}

// command sends "/incident text" by user in channel, as Slack does, and
// returns the ephemeral answer.
func (d *demo) command(user, channel, text string) (string, error) {
	resp, err := d.sb.Driver.Command(d.ctx, user, channel, text)
	if err != nil {
		return "", err
	}
	if resp.Status != http.StatusOK {
		return "", fmt.Errorf("/incident %s: HTTP %d: %s", text, resp.Status, resp.Body)
	}
	reply, _ := resp.JSON["text"].(string)
	return reply, nil
}

// alerts posts an alert webhook body, as Alertmanager does.
func (d *demo) alerts(source string, body []byte) error {
	resp, err := d.sb.PostAlerts(d.ctx, source, body)
	if err != nil {
		return err
	}
	if resp.Status != http.StatusOK {
		return fmt.Errorf("POST /hooks/%s: HTTP %d: %s", source, resp.Status, resp.Body)
	}
	d.lastHook = strings.TrimSpace(string(resp.Body))
	return nil
}

// event delivers an Events API event, as Slack does.
func (d *demo) event(ev map[string]any) error {
	d.events++
	resp, err := d.sb.Driver.Event(d.ctx, fmt.Sprintf("Ev%04d", d.events), ev)
	if err != nil {
		return err
	}
	if resp.Status != http.StatusOK {
		return fmt.Errorf("event %s: HTTP %d: %s", ev["type"], resp.Status, resp.Body)
	}
	return nil
}

// click sends the block_actions payload of a click on the incident
// summary's Resolve button or a choice in its status menu.
func (d *demo) click(user string, inc *incidents.Incident, actionID, value string) error {
	return d.clickIn(user, inc.ChannelID, actionID, value)
}

// clickIn clicks a button or menu in channel (an incident's channel, or a
// direct message "D<user>").
func (d *demo) clickIn(user, channel, actionID, value string) error {
	action := map[string]any{"action_id": actionID, "block_id": "incident_actions",
		"action_ts": fmt.Sprint(d.sb.Clock.Now().UnixNano())}
	if actionID == bot.ActionStatus {
		action["type"] = "static_select"
		action["selected_option"] = map[string]any{"value": value, "text": map[string]any{"type": "plain_text", "text": value}}
	} else {
		action["type"] = "button"
		action["value"] = value
	}
	name := user
	if u, ok := d.sb.Slack.User(user); ok {
		name = u.Name
	}
	resp, err := d.sb.Driver.Interaction(d.ctx, map[string]any{
		"type":       "block_actions",
		"user":       map[string]any{"id": user, "name": name},
		"channel":    map[string]any{"id": channel},
		"team":       map[string]any{"id": d.sb.Slack.TeamID()},
		"trigger_id": d.sb.Slack.NewTriggerID(),
		"actions":    []any{action},
	})
	if err != nil {
		return err
	}
	if resp.Status != http.StatusOK {
		return fmt.Errorf("click on %s: HTTP %d: %s", actionID, resp.Status, resp.Body)
	}
	return nil
}

// callSummary lists the Web API calls made since the first from, by
// method in order of first use, with their count.
func (d *demo) callSummary(from int) {
	calls := d.sb.Slack.Calls()[from:]
	counts := map[string]int{}
	var order []string
	for _, c := range calls {
		if counts[c.Method] == 0 {
			order = append(order, c.Method)
		}
		counts[c.Method]++
	}
	parts := make([]string, 0, len(order))
	for _, m := range order {
		if counts[m] > 1 {
			parts = append(parts, fmt.Sprintf("%s ×%d", m, counts[m]))
		} else {
			parts = append(parts, m)
		}
	}
	if len(parts) > 0 {
		fmt.Fprintf(d.w, "       Warroom called Slack: %s\n", strings.Join(parts, ", "))
	}
}

// invited names the people that Warroom has invited to channels so far.
func (d *demo) invited() []string {
	var names []string
	for _, c := range d.sb.Slack.Calls("conversations.invite") {
		for id := range strings.SplitSeq(c.Params["users"], ",") {
			if u, ok := d.sb.Slack.User(id); ok {
				id = u.Name
			}
			names = append(names, id)
		}
	}
	return names
}

// tally says how many Web API calls Warroom made, whether any was made
// twice (the same method with the same parameters) or answered with an
// error, and how many jobs failed.
func (d *demo) tally() (string, error) {
	calls := d.sb.Slack.Calls()
	seen := map[string]bool{}
	repeated, errored := 0, 0
	for _, c := range calls {
		key := c.Method
		for _, k := range slices.Sorted(maps.Keys(c.Params)) {
			key += "\x00" + k + "=" + c.Params[k]
		}
		if seen[key] {
			repeated++
		}
		seen[key] = true
		if c.Status != http.StatusOK || c.Error != "" {
			errored++
		}
	}
	counts, err := d.sb.App.Store.CountByState(d.ctx)
	if err != nil {
		return "", err
	}
	once := "each made once"
	if repeated > 0 {
		once = fmt.Sprintf("%d made again", repeated)
	}
	if errored > 0 {
		once += fmt.Sprintf(", %d answered with an error", errored)
	}
	return fmt.Sprintf("Slack calls: %d (%s; %d failed jobs)", len(calls), once, counts[jobs.StateFailed]), nil
}

// demoDraftLines is how much of the postmortem draft the demo prints.
const demoDraftLines = 20

// postmortem tells what the resolve did on GitHub: the draft's pull
// request, the action item's issue, and the start of the draft.
func (d *demo) postmortem(id incidents.ID) error {
	d.heading("7. The postmortem opens as a pull request")
	rec, ok, err := d.sb.App.Store.PostmortemRecord(d.ctx, id)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("the resolve of %s opened no postmortem", id)
	}
	d.say("sev1 is in postmortem.draft_on_resolve, so the resolve queued the draft. Warroom wrote it from")
	d.say("the timeline, filed each action item as an issue, and proposed the draft on GitHub:")
	d.say("  pull request  %s  (draft, branch %s)", rec.PRURL, rec.Branch)
	items, err := d.sb.App.Store.IncidentActionItems(d.ctx, id)
	if err != nil {
		return err
	}
	for _, it := range items {
		d.say("  issue         %s  %s", it.IssueURL, it.Text)
	}
	content, _, ok := d.sb.GitHub.File(rec.Repo, rec.Branch, rec.Path)
	if !ok {
		return fmt.Errorf("no %s on %s", rec.Path, rec.Branch)
	}
	calls := d.sb.GitHub.Calls()
	d.say("GitHub calls: %d (%s)", len(calls), strings.Join(githubCallKinds(calls), ", "))
	fmt.Fprintf(d.w, "\nThe start of %s:\n\n", rec.Path)
	lines := strings.SplitN(string(content), "\n", demoDraftLines+1)
	for _, l := range lines[:min(len(lines), demoDraftLines)] {
		fmt.Fprintf(d.w, "    %s\n", l)
	}
	fmt.Fprintln(d.w, "    …")
	return nil
}

// githubCallKinds names the kinds of calls made, in order of first call.
func githubCallKinds(calls []githubfake.Call) []string {
	var kinds []string
	seen := map[string]bool{}
	for _, c := range calls {
		k := c.Route
		if !seen[k] {
			seen[k] = true
			kinds = append(kinds, k)
		}
	}
	return kinds
}
