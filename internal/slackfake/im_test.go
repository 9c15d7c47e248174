package slackfake

import (
	"context"
	"testing"

	"github.com/slack-go/slack"
)

func TestConversationsOpen(t *testing.T) {
	f := New()
	defer f.Close()
	f.AddUser(User{ID: "U01ALICE", Name: "alice"})
	api := slack.New(f.Token(), slack.OptionAPIURL(f.APIURL()))
	ctx := context.Background()

	ch, noOp, already, err := api.OpenConversationContext(ctx, &slack.OpenConversationParameters{Users: []string{"U01ALICE"}})
	if err != nil || ch.ID != "DU01ALICE" || noOp || already {
		t.Fatalf("first open: %+v %v %v %v", ch, noOp, already, err)
	}
	ch2, _, already, err := api.OpenConversationContext(ctx, &slack.OpenConversationParameters{Users: []string{"U01ALICE"}})
	if err != nil || ch2.ID != ch.ID || !already {
		t.Fatalf("second open: %+v %v %v", ch2, already, err)
	}
	if _, _, err := api.PostMessageContext(ctx, ch.ID, slack.MsgOptionText("wake up", false)); err != nil {
		t.Fatal(err)
	}
	msgs := f.DirectMessages("U01ALICE")
	if len(msgs) != 1 || msgs[0].Text != "wake up" || msgs[0].User != f.BotUser() {
		t.Errorf("direct messages: %+v", msgs)
	}
	for _, users := range [][]string{{"U0NOBODY"}, {"U01ALICE", "U0OTHER"}, {f.BotUser()}} {
		if _, _, _, err := api.OpenConversationContext(ctx, &slack.OpenConversationParameters{Users: users}); err == nil {
			t.Errorf("opening with %v: no error", users)
		}
	}
	if len(f.Channels()) != 0 {
		t.Errorf("a direct message channel is listed: %+v", f.Channels())
	}
	if f.DirectMessages("U0NOBODY") != nil {
		t.Error("messages with someone never messaged")
	}
}
