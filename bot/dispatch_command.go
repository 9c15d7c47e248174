package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/slack-go/slack"

	"github.com/warroomhq/warroom/incidents"
)

// Command implements Dispatcher. The first word of the text is the verb; an
// empty text asks for help. A command's error is answered here, in one
// place: a *UsageError or a user error (incidents.IsUserError) is shown as a
// warning, anything else is logged and answered with a generic apology. A
// *UsageError without a Cmd gets the command that returned it, so commands
// can return &UsageError{Msg: ...}.
func (b *Bot) Command(ctx context.Context, cmd slack.SlashCommand) Reply {
	verb, args := splitVerb(cmd.Text)
	if verb == "" {
		verb = "help"
	}
	c, ok := b.cmds.Lookup(verb)
	if !ok {
		return Reply{Text: b.unknownVerb(verb)}
	}
	r := &Request{
		UserID:      cmd.UserID,
		UserName:    cmd.UserName,
		ChannelID:   cmd.ChannelID,
		TeamID:      cmd.TeamID,
		TriggerID:   cmd.TriggerID,
		ResponseURL: cmd.ResponseURL,
		Verb:        verb,
		Args:        args,
		Actor:       incidents.SlackActor(cmd.UserID),
	}
	inc, _, err := b.incidentOf(ctx, cmd.ChannelID)
	if err != nil {
		return b.commandError(ctx, r, err)
	}
	r.Incident = inc
	if c.InIncident && r.Incident == nil {
		return b.notInIncident(ctx, r)
	}
	reply, err := c.Run(ctx, r)
	if err != nil {
		var ue *UsageError
		if errors.As(err, &ue) && ue.Cmd.Name == "" {
			ue.Cmd = c
		}
		return b.commandError(ctx, r, err)
	}
	return reply
}

// commandError turns a command's error into its reply.
func (b *Bot) commandError(ctx context.Context, r *Request, err error) Reply {
	if isUserError(err) {
		return Reply{Text: warning(err.Error())}
	}
	b.log.ErrorContext(ctx, "slash command failed", "verb", r.Verb, "user", r.UserID, "channel", r.ChannelID, "err", err)
	return Reply{Text: internalErrorText}
}

// splitVerb splits a command's text into its lower-cased first word and the
// trimmed rest, whose inner spacing (a note's lines) is kept.
func splitVerb(text string) (verb, args string) {
	text = strings.TrimSpace(text)
	verb, args = text, ""
	if i := strings.IndexFunc(text, unicode.IsSpace); i >= 0 {
		verb, args = text[:i], strings.TrimSpace(text[i:])
	}
	return strings.ToLower(verb), args
}

// unknownVerb answers a verb that no command has, suggesting the nearest.
func (b *Bot) unknownVerb(verb string) string {
	shown := verb
	if utf8.RuneCountInString(shown) > 30 {
		shown = string([]rune(shown)[:30]) + "…"
	}
	text := "I don't know `/incident " + Escape(shown) + "`."
	if s := b.suggest(verb); s != "" {
		text += " Did you mean `/incident " + s + "`?"
	}
	return text + " Type `/incident help` for the list."
}

// suggest returns the verb or alias nearest to verb, within two edits, or "".
func (b *Bot) suggest(verb string) string {
	best, bestDist := "", 3
	for _, c := range b.cmds.All() {
		for _, v := range append([]string{c.Name}, c.Aliases...) {
			if d := editDistance(verb, strings.ToLower(v)); d < bestDist {
				best, bestDist = v, d
			}
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, in runes.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// notInIncident answers an incident-channel command typed elsewhere, with
// the open incidents' channels.
func (b *Bot) notInIncident(ctx context.Context, r *Request) Reply {
	const shown = 5
	text := "`/incident " + Escape(r.Verb) + "` works in an incident's channel."
	open, err := b.opts.Incidents.List(ctx, incidents.ListFilter{Status: incidents.FilterOpen, Limit: shown + 1})
	if err != nil {
		b.log.WarnContext(ctx, "listing open incidents", "err", err)
		return Reply{Text: text}
	}
	if len(open) == 0 {
		return Reply{Text: text + " There are no open incidents."}
	}
	names := make([]string, 0, shown)
	for _, inc := range open[:min(len(open), shown)] {
		if inc.ChannelID != "" {
			names = append(names, "<#"+inc.ChannelID+">")
		} else {
			names = append(names, inc.ID.String()+" ("+Escape(inc.Title)+")")
		}
	}
	text += " Open incidents: " + strings.Join(names, ", ")
	if len(open) > shown {
		text += ", and more (`/incident list`)"
	}
	return Reply{Text: text + "."}
}

// addCoreCommands adds help, declare, list and the incident-channel verbs.
func (b *Bot) addCoreCommands() {
	for _, c := range []Command{
		{Name: "help", Help: "List the commands", Run: b.runHelp},
		{Name: "declare", Aliases: []string{"new"}, Args: "[title] [sev1..sev4] [service]",
			Help: "Declare an incident (without a title: open the form)", Run: b.runDeclare},
		{Name: "list", Help: "List the open incidents", Run: b.runList},
		{Name: "sev", Args: "<1-4>", Help: "Change the severity", InIncident: true, Run: b.runSev},
		{Name: "status", Args: "<investigating|identified|monitoring|resolved>", Help: "Change the status",
			InIncident: true, Run: b.runStatus},
		{Name: "lead", Args: "@user", Help: "Make someone the incident lead", InIncident: true, Run: b.runLead},
		{Name: "role", Args: "<lead|comms> @user", Help: "Give someone a role", InIncident: true, Run: b.runRole},
		{Name: "note", Args: "<text>", Help: "Add a note to the timeline", InIncident: true, Run: b.runNote},
		{Name: "timeline", Help: "Show the timeline", InIncident: true, Run: b.runTimeline},
		{Name: "alerts", Help: "List the incident's alerts, firing first", InIncident: true, Run: b.runAlerts},
		{Name: "digest", Help: "Preview the incident review digest of the last 7 days", Run: b.runDigestPreview},
		{Name: "resolve", Args: "[summary]", Help: "Resolve the incident", InIncident: true, Run: b.runResolve},
		{Name: "reopen", Args: "[reason]", Help: "Reopen the resolved incident", InIncident: true, Run: b.runReopen},
	} {
		b.cmds.Add(c)
	}
}

func (b *Bot) runHelp(ctx context.Context, r *Request) (Reply, error) {
	text, blocks := b.render.Help(b.cmds.All())
	return Reply{Text: text, Blocks: blocks}, nil
}

func (b *Bot) runDeclare(ctx context.Context, r *Request) (Reply, error) {
	if r.Args == "" {
		return b.openDeclareForm(ctx, r)
	}
	title, sev, service := b.splitDeclare(slackText(r.Args))
	key := ""
	if r.TriggerID != "" {
		// Unique per invocation: a retried request declares once.
		key = "slack-command:" + r.TriggerID
	}
	inc, err := b.opts.Incidents.Declare(ctx, incidents.DeclareInput{
		Title: title, Severity: sev, Service: service, Lead: r.UserID, Actor: r.Actor, Key: key,
	})
	if err != nil {
		return Reply{}, err
	}
	about := strings.ToUpper(string(inc.Severity))
	if inc.Service != "" {
		about += ", " + Escape(inc.Service)
	}
	text := fmt.Sprintf(":white_check_mark: Declared *%s*: %s (%s).", inc.ID, Escape(inc.Title), about)
	if inc.ChannelID != "" {
		text += " Its channel is <#" + inc.ChannelID + ">."
	} else {
		text += " Setting up the channel…"
	}
	return Reply{Text: text}, nil
}

// splitDeclare takes a severity ("sev1".."sev4") and a configured service
// off the end of declare's text, in either order: "Checkout is down sev1
// checkout". A word is taken only when some title is left before it, so
// "/incident declare checkout" is an incident titled "checkout".
func (b *Bot) splitDeclare(text string) (title string, sev incidents.Severity, service string) {
	title = strings.TrimSpace(text)
	for range 2 {
		rest, last := cutLastWord(title)
		if rest == "" {
			break
		}
		if s, ok := severityWord(last); ok && sev == "" {
			sev, title = s, rest
			continue
		}
		if name, ok := b.serviceNamed(last); ok && service == "" {
			service, title = name, rest
			continue
		}
		break
	}
	return title, sev, service
}

// cutLastWord splits trimmed text before its last word; rest is trimmed.
func cutLastWord(s string) (rest, last string) {
	i := strings.LastIndexFunc(s, unicode.IsSpace)
	if i < 0 {
		return "", s
	}
	return strings.TrimSpace(s[:i]), s[i+1:]
}

// severityWord accepts "sev1".."sev4" in any case, and nothing else: a
// title may well end in a number.
func severityWord(w string) (incidents.Severity, bool) {
	if len(w) != 4 || !strings.EqualFold(w[:3], "sev") {
		return "", false
	}
	sev, err := incidents.ParseSeverity(w)
	return sev, err == nil
}

// serviceNamed finds a configured service by name, in any case.
func (b *Bot) serviceNamed(name string) (string, bool) {
	if _, ok := b.opts.Services[name]; ok {
		return name, true
	}
	for s := range b.opts.Services {
		if strings.EqualFold(s, name) {
			return s, true
		}
	}
	return "", false
}

// serviceNames lists the configured services, sorted.
func (b *Bot) serviceNames() []string {
	names := make([]string, 0, len(b.opts.Services))
	for s := range b.opts.Services {
		names = append(names, s)
	}
	slices.Sort(names)
	return names
}

// openDeclareForm enqueues the opening of the declare modal. The trigger ID
// is valid for 3 seconds, which the job queue, woken at once, meets.
func (b *Bot) openDeclareForm(ctx context.Context, r *Request) (Reply, error) {
	if r.TriggerID == "" {
		return Reply{Text: warning("I can't open the form from here. Type the title instead: " +
			"`/incident declare Checkout is down sev1`")}, nil
	}
	view, err := json.Marshal(b.render.DeclareModal(b.serviceNames()))
	if err != nil {
		return Reply{}, fmt.Errorf("encoding the declare form: %w", err)
	}
	if err := b.enqueueNow(ctx, JobOpenView, r.TriggerID, "", OpenViewJob{TriggerID: r.TriggerID, View: view}); err != nil {
		return Reply{}, err
	}
	return Reply{Text: "Opening the declare form…"}, nil
}

func (b *Bot) runList(ctx context.Context, r *Request) (Reply, error) {
	if r.Args != "" {
		return Reply{}, &UsageError{Msg: "`/incident list` takes nothing after it."}
	}
	incs, err := b.opts.Incidents.List(ctx, incidents.ListFilter{Status: incidents.FilterOpen, Limit: 25})
	if err != nil {
		return Reply{}, err
	}
	text, blocks := b.render.List(incs)
	return Reply{Text: text, Blocks: blocks}, nil
}

func (b *Bot) runSev(ctx context.Context, r *Request) (Reply, error) {
	f := r.Fields()
	if len(f) != 1 {
		return Reply{}, &UsageError{}
	}
	sev, err := incidents.ParseSeverity(f[0])
	if err != nil {
		return Reply{}, &UsageError{Msg: err.Error()}
	}
	if _, err := b.opts.Incidents.SetSeverity(ctx, r.Incident.ID, sev, r.Actor); err != nil {
		return Reply{}, err
	}
	return Reply{Text: "Severity is now " + strings.ToUpper(string(sev)) + "."}, nil
}

func (b *Bot) runStatus(ctx context.Context, r *Request) (Reply, error) {
	f := r.Fields()
	if len(f) != 1 {
		return Reply{}, &UsageError{}
	}
	st, err := incidents.ParseStatus(f[0])
	if err != nil {
		return Reply{}, &UsageError{Msg: err.Error()}
	}
	inc, err := b.opts.Incidents.SetStatus(ctx, r.Incident.ID, st, r.Actor) // resolved: Resolve
	if err != nil {
		return Reply{}, err
	}
	if st == incidents.StatusResolved {
		return Reply{Text: "Resolved " + inc.ID.String() + "."}, nil
	}
	return Reply{Text: "Status is now " + string(st) + "."}, nil
}

func (b *Bot) runLead(ctx context.Context, r *Request) (Reply, error) {
	words := argWords(r.Args)
	if len(words) != 1 {
		return Reply{}, &UsageError{Msg: "Say who should lead."}
	}
	return b.assign(ctx, r, incidents.RoleLead, words[0])
}

func (b *Bot) runRole(ctx context.Context, r *Request) (Reply, error) {
	words := argWords(r.Args)
	if len(words) != 2 {
		return Reply{}, &UsageError{}
	}
	role, err := incidents.ParseRole(words[0])
	if err != nil {
		return Reply{}, &UsageError{Msg: err.Error()}
	}
	return b.assign(ctx, r, role, words[1])
}

func (b *Bot) assign(ctx context.Context, r *Request, role incidents.Role, who string) (Reply, error) {
	person, err := b.parsePerson(who)
	if err != nil {
		return Reply{}, err
	}
	if _, err := b.opts.Incidents.AssignRole(ctx, r.Incident.ID, role, person, r.Actor); err != nil {
		return Reply{}, err
	}
	return Reply{Text: b.render.Person(person) + " is now " + string(role) + "."}, nil
}

// argWords splits arguments on white space, keeping each of Slack's control
// sequences whole even if its label has spaces: "<@U1|Ann Lee> x" is two
// words.
func argWords(s string) []string {
	var words []string
	for s = strings.TrimSpace(s); s != ""; s = strings.TrimSpace(s) {
		end := strings.IndexFunc(s, unicode.IsSpace)
		if s[0] == '<' {
			if i := strings.IndexByte(s, '>'); i >= 0 {
				end = i + 1
			}
		}
		if end < 0 {
			end = len(s)
		}
		words = append(words, s[:end])
		s = s[end:]
	}
	return words
}

var (
	// argMention is a user mention as Slack sends it when "Escape channels,
	// users, and links" is on: <@U123> or <@U123|alice>.
	argMention = regexp.MustCompile(`^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$`)
	// argUserID is a bare Slack user ID.
	argUserID = regexp.MustCompile(`^[UW][A-Z0-9]{4,}$`)
)

// parsePerson turns a command argument into who holds a role: a Slack user
// ID for a mention, a bare user ID or a configured person with a Slack ID,
// or the name of a configured person who has only an email.
func (b *Bot) parsePerson(s string) (string, error) {
	if m := argMention.FindStringSubmatch(s); m != nil {
		return m[1], nil
	}
	if p, ok := b.person(s); ok {
		return p, nil
	}
	if argUserID.MatchString(s) {
		return s, nil
	}
	if name, ok := strings.CutPrefix(s, "@"); ok {
		if p, ok := b.person(name); ok {
			return p, nil
		}
		return "", &UsageError{Msg: fmt.Sprintf("I can't tell who %s is: pick them from the list Slack shows "+
			"as you type @, or use a name from the configuration.", slackText(s))}
	}
	return "", &UsageError{Msg: fmt.Sprintf("I can't tell who %q is: mention them (@alice) or use a name from the configuration.",
		slackText(s))}
}

// person finds a configured person by name, in any case, and returns their
// Slack user ID, or their name when they have none.
func (b *Bot) person(name string) (string, bool) {
	found := func(n string) (string, bool) {
		if id := b.opts.People[n].Slack; id != "" {
			return id, true
		}
		return n, true
	}
	if _, ok := b.opts.People[name]; ok {
		return found(name)
	}
	for n := range b.opts.People {
		if strings.EqualFold(n, name) {
			return found(n)
		}
	}
	return "", false
}

func (b *Bot) runNote(ctx context.Context, r *Request) (Reply, error) {
	text := slackText(r.Args)
	if strings.TrimSpace(text) == "" {
		return Reply{}, &UsageError{Msg: "A note needs some text."}
	}
	done := Reply{Text: "Added to the timeline of " + r.Incident.ID.String() + "."}
	// A repeated note would be added again, so the same request (its
	// trigger ID) sent twice, a replay, adds its note once.
	if r.TriggerID != "" {
		first, err := b.opts.Store.RememberEvent(ctx, "command:"+r.TriggerID, b.now())
		if err != nil {
			return Reply{}, err
		}
		if !first {
			return done, nil
		}
	}
	if _, err := b.opts.Incidents.AddNote(ctx, r.Incident.ID, text, r.Actor); err != nil {
		if r.TriggerID != "" {
			err = errors.Join(err, b.opts.Store.ForgetEvent(context.WithoutCancel(ctx), "command:"+r.TriggerID))
		}
		return Reply{}, err
	}
	return done, nil
}

func (b *Bot) runTimeline(ctx context.Context, r *Request) (Reply, error) {
	evs, err := b.opts.Incidents.Timeline(ctx, r.Incident.ID)
	if err != nil {
		return Reply{}, err
	}
	text, blocks := b.render.Timeline(r.Incident, evs)
	return Reply{Text: text, Blocks: blocks}, nil
}

func (b *Bot) runResolve(ctx context.Context, r *Request) (Reply, error) {
	inc, err := b.opts.Incidents.Resolve(ctx, r.Incident.ID, slackText(r.Args), r.Actor)
	if err != nil {
		return Reply{}, err
	}
	return Reply{Text: "Resolved " + inc.ID.String() + "."}, nil
}

func (b *Bot) runReopen(ctx context.Context, r *Request) (Reply, error) {
	inc, err := b.opts.Incidents.Reopen(ctx, r.Incident.ID, slackText(r.Args), r.Actor)
	if err != nil {
		return Reply{}, err
	}
	return Reply{Text: "Reopened " + inc.ID.String() + "; it is " + string(inc.Status) + " again."}, nil
}
