package bot

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Slack's Web API rate limits are per method and workspace, in tiers of
// calls per minute; chat.postMessage is limited to about one message per
// second per channel. The pacer keeps Warroom under them, so that Slack
// seldom has to answer 429, and holds back every call of a method after
// Slack did answer 429 with Retry-After.
//
// https://api.slack.com/apis/rate-limits
var methodTier = map[string]int{
	"conversations.create":   2,
	"conversations.list":     2,
	"conversations.setTopic": 2,
	"pins.add":               2,
	"conversations.invite":   3,
	"conversations.history":  3,
	"conversations.replies":  3,
	"chat.update":            3,
	"users.lookupByEmail":    3,
	"chat.postMessage":       4, // besides the per-channel limit
	"chat.postEphemeral":     4,
	"chat.getPermalink":      4,
	"views.open":             4,
	"auth.test":              4,
}

// tierLimits are calls per minute and the burst allowed, by tier.
var tierLimits = map[int]struct {
	perMinute float64
	burst     int
}{
	2: {20, 5},
	3: {50, 10},
	4: {100, 20},
}

// ChannelPostInterval is how often Warroom posts to one channel at most.
const ChannelPostInterval = time.Second

type pacer struct {
	mu       sync.Mutex
	now      func() time.Time
	methods  map[string]*rate.Limiter
	channels map[string]*rate.Limiter
	paused   map[string]time.Time // method → no calls before
}

func newPacer(now func() time.Time) *pacer {
	return &pacer{
		now:      now,
		methods:  map[string]*rate.Limiter{},
		channels: map[string]*rate.Limiter{},
		paused:   map[string]time.Time{},
	}
}

// reserve takes a call of method (posting to channel, when not empty) and
// returns 0, or returns how long to wait before asking again and takes
// nothing.
func (p *pacer) reserve(method, channel string) time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	if until, ok := p.paused[method]; ok {
		if wait := until.Sub(now); wait > 0 {
			return wait
		}
		delete(p.paused, method)
	}
	var held []*rate.Reservation
	take := func(l *rate.Limiter) time.Duration {
		r := l.ReserveN(now, 1)
		if d := r.DelayFrom(now); d > 0 {
			r.CancelAt(now)
			return d
		}
		held = append(held, r)
		return 0
	}
	if channel != "" && method == "chat.postMessage" {
		if d := take(p.channelLimiter(channel)); d > 0 {
			return d
		}
	}
	if d := take(p.methodLimiter(method)); d > 0 {
		for _, r := range held {
			r.CancelAt(now)
		}
		return d
	}
	return 0
}

// pause holds back every call of method for d (Slack's Retry-After).
func (p *pacer) pause(method string, d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	until := p.now().Add(d)
	if until.After(p.paused[method]) {
		p.paused[method] = until
	}
}

func (p *pacer) methodLimiter(method string) *rate.Limiter {
	l, ok := p.methods[method]
	if !ok {
		tier, known := methodTier[method]
		if !known {
			tier = 3
		}
		lim := tierLimits[tier]
		l = rate.NewLimiter(rate.Limit(lim.perMinute/60), lim.burst)
		p.methods[method] = l
	}
	return l
}

func (p *pacer) channelLimiter(channel string) *rate.Limiter {
	l, ok := p.channels[channel]
	if !ok {
		l = rate.NewLimiter(rate.Every(ChannelPostInterval), 1)
		p.channels[channel] = l
	}
	return l
}
