package runner

import "testing"

func TestOrphaned(t *testing.T) {
	alive := func(pid int) bool { return pid == 7 || pid == 100 }
	const self = "web-1-100-aaaa"
	for _, c := range []struct {
		lease string
		want  bool
	}{
		{"web-1-42-bbbb/1.0", true},   // this host, a gone process
		{"web-1-7-bbbb/2.3", false},   // this host, a live process
		{"web-1-100-bbbb/1.0", true},  // this pid, an earlier run (PID 1 in a container)
		{"web-1-100-aaaa/1.0", false}, // this very process
		{"web-2-42-bbbb/1.0", false},  // another host: its lease runs out
		{"worker-7", false},           // not a default owner
		{"web-1-x-bbbb/1.0", false},
		{"", false},
	} {
		if got := orphaned(c.lease, self, alive); got != c.want {
			t.Errorf("orphaned(%q) = %v, want %v", c.lease, got, c.want)
		}
	}
	if orphaned("web-1-42-bbbb/1.0", "custom-owner", alive) {
		t.Error("a queue with a custom owner took back a lease")
	}
}

func TestSplitOwner(t *testing.T) {
	host, pid, random, ok := splitOwner("ip-10-0-0-1-4242-0a1b2c3d")
	if !ok || host != "ip-10-0-0-1" || pid != 4242 || random != "0a1b2c3d" {
		t.Errorf("splitOwner: %q %d %q %v", host, pid, random, ok)
	}
}
