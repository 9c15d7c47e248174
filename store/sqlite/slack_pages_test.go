package sqlite

import (
	"context"
	"testing"
	"time"

	"github.com/warroomhq/warroom/bot"
)

// TestSlackStorePagePosts: the posts of a page are found by its ID, with
// their page kept through a save and a read, and no other page's.
func TestSlackStorePagePosts(t *testing.T) {
	ctx := context.Background()
	s := openTestStore(t)
	at := time.Date(2026, 11, 3, 14, 2, 0, 0, time.UTC)
	for _, p := range []bot.Post{
		{Key: "page:1:r0:s0:person:alice", IncidentID: 1, ChannelID: "D1", TS: "1.000001", State: bot.PostSent, Text: "You are paged", Page: 1, UpdatedAt: at},
		{Key: "slack.post:page:1:r0:s0:person:alice:mention", IncidentID: 1, ChannelID: "C1", State: bot.PostSending, Page: 1, UpdatedAt: at},
		{Key: "page:2:r0:s0:person:bob", IncidentID: 1, ChannelID: "D2", TS: "1.000002", State: bot.PostSent, Page: 2, UpdatedAt: at},
		{Key: "summary:INC-1", IncidentID: 1, ChannelID: "C1", TS: "1.000003", State: bot.PostSent, UpdatedAt: at},
	} {
		if err := s.SavePost(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.PagePosts(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Key != "page:1:r0:s0:person:alice" || got[1].State != bot.PostSending ||
		got[0].Text != "You are paged" || got[0].TS != "1.000001" || got[0].Page != 1 || !got[0].UpdatedAt.Equal(at) {
		t.Fatalf("posts of page 1: %+v", got)
	}
	one, ok, err := s.Post(ctx, "page:2:r0:s0:person:bob")
	if err != nil || !ok || one.Page != 2 {
		t.Fatalf("post of page 2: %+v %v %v", one, ok, err)
	}
	if none, err := s.PagePosts(ctx, 0); err != nil || len(none) != 0 {
		t.Errorf("posts of page 0 (every post without a page): %+v %v", none, err)
	}
}
