package github_test

import (
	"os"
	"testing"

	"github.com/warroomhq/warroom/integrations/github"
)

// FuzzParseDeploymentStatus: any body is an event or an error, never a
// panic, and an event has a repository, an ID, an environment and a known
// status.
func FuzzParseDeploymentStatus(f *testing.F) {
	if b, err := os.ReadFile("../deployhooks/testdata/deployment_status.json"); err == nil {
		f.Add(b)
	}
	f.Add([]byte(`{"repository": {"full_name": "a/b"}, "deployment": {"id": 1, "environment": "p", "payload": "{\"warroom_rollback_key\":\"k\"}"}, "deployment_status": {"state": "error"}}`))
	f.Add([]byte(`{"deployment": {"id": "x"}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		ev, err := github.ParseDeploymentStatus(body)
		if err != nil {
			return
		}
		if ev.Repository == "" || ev.Deploy.ExternalID == "" || ev.Deploy.ExternalID == "0" || ev.Deploy.Environment == "" {
			t.Fatalf("incomplete event %+v from %q", ev, body)
		}
		if ev.Deploy.Status == "unknown" || ev.Deploy.Status == "" {
			t.Fatalf("status %q", ev.Deploy.Status)
		}
	})
}
