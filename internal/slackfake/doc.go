// Package slackfake is a stateful fake of the parts of Slack that Warroom
// talks to, for tests, the `warroom demo` command and end-to-end runs.
//
// A Fake serves the Slack Web API methods Warroom calls (conversations.*,
// chat.*, pins.*, reactions.add, users.*, views.*, auth.test) on a local
// httptest.Server. Unlike slack-go's stateless slacktest, it keeps channels,
// members, messages, pins, reactions and views, and validates requests the
// way Slack does: it answers {"ok":false,"error":"name_taken"} to a second
// channel with the same name, "not_in_channel" to a topic change in a channel
// the bot has not joined, "already_pinned", "invalid_blocks" and so on. Point
// a slack-go client at it with
//
//	api := slack.New(f.Token(), slack.OptionAPIURL(f.APIURL()))
//
// Every call is recorded (see Calls) and what ended up in Slack can be read
// back (Channel, Messages, Views) or printed (Transcript). Faults can be
// injected: HTTP errors such as 429 with Retry-After or 503, Slack errors,
// and slow answers (FailNext, SetFaultFunc, WithChannelRateLimit), and
// outages of every method until told to recover (Down, Hang, Recover). A call
// answered with a fault changes nothing, as it never reached Slack; a fault
// that only delays the answer lets the call through, so that a client that
// times out has still made its change, as happens with the real Slack.
//
// The fake also plays Slack's other side: a Driver sends signed slash
// commands, Events API events and interactions to Warroom's HTTP endpoints,
// with trigger IDs and response URLs that the Fake knows (NewTriggerID,
// NewResponseURL), so that views.open and response_url posts are checked
// like Slack checks them.
//
// A Fake is safe for concurrent use, never touches the network beyond its
// own loopback listener, and given a manual clock (WithClock) it produces
// the same IDs, timestamps and transcript on every run.
package slackfake
