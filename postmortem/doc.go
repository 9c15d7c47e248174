// Package postmortem writes blameless postmortem drafts from an incident's
// timeline, checks them for blaming language (Lint), and parses them as
// Markdown (goldmark, GFM) to find their sections and action items and to
// render them as HTML that carries no raw HTML or script URLs.
//
// It depends on the domains (packages incidents and deploys) and the
// templates; pushing a draft to GitHub is the job of integrations/github.
package postmortem
