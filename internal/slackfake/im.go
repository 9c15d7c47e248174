package slackfake

import (
	"strings"
)

// Direct messages: conversations.open opens (or finds) the bot's direct
// message channel with one user, which chat.postMessage, chat.update and
// conversations.history then take by its ID. The channel's ID is "D"
// followed by the user's ID, so it is the same on every run. Direct message
// channels are not listed by conversations.list, nor shown by Channels or
// Transcript; DirectMessages shows what the bot sent a user.

func init() {
	methods["conversations.open"] = (*Fake).conversationsOpen
}

// imID is the ID of the bot's direct message channel with user.
func imID(user string) string { return "D" + user }

func (f *Fake) conversationsOpen(p params) result {
	if id := p["channel"]; id != "" {
		c, found := f.byID[id]
		if !found || !strings.HasPrefix(id, "D") {
			return fail("channel_not_found")
		}
		return ok(map[string]any{"channel": imJSON(c), "no_op": true, "already_open": true})
	}
	users := strings.Split(p["users"], ",")
	switch {
	case p["users"] == "":
		return fail("users_list_not_supplied")
	case len(users) > 1:
		// A group DM (mpim): Warroom opens only one-to-one messages.
		return fail("not_supported")
	}
	user := strings.TrimSpace(users[0])
	if user == f.botUser {
		return fail("cannot_dm_bot")
	}
	if u, found := f.users[user]; !found || u.IsBot {
		return fail("user_not_found")
	}
	c, existed := f.byID[imID(user)]
	if !existed {
		c = &channel{id: imID(user), creator: user, created: f.now(), members: []string{f.botUser, user}}
		f.byID[c.id] = c
	}
	return ok(map[string]any{"channel": imJSON(c), "no_op": existed, "already_open": existed})
}

// imJSON is a direct message channel as conversations.open returns it.
func imJSON(c *channel) map[string]any {
	return map[string]any{
		"id":      c.id,
		"is_im":   true,
		"is_open": true,
		"user":    c.members[len(c.members)-1],
		"created": unix(c.created),
	}
}

// DirectMessages returns the messages in the bot's direct message channel
// with user, in ts order; nil when it was never opened.
func (f *Fake) DirectMessages(user string) []Message {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.byID[imID(user)]
	if !ok {
		return nil
	}
	out := make([]Message, len(c.msgs))
	for i, m := range c.msgs {
		out[i] = m.snapshot()
	}
	return out
}
