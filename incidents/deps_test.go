package incidents_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDomainImportsNoVendorPackage keeps the domain independent of Slack,
// GitHub, metrics and any other outside package: its whole dependency graph
// is the standard library and Warroom's own vendor-free packages.
func TestDomainImportsNoVendorPackage(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", ".").CombinedOutput()
	if err != nil {
		t.Skipf("go list unavailable: %v\n%s", err, out)
	}
	allowed := map[string]bool{
		"github.com/warroomhq/warroom/incidents": true,
		"github.com/warroomhq/warroom/jobs":      true,
	}
	for _, dep := range strings.Fields(string(out)) {
		if !allowed[dep] {
			t.Errorf("the domain depends on %s; keep vendor and adapter packages out of incidents", dep)
		}
	}
}
