package slackfake

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// methods are the Web API methods the fake serves. Each runs with Fake.mu
// held, after the token was checked.
var methods = map[string]func(*Fake, params) result{
	"auth.test":                (*Fake).authTest,
	"conversations.create":     (*Fake).conversationsCreate,
	"conversations.info":       (*Fake).conversationsInfo,
	"conversations.list":       (*Fake).conversationsList,
	"conversations.setTopic":   (*Fake).conversationsSetTopic,
	"conversations.setPurpose": (*Fake).conversationsSetPurpose,
	"conversations.invite":     (*Fake).conversationsInvite,
	"conversations.join":       (*Fake).conversationsJoin,
	"conversations.archive":    (*Fake).conversationsArchive,
	"conversations.members":    (*Fake).conversationsMembers,
	"conversations.history":    (*Fake).conversationsHistory,
	"conversations.replies":    (*Fake).conversationsReplies,
	"chat.postMessage":         (*Fake).chatPostMessage,
	"chat.update":              (*Fake).chatUpdate,
	"chat.postEphemeral":       (*Fake).chatPostEphemeral,
	"chat.getPermalink":        (*Fake).chatGetPermalink,
	"pins.add":                 (*Fake).pinsAdd,
	"pins.list":                (*Fake).pinsList,
	"reactions.add":            (*Fake).reactionsAdd,
	"users.info":               (*Fake).usersInfo,
	"users.lookupByEmail":      (*Fake).usersLookupByEmail,
	"views.open":               (*Fake).viewsOpen,
	"views.update":             (*Fake).viewsUpdate,
}

func (f *Fake) authTest(params) result {
	return ok(map[string]any{
		"url":     "https://" + f.teamDomain + ".slack.com/",
		"team":    f.teamDomain,
		"user":    BotName,
		"team_id": f.teamID,
		"user_id": f.botUser,
		"bot_id":  f.botID,
	})
}

// --- Channels ---

// channelFor finds the channel named by p[key] as the bot sees it: by ID
// (or also by name when byName is set, as chat.postMessage allows), and a
// private channel the bot is not in does not exist.
func (f *Fake) channelFor(p params, key string, byName bool) (*channel, string) {
	c := f.lookup(p[key], byName)
	if c == nil || c.private && !c.isMember(f.botUser) {
		return nil, "channel_not_found"
	}
	return c, ""
}

// checkNewName returns the Slack error for a new channel's name, or "".
func (f *Fake) checkNewName(name string) string {
	if name == "" {
		return "invalid_name_required"
	}
	if utf8.RuneCountInString(name) > maxChannelNameLen {
		return "invalid_name_maxlength"
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return "invalid_name_specials"
		}
	}
	if strings.Trim(name, "-_") == "" {
		return "invalid_name_punctuation"
	}
	for _, c := range f.channels {
		if c.name == name {
			return "name_taken" // archived channels keep their names
		}
	}
	return ""
}

// channelJSON is a channel as conversations.* return it.
func (f *Fake) channelJSON(c *channel) map[string]any {
	text := func(t textField) map[string]any {
		return map[string]any{"value": t.value, "creator": t.creator, "last_set": unix(t.set)}
	}
	return map[string]any{
		"id":              c.id,
		"name":            c.name,
		"name_normalized": c.name,
		"is_channel":      true,
		"is_group":        false,
		"is_im":           false,
		"is_mpim":         false,
		"is_private":      c.private,
		"is_archived":     c.archived,
		"is_general":      false,
		"is_shared":       false,
		"is_org_shared":   false,
		"is_ext_shared":   false,
		"is_member":       c.isMember(f.botUser),
		"created":         unix(c.created),
		"creator":         c.creator,
		"context_team_id": f.teamID,
		"unlinked":        0,
		"num_members":     len(c.members),
		"topic":           text(c.topic),
		"purpose":         text(c.purpose),
		"previous_names":  []string{},
	}
}

// unix is t in Unix seconds, 0 for the zero time.
func unix(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

func (f *Fake) conversationsCreate(p params) result {
	name := p["name"]
	if code := f.checkNewName(name); code != "" {
		return fail(code)
	}
	c := f.newChannel(name, f.botUser, p.bool("is_private"))
	c.members = []string{f.botUser}
	return ok(map[string]any{"channel": f.channelJSON(c)})
}

func (f *Fake) conversationsInfo(p params) result {
	c, code := f.channelFor(p, "channel", false)
	if code != "" {
		return fail(code)
	}
	return ok(map[string]any{"channel": f.channelJSON(c)})
}

func (f *Fake) conversationsList(p params) result {
	types := strings.Split(p["types"], ",")
	if p["types"] == "" {
		types = []string{"public_channel"}
	}
	var list []any
	for _, c := range f.channels {
		visible := !c.private && slices.Contains(types, "public_channel") ||
			c.private && c.isMember(f.botUser) && slices.Contains(types, "private_channel")
		if visible && !(c.archived && p.bool("exclude_archived")) {
			list = append(list, f.channelJSON(c))
		}
	}
	list, next, bad := page(list, p["cursor"], min(p.int("limit", 100), 1000))
	if bad {
		return fail("invalid_cursor")
	}
	return ok(map[string]any{
		"channels":          nonNil(list),
		"response_metadata": map[string]any{"next_cursor": next},
	})
}

// nonNil makes a nil slice marshal as [] rather than null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func (f *Fake) conversationsSetTopic(p params) result {
	return f.setText(p, "topic", func(c *channel) *textField { return &c.topic })
}

func (f *Fake) conversationsSetPurpose(p params) result {
	return f.setText(p, "purpose", func(c *channel) *textField { return &c.purpose })
}

// setText sets a channel's topic or purpose from p[key].
func (f *Fake) setText(p params, key string, field func(*channel) *textField) result {
	c, code := f.channelFor(p, "channel", false)
	switch {
	case code != "":
		return fail(code)
	case c.archived:
		return fail("is_archived")
	case !c.isMember(f.botUser):
		return fail("not_in_channel")
	case utf8.RuneCountInString(p[key]) > maxTopicLen:
		return fail("too_long")
	}
	*field(c) = textField{value: p[key], creator: f.botUser, set: f.now()}
	return ok(map[string]any{"channel": f.channelJSON(c)})
}

func (f *Fake) conversationsInvite(p params) result {
	c, code := f.channelFor(p, "channel", false)
	if code != "" {
		return fail(code)
	}
	var users []string
	for u := range strings.SplitSeq(p["users"], ",") {
		if u = strings.TrimSpace(u); u != "" && !slices.Contains(users, u) {
			users = append(users, u)
		}
	}
	switch {
	case len(users) == 0:
		return fail("no_user")
	case c.archived:
		return fail("is_archived")
	case !c.isMember(f.botUser):
		return fail("not_in_channel")
	}
	for _, u := range users {
		var code string
		switch {
		case u == f.botUser:
			code = "cant_invite_self"
		case f.users[u] == nil:
			code = "user_not_found"
		case c.isMember(u):
			code = "already_in_channel"
		}
		if code != "" {
			// Slack names the user at fault in "errors"; nobody is invited.
			return failWith(code, map[string]any{
				"errors": []any{map[string]any{"user": u, "ok": false, "error": code}},
			})
		}
	}
	c.members = append(c.members, users...)
	return ok(map[string]any{"channel": f.channelJSON(c)})
}

func (f *Fake) conversationsJoin(p params) result {
	c, code := f.channelFor(p, "channel", false)
	switch {
	case code != "":
		return fail(code)
	case c.private:
		return fail("method_not_supported_for_channel_type")
	case c.archived:
		return fail("is_archived")
	case c.isMember(f.botUser):
		return ok(map[string]any{
			"channel":           f.channelJSON(c),
			"warning":           "already_in_channel",
			"response_metadata": map[string]any{"warnings": []string{"already_in_channel"}},
		})
	}
	c.members = append(c.members, f.botUser)
	return ok(map[string]any{"channel": f.channelJSON(c)})
}

func (f *Fake) conversationsArchive(p params) result {
	c, code := f.channelFor(p, "channel", false)
	switch {
	case code != "":
		return fail(code)
	case c.archived:
		return fail("already_archived")
	case !c.isMember(f.botUser):
		return fail("not_in_channel")
	}
	c.archived = true
	return ok(nil)
}

func (f *Fake) conversationsMembers(p params) result {
	c, code := f.channelFor(p, "channel", false)
	if code != "" {
		return fail(code)
	}
	members, next, bad := page(slices.Clone(c.members), p["cursor"], p.int("limit", 100))
	if bad {
		return fail("invalid_cursor")
	}
	return ok(map[string]any{
		"members":           nonNil(members),
		"response_metadata": map[string]any{"next_cursor": next},
	})
}

// --- Messages ---

// parseTS reads a ts ("1700000000.000100", or with fewer or no decimals)
// as microseconds.
func parseTS(s string) (int64, bool) {
	sec, frac, _ := strings.Cut(s, ".")
	n, err := strconv.ParseInt(sec, 10, 64)
	if err != nil || len(frac) > 6 {
		return 0, false
	}
	var micro int64
	if frac != "" {
		m, err := strconv.ParseInt((frac + "000000")[:6], 10, 64)
		if err != nil {
			return 0, false
		}
		micro = m
	}
	return n*1e6 + micro, true
}

// tsRange is the oldest/latest/inclusive filter of history and replies.
type tsRange struct {
	oldest, latest         int64
	oldestIncl, latestIncl bool
}

// readRange reads oldest, latest and inclusive, or returns a Slack error.
func readRange(p params) (tsRange, string) {
	incl := p.bool("inclusive")
	r := tsRange{oldest: 0, latest: 1 << 62, oldestIncl: incl, latestIncl: incl}
	var ok bool
	if p["oldest"] != "" {
		if r.oldest, ok = parseTS(p["oldest"]); !ok {
			return r, "invalid_ts_oldest"
		}
	}
	if p["latest"] != "" {
		if r.latest, ok = parseTS(p["latest"]); !ok {
			return r, "invalid_ts_latest"
		}
	}
	return r, ""
}

func (r tsRange) contains(ts string) bool {
	v, _ := parseTS(ts)
	return (v > r.oldest || r.oldestIncl && v == r.oldest) &&
		(v < r.latest || r.latestIncl && v == r.latest)
}

// messageJSON is a message as the Web API returns it, with its metadata
// only when withMetadata is set (include_all_metadata).
func (f *Fake) messageJSON(c *channel, m *message, withMetadata bool) map[string]any {
	o := map[string]any{"type": "message", "ts": m.TS, "text": m.Text, "user": m.User, "team": f.teamID}
	if m.User == f.botUser {
		o["bot_id"], o["app_id"] = f.botID, AppID
	}
	if len(m.Blocks) > 0 {
		o["blocks"] = m.Blocks
	}
	if m.ThreadTS != "" {
		o["thread_ts"] = m.ThreadTS
		if parent := c.message(m.ThreadTS); parent != nil {
			o["parent_user_id"] = parent.User
		}
	} else if replies := c.replies(m.TS); len(replies) > 0 {
		var users []string
		for _, r := range replies {
			if !slices.Contains(users, r.User) {
				users = append(users, r.User)
			}
		}
		o["thread_ts"] = m.TS
		o["reply_count"] = len(replies)
		o["reply_users"] = users
		o["reply_users_count"] = len(users)
		o["latest_reply"] = replies[len(replies)-1].TS
	}
	if m.Edits > 0 {
		o["edited"] = map[string]any{"user": m.editedBy, "ts": m.editedTS}
	}
	if m.Pinned {
		o["pinned_to"] = []string{c.id}
	}
	if len(m.Reactions) > 0 {
		var rs []any
		for _, name := range sortedKeys(m.Reactions) {
			users := m.Reactions[name]
			rs = append(rs, map[string]any{"name": name, "users": users, "count": len(users)})
		}
		o["reactions"] = rs
	}
	if withMetadata && m.Metadata != nil {
		o["metadata"] = m.Metadata
	}
	return o
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func (f *Fake) conversationsHistory(p params) result {
	c, code := f.channelFor(p, "channel", false)
	if code != "" {
		return fail(code)
	}
	if !c.isMember(f.botUser) {
		return fail("not_in_channel") // bots read only channels they are in
	}
	rng, code := readRange(p)
	if code != "" {
		return fail(code)
	}
	if p["cursor"] != "" {
		// The cursor names the newest message of the next page.
		v, valid := parseCursor(p["cursor"], "next_ts")
		latest, validTS := parseTS(v)
		if !valid || !validTS {
			return fail("invalid_cursor")
		}
		rng.latest, rng.latestIncl = latest, true
	}
	limit := min(p.int("limit", 100), 999)
	var out []any
	next := ""
	for i := len(c.msgs) - 1; i >= 0; i-- {
		m := c.msgs[i]
		if m.ThreadTS != "" || !rng.contains(m.TS) {
			continue // thread replies show only in conversations.replies
		}
		if len(out) == limit {
			next = cursor("next_ts", m.TS)
			break
		}
		out = append(out, f.messageJSON(c, m, p.bool("include_all_metadata")))
	}
	pins := 0
	for _, m := range c.msgs {
		if m.Pinned {
			pins++
		}
	}
	res := map[string]any{
		"messages":          nonNil(out),
		"has_more":          next != "",
		"pin_count":         pins,
		"response_metadata": map[string]any{"next_cursor": next},
	}
	if p["latest"] != "" {
		res["latest"] = p["latest"]
	}
	return ok(res)
}

func (f *Fake) conversationsReplies(p params) result {
	c, code := f.channelFor(p, "channel", false)
	if code != "" {
		return fail(code)
	}
	if !c.isMember(f.botUser) {
		return fail("not_in_channel")
	}
	m := c.message(p["ts"])
	if m == nil {
		return fail("thread_not_found")
	}
	if m.ThreadTS != "" {
		m = c.message(m.ThreadTS) // a reply's thread is its parent's
	}
	rng, code := readRange(p)
	if code != "" {
		return fail(code)
	}
	var thread []any
	for _, r := range append([]*message{m}, c.replies(m.TS)...) {
		if rng.contains(r.TS) || r == m {
			thread = append(thread, f.messageJSON(c, r, p.bool("include_all_metadata")))
		}
	}
	thread, next, bad := page(thread, p["cursor"], p.int("limit", 1000))
	if bad {
		return fail("invalid_cursor")
	}
	return ok(map[string]any{
		"messages":          thread,
		"has_more":          next != "",
		"response_metadata": map[string]any{"next_cursor": next},
	})
}

// parseBlocks reads the blocks parameter: nil if absent or empty, or a
// Slack error if it is not a JSON array of at most 50 blocks, each an
// object with a type.
func parseBlocks(p params) (json.RawMessage, string) {
	s, sent := p["blocks"]
	if !sent || strings.TrimSpace(s) == "" {
		return nil, ""
	}
	var blocks []map[string]any
	if err := json.Unmarshal([]byte(s), &blocks); err != nil {
		return nil, "invalid_blocks"
	}
	if len(blocks) > maxBlocks {
		return nil, "invalid_blocks"
	}
	for _, b := range blocks {
		if t, _ := b["type"].(string); t == "" {
			return nil, "invalid_blocks"
		}
	}
	if len(blocks) == 0 {
		return nil, ""
	}
	return json.RawMessage(s), ""
}

// parseMetadata reads the metadata parameter: nil if absent, or a Slack
// error if it is not {"event_type": "...", "event_payload": {...}}.
func parseMetadata(p params) (*Metadata, string) {
	s := p["metadata"]
	if s == "" {
		return nil, ""
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal([]byte(s), &raw); err != nil {
		return nil, "invalid_metadata_format"
	}
	var md Metadata
	if err := json.Unmarshal([]byte(s), &md); err != nil || md.EventType == "" {
		return nil, "invalid_metadata_schema"
	}
	if pl, sent := raw["event_payload"]; sent && string(pl) != "null" && md.EventPayload == nil {
		return nil, "invalid_metadata_schema"
	}
	return &md, ""
}

// checkText returns the Slack error for a message's text and blocks.
func checkText(text string, blocks json.RawMessage) string {
	if text == "" && blocks == nil {
		return "no_text"
	}
	if utf8.RuneCountInString(text) > maxTextLen {
		return "msg_too_long"
	}
	return ""
}

// addMessage posts a message to a channel.
func (f *Fake) addMessage(c *channel, user, text string, blocks json.RawMessage, threadTS string, md *Metadata) *message {
	m := &message{Message: Message{
		Channel: c.id, TS: f.nextTS(), ThreadTS: threadTS, User: user,
		Text: text, Blocks: blocks, Metadata: md, Time: f.now(),
	}}
	c.msgs = append(c.msgs, m)
	return m
}

// addEphemeral shows a message by the bot to one user.
func (f *Fake) addEphemeral(channel, user, text string, blocks json.RawMessage, threadTS string) *message {
	m := &message{Message: Message{
		Channel: channel, TS: f.nextTS(), ThreadTS: threadTS, User: f.botUser,
		Text: text, Blocks: blocks, Ephemeral: true, EphemeralUser: user, Time: f.now(),
	}}
	f.ephemerals = append(f.ephemerals, m)
	return m
}

// allowPost takes a token from the channel's rate limit bucket, and
// reports whether there was one.
func (f *Fake) allowPost(channelID string) bool {
	if f.ratePerSec <= 0 {
		return true
	}
	now := f.now()
	b := f.buckets[channelID]
	if b == nil {
		b = &bucket{tokens: float64(f.rateBurst), last: now}
		f.buckets[channelID] = b
	}
	if elapsed := now.Sub(b.last).Seconds(); elapsed > 0 {
		b.tokens = min(float64(f.rateBurst), b.tokens+elapsed*f.ratePerSec)
	}
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

func (f *Fake) chatPostMessage(p params) result {
	// The bot may post to public channels it is not in (chat:write.public).
	c, code := f.channelFor(p, "channel", true)
	if code != "" {
		return fail(code)
	}
	if !f.allowPost(c.id) {
		return rateLimited(1)
	}
	if c.archived {
		return fail("is_archived")
	}
	blocks, code := parseBlocks(p)
	if code == "" {
		code = checkText(p["text"], blocks)
	}
	md, mdCode := parseMetadata(p)
	if code == "" {
		code = mdCode
	}
	if code != "" {
		return fail(code)
	}
	// A reply to a reply goes to its thread, and one to a message that is
	// not there is posted unthreaded, as Slack does.
	threadTS := p["thread_ts"]
	if threadTS != "" {
		switch parent := c.message(threadTS); {
		case parent == nil:
			threadTS = ""
		case parent.ThreadTS != "":
			threadTS = parent.ThreadTS
		}
	}
	m := f.addMessage(c, f.botUser, p["text"], blocks, threadTS, md)
	return ok(map[string]any{"channel": c.id, "ts": m.TS, "message": f.messageJSON(c, m, true)})
}

func (f *Fake) chatUpdate(p params) result {
	c, code := f.channelFor(p, "channel", false)
	if code != "" {
		return fail(code)
	}
	m := c.message(p["ts"])
	switch {
	case m == nil:
		return fail("message_not_found")
	case c.archived:
		return fail("is_archived")
	case m.User != f.botUser:
		return fail("cant_update_message")
	}
	blocks, code := parseBlocks(p)
	// Absent text or blocks keep the message's own, as in Slack.
	text, newBlocks := m.Text, m.Blocks
	if p.has("text") {
		text = p["text"]
	}
	if p.has("blocks") {
		newBlocks = blocks
	}
	if code == "" {
		code = checkText(text, newBlocks)
	}
	md, mdCode := parseMetadata(p)
	if code == "" {
		code = mdCode
	}
	if code != "" {
		return fail(code)
	}
	m.Text, m.Blocks = text, newBlocks
	if md != nil {
		m.Metadata = md
	}
	m.Edits++
	m.editedBy = f.botUser
	now := f.now()
	m.editedTS = fmt.Sprintf("%d.%06d", now.Unix(), now.Nanosecond()/1000)
	return ok(map[string]any{"channel": c.id, "ts": m.TS, "text": m.Text, "message": f.messageJSON(c, m, true)})
}

func (f *Fake) chatPostEphemeral(p params) result {
	c, code := f.channelFor(p, "channel", true)
	if code != "" {
		return fail(code)
	}
	user := p["user"]
	switch {
	case f.users[user] == nil:
		return fail("user_not_found")
	case c.archived:
		return fail("is_archived")
	case !c.isMember(user):
		return fail("user_not_in_channel")
	}
	blocks, code := parseBlocks(p)
	if code == "" {
		code = checkText(p["text"], blocks)
	}
	if code != "" {
		return fail(code)
	}
	m := f.addEphemeral(c.id, user, p["text"], blocks, p["thread_ts"])
	return ok(map[string]any{"message_ts": m.TS})
}

// permalink is a message's permalink, as Slack makes them.
func (f *Fake) permalink(c *channel, m *message) string {
	link := fmt.Sprintf("https://%s.slack.com/archives/%s/p%s", f.teamDomain, c.id, strings.Replace(m.TS, ".", "", 1))
	if m.ThreadTS != "" {
		link += fmt.Sprintf("?thread_ts=%s&cid=%s", m.ThreadTS, c.id)
	}
	return link
}

func (f *Fake) chatGetPermalink(p params) result {
	c, code := f.channelFor(p, "channel", false)
	if code != "" {
		return fail(code)
	}
	m := c.message(p["message_ts"])
	if m == nil {
		return fail("message_not_found")
	}
	return ok(map[string]any{"channel": c.id, "permalink": f.permalink(c, m)})
}

// --- Pins and reactions ---

// itemFor finds the message in c that pins.* and reactions.* name by
// timestamp.
func itemFor(c *channel, p params) (*message, string) {
	if p["timestamp"] == "" {
		return nil, "no_item_specified"
	}
	m := c.message(p["timestamp"])
	if m == nil {
		return nil, "message_not_found"
	}
	return m, ""
}

func (f *Fake) pinsAdd(p params) result {
	c, code := f.channelFor(p, "channel", false)
	switch {
	case code != "":
		return fail(code)
	case !c.isMember(f.botUser):
		return fail("not_in_channel")
	case c.archived:
		return fail("is_archived")
	}
	m, code := itemFor(c, p)
	switch {
	case code != "":
		return fail(code)
	case m.Pinned:
		return fail("already_pinned")
	}
	m.Pinned = true
	return ok(nil)
}

func (f *Fake) pinsList(p params) result {
	c, code := f.channelFor(p, "channel", false)
	if code != "" {
		return fail(code)
	}
	items := []any{}
	for _, m := range c.msgs {
		if m.Pinned {
			items = append(items, map[string]any{
				"type": "message", "channel": c.id, "message": f.messageJSON(c, m, false),
			})
		}
	}
	return ok(map[string]any{"items": items})
}

func (f *Fake) reactionsAdd(p params) result {
	name := strings.Trim(p["name"], ":")
	if name == "" || strings.ContainsAny(name, " :") {
		return fail("invalid_name")
	}
	c, code := f.channelFor(p, "channel", false)
	if code != "" {
		return fail(code)
	}
	if c.archived {
		return fail("is_archived")
	}
	m, code := itemFor(c, p)
	if code != "" {
		return fail(code)
	}
	if slices.Contains(m.Reactions[name], f.botUser) {
		return fail("already_reacted")
	}
	if m.Reactions == nil {
		m.Reactions = map[string][]string{}
	}
	m.Reactions[name] = append(m.Reactions[name], f.botUser)
	return ok(nil)
}

// --- Users ---

// userJSON is a user as users.* return it.
func (f *Fake) userJSON(u *User) map[string]any {
	profile := map[string]any{
		"real_name":               u.RealName,
		"real_name_normalized":    u.RealName,
		"display_name":            u.Name,
		"display_name_normalized": u.Name,
		"team":                    f.teamID,
	}
	if u.Email != "" {
		profile["email"] = u.Email
	}
	return map[string]any{
		"id":            u.ID,
		"team_id":       f.teamID,
		"name":          u.Name,
		"real_name":     u.RealName,
		"deleted":       u.Deleted,
		"is_bot":        u.IsBot,
		"is_restricted": u.Guest,
		"tz":            "Etc/UTC",
		"tz_label":      "Coordinated Universal Time",
		"tz_offset":     0,
		"profile":       profile,
	}
}

func (f *Fake) usersInfo(p params) result {
	u := f.users[p["user"]]
	if u == nil {
		return fail("user_not_found")
	}
	return ok(map[string]any{"user": f.userJSON(u)})
}

func (f *Fake) usersLookupByEmail(p params) result {
	email := strings.TrimSpace(p["email"])
	for _, id := range f.userOrder {
		if u := f.users[id]; email != "" && strings.EqualFold(u.Email, email) {
			return ok(map[string]any{"user": f.userJSON(u)})
		}
	}
	return fail("users_not_found")
}

// --- Views ---

// parseView reads a view parameter: a JSON object of type "modal".
func parseView(s string) (map[string]any, bool) {
	var v map[string]any
	if err := json.Unmarshal([]byte(s), &v); err != nil || v == nil || v["type"] != "modal" {
		return nil, false
	}
	return v, true
}

// viewJSON is a view as views.* return it: as sent, with Slack's fields.
func (f *Fake) viewJSON(v *view) map[string]any {
	var o map[string]any
	_ = json.Unmarshal(v.JSON, &o)
	o["id"] = v.ID
	o["team_id"] = f.teamID
	o["app_id"] = AppID
	o["bot_id"] = f.botID
	o["hash"] = v.hash
	o["root_view_id"] = v.ID
	o["previous_view_id"] = nil
	o["app_installed_team_id"] = f.teamID
	if _, ok := o["state"]; !ok {
		o["state"] = map[string]any{"values": map[string]any{}}
	}
	return o
}

// str reads a string field of a JSON object.
func str(o map[string]any, k string) string { s, _ := o[k].(string); return s }

func (f *Fake) viewsOpen(p params) result {
	id := p["trigger_id"]
	tr := f.triggers[id]
	switch {
	case tr == nil:
		return fail("invalid_trigger_id")
	case tr.used:
		return fail("exchanged_trigger_id")
	case f.now().Sub(tr.minted) > triggerLifetime:
		return fail("expired_trigger_id")
	}
	v, valid := parseView(p["view"])
	if !valid {
		return fail("invalid_arguments")
	}
	ext := str(v, "external_id")
	if ext != "" && f.viewByExternalID(ext) != nil {
		return fail("duplicate_external_id")
	}
	tr.used = true
	f.seq.view++
	vw := &view{View: View{
		ID:         fmt.Sprintf("V%07d", f.seq.view),
		TriggerID:  id,
		CallbackID: str(v, "callback_id"),
		ExternalID: ext,
		JSON:       json.RawMessage(p["view"]),
	}}
	vw.hash = fmt.Sprintf("%s.%d", vw.ID, vw.Updated)
	f.views = append(f.views, vw)
	return ok(map[string]any{"view": f.viewJSON(vw)})
}

func (f *Fake) viewByExternalID(ext string) *view {
	for _, v := range f.views {
		if v.ExternalID == ext {
			return v
		}
	}
	return nil
}

func (f *Fake) viewsUpdate(p params) result {
	var vw *view
	switch {
	case p["view_id"] != "":
		for _, v := range f.views {
			if v.ID == p["view_id"] {
				vw = v
			}
		}
	case p["external_id"] != "":
		vw = f.viewByExternalID(p["external_id"])
	default:
		return fail("invalid_arguments")
	}
	if vw == nil {
		return fail("not_found")
	}
	if h := p["hash"]; h != "" && h != vw.hash {
		return fail("hash_conflict")
	}
	v, valid := parseView(p["view"])
	if !valid {
		return fail("invalid_arguments")
	}
	vw.JSON = json.RawMessage(p["view"])
	vw.CallbackID = str(v, "callback_id")
	if ext := str(v, "external_id"); ext != "" {
		vw.ExternalID = ext
	}
	vw.Updated++
	vw.hash = fmt.Sprintf("%s.%d", vw.ID, vw.Updated)
	return ok(map[string]any{"view": f.viewJSON(vw)})
}
