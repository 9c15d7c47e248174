package deployhooks_test

import (
	"strings"
	"testing"

	"github.com/warroomhq/warroom/integrations/deployhooks"
)

// FuzzParseDeploy: any body is a deploy or an error, never a panic, and a
// deploy has what the format requires.
func FuzzParseDeploy(f *testing.F) {
	f.Add([]byte(argoDeploy))
	f.Add([]byte(`{"service": "checkout", "sha": "abc", "status": "running"}`))
	f.Add([]byte(`{"service": "checkout", "ref": "v1", "status": "success", "started_at": "2026-01-02T00:00:00Z", "finished_at": "2026-01-01T00:00:00Z"}`))
	f.Add([]byte(`{"service": 1}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, body []byte) {
		d, err := deployhooks.ParseDeploy(body)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error")
			}
			return
		}
		if d.Service == "" || (d.Ref == "" && d.SHA == "") || !strings.HasPrefix(d.ExternalID, d.Service+"/") || d.Status == "" {
			t.Fatalf("incomplete deploy %+v from %q", d, body)
		}
		if !d.StartedAt.IsZero() && !d.FinishedAt.IsZero() && d.FinishedAt.Before(d.StartedAt) {
			t.Fatalf("finished before started: %+v", d)
		}
	})
}
