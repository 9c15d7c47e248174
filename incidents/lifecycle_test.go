package incidents

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestCheckTransitionEveryMove(t *testing.T) {
	allowed := map[[2]Status]bool{
		{StatusInvestigating, StatusIdentified}: true,
		{StatusInvestigating, StatusMonitoring}: true,
		{StatusInvestigating, StatusResolved}:   true,
		{StatusIdentified, StatusInvestigating}: true,
		{StatusIdentified, StatusMonitoring}:    true,
		{StatusIdentified, StatusResolved}:      true,
		{StatusMonitoring, StatusInvestigating}: true,
		{StatusMonitoring, StatusIdentified}:    true,
		{StatusMonitoring, StatusResolved}:      true,
	}
	for _, from := range Statuses {
		for _, to := range Statuses {
			name := string(from) + "->" + string(to)
			t.Run(name, func(t *testing.T) {
				inc := &Incident{ID: 7, Status: from}
				err := CheckTransition(inc, to)
				if allowed[[2]Status{from, to}] {
					if err != nil {
						t.Fatalf("move refused: %v", err)
					}
					return
				}
				var te *TransitionError
				if !errors.As(err, &te) {
					t.Fatalf("move allowed, want a TransitionError (got %v)", err)
				}
				if te.From != from || te.To != to || te.ID != 7 {
					t.Errorf("error describes %s %s->%s", te.ID, te.From, te.To)
				}
				if !strings.Contains(err.Error(), "INC-7") {
					t.Errorf("message %q does not name the incident", err)
				}
				if !IsUserError(err) {
					t.Errorf("a refused move should be the user's to fix")
				}
			})
		}
	}
}

func TestRefusalsSayWhatToDo(t *testing.T) {
	cases := []struct {
		from, to Status
		want     string
	}{
		{StatusResolved, StatusInvestigating, "reopen it first"},
		{StatusResolved, StatusMonitoring, "/incident reopen"},
		{StatusIdentified, StatusIdentified, "already identified"},
	}
	for _, c := range cases {
		err := CheckTransition(&Incident{ID: 3, Status: c.from}, c.to)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s->%s: error %v, want it to contain %q", c.from, c.to, err, c.want)
		}
	}
}

func TestCheckReopen(t *testing.T) {
	for _, st := range Statuses {
		err := CheckReopen(&Incident{ID: 1, Status: st})
		if st == StatusResolved && err != nil {
			t.Errorf("reopening a resolved incident refused: %v", err)
		}
		if st != StatusResolved && (err == nil || !strings.Contains(err.Error(), "still open")) {
			t.Errorf("reopening a %s incident: %v, want a refusal saying it is still open", st, err)
		}
	}
}

func TestAllowedMovesIsACopy(t *testing.T) {
	m := AllowedMoves(StatusInvestigating)
	m[0] = StatusResolved
	if AllowedMoves(StatusInvestigating)[0] != StatusIdentified {
		t.Fatal("AllowedMoves exposed the rules table")
	}
}

func TestParsers(t *testing.T) {
	for in, want := range map[string]Severity{"sev1": Sev1, "SEV2": Sev2, "3": Sev3, " sev4 ": Sev4} {
		if got, err := ParseSeverity(in); err != nil || got != want {
			t.Errorf("ParseSeverity(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "sev0", "sev5", "high", "sev"} {
		if _, err := ParseSeverity(bad); err == nil {
			t.Errorf("ParseSeverity(%q) accepted", bad)
		}
	}
	for in, want := range map[string]ID{"42": 42, "INC-42": 42, "inc-7": 7} {
		if got, err := ParseID(in); err != nil || got != want {
			t.Errorf("ParseID(%q) = %d, %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "INC-", "0", "-3", "INC-x", "4.2"} {
		if _, err := ParseID(bad); err == nil {
			t.Errorf("ParseID(%q) accepted", bad)
		}
	}
	if _, err := ParseStatus("Monitoring"); err != nil {
		t.Error(err)
	}
	if _, err := ParseStatus("fixed"); err == nil || !strings.Contains(err.Error(), "investigating, identified, monitoring or resolved") {
		t.Errorf("ParseStatus(fixed): %v", err)
	}
	if r, err := ParseRole("IC"); err != nil || r != RoleLead {
		t.Errorf("ParseRole(IC) = %q, %v", r, err)
	}
	if !Sev1.AtLeast(Sev2) || Sev3.AtLeast(Sev2) || !Sev2.AtLeast(Sev2) || Severity("x").AtLeast(Sev4) {
		t.Error("AtLeast ranks severities wrongly")
	}
}

func TestFormatDuration(t *testing.T) {
	cases := map[string]string{"45s": "45s", "12m30s": "12m", "1h5m": "1h05m", "51h": "2d3h", "-5s": "0s"}
	for in, want := range cases {
		d, _ := time.ParseDuration(in)
		if got := FormatDuration(d); got != want {
			t.Errorf("FormatDuration(%s) = %s, want %s", in, got, want)
		}
	}
}
