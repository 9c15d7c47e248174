package incidents

import (
	"slices"
	"testing"
)

// FuzzParseID: incident IDs come from outside (API paths, button values,
// commands). ParseID never panics, accepts only positive IDs, and what it
// accepts formats back to an ID it parses the same.
func FuzzParseID(f *testing.F) {
	for _, s := range []string{"42", "INC-42", "inc-7", " INC-1 ", "INC-", "INC--1", "0", "-3", "+5", "4.2",
		"99999999999999999999999", "INC-9223372036854775807", "\x00", "INC-４２"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, err := ParseID(s)
		if err != nil {
			if !IsUserError(err) {
				t.Fatalf("ParseID(%q): %v is not a user error", s, err)
			}
			return
		}
		if id <= 0 {
			t.Fatalf("ParseID(%q) = %d", s, id)
		}
		again, err := ParseID(id.String())
		if err != nil || again != id {
			t.Fatalf("ParseID(%q) = %v, but ParseID(%q) = %v, %v", s, id, id.String(), again, err)
		}
	})
}

// FuzzParseSeverityAndStatus: severities and statuses come from commands,
// buttons and alert labels. The parsers never panic and return only known
// values.
func FuzzParseSeverityAndStatus(f *testing.F) {
	for _, s := range []string{"sev1", "SEV2", "3", "sev5", "", "monitoring", "Resolved", "open", "all", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if sev, err := ParseSeverity(s); err == nil && !slices.Contains(Severities, sev) {
			t.Fatalf("ParseSeverity(%q) = %q, not a severity", s, sev)
		}
		if st, err := ParseStatus(s); err == nil && !slices.Contains(Statuses, st) {
			t.Fatalf("ParseStatus(%q) = %q, not a status", s, st)
		}
		if fl, err := ParseStatusFilter(s); err == nil && fl != FilterOpen && fl != FilterResolved && fl != FilterAll {
			t.Fatalf("ParseStatusFilter(%q) = %q", s, fl)
		}
	})
}
