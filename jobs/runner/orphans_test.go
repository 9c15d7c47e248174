package runner_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/warroomhq/warroom/jobs"
	"github.com/warroomhq/warroom/jobs/runner"
	"github.com/warroomhq/warroom/store/sqlite"
)

var _ runner.LeaseStore = (*sqlite.Store)(nil)

// TestRunTakesBackTheJobsOfAGoneProcess: a job leased for two minutes by
// a process of this host that has exited (kill -9) runs as soon as a new
// queue starts, not when the lease runs out; a job leased by a live
// process of another host is left alone.
func TestRunTakesBackTheJobsOfAGoneProcess(t *testing.T) {
	s, _ := openStore(t)
	ctx := context.Background()
	gone := exec.Command("true")
	if err := gone.Run(); err != nil {
		t.Skip("cannot run a process to be gone:", err)
	}
	host, err := os.Hostname()
	if err != nil || host == "" {
		t.Skip("no hostname")
	}
	enqueue(t, s, jobs.NewJob{Kind: "k", Key: "orphan"})
	enqueue(t, s, jobs.NewJob{Kind: "k", Key: "elsewhere"})
	now := time.Now()
	for _, owner := range []string{fmt.Sprintf("%s-%d-dead/1.0", host, gone.Process.Pid), "other-host-1-beef/1.0"} {
		claimed, _, err := s.Claim(ctx, owner, []string{"k"}, now, 2*time.Minute, 1)
		if err != nil || len(claimed) != 1 {
			t.Fatalf("claim for %s: %v %v", owner, claimed, err)
		}
	}

	ran := make(chan string, 2)
	q := runner.New(s, runner.Options{PollInterval: 10 * time.Millisecond})
	q.Handle("k", jobs.HandlerFunc(func(_ context.Context, j jobs.Job) error {
		ran <- j.Key
		return nil
	}))
	stop := startRun(t, q)
	defer stop()
	select {
	case key := <-ran:
		if key != "orphan" {
			t.Fatalf("ran %s, want the orphan", key)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the gone process's job did not run")
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if in := getJob(t, s, "orphan"); in.State != jobs.StateDone || in.Attempt != 2 {
		t.Errorf("the orphan: %+v, want done after its second attempt", in)
	}
	if in := getJob(t, s, "elsewhere"); in.State != jobs.StateRunning {
		t.Errorf("the other host's job: %+v, want still running", in)
	}
}
