package bot

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/warroomhq/warroom/jobs"
)

type pacer struct{ now func() time.Time }

func newPacer(now func() time.Time) *pacer { return &pacer{now: now} }

type metrics struct{}

func newMetrics(reg prometheus.Registerer) *metrics { return &metrics{} }

// enqueue adds a Slack job through e (a transaction, or Options.Jobs). key
// is the idempotency key; serial, if not empty, orders the job after earlier
// ones with the same serial key. The payload is encoded as JSON.
func enqueue(ctx context.Context, e jobs.Enqueuer, kind, key, serial string, payload any) error {
	data, err := json.Marshal(payload)
	if err != nil {
		return fmt.Errorf("encoding %s job: %w", kind, err)
	}
	_, err = e.Enqueue(ctx, jobs.NewJob{Kind: kind, Key: kind + ":" + key, SerialKey: serial, Payload: data})
	return err
}

// enqueueNow enqueues through Options.Jobs and wakes the queue.
func (b *Bot) enqueueNow(ctx context.Context, kind, key, serial string, payload any) error {
	if err := enqueue(ctx, b.opts.Jobs, kind, key, serial, payload); err != nil {
		return err
	}
	b.opts.Notify()
	return nil
}
