package bot

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/slack-go/slack"

	"github.com/warroomhq/warroom/incidents"
)

// Command is one /incident verb. Each feature adds its commands in one
// place, with CommandTable.Add during wiring; help, usage errors and the
// "only in an incident channel" rule come from the table.
type Command struct {
	Name    string   // the verb: "sev"
	Aliases []string // other verbs that run it: "new" for "declare"
	Args    string   // the arguments in usage notation: "<1-4>"
	Help    string   // one line: "Change the severity"
	// InIncident commands work only in an incident's channel; the request
	// then carries the incident.
	InIncident bool
	Run        func(ctx context.Context, r *Request) (Reply, error)
}

// Usage is how to type the command: "/incident sev <1-4>".
func (c Command) Usage() string {
	if c.Args == "" {
		return "/incident " + c.Name
	}
	return "/incident " + c.Name + " " + c.Args
}

// Request is one slash command, as the command sees it.
type Request struct {
	UserID      string
	UserName    string
	ChannelID   string
	TeamID      string
	TriggerID   string // for opening a modal (valid for 3 seconds)
	ResponseURL string
	Verb        string // the verb as typed, lower-cased
	Args        string // the text after the verb, trimmed
	// Incident is the incident whose channel the command was typed in, or
	// nil outside incident channels.
	Incident *incidents.Incident
	Actor    incidents.Actor
}

// Fields splits Args on white space.
func (r *Request) Fields() []string { return strings.Fields(r.Args) }

// Reply is what a command answers. It is shown only to the person who
// typed the command (ephemeral) unless InChannel is set; what everybody
// should see is posted to the channel by the jobs that the change enqueues.
type Reply struct {
	Text      string // mrkdwn; also the notification fallback for Blocks
	Blocks    []slack.Block
	InChannel bool
}

// UsageError is a command typed wrongly. Its message says what to type.
type UsageError struct {
	Cmd Command
	Msg string
}

func (e *UsageError) Error() string {
	if e.Msg == "" {
		return "Usage: `" + e.Cmd.Usage() + "`"
	}
	return e.Msg + "\nUsage: `" + e.Cmd.Usage() + "`"
}

// CommandTable holds the /incident verbs.
type CommandTable struct {
	cmds  []Command
	index map[string]int // name or alias → position in cmds
}

// NewCommandTable returns an empty table.
func NewCommandTable() *CommandTable { return &CommandTable{index: map[string]int{}} }

// Add adds c. It panics when c has no name or Run, or when its name or an
// alias is taken: that is a wiring mistake, found at start.
func (t *CommandTable) Add(c Command) {
	if c.Name == "" || c.Run == nil {
		panic("bot: a command needs a name and Run")
	}
	for _, v := range append([]string{c.Name}, c.Aliases...) {
		v = strings.ToLower(v)
		if _, dup := t.index[v]; dup {
			panic(fmt.Sprintf("bot: /incident %s is added twice", v))
		}
		t.index[v] = len(t.cmds)
	}
	t.cmds = append(t.cmds, c)
}

// Lookup finds the command for a verb or alias.
func (t *CommandTable) Lookup(verb string) (Command, bool) {
	i, ok := t.index[strings.ToLower(verb)]
	if !ok {
		return Command{}, false
	}
	return t.cmds[i], true
}

// All lists the commands in the order they were added.
func (t *CommandTable) All() []Command { return slices.Clone(t.cmds) }
