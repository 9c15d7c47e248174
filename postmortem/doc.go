// Package postmortem writes blameless postmortem drafts from an incident's
// timeline, checks them for blaming language, and parses them as Markdown
// (goldmark, GFM) to find their sections and action items.
//
// It depends on the domain (package incidents) and the templates; pushing a
// draft to GitHub is the job of integrations/github.
package postmortem
