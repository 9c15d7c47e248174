// Package bot is Warroom's Slack adapter: the /incident slash commands, the
// Events API and interactivity endpoints, Socket Mode, and the rendering of
// incidents as Block Kit messages.
//
// It depends on the domain (package incidents) and on slack-go; the domain
// never depends on it. Every Slack Web API call it makes runs as a job in the
// durable queue (package jobs), enqueued by a listener inside the transaction
// of the incident change that causes it.
package bot
