package deploys_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDomainImportsNoVendorPackage keeps package deploys free of GitHub,
// Slack and other outside packages, like package incidents.
func TestDomainImportsNoVendorPackage(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", ".").CombinedOutput()
	if err != nil {
		t.Skipf("go list unavailable: %v\n%s", err, out)
	}
	allowed := map[string]bool{
		"github.com/warroomhq/warroom/deploys":   true,
		"github.com/warroomhq/warroom/incidents": true,
		"github.com/warroomhq/warroom/jobs":      true,
	}
	for _, dep := range strings.Fields(string(out)) {
		if !allowed[dep] {
			t.Errorf("package deploys depends on %s; keep vendor and adapter packages out of it", dep)
		}
	}
}
