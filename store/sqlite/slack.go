package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/warroomhq/warroom/bot"
	"github.com/warroomhq/warroom/incidents"
)

var _ bot.Store = (*Store)(nil)

// IncidentByChannel returns the incident whose Slack channel is channelID,
// or an error wrapping incidents.ErrNotFound. Should two incidents ever name
// the same channel, the newest wins.
func (s *Store) IncidentByChannel(ctx context.Context, channelID string) (*incidents.Incident, error) {
	notFound := fmt.Errorf("no incident has channel %q: %w", channelID, incidents.ErrNotFound)
	if channelID == "" {
		return nil, notFound
	}
	// The second condition lets SQLite use the partial index, which leaves
	// out incidents without a channel.
	inc, err := scanIncident(s.read().QueryRowContext(ctx, `SELECT `+incidentColumns+` FROM incidents
		WHERE slack_channel_id = ? AND slack_channel_id <> '' ORDER BY id DESC LIMIT 1`, channelID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound
	}
	if err != nil {
		return nil, fmt.Errorf("reading the incident of channel %s: %w", channelID, err)
	}
	if err := loadRoles(ctx, s.read(), []*incidents.Incident{inc}); err != nil {
		return nil, err
	}
	return inc, nil
}

// RememberEvent records a Slack event ID and reports whether it was new.
func (s *Store) RememberEvent(ctx context.Context, eventID string, now time.Time) (bool, error) {
	if eventID == "" {
		return false, errors.New("remembering a Slack event: empty event ID")
	}
	var n int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := s.in(tx).ExecContext(ctx,
			`INSERT INTO slack_events (event_id, received_at) VALUES (?, ?) ON CONFLICT (event_id) DO NOTHING`,
			eventID, ms(now))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return false, fmt.Errorf("remembering Slack event %s: %w", eventID, err)
	}
	return n == 1, nil
}

// ForgetEvent forgets one event ID, so that Slack's retry is handled.
func (s *Store) ForgetEvent(ctx context.Context, eventID string) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		_, err := s.in(tx).ExecContext(ctx, `DELETE FROM slack_events WHERE event_id = ?`, eventID)
		return err
	})
	if err != nil {
		return fmt.Errorf("forgetting Slack event %s: %w", eventID, err)
	}
	return nil
}

// ForgetEvents deletes the event IDs remembered before before.
func (s *Store) ForgetEvents(ctx context.Context, before time.Time) (int, error) {
	var n int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := s.in(tx).ExecContext(ctx, `DELETE FROM slack_events WHERE received_at < ?`, ms(before))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("pruning Slack events: %w", err)
	}
	return int(n), nil
}

// Post returns the post with key, and false when there is none.
func (s *Store) Post(ctx context.Context, key string) (bot.Post, bool, error) {
	var (
		p          bot.Post
		incID, upd int64
		state      string
	)
	err := s.read().QueryRowContext(ctx, `
		SELECT key, incident_id, channel_id, ts, state, version, text, updated_at, page_id
		FROM slack_posts WHERE key = ?`, key).Scan(
		&p.Key, &incID, &p.ChannelID, &p.TS, &state, &p.Version, &p.Text, &upd, &p.Page)
	if errors.Is(err, sql.ErrNoRows) {
		return bot.Post{}, false, nil
	}
	if err != nil {
		return bot.Post{}, false, fmt.Errorf("reading Slack post %q: %w", key, err)
	}
	p.IncidentID, p.State, p.UpdatedAt = incidents.ID(incID), bot.PostState(state), fromMS(upd)
	return p, true, nil
}

// SavePost creates or replaces the post with p.Key. A zero UpdatedAt is
// stored as the store's current time.
func (s *Store) SavePost(ctx context.Context, p bot.Post) error {
	if p.Key == "" {
		return errors.New("saving a Slack post: empty key")
	}
	if p.State == "" {
		return fmt.Errorf("saving Slack post %q: empty state", p.Key)
	}
	if p.UpdatedAt.IsZero() {
		p.UpdatedAt = s.now()
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		_, err := s.in(tx).ExecContext(ctx, `
			INSERT INTO slack_posts (key, incident_id, channel_id, ts, state, version, text, updated_at, page_id)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (key) DO UPDATE SET incident_id = excluded.incident_id, channel_id = excluded.channel_id,
				ts = excluded.ts, state = excluded.state, version = excluded.version, text = excluded.text,
				updated_at = excluded.updated_at, page_id = excluded.page_id`,
			p.Key, int64(p.IncidentID), p.ChannelID, p.TS, string(p.State), p.Version, p.Text, ms(p.UpdatedAt), p.Page)
		return err
	})
	if err != nil {
		return fmt.Errorf("saving Slack post %q: %w", p.Key, err)
	}
	return nil
}
