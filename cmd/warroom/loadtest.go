package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/warroomhq/warroom/internal/loadtest"
)

// cmdLoadtest fires alert webhooks at a running Warroom and reports
// throughput, latency and the time from the first alert to the channel.
// Exit 1 when a body was not answered 2xx.
func cmdLoadtest(e *env, args []string) error {
	fs := e.newFlags("loadtest")
	var o loadtest.Options
	fs.StringVar(&o.URL, "url", "http://127.0.0.1:8080", "Warroom's base URL")
	token := fs.String("token", "", "webhook token (default $WARROOM_WEBHOOK_TOKEN)")
	apiToken := fs.String("api-token", "", "API token, to measure the time to the incident channel (default $WARROOM_API_TOKEN)")
	fs.StringVar(&o.Source, "source", "alertmanager", "alertmanager, grafana or generic")
	fs.Float64Var(&o.Rate, "rate", 0, "bodies per second; 0 sends as fast as it can")
	fs.DurationVar(&o.Duration, "duration", 0, "send for this long (or give --bodies)")
	fs.IntVar(&o.Bodies, "bodies", 0, "send this many firing bodies (or give --duration)")
	fs.IntVar(&o.Concurrency, "concurrency", 1, "senders at once")
	fs.IntVar(&o.Groups, "groups", 1, "distinct alert groups (incidents); body i goes to group i mod N")
	batch := fs.String("batch", "1", "alerts per body, or a mix such as 1,10,100 (each body picks one)")
	fs.BoolVar(&o.Resolve, "resolve", false, "resolve every alert at the end")
	fs.Uint64Var(&o.Seed, "seed", 1, "seed for the batch mix")
	fs.StringVar(&o.RunID, "run-id", "", "marks this run's alerts and incident titles (default: from the time)")
	fs.StringVar(&o.Severity, "severity", "critical", "the alerts' severity label")
	fs.StringVar(&o.Service, "service", "", "the alerts' service label (routes, paging); default none")
	fs.DurationVar(&o.Poll, "poll", 100*time.Millisecond, "how often to read the incident list")
	fs.DurationVar(&o.Wait, "wait", 60*time.Second, "how long to wait for channels after the last body")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(e.stderr, "warroom loadtest: unexpected argument %q\n", fs.Arg(0))
		return errUsage
	}
	var err error
	if o.Batch, err = loadtest.ParseBatch(*batch); err != nil {
		return err
	}
	o.Token = firstNonEmpty(*token, e.getenv("WARROOM_WEBHOOK_TOKEN"))
	o.APIToken = firstNonEmpty(*apiToken, e.getenv("WARROOM_API_TOKEN"))

	// Ctrl-C stops sending and still prints what was sent.
	ctx, stop := signal.NotifyContext(e.ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := loadtest.Run(ctx, o)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else if err := rep.WriteText(e.stdout); err != nil {
		return err
	}
	failed := rep.Fire.Failed()
	if rep.Resolve != nil {
		failed += rep.Resolve.Failed()
	}
	if failed > 0 {
		return fmt.Errorf("%d bodies were not answered 2xx", failed)
	}
	if ctx.Err() != nil && e.ctx.Err() == nil {
		return fmt.Errorf("interrupted")
	}
	return nil
}
