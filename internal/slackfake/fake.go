package slackfake

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"time"
)

// Defaults of a Fake's identity.
const (
	DefaultToken      = "xoxb-test"
	DefaultTeamID     = "T0WARROOM"
	DefaultTeamDomain = "warroom-test"
	DefaultBotUser    = "UWARROOMBOT"
	// BotName is the bot user's name, as users.info and Transcript show it.
	BotName = "warroom"
	// AppID is the app the bot belongs to.
	AppID = "A0WARROOM"
)

// Slack's limits that the fake enforces.
const (
	maxTextLen        = 40000 // chat.postMessage text
	maxBlocks         = 50    // blocks in a message
	maxChannelNameLen = 80
	maxTopicLen       = 250 // topic and purpose
	triggerLifetime   = 3 * time.Second
	responseURLUses   = 5
	responseURLLife   = 30 * time.Minute
)

// Option configures a Fake.
type Option func(*Fake)

// WithClock sets the time source for ts values, message times, topic times
// and Call.At (default time.Now). With a manual clock the fake is fully
// deterministic.
func WithClock(now func() time.Time) Option { return func(f *Fake) { f.now = now } }

// WithToken sets the bot token that requests must carry (default
// "xoxb-test"). A request with another token gets "invalid_auth", one with
// none "not_authed".
func WithToken(token string) Option { return func(f *Fake) { f.token = token } }

// WithTeam sets the workspace's ID and domain (default "T0WARROOM",
// "warroom-test"). Permalinks are https://<domain>.slack.com/archives/...
func WithTeam(id, domain string) Option {
	return func(f *Fake) { f.teamID, f.teamDomain = id, domain }
}

// WithBotUser sets the bot's user ID (default "UWARROOMBOT"). auth.test
// returns it, and it is the creator and poster of everything the bot does.
// The bot ID is the user ID with its first letter replaced by "B".
func WithBotUser(id string) Option { return func(f *Fake) { f.botUser = id } }

// WithChannelRateLimit makes chat.postMessage answer 429 with Retry-After: 1
// when a channel gets posts faster than perSecond, after a burst of burst
// posts, the way Slack allows about one message a second per channel. The
// limit is a token bucket per channel, timed by the fake's clock. Off by
// default.
func WithChannelRateLimit(perSecond float64, burst int) Option {
	return func(f *Fake) {
		f.ratePerSec, f.rateBurst = perSecond, max(burst, 1)
	}
}

// Fake is a stateful fake Slack workspace served over HTTP. Create it with
// New and Close it when done. All methods are safe for concurrent use.
type Fake struct {
	srv    *httptest.Server
	closed chan struct{} // closed by Close, to cut delays short

	// Set by options, then read-only.
	now        func() time.Time
	token      string
	teamID     string
	teamDomain string
	botUser    string
	botID      string
	ratePerSec float64
	rateBurst  int

	mu         sync.Mutex
	users      map[string]*User
	userOrder  []string
	channels   []*channel // in creation order
	byID       map[string]*channel
	ephemerals []*message
	views      []*view
	calls      []Call
	perMethod  map[string]int // calls so far, by method
	pending    []pendingFault
	faultFn    func(method string, n int) Fault
	buckets    map[string]*bucket // rate limit, by channel ID
	triggers   map[string]*trigger
	responses  []json.RawMessage
	respURLs   map[int]*responseURL
	lastTS     int64 // last ts minted, in microseconds
	seq        struct{ channel, ts, view, trigger, response int }

	out outage // Down, Hang and Recover (outage.go)
}

// User is a person (or bot) in the workspace.
type User struct {
	ID, Name, RealName, Email string
	IsBot                     bool
	// Deleted is a deactivated user; Guest a multi-channel guest
	// (is_restricted).
	Deleted, Guest bool
}

// Channel is a snapshot of a channel.
type Channel struct {
	ID, Name, Creator string
	Topic, Purpose    string
	Members           []string
	Created           time.Time
	Archived          bool
	IsPrivate         bool
}

// Message is a snapshot of a message. Ephemeral messages have Ephemeral set
// and EphemeralUser is the one person who sees them.
type Message struct {
	Channel  string
	TS       string
	ThreadTS string // the parent's ts for a reply in a thread, else ""
	User     string
	Text     string
	Blocks   json.RawMessage // as sent; nil if none
	Metadata *Metadata       // as sent; nil if none
	Edits    int             // how many times chat.update changed it
	Pinned   bool
	// Reactions maps an emoji name to the users who reacted with it, in
	// the order they did.
	Reactions     map[string][]string
	Ephemeral     bool
	EphemeralUser string
	Time          time.Time // when it was posted, by the fake's clock
}

// Metadata is a message's metadata, as chat.postMessage takes it.
type Metadata struct {
	EventType    string         `json:"event_type"`
	EventPayload map[string]any `json:"event_payload"`
}

// View is a modal opened with views.open. JSON is the view as last sent
// (by views.open or views.update); Updated counts views.update calls.
type View struct {
	ID, TriggerID, CallbackID, ExternalID string
	JSON                                  json.RawMessage
	Updated                               int
}

// Call is one request the fake received.
type Call struct {
	// Method is the Web API method ("chat.postMessage"), or "response_url"
	// for a post to a response URL.
	Method string
	// Params are the request's parameters (form fields, or a JSON body's
	// top-level fields with non-string values as JSON text), without the
	// token.
	Params  map[string]string
	At      time.Time // when it arrived, by the fake's clock
	Status  int       // HTTP status answered
	Error   string    // Slack error answered ("" if ok)
	Faulted bool      // answered with an injected fault

	// Received is when it arrived by the wall clock, whatever the fake's
	// clock, for checking how long a client waited between calls.
	Received time.Time
}

// channel is a channel's state. Guarded by Fake.mu.
type channel struct {
	id, name, creator string
	private, archived bool
	created           time.Time
	topic, purpose    textField
	members           []string
	msgs              []*message // in ts order; includes thread replies
}

// textField is a channel topic or purpose.
type textField struct {
	value, creator string
	set            time.Time
}

// message is a message's state: the snapshot fields plus what only the
// Web API shows.
type message struct {
	Message
	editedBy, editedTS string
}

// view is a modal's state.
type view struct {
	View
	hash string
}

// trigger is a trigger ID the fake minted for a Driver.
type trigger struct {
	minted time.Time
	used   bool
}

// responseURL is a response URL the fake minted: where its in_channel and
// ephemeral replies go, and how often it has been used.
type responseURL struct {
	channel, user string
	minted        time.Time
	uses          int
}

// bucket is a channel's rate limit state.
type bucket struct {
	tokens float64
	last   time.Time
}

// New starts a fake on a local httptest.Server. The bot user is a known
// user named "warroom"; there are no channels until AddChannel or
// conversations.create.
func New(opts ...Option) *Fake {
	f := &Fake{
		closed:     make(chan struct{}),
		now:        time.Now,
		token:      DefaultToken,
		teamID:     DefaultTeamID,
		teamDomain: DefaultTeamDomain,
		botUser:    DefaultBotUser,
		users:      map[string]*User{},
		byID:       map[string]*channel{},
		perMethod:  map[string]int{},
		buckets:    map[string]*bucket{},
		triggers:   map[string]*trigger{},
		respURLs:   map[int]*responseURL{},
	}
	for _, o := range opts {
		o(f)
	}
	f.botID = "B" + strings.TrimPrefix(f.botUser, "U")
	f.AddUser(User{ID: f.botUser, Name: BotName, RealName: "Warroom", IsBot: true})
	f.srv = httptest.NewServer(f.routes())
	return f
}

// Close stops the server. Calls waiting on a fault's Delay are answered at
// once.
func (f *Fake) Close() {
	f.mu.Lock()
	select {
	case <-f.closed:
	default:
		close(f.closed)
	}
	f.mu.Unlock()
	f.srv.Close()
}

// URL is the server's root, such as http://127.0.0.1:1234.
func (f *Fake) URL() string { return f.srv.URL }

// APIURL is the Web API's root (URL()+"/api/"), for slack.OptionAPIURL.
func (f *Fake) APIURL() string { return f.srv.URL + "/api/" }

// Token is the bot token that requests must carry.
func (f *Fake) Token() string { return f.token }

// TeamID is the workspace's ID.
func (f *Fake) TeamID() string { return f.teamID }

// TeamDomain is the workspace's domain.
func (f *Fake) TeamDomain() string { return f.teamDomain }

// BotUser is the bot's user ID.
func (f *Fake) BotUser() string { return f.botUser }

// BotID is the bot's bot ID ("B...").
func (f *Fake) BotID() string { return f.botID }

// --- Set-up ---

// AddUser adds a user, or replaces the user with the same ID.
func (f *Fake) AddUser(u User) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.users[u.ID]; !ok {
		f.userOrder = append(f.userOrder, u.ID)
	}
	f.users[u.ID] = &u
}

// User returns the user with id.
func (f *Fake) User(id string) (User, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	u, ok := f.users[id]
	if !ok {
		return User{}, false
	}
	return *u, true
}

// AddChannel adds a pre-existing public channel (such as "incidents") with
// the given members, and returns its ID. The bot is not a member unless
// listed. It panics if the name is not one Slack allows or is taken, as
// that is a mistake in the test's set-up.
func (f *Fake) AddChannel(name string, members ...string) (id string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	name = strings.TrimPrefix(name, "#")
	if code := f.checkNewName(name); code != "" {
		panic(fmt.Sprintf("slackfake: AddChannel(%q): %s", name, code))
	}
	creator := "USLACKBOT" // Slack's own user, when no one is named
	if len(members) > 0 {
		creator = members[0]
	}
	c := f.newChannel(name, creator, false)
	for _, m := range members {
		if !slices.Contains(c.members, m) {
			c.members = append(c.members, m)
		}
	}
	return c.id
}

// Join makes a person a member of a channel (an ID, "#name" or name), as
// if they had joined it themselves. It panics if there is no such channel.
func (f *Fake) Join(channel, user string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.mustChannel("Join", channel)
	if !slices.Contains(c.members, user) {
		c.members = append(c.members, user)
	}
}

// Post adds a message by a person to a channel (an ID, "#name" or name)
// and returns its ts, for tests that react to or pin it. It panics if
// there is no such channel.
func (f *Fake) Post(channel, user, text string) (ts string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.mustChannel("Post", channel)
	m := &message{Message: Message{Channel: c.id, TS: f.nextTS(), User: user, Text: text, Time: f.now()}}
	c.msgs = append(c.msgs, m)
	return m.TS
}

// React adds a person's reaction (an emoji name without colons) to a
// message, as if they had clicked it. It panics if there is no such
// message.
func (f *Fake) React(channel, ts, user, name string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	m := f.mustMessage("React", channel, ts)
	if m.Reactions == nil {
		m.Reactions = map[string][]string{}
	}
	if !slices.Contains(m.Reactions[name], user) {
		m.Reactions[name] = append(m.Reactions[name], user)
	}
}

// Pin pins a message, as if a person had. It panics if there is no such
// message.
func (f *Fake) Pin(channel, ts string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.mustMessage("Pin", channel, ts).Pinned = true
}

// Archive archives a channel, as if a person had. It panics if there is no
// such channel.
func (f *Fake) Archive(channel string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.mustChannel("Archive", channel).archived = true
}

// NewTriggerID mints a trigger ID, as Slack sends with a slash command or
// an interaction. views.open accepts it once, within 3 seconds (by the
// fake's clock) of its minting; trigger IDs the fake did not mint get
// "invalid_trigger_id".
func (f *Fake) NewTriggerID() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seq.trigger++
	id := fmt.Sprintf("T-%d.%s", f.seq.trigger, f.teamID)
	f.triggers[id] = &trigger{minted: f.now()}
	return id
}

// NewResponseURL mints a response URL (URL()+"/response/<n>") for a slash
// command or interaction in channel by user. Like Slack's, it can be used
// 5 times within 30 minutes. A reply posted to it with response_type
// "in_channel" becomes a message by the bot in channel; any other reply an
// ephemeral message to user. Replies are also kept as sent (Responses).
func (f *Fake) NewResponseURL(channel, user string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seq.response++
	ch := channel
	if c := f.lookup(channel, true); c != nil {
		ch = c.id
	}
	f.respURLs[f.seq.response] = &responseURL{channel: ch, user: user, minted: f.now()}
	return fmt.Sprintf("%s/response/%d", f.srv.URL, f.seq.response)
}

// --- Faults ---

// Fault is what to answer a call with instead of the normal answer.
type Fault struct {
	// Status is the HTTP status to answer (429, 500, 503...); 0 is none.
	Status int
	// RetryAfter is the Retry-After header of a 429, in whole seconds
	// (rounded up, at least 1).
	RetryAfter time.Duration
	// Error, instead of an HTTP fault, answers 200 {"ok":false,"error":Error}.
	Error string
	// Delay is how long to wait before answering (honouring the request's
	// cancellation). With Status and Error unset, the call is carried out
	// at once and only its answer is late: a client that gives up has
	// still made the change, as when a real call times out.
	Delay time.Duration
}

// isZero reports whether the fault does nothing.
func (ft Fault) isZero() bool { return ft == Fault{} }

// fails reports whether the fault answers instead of Slack.
func (ft Fault) fails() bool { return ft.Status != 0 || ft.Error != "" }

// pendingFault is a FailNext entry.
type pendingFault struct {
	method string
	n      int
	fault  Fault
}

// FailNext answers the next n calls of method ("" for any method, and
// "response_url" for response URL posts) with fault. Entries are used in
// the order they were added, before SetFaultFunc's function is consulted.
func (f *Fake) FailNext(method string, n int, fault Fault) {
	if n <= 0 {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pending = append(f.pending, pendingFault{method: method, n: n, fault: fault})
}

// SetFaultFunc sets a function consulted for every call (that FailNext did
// not claim) with the method and n, the 1-based count of calls of that
// method so far; a non-zero Fault is answered. nil clears it. The function
// runs without the fake's lock held, so it may call the fake, and it may
// be called from several goroutines at once.
func (f *Fake) SetFaultFunc(fn func(method string, n int) Fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faultFn = fn
}

// pendingFor takes the next FailNext fault for method, if any. Caller
// holds mu.
func (f *Fake) pendingFor(method string) (Fault, bool) {
	for i := range f.pending {
		p := &f.pending[i]
		if p.method != "" && p.method != method {
			continue
		}
		ft := p.fault
		if p.n--; p.n == 0 {
			f.pending = slices.Delete(f.pending, i, i+1)
		}
		return ft, true
	}
	return Fault{}, false
}

// --- Inspection ---

// Calls returns all calls in the order they arrived, or only those of the
// given methods.
func (f *Fake) Calls(methods ...string) []Call {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Call
	for _, c := range f.calls {
		if len(methods) == 0 || slices.Contains(methods, c.Method) {
			c.Params = maps.Clone(c.Params)
			out = append(out, c)
		}
	}
	return out
}

// CountCalls counts the calls of method, or only those answered ok when
// okOnly is set.
func (f *Fake) CountCalls(method string, okOnly bool) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, c := range f.calls {
		if c.Method == method && (!okOnly || c.Status == 200 && c.Error == "" && !c.Faulted) {
			n++
		}
	}
	return n
}

// Channel returns a channel by ID or name (with or without '#').
func (f *Fake) Channel(idOrName string) (Channel, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.lookup(idOrName, true)
	if c == nil {
		return Channel{}, false
	}
	return c.snapshot(), true
}

// Channels returns all channels in creation order.
func (f *Fake) Channels() []Channel {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]Channel, len(f.channels))
	for i, c := range f.channels {
		out[i] = c.snapshot()
	}
	return out
}

// Messages returns a channel's messages (by ID or name), thread replies
// included and ephemeral messages not, in ts order.
func (f *Fake) Messages(channel string) []Message {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.lookup(channel, true)
	if c == nil {
		return nil
	}
	out := make([]Message, len(c.msgs))
	for i, m := range c.msgs {
		out[i] = m.snapshot()
	}
	return out
}

// Message returns one message, ephemeral or not, by channel and ts.
func (f *Fake) Message(channel, ts string) (Message, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if m := f.findMessage(channel, ts); m != nil {
		return m.snapshot(), true
	}
	for _, m := range f.ephemerals {
		if m.TS == ts {
			return m.snapshot(), true
		}
	}
	return Message{}, false
}

// Ephemerals returns the ephemeral messages, in ts order.
func (f *Fake) Ephemerals() []Message {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]Message, len(f.ephemerals))
	for i, m := range f.ephemerals {
		out[i] = m.snapshot()
	}
	return out
}

// Views returns the views opened, in order.
func (f *Fake) Views() []View {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]View, len(f.views))
	for i, v := range f.views {
		out[i] = v.View
		out[i].JSON = slices.Clone(v.JSON)
	}
	return out
}

// Responses returns the JSON bodies that response URLs accepted, in order.
func (f *Fake) Responses() []json.RawMessage {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]json.RawMessage, len(f.responses))
	for i, r := range f.responses {
		out[i] = slices.Clone(r)
	}
	return out
}

// --- Internal helpers; callers hold mu. ---

// nextTS mints a message ts: "<unix seconds>.<6 digits>", the seconds from
// the clock and the digits a sequence, bumped if need be so that every ts
// is greater than the one before even when the clock stands still or goes
// back.
func (f *Fake) nextTS() string {
	f.seq.ts++
	v := f.now().Unix()*1e6 + int64(f.seq.ts%1e6)
	if v <= f.lastTS {
		v = f.lastTS + 1
	}
	f.lastTS = v
	return fmt.Sprintf("%d.%06d", v/1e6, v%1e6)
}

// newChannel creates a channel with a fresh ID and no members.
func (f *Fake) newChannel(name, creator string, private bool) *channel {
	f.seq.channel++
	c := &channel{
		id:      fmt.Sprintf("C%07d", f.seq.channel),
		name:    name,
		creator: creator,
		private: private,
		created: f.now(),
	}
	f.channels = append(f.channels, c)
	f.byID[c.id] = c
	return c
}

// lookup finds a channel by ID or, when byName is set, by "#name" or name.
func (f *Fake) lookup(idOrName string, byName bool) *channel {
	if c, ok := f.byID[idOrName]; ok {
		return c
	}
	if !byName || idOrName == "" {
		return nil
	}
	name := strings.TrimPrefix(idOrName, "#")
	for _, c := range f.channels {
		if c.name == name {
			return c
		}
	}
	return nil
}

func (f *Fake) mustChannel(caller, channel string) *channel {
	c := f.lookup(channel, true)
	if c == nil {
		panic(fmt.Sprintf("slackfake: %s: no channel %q", caller, channel))
	}
	return c
}

func (f *Fake) mustMessage(caller, channel, ts string) *message {
	m := f.findMessage(channel, ts)
	if m == nil {
		panic(fmt.Sprintf("slackfake: %s: no message %s in %q", caller, ts, channel))
	}
	return m
}

// findMessage finds a channel message (not an ephemeral one).
func (f *Fake) findMessage(channel, ts string) *message {
	c := f.lookup(channel, true)
	if c == nil {
		return nil
	}
	return c.message(ts)
}

// message finds a message by ts.
func (c *channel) message(ts string) *message {
	for _, m := range c.msgs {
		if m.TS == ts {
			return m
		}
	}
	return nil
}

// isMember reports whether user is a member.
func (c *channel) isMember(user string) bool { return slices.Contains(c.members, user) }

// replies returns the replies to the message with ts, in ts order.
func (c *channel) replies(ts string) []*message {
	var out []*message
	for _, m := range c.msgs {
		if m.ThreadTS == ts && m.TS != ts {
			out = append(out, m)
		}
	}
	return out
}

func (c *channel) snapshot() Channel {
	return Channel{
		ID:        c.id,
		Name:      c.name,
		Creator:   c.creator,
		Topic:     c.topic.value,
		Purpose:   c.purpose.value,
		Members:   slices.Clone(c.members),
		Created:   c.created,
		Archived:  c.archived,
		IsPrivate: c.private,
	}
}

// snapshot returns a deep copy of the message.
func (m *message) snapshot() Message {
	out := m.Message
	out.Blocks = slices.Clone(m.Blocks)
	if m.Metadata != nil {
		md := *m.Metadata
		if m.Metadata.EventPayload != nil {
			// A JSON round trip copies nested maps and slices too.
			b, _ := json.Marshal(m.Metadata.EventPayload)
			md.EventPayload = nil
			_ = json.Unmarshal(b, &md.EventPayload)
		}
		out.Metadata = &md
	}
	if m.Reactions != nil {
		out.Reactions = make(map[string][]string, len(m.Reactions))
		for k, v := range m.Reactions {
			out.Reactions[k] = slices.Clone(v)
		}
	}
	return out
}
