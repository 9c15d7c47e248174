package postmortem

// Finding is one piece of blaming language that Lint found.
type Finding struct {
	Line   int    `json:"line"`   // 1-based line in the Markdown
	Column int    `json:"column"` // 1-based column (in runes) where the phrase starts
	Phrase string `json:"phrase"` // the text as written
	Rule   string `json:"rule"`   // a short name: "human-error", "fault", "should-have", ...
	// Suggestion is a neutral way to say it, for the author to consider.
	Suggestion string `json:"suggestion"`
}

// ActionItem is a task-list entry of a postmortem ("- [ ] Add an alert").
type ActionItem struct {
	Text string `json:"text"`
	Done bool   `json:"done"`
	Line int    `json:"line"`
}

// RequiredSections are the level-2 headings every postmortem must keep, in
// this order, for the checks and the tools that read postmortems.
var RequiredSections = []string{
	"Summary",
	"Impact",
	"Key times",
	"Responders",
	"Timeline",
	"Alerts",
	"Deploys and rollbacks",
	"Contributing factors",
	"What went well",
	"What was hard",
	"Where we got lucky",
	"Action items",
}
