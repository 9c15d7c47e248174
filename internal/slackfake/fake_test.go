package slackfake

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/warroomhq/warroom/internal/clock"
)

var start = time.Date(2026, 11, 3, 14, 2, 0, 0, time.UTC)

const (
	alice = "U01ALICE"
	bob   = "U01BOB"
)

// newFake starts a fake with a manual clock, alice and bob, and a slack-go
// client pointed at it.
func newFake(t *testing.T, opts ...Option) (*Fake, *slack.Client, *clock.Manual) {
	t.Helper()
	clk := clock.NewManual(start)
	f := New(append([]Option{WithClock(clk.Now)}, opts...)...)
	t.Cleanup(f.Close)
	f.AddUser(User{ID: alice, Name: "alice", RealName: "Alice Archer", Email: "alice@example.com"})
	f.AddUser(User{ID: bob, Name: "bob", RealName: "Bob Baker", Email: "bob@example.com"})
	return f, slack.New(f.Token(), slack.OptionAPIURL(f.APIURL())), clk
}

// slackErr asserts that err is the Slack error code.
func slackErr(t *testing.T, err error, code string) {
	t.Helper()
	var se slack.SlackErrorResponse
	if !errors.As(err, &se) || se.Err != code {
		t.Fatalf("want Slack error %q, got %v (%T)", code, err, err)
	}
}

// must fails the test on err.
func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// rawCall posts a form to a Web API method, bypassing slack-go, and
// returns the decoded answer.
func rawCall(t *testing.T, f *Fake, method string, form url.Values) (int, map[string]any) {
	t.Helper()
	resp, err := http.PostForm(f.APIURL()+method, form)
	must(t, err)
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("%s: decoding answer: %v", method, err)
	}
	return resp.StatusCode, out
}

func TestCreateChannelValidatesLikeSlack(t *testing.T) {
	f, api, _ := newFake(t)
	ch, err := api.CreateConversation(slack.CreateConversationParams{ChannelName: "inc-7-checkout"})
	must(t, err)
	if ch.ID != "C0000001" || ch.Name != "inc-7-checkout" || !ch.IsMember || ch.Creator != f.BotUser() || ch.IsPrivate {
		t.Fatalf("created %+v", ch.GroupConversation)
	}
	got, ok := f.Channel("#inc-7-checkout")
	if !ok || got.ID != ch.ID || !slices.Equal(got.Members, []string{f.BotUser()}) || !got.Created.Equal(start) {
		t.Fatalf("Channel: %+v %v", got, ok)
	}

	f.AddChannel("old-incident", alice)
	f.Archive("old-incident")
	for _, tc := range []struct{ name, code string }{
		{"inc-7-checkout", "name_taken"},
		{"old-incident", "name_taken"}, // archived channels keep their names
		{"", "invalid_name_required"},
		{"Inc-8", "invalid_name_specials"},
		{"inc 8", "invalid_name_specials"},
		{"inc.8", "invalid_name_specials"},
		{"---", "invalid_name_punctuation"},
		{strings.Repeat("a", 81), "invalid_name_maxlength"},
	} {
		_, err := api.CreateConversation(slack.CreateConversationParams{ChannelName: tc.name})
		slackErr(t, err, tc.code)
	}
	if _, err := api.CreateConversation(slack.CreateConversationParams{ChannelName: strings.Repeat("a", 80)}); err != nil {
		t.Fatalf("80 characters: %v", err)
	}
	if n := len(f.Channels()); n != 3 {
		t.Fatalf("%d channels after failed creates, want 3", n)
	}
	if n := f.CountCalls("conversations.create", true); n != 2 {
		t.Fatalf("CountCalls ok = %d, want 2", n)
	}
	if n := f.CountCalls("conversations.create", false); n != 10 {
		t.Fatalf("CountCalls all = %d, want 10", n)
	}

	// A private channel is invisible to the bot unless it is in it.
	priv, err := api.CreateConversation(slack.CreateConversationParams{ChannelName: "inc-9-secret", IsPrivate: true})
	must(t, err)
	if !priv.IsPrivate {
		t.Fatal("is_private not kept")
	}
	info, err := api.GetConversationInfo(&slack.GetConversationInfoInput{ChannelID: priv.ID})
	must(t, err)
	if info.Name != "inc-9-secret" || !info.IsPrivate {
		t.Fatalf("info %+v", info.GroupConversation)
	}
	_, err = api.GetConversationInfo(&slack.GetConversationInfoInput{ChannelID: "C9999999"})
	slackErr(t, err, "channel_not_found")
	// conversations.* take IDs, not names.
	_, err = api.GetConversationInfo(&slack.GetConversationInfoInput{ChannelID: "inc-7-checkout"})
	slackErr(t, err, "channel_not_found")
}

func TestConversationsListPaginates(t *testing.T) {
	f, api, _ := newFake(t)
	for _, name := range []string{"a", "b", "c", "d", "e"} {
		f.AddChannel(name)
	}
	f.Archive("c")
	var names []string
	cursor := ""
	pages := 0
	for {
		chs, next, err := api.GetConversations(&slack.GetConversationsParameters{Limit: 2, Cursor: cursor, ExcludeArchived: true})
		must(t, err)
		pages++
		for _, c := range chs {
			names = append(names, c.Name)
		}
		if next == "" {
			break
		}
		cursor = next
	}
	if !slices.Equal(names, []string{"a", "b", "d", "e"}) || pages != 2 {
		t.Fatalf("listed %v in %d pages", names, pages)
	}
	_, _, err := api.GetConversations(&slack.GetConversationsParameters{Cursor: "bogus"})
	slackErr(t, err, "invalid_cursor")
}

func TestTopicAndInvite(t *testing.T) {
	f, api, clk := newFake(t)
	ch, err := api.CreateConversation(slack.CreateConversationParams{ChannelName: "inc-7"})
	must(t, err)
	clk.Advance(time.Minute)
	got, err := api.SetTopicOfConversation(ch.ID, "SEV2 · investigating")
	must(t, err)
	if got.Topic.Value != "SEV2 · investigating" || got.Topic.Creator != f.BotUser() || got.Topic.LastSet.Time().Unix() != start.Add(time.Minute).Unix() {
		t.Fatalf("topic %+v", got.Topic)
	}
	_, err = api.SetTopicOfConversation(ch.ID, strings.Repeat("x", 251))
	slackErr(t, err, "too_long")
	if c, _ := f.Channel(ch.ID); c.Topic != "SEV2 · investigating" {
		t.Fatalf("topic after too_long: %q", c.Topic)
	}
	_, err = api.SetPurposeOfConversation(ch.ID, "Checkout 502s")
	must(t, err)

	incidents := f.AddChannel("incidents", alice)
	_, err = api.SetTopicOfConversation(incidents, "x")
	slackErr(t, err, "not_in_channel")
	_, err = api.SetTopicOfConversation("C9999999", "x")
	slackErr(t, err, "channel_not_found")

	_, err = api.InviteUsersToConversation(ch.ID, alice)
	must(t, err)
	_, err = api.InviteUsersToConversation(ch.ID, bob, alice)
	slackErr(t, err, "already_in_channel")
	var se slack.SlackErrorResponse
	errors.As(err, &se)
	if len(se.Errors) != 1 || se.Errors[0].ConversationsInviteResponseError == nil || se.Errors[0].ConversationsInviteResponseError.User != alice {
		t.Fatalf("errors %+v", se.Errors)
	}
	_, err = api.InviteUsersToConversation(ch.ID, "U0NOBODY")
	slackErr(t, err, "user_not_found")
	_, err = api.InviteUsersToConversation(ch.ID, f.BotUser())
	slackErr(t, err, "cant_invite_self")
	_, err = api.InviteUsersToConversation(incidents, bob)
	slackErr(t, err, "not_in_channel")

	c, _ := f.Channel(ch.ID)
	if !slices.Equal(c.Members, []string{f.BotUser(), alice}) || c.Purpose != "Checkout 502s" {
		t.Fatalf("channel %+v (a failed invite must invite nobody)", c)
	}
	members, _, err := api.GetUsersInConversation(&slack.GetUsersInConversationParameters{ChannelID: ch.ID})
	must(t, err)
	if !slices.Equal(members, c.Members) {
		t.Fatalf("members %v", members)
	}

	// Joining makes the bot a member; joining again only warns.
	_, _, _, err = api.JoinConversation(incidents)
	must(t, err)
	_, warning, _, err := api.JoinConversation(incidents)
	must(t, err)
	if warning != "already_in_channel" {
		t.Fatalf("warning %q", warning)
	}
	_, err = api.SetTopicOfConversation(incidents, "All incidents")
	must(t, err)
}

func TestPostHistoryUpdatePin(t *testing.T) {
	f, api, clk := newFake(t)
	ch, err := api.CreateConversation(slack.CreateConversationParams{ChannelName: "inc-7"})
	must(t, err)
	_, err = api.InviteUsersToConversation(ch.ID, alice)
	must(t, err)

	blocks := []slack.Block{
		slack.NewHeaderBlock(slack.NewTextBlockObject("plain_text", "INC-7", false, false)),
		slack.NewSectionBlock(slack.NewTextBlockObject("mrkdwn", "*SEV2* checkout", false, false), nil, nil),
	}
	md := slack.SlackMetadata{EventType: "warroom_summary", EventPayload: map[string]any{"incident": "INC-7", "version": 3}}
	chID, ts, err := api.PostMessage(ch.ID, slack.MsgOptionText("INC-7 summary", false), slack.MsgOptionBlocks(blocks...), slack.MsgOptionMetadata(md))
	must(t, err)
	if chID != ch.ID || !regexp.MustCompile(`^\d{10}\.\d{6}$`).MatchString(ts) {
		t.Fatalf("posted to %q at %q", chID, ts)
	}
	msgs := f.Messages("inc-7")
	if len(msgs) != 1 || msgs[0].Text != "INC-7 summary" || msgs[0].User != f.BotUser() || msgs[0].Metadata == nil ||
		msgs[0].Metadata.EventType != "warroom_summary" || msgs[0].Metadata.EventPayload["incident"] != "INC-7" {
		t.Fatalf("messages %+v", msgs)
	}
	var sent []map[string]any
	must(t, json.Unmarshal(msgs[0].Blocks, &sent))
	if len(sent) != 2 || sent[0]["type"] != "header" {
		t.Fatalf("blocks %s", msgs[0].Blocks)
	}

	// History shows metadata only when asked for it.
	h, err := api.GetConversationHistory(&slack.GetConversationHistoryParameters{ChannelID: ch.ID, IncludeAllMetadata: true})
	must(t, err)
	if len(h.Messages) != 1 || h.Messages[0].Metadata.EventType != "warroom_summary" || h.Messages[0].Metadata.EventPayload["version"] != float64(3) ||
		len(h.Messages[0].Blocks.BlockSet) != 2 || h.Messages[0].BotID != f.BotID() {
		t.Fatalf("history %+v", h.Messages)
	}
	h, err = api.GetConversationHistory(&slack.GetConversationHistoryParameters{ChannelID: ch.ID})
	must(t, err)
	if h.Messages[0].Metadata.EventType != "" {
		t.Fatal("metadata without include_all_metadata")
	}

	// Validation.
	_, _, err = api.PostMessage(ch.ID)
	slackErr(t, err, "no_text")
	_, _, err = api.PostMessage(ch.ID, slack.MsgOptionText(strings.Repeat("x", 40001), false))
	slackErr(t, err, "msg_too_long")
	_, _, err = api.PostMessage("C9999999", slack.MsgOptionText("x", false))
	slackErr(t, err, "channel_not_found")
	for _, bad := range []string{`{"type":"section"}`, `[{"text":"no type"}]`, `not json`} {
		_, out := rawCall(t, f, "chat.postMessage", url.Values{"token": {f.Token()}, "channel": {ch.ID}, "text": {"x"}, "blocks": {bad}})
		if out["error"] != "invalid_blocks" {
			t.Fatalf("blocks %s: %v", bad, out)
		}
	}
	_, out := rawCall(t, f, "chat.postMessage", url.Values{"token": {f.Token()}, "channel": {ch.ID}, "text": {"x"}, "metadata": {`{"event_payload":{}}`}})
	if out["error"] != "invalid_metadata_schema" {
		t.Fatalf("metadata without event_type: %v", out)
	}
	if n := len(f.Messages(ch.ID)); n != 1 {
		t.Fatalf("%d messages after refused posts", n)
	}

	// The bot posts to a public channel it is not in, by name.
	incidents := f.AddChannel("incidents", alice)
	chID, _, err = api.PostMessage("#incidents", slack.MsgOptionText("INC-7 declared", false))
	must(t, err)
	if chID != incidents {
		t.Fatalf("posted to %q", chID)
	}
	// But it cannot read it.
	_, err = api.GetConversationHistory(&slack.GetConversationHistoryParameters{ChannelID: incidents})
	slackErr(t, err, "not_in_channel")

	// Update: text changes, blocks stay, edits are counted.
	clk.Advance(time.Second)
	_, _, _, err = api.UpdateMessage(ch.ID, ts, slack.MsgOptionText("INC-7 summary v2", false))
	must(t, err)
	m, _ := f.Message(ch.ID, ts)
	if m.Text != "INC-7 summary v2" || m.Edits != 1 || len(m.Blocks) == 0 {
		t.Fatalf("after update %+v", m)
	}
	h, err = api.GetConversationHistory(&slack.GetConversationHistoryParameters{ChannelID: ch.ID, Latest: ts, Inclusive: true, Limit: 1})
	must(t, err)
	if h.Messages[0].Edited == nil || h.Messages[0].Edited.User != f.BotUser() {
		t.Fatalf("edited %+v", h.Messages[0].Edited)
	}
	_, _, _, err = api.UpdateMessage(ch.ID, "1.000001", slack.MsgOptionText("x", false))
	slackErr(t, err, "message_not_found")
	aliceTS := f.Post(ch.ID, alice, "I'm on it")
	_, _, _, err = api.UpdateMessage(ch.ID, aliceTS, slack.MsgOptionText("x", false))
	slackErr(t, err, "cant_update_message")

	// Pins.
	must(t, api.AddPin(ch.ID, slack.NewRefToMessage(ch.ID, ts)))
	slackErr(t, api.AddPin(ch.ID, slack.NewRefToMessage(ch.ID, ts)), "already_pinned")
	slackErr(t, api.AddPin(ch.ID, slack.NewRefToMessage(ch.ID, "1.000001")), "message_not_found")
	slackErr(t, api.AddPin("C9999999", slack.NewRefToMessage("C9999999", ts)), "channel_not_found")
	incTS := f.Messages(incidents)[0].TS
	slackErr(t, api.AddPin(incidents, slack.NewRefToMessage(incidents, incTS)), "not_in_channel")
	items, _, err := api.ListPins(ch.ID)
	must(t, err)
	if len(items) != 1 || items[0].Message == nil || items[0].Message.Timestamp != ts {
		t.Fatalf("pins %+v", items)
	}
	if m, _ := f.Message(ch.ID, ts); !m.Pinned {
		t.Fatal("not pinned")
	}

	// Reactions.
	must(t, api.AddReaction("eyes", slack.NewRefToMessage(ch.ID, aliceTS)))
	slackErr(t, api.AddReaction("eyes", slack.NewRefToMessage(ch.ID, aliceTS)), "already_reacted")
	if m, _ := f.Message(ch.ID, aliceTS); !slices.Equal(m.Reactions["eyes"], []string{f.BotUser()}) {
		t.Fatalf("reactions %v", m.Reactions)
	}

	// Permalinks.
	link, err := api.GetPermalink(&slack.PermalinkParameters{Channel: ch.ID, Ts: ts})
	must(t, err)
	if want := "https://warroom-test.slack.com/archives/" + ch.ID + "/p" + strings.Replace(ts, ".", "", 1); link != want {
		t.Fatalf("permalink %q, want %q", link, want)
	}
	_, err = api.GetPermalink(&slack.PermalinkParameters{Channel: ch.ID, Ts: "1.000001"})
	slackErr(t, err, "message_not_found")
}

func TestHistoryPagesNewestFirst(t *testing.T) {
	f, api, clk := newFake(t)
	ch := f.AddChannel("incidents", f.BotUser())
	var all []string
	for i := range 5 {
		all = append(all, f.Post(ch, alice, fmt.Sprint("m", i)))
		clk.Advance(time.Second)
	}
	var got []string
	params := &slack.GetConversationHistoryParameters{ChannelID: ch, Limit: 2}
	for {
		h, err := api.GetConversationHistory(params)
		must(t, err)
		for _, m := range h.Messages {
			got = append(got, m.Text)
		}
		if !h.HasMore {
			break
		}
		params.Cursor = h.ResponseMetaData.NextCursor
	}
	if !slices.Equal(got, []string{"m4", "m3", "m2", "m1", "m0"}) {
		t.Fatalf("pages gave %v", got)
	}
	// oldest/latest bounds, exclusive unless inclusive.
	h, err := api.GetConversationHistory(&slack.GetConversationHistoryParameters{ChannelID: ch, Oldest: all[1], Latest: all[3]})
	must(t, err)
	if len(h.Messages) != 1 || h.Messages[0].Text != "m2" {
		t.Fatalf("exclusive range %+v", h.Messages)
	}
	h, err = api.GetConversationHistory(&slack.GetConversationHistoryParameters{ChannelID: ch, Oldest: all[1], Latest: all[3], Inclusive: true})
	must(t, err)
	if len(h.Messages) != 3 {
		t.Fatalf("inclusive range %d messages", len(h.Messages))
	}
}

func TestThreads(t *testing.T) {
	f, api, _ := newFake(t)
	ch := f.AddChannel("inc-7", f.BotUser(), alice)
	parent := f.Post(ch, alice, "what broke?")
	_, reply, err := api.PostMessage(ch, slack.MsgOptionText("the load balancer", false), slack.MsgOptionTS(parent))
	must(t, err)
	// A reply to a reply goes to the thread.
	_, _, msg, err := api.PostMessageWithResponse(ch, slack.MsgOptionText("and DNS", false), slack.MsgOptionTS(reply))
	must(t, err)
	if msg.ThreadTimestamp != parent {
		t.Fatalf("reply to reply threaded to %q", msg.ThreadTimestamp)
	}
	// A reply to a message that is not there is posted unthreaded.
	_, _, msg, err = api.PostMessageWithResponse(ch, slack.MsgOptionText("lost", false), slack.MsgOptionTS("1.000001"))
	must(t, err)
	if msg.ThreadTimestamp != "" {
		t.Fatalf("reply to nothing threaded to %q", msg.ThreadTimestamp)
	}

	thread, _, _, err := api.GetConversationReplies(&slack.GetConversationRepliesParameters{ChannelID: ch, Timestamp: reply})
	must(t, err)
	var texts []string
	for _, m := range thread {
		texts = append(texts, m.Text)
	}
	if !slices.Equal(texts, []string{"what broke?", "the load balancer", "and DNS"}) || thread[0].ReplyCount != 2 {
		t.Fatalf("thread %v (reply count %d)", texts, thread[0].ReplyCount)
	}
	_, _, _, err = api.GetConversationReplies(&slack.GetConversationRepliesParameters{ChannelID: ch, Timestamp: "1.000001"})
	slackErr(t, err, "thread_not_found")

	h, err := api.GetConversationHistory(&slack.GetConversationHistoryParameters{ChannelID: ch})
	must(t, err)
	if len(h.Messages) != 2 || h.Messages[0].Text != "lost" || h.Messages[1].Text != "what broke?" {
		t.Fatalf("history shows thread replies: %+v", h.Messages)
	}
}

func TestEphemeralAndUsers(t *testing.T) {
	f, api, _ := newFake(t)
	ch := f.AddChannel("inc-7", f.BotUser(), alice)
	ts, err := api.PostEphemeral(ch, alice, slack.MsgOptionText("only for you", false))
	must(t, err)
	_, err = api.PostEphemeral(ch, bob, slack.MsgOptionText("x", false))
	slackErr(t, err, "user_not_in_channel")
	_, err = api.PostEphemeral(ch, "U0NOBODY", slack.MsgOptionText("x", false))
	slackErr(t, err, "user_not_found")
	_, err = api.PostEphemeral("C9999999", alice, slack.MsgOptionText("x", false))
	slackErr(t, err, "channel_not_found")
	eph := f.Ephemerals()
	if len(eph) != 1 || eph[0].TS != ts || eph[0].EphemeralUser != alice || !eph[0].Ephemeral || eph[0].Text != "only for you" {
		t.Fatalf("ephemerals %+v", eph)
	}
	if len(f.Messages(ch)) != 0 {
		t.Fatal("ephemeral message in the channel's messages")
	}

	u, err := api.GetUserByEmail("Alice@Example.com")
	must(t, err)
	if u.ID != alice || u.Name != "alice" || u.RealName != "Alice Archer" || u.Profile.Email != "alice@example.com" {
		t.Fatalf("user %+v", u)
	}
	_, err = api.GetUserByEmail("carol@example.com")
	slackErr(t, err, "users_not_found")
	u, err = api.GetUserInfo(bob)
	must(t, err)
	if u.Name != "bob" {
		t.Fatalf("users.info %+v", u)
	}
	_, err = api.GetUserInfo("U0NOBODY")
	slackErr(t, err, "user_not_found")
}

func TestViews(t *testing.T) {
	f, api, clk := newFake(t)
	modal := slack.ModalViewRequest{
		Type:       slack.VTModal,
		Title:      slack.NewTextBlockObject("plain_text", "Declare", false, false),
		CallbackID: "declare",
		Blocks: slack.Blocks{BlockSet: []slack.Block{
			slack.NewInputBlock("title", slack.NewTextBlockObject("plain_text", "Title", false, false), nil,
				slack.NewPlainTextInputBlockElement(nil, "title")),
		}},
	}
	trigger := f.NewTriggerID()
	resp, err := api.OpenView(trigger, modal)
	must(t, err)
	if resp.ID != "V0000001" || resp.CallbackID != "declare" || resp.Title.Text != "Declare" || len(resp.Blocks.BlockSet) != 1 {
		t.Fatalf("view %+v", resp.View)
	}
	_, err = api.OpenView(trigger, modal)
	slackErr(t, err, "exchanged_trigger_id")
	_, err = api.OpenView("T-made-up", modal)
	slackErr(t, err, "invalid_trigger_id")
	_, out := rawCall(t, f, "views.open", url.Values{"token": {f.Token()}, "view": {`{"type":"modal"}`}})
	if out["error"] != "invalid_trigger_id" {
		t.Fatalf("empty trigger: %v", out)
	}
	late := f.NewTriggerID()
	clk.Advance(4 * time.Second) // triggers live 3 seconds
	_, err = api.OpenView(late, modal)
	slackErr(t, err, "expired_trigger_id")

	modal.Title = slack.NewTextBlockObject("plain_text", "Declared", false, false)
	resp, err = api.UpdateView(modal, "", resp.Hash, resp.ID)
	must(t, err)
	if resp.Title.Text != "Declared" {
		t.Fatalf("updated view %+v", resp.View)
	}
	_, err = api.UpdateView(modal, "", "", "V9999999")
	slackErr(t, err, "not_found")
	_, err = api.UpdateView(modal, "", "stale-hash", "V0000001")
	slackErr(t, err, "hash_conflict")
	views := f.Views()
	if len(views) != 1 || views[0].TriggerID != trigger || views[0].Updated != 1 || !strings.Contains(string(views[0].JSON), "Declared") {
		t.Fatalf("views %+v", views)
	}
}

func TestAuth(t *testing.T) {
	f, api, _ := newFake(t)
	at, err := api.AuthTest()
	must(t, err)
	if at.UserID != DefaultBotUser || at.BotID != "BWARROOMBOT" || at.TeamID != DefaultTeamID || at.URL != "https://warroom-test.slack.com/" {
		t.Fatalf("auth.test %+v", at)
	}
	_, err = slack.New("xoxb-wrong", slack.OptionAPIURL(f.APIURL())).AuthTest()
	slackErr(t, err, "invalid_auth")
	_, out := rawCall(t, f, "auth.test", nil)
	if out["error"] != "not_authed" {
		t.Fatalf("no token: %v", out)
	}
	_, out = rawCall(t, f, "chat.delete", url.Values{"token": {f.Token()}})
	if out["error"] != "unknown_method" {
		t.Fatalf("unknown method: %v", out)
	}
	// JSON bodies carry the token in the Authorization header only.
	post := func(auth string, body string) map[string]any {
		req, _ := http.NewRequest(http.MethodPost, f.APIURL()+"chat.postMessage", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json; charset=utf-8")
		if auth != "" {
			req.Header.Set("Authorization", "Bearer "+auth)
		}
		resp, err := http.DefaultClient.Do(req)
		must(t, err)
		defer resp.Body.Close()
		var out map[string]any
		must(t, json.NewDecoder(resp.Body).Decode(&out))
		return out
	}
	ch := f.AddChannel("inc-7")
	out = post(f.Token(), `{"channel":"#inc-7","text":"hi","blocks":[{"type":"divider"}],"metadata":{"event_type":"x","event_payload":{"n":1}}}`)
	if out["ok"] != true || out["channel"] != ch {
		t.Fatalf("JSON post: %v", out)
	}
	if m := f.Messages(ch)[0]; string(m.Blocks) != `[{"type":"divider"}]` || m.Metadata.EventPayload["n"] != float64(1) {
		t.Fatalf("JSON post made %+v", m)
	}
	if out = post("", `{"token":"`+f.Token()+`","channel":"#inc-7","text":"hi"}`); out["error"] != "not_authed" {
		t.Fatalf("token in a JSON body: %v", out)
	}
	if out = post(f.Token(), `{"channel":`); out["error"] != "invalid_json" {
		t.Fatalf("bad JSON: %v", out)
	}

	calls := f.Calls("auth.test")
	if len(calls) != 3 || calls[1].Error != "invalid_auth" || calls[0].Status != 200 || calls[0].Params["token"] != "" {
		t.Fatalf("calls %+v", calls)
	}
}

func TestFaults(t *testing.T) {
	f, api, clk := newFake(t)
	ch := f.AddChannel("inc-7", f.BotUser())

	f.FailNext("chat.postMessage", 1, Fault{Status: http.StatusTooManyRequests, RetryAfter: 1500 * time.Millisecond})
	_, _, err := api.PostMessage(ch, slack.MsgOptionText("hello", false))
	var rl *slack.RateLimitedError
	if !errors.As(err, &rl) || rl.RetryAfter != 2*time.Second {
		t.Fatalf("want RateLimitedError after 2s, got %v", err)
	}
	f.FailNext("", 1, Fault{Status: http.StatusServiceUnavailable})
	_, _, err = api.PostMessage(ch, slack.MsgOptionText("hello", false))
	var sce slack.StatusCodeError
	if !errors.As(err, &sce) || sce.Code != 503 {
		t.Fatalf("want StatusCodeError 503, got %v", err)
	}
	f.FailNext("conversations.create", 1, Fault{Error: "fatal_error"})
	_, err = api.CreateConversation(slack.CreateConversationParams{ChannelName: "inc-8"})
	slackErr(t, err, "fatal_error")
	if len(f.Messages(ch)) != 0 || len(f.Channels()) != 1 {
		t.Fatal("a faulted call changed state")
	}
	// The faults are used up.
	_, _, err = api.PostMessage(ch, slack.MsgOptionText("hello", false))
	must(t, err)
	_, err = api.CreateConversation(slack.CreateConversationParams{ChannelName: "inc-8"})
	must(t, err)

	calls := f.Calls("chat.postMessage")
	if len(calls) != 3 || !calls[0].Faulted || calls[0].Status != 429 || calls[1].Status != 503 || calls[2].Faulted ||
		calls[2].Params["text"] != "hello" || !calls[2].At.Equal(start) {
		t.Fatalf("calls %+v", calls)
	}

	// A fault function sees each method's call count.
	var seen []int
	f.SetFaultFunc(func(method string, n int) Fault {
		if method != "chat.postMessage" {
			return Fault{}
		}
		seen = append(seen, n)
		if n%2 == 0 {
			return Fault{Status: 500}
		}
		return Fault{}
	})
	clk.Advance(time.Second)
	_, _, err = api.PostMessage(ch, slack.MsgOptionText("4th", false))
	if !errors.As(err, &sce) || sce.Code != 500 {
		t.Fatalf("4th call: %v", err)
	}
	_, _, err = api.PostMessage(ch, slack.MsgOptionText("5th", false))
	must(t, err)
	f.SetFaultFunc(nil)
	if !slices.Equal(seen, []int{4, 5}) {
		t.Fatalf("fault func saw %v", seen)
	}

	// A slow answer that the client gives up on: Slack still posted.
	f.FailNext("chat.postMessage", 1, Fault{Delay: time.Minute})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, _, err = api.PostMessageContext(ctx, ch, slack.MsgOptionText("slow", false))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("slow call: %v", err)
	}
	msgs := f.Messages(ch)
	if last := msgs[len(msgs)-1]; last.Text != "slow" {
		t.Fatalf("the slow post was not made: %+v", last)
	}
}

func TestChannelRateLimit(t *testing.T) {
	f, api, clk := newFake(t, WithChannelRateLimit(1, 1))
	a := f.AddChannel("a")
	b := f.AddChannel("b")
	_, _, err := api.PostMessage(a, slack.MsgOptionText("1", false))
	must(t, err)
	_, _, err = api.PostMessage(a, slack.MsgOptionText("2", false))
	var rl *slack.RateLimitedError
	if !errors.As(err, &rl) || rl.RetryAfter != time.Second {
		t.Fatalf("second post in a second: %v", err)
	}
	_, _, err = api.PostMessage(b, slack.MsgOptionText("other channel", false))
	must(t, err)
	clk.Advance(time.Second)
	_, _, err = api.PostMessage(a, slack.MsgOptionText("3", false))
	must(t, err)
	if n := len(f.Messages(a)); n != 2 {
		t.Fatalf("%d messages in a, want 2", n)
	}
	if c := f.Calls("chat.postMessage")[1]; c.Status != 429 || c.Faulted {
		t.Fatalf("rate limited call %+v", c)
	}
}

func TestConcurrentPostsGetUniqueIncreasingTS(t *testing.T) {
	f, api, _ := newFake(t) // the clock stands still
	ch := f.AddChannel("inc-7")
	var (
		mu  sync.Mutex
		tss []string
		wg  sync.WaitGroup
	)
	for g := range 8 {
		wg.Go(func() {
			for i := range 10 {
				_, ts, err := api.PostMessage(ch, slack.MsgOptionText(fmt.Sprint(g, "-", i), false))
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				tss = append(tss, ts)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	msgs := f.Messages(ch)
	if len(msgs) != 80 || len(tss) != 80 {
		t.Fatalf("%d messages, %d ts", len(msgs), len(tss))
	}
	seen := map[string]bool{}
	for i, m := range msgs {
		if seen[m.TS] {
			t.Fatalf("ts %s twice", m.TS)
		}
		seen[m.TS] = true
		if i > 0 && m.TS <= msgs[i-1].TS {
			t.Fatalf("ts not increasing: %s after %s", m.TS, msgs[i-1].TS)
		}
		if !strings.HasPrefix(m.TS, fmt.Sprint(start.Unix(), ".")) {
			t.Fatalf("ts %s not from the clock", m.TS)
		}
	}
	for _, ts := range tss {
		if !seen[ts] {
			t.Fatalf("returned ts %s not in channel", ts)
		}
	}
}

func TestResponseURL(t *testing.T) {
	f, api, _ := newFake(t)
	ch := f.AddChannel("inc-7", f.BotUser(), alice)
	u := f.NewResponseURL(ch, alice)
	if !strings.HasPrefix(u, f.URL()+"/response/") {
		t.Fatalf("response URL %q", u)
	}
	_, _, err := api.PostMessage("", slack.MsgOptionResponseURL(u, slack.ResponseTypeEphemeral), slack.MsgOptionText("only alice", false))
	must(t, err)
	_, _, err = api.PostMessage("", slack.MsgOptionResponseURL(u, slack.ResponseTypeInChannel), slack.MsgOptionText("everyone", false))
	must(t, err)
	if eph := f.Ephemerals(); len(eph) != 1 || eph[0].Text != "only alice" || eph[0].EphemeralUser != alice || eph[0].Channel != ch {
		t.Fatalf("ephemerals %+v", eph)
	}
	if msgs := f.Messages(ch); len(msgs) != 1 || msgs[0].Text != "everyone" || msgs[0].User != f.BotUser() {
		t.Fatalf("messages %+v", msgs)
	}
	for range 3 {
		_, _, err = api.PostMessage("", slack.MsgOptionResponseURL(u, slack.ResponseTypeEphemeral), slack.MsgOptionText("again", false))
		must(t, err)
	}
	_, _, err = api.PostMessage("", slack.MsgOptionResponseURL(u, slack.ResponseTypeEphemeral), slack.MsgOptionText("sixth", false))
	if err == nil {
		t.Fatal("a response URL took a sixth reply")
	}
	rs := f.Responses()
	var first map[string]any
	must(t, json.Unmarshal(rs[0], &first))
	if len(rs) != 5 || first["text"] != "only alice" {
		t.Fatalf("responses %s", rs)
	}
	if c := f.Calls("response_url"); len(c) != 6 || c[1].Params["response_type"] != "in_channel" || c[5].Status != 404 {
		t.Fatalf("calls %+v", c)
	}
}

func TestTranscript(t *testing.T) {
	f, api, clk := newFake(t)
	f.AddChannel("incidents", alice, bob)
	_, _, err := api.PostMessage("#incidents", slack.MsgOptionText("<@U01ALICE> declared <https://warroom.example/i/7|INC-7> &lt;SEV2&gt;", false))
	must(t, err)

	clk.Advance(30 * time.Second)
	ch, err := api.CreateConversation(slack.CreateConversationParams{ChannelName: "inc-7-checkout"})
	must(t, err)
	_, err = api.SetTopicOfConversation(ch.ID, "SEV2 · investigating · lead @alice")
	must(t, err)
	_, err = api.InviteUsersToConversation(ch.ID, alice)
	must(t, err)
	summary := []slack.Block{
		slack.NewHeaderBlock(slack.NewTextBlockObject("plain_text", "INC-7 Checkout 502s", false, false)),
		slack.NewSectionBlock(nil, []*slack.TextBlockObject{
			slack.NewTextBlockObject("mrkdwn", "*Severity*\nSEV2", false, false),
			slack.NewTextBlockObject("mrkdwn", "*Lead*\n<@U01ALICE>", false, false),
		}, nil),
		slack.NewContextBlock("", slack.NewTextBlockObject("mrkdwn", "Declared by <@U01ALICE>", false, false),
			slack.NewTextBlockObject("plain_text", "14:02 UTC", false, false)),
		slack.NewActionBlock("", slack.NewButtonBlockElement("ack", "", slack.NewTextBlockObject("plain_text", "Acknowledge", false, false)),
			slack.NewButtonBlockElement("resolve", "", slack.NewTextBlockObject("plain_text", "Resolve", false, false))),
	}
	_, ts, err := api.PostMessage(ch.ID, slack.MsgOptionBlocks(summary...))
	must(t, err)
	must(t, api.AddPin(ch.ID, slack.NewRefToMessage(ch.ID, ts)))

	clk.Advance(time.Minute)
	q := f.Post(ch.ID, alice, "Rolling back deploy 4412\nETA 5 min")
	f.React(ch.ID, q, bob, "eyes")
	f.React(ch.ID, q, alice, "eyes")
	_, _, err = api.PostMessage(ch.ID, slack.MsgOptionText("Noted in the timeline.", false), slack.MsgOptionTS(q))
	must(t, err)
	_, err = api.PostEphemeral(ch.ID, alice, slack.MsgOptionText("You are the lead.", false))
	must(t, err)

	clk.Advance(time.Minute)
	_, _, _, err = api.UpdateMessage(ch.ID, ts, slack.MsgOptionText("INC-7 resolved", false))
	must(t, err)

	// The summary had no text until the update: now its text leads and
	// its blocks follow.
	want := `#incidents
  [14:02:00] @warroom: @alice declared INC-7 <SEV2>

#inc-7-checkout (topic: SEV2 · investigating · lead @alice)
  [14:02:30] @warroom: INC-7 resolved (edited 1×) 📌
      INC-7 Checkout 502s
      *Severity* SEV2 · *Lead* @alice
      Declared by @alice · 14:02 UTC
      [Acknowledge] [Resolve]
  [14:03:30] @alice: Rolling back deploy 4412 :eyes:×2
      ETA 5 min
    ↳ [14:03:30] @warroom: Noted in the timeline.
  [14:03:30] @warroom (only @alice sees this): You are the lead.
`
	if got := f.Transcript(); got != want {
		t.Fatalf("transcript:\n%s\nwant:\n%s", got, want)
	}
	if f.Transcript() != f.Transcript() {
		t.Fatal("transcript not deterministic")
	}
}
