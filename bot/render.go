package bot

import (
	"time"

	"github.com/slack-go/slack"

	"github.com/warroomhq/warroom/config"
	"github.com/warroomhq/warroom/incidents"
)

// Renderer turns incidents into Slack text and Block Kit. Every piece of
// text that comes from people or alerts is escaped with Escape.
type Renderer struct {
	PublicURL string                   // base of links; may be empty
	People    map[string]config.Person // configured people, by name
	Now       func() time.Time
}

// Escape escapes text for Slack mrkdwn (&, <, >), so that "<!channel>" or
// "<@U123>" in a title or an alert label pings nobody.
func Escape(s string) string { panic("unimplemented") }

// ChannelName is the name of an incident's channel: "<prefix>-<id>-<slug of
// title>", lowercase, only a-z0-9-_, at most 80 characters. attempt 0 is the
// first choice; attempt n > 0 is the n-th alternative after name_taken.
func ChannelName(prefix string, id incidents.ID, title string, attempt int) string {
	panic("unimplemented")
}

// Person renders a person: a Slack user ID as a mention, a configured
// person by their Slack ID (or escaped name), "" as "unassigned".
func (r *Renderer) Person(p string) string { panic("unimplemented") }

// Actor renders who did something.
func (r *Renderer) Actor(a incidents.Actor) string { panic("unimplemented") }

// Topic is the incident channel's topic: severity, status, lead.
func (r *Renderer) Topic(inc *incidents.Incident) string { panic("unimplemented") }

// Summary is the pinned summary message, with its buttons.
func (r *Renderer) Summary(inc *incidents.Incident) (string, []slack.Block) { panic("unimplemented") }

// Announcement is the message in the announcement channel.
func (r *Renderer) Announcement(inc *incidents.Incident) (string, []slack.Block) {
	panic("unimplemented")
}

// EventPost is what is posted in the incident's channel for a timeline
// event, and false for events that need no post.
func (r *Renderer) EventPost(inc *incidents.Incident, ev incidents.Event) (string, bool) {
	panic("unimplemented")
}

// Help lists the commands.
func (r *Renderer) Help(cmds []Command) (string, []slack.Block) { panic("unimplemented") }

// List lists incidents with links to their channels.
func (r *Renderer) List(incs []*incidents.Incident) (string, []slack.Block) { panic("unimplemented") }

// Timeline renders an incident's timeline.
func (r *Renderer) Timeline(inc *incidents.Incident, evs []incidents.Event) (string, []slack.Block) {
	panic("unimplemented")
}

// DeclareModal is the modal that declares an incident.
func (r *Renderer) DeclareModal(services []string) slack.ModalViewRequest { panic("unimplemented") }
