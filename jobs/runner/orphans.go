package runner

import (
	"context"
	"strconv"
	"strings"
	"time"
)

// LeaseStore is implemented by stores that can name the owners of running
// jobs and end their leases. With it, a queue takes back at the start of
// Run the jobs of a process on this host that is gone (killed, crashed),
// instead of waiting for their leases (Options.Lease) to run out: after
// `kill -9` and a restart, the jobs the dead process held run again at
// once. The attempt they were on stays counted, as when a lease runs out.
type LeaseStore interface {
	// LeaseOwners returns the distinct lease owners of running jobs.
	LeaseOwners(ctx context.Context) ([]string, error)
	// ExpireLeases ends, as of now, the leases of owner's running jobs,
	// and returns how many it ended.
	ExpireLeases(ctx context.Context, owner string, now time.Time) (int, error)
}

// takeBackOrphans ends the leases held by gone processes of this host.
// Errors are logged: the leases then run out on their own.
func (q *Queue) takeBackOrphans(ctx context.Context) {
	ls, ok := q.store.(LeaseStore)
	if !ok {
		return
	}
	owners, err := ls.LeaseOwners(ctx)
	if err != nil {
		q.log.Warn("listing job leases", "error", err)
		return
	}
	for _, owner := range owners {
		if !orphaned(owner, q.opts.Owner, processAlive) {
			continue
		}
		n, err := ls.ExpireLeases(ctx, owner, q.opts.Now())
		if err != nil {
			q.log.Warn("taking back the jobs of a gone process", "owner", owner, "error", err)
			continue
		}
		if n > 0 {
			q.log.Info("took back the jobs of a process that is gone", "owner", owner, "jobs", n)
		}
	}
}

// orphaned reports whether a lease owner ("host-pid-random/run.worker", as
// defaultOwner makes them) is a process of this host (self is this queue's
// owner) that is gone: its pid is not alive, or it is this process's pid
// with another random part (an earlier run of a process that always gets
// the same pid, as PID 1 in a container). Owners of another form, or of
// another host, are never orphaned: their leases run out on their own.
func orphaned(lease, self string, alive func(pid int) bool) bool {
	base, _, _ := strings.Cut(lease, "/")
	lHost, lPid, lRand, ok := splitOwner(base)
	sHost, sPid, sRand, ok2 := splitOwner(self)
	if !ok || !ok2 || lHost != sHost {
		return false
	}
	if lPid == sPid {
		return lRand != sRand
	}
	return !alive(lPid)
}

// splitOwner splits "host-pid-random"; the host may contain '-'.
func splitOwner(owner string) (host string, pid int, random string, ok bool) {
	i := strings.LastIndexByte(owner, '-')
	if i <= 0 {
		return "", 0, "", false
	}
	rest, random := owner[:i], owner[i+1:]
	j := strings.LastIndexByte(rest, '-')
	if j <= 0 || random == "" {
		return "", 0, "", false
	}
	pid, err := strconv.Atoi(rest[j+1:])
	if err != nil || pid <= 0 {
		return "", 0, "", false
	}
	return rest[:j], pid, random, true
}
