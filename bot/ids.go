package bot

// Block Kit action, block and view IDs that Warroom's messages and modals
// carry, and that the interactivity handler dispatches on.
const (
	// ActionStatus is the "Change status" select in the summary. Its
	// options' values are "<incident ID>|<status>", e.g. "INC-7|monitoring".
	ActionStatus = "incident_status"
	// ActionResolve is the "Resolve" button in the summary. Its value is
	// the incident ID, e.g. "INC-7".
	ActionResolve = "incident_resolve"
	// ActionDeclareAlerts is the "Declare incident" button of an alert
	// posted for triage. Its value is the alert group's ID, e.g. "12".
	ActionDeclareAlerts = "alerts_declare"

	// ViewDeclare is the callback ID of the declare modal.
	ViewDeclare = "declare_incident"
	// The declare modal's input blocks; each block's element has the same
	// action ID as its block ID.
	BlockTitle       = "title"
	BlockSeverity    = "severity"
	BlockService     = "service"
	BlockDescription = "description"
)
