package sqlite

import (
	"context"
	"fmt"

	"github.com/warroomhq/warroom/bot"
	"github.com/warroomhq/warroom/incidents"
)

// PagePosts lists the Slack posts that carry page's Acknowledge button, in
// any state, by key.
func (s *Store) PagePosts(ctx context.Context, page int64) ([]bot.Post, error) {
	if page <= 0 {
		return nil, nil
	}
	rows, err := s.read().QueryContext(ctx, `
		SELECT key, incident_id, channel_id, ts, state, version, text, updated_at, page_id
		FROM slack_posts WHERE page_id = ? AND page_id <> 0 ORDER BY key`, page)
	if err != nil {
		return nil, fmt.Errorf("reading the Slack posts of page %d: %w", page, err)
	}
	defer rows.Close()
	var out []bot.Post
	for rows.Next() {
		var (
			p          bot.Post
			incID, upd int64
			state      string
		)
		if err := rows.Scan(&p.Key, &incID, &p.ChannelID, &p.TS, &state, &p.Version, &p.Text, &upd, &p.Page); err != nil {
			return nil, fmt.Errorf("reading the Slack posts of page %d: %w", page, err)
		}
		p.IncidentID, p.State, p.UpdatedAt = incidents.ID(incID), bot.PostState(state), fromMS(upd)
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading the Slack posts of page %d: %w", page, err)
	}
	return out, nil
}
