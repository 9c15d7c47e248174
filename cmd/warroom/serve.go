package main

import (
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/warroomhq/warroom/app"
	"github.com/warroomhq/warroom/config"
	"github.com/warroomhq/warroom/store/sqlite"
)

func cmdServe(e *env, args []string) error {
	fs := e.newFlags("serve")
	cfgPath := fs.String("config", "", "config file (default $WARROOM_CONFIG or warroom.yaml)")
	listen := fs.String("listen", "", "address to listen on (default $WARROOM_LISTEN or server.listen)")
	db := fs.String("db", "", "SQLite database file (default $WARROOM_DB or database.path)")
	logLevel := fs.String("log-level", "", "debug, info, warn or error (default $WARROOM_LOG_LEVEL or info)")
	logFormat := fs.String("log-format", "", "json or text (default $WARROOM_LOG_FORMAT or json)")
	workers := fs.Int("workers", 4, "job queue workers")
	if err := parse(fs, args); err != nil {
		return err
	}
	logger, err := newLogger(e.stderr, firstNonEmpty(*logLevel, e.getenv("WARROOM_LOG_LEVEL")),
		firstNonEmpty(*logFormat, e.getenv("WARROOM_LOG_FORMAT")))
	if err != nil {
		return err
	}
	path := e.configPath(*cfgPath)
	cfg, err := e.loadConfig(path)
	if err != nil {
		return err
	}
	addr := firstNonEmpty(*listen, e.getenv("WARROOM_LISTEN"), cfg.Server.Listen)
	dbPath := firstNonEmpty(*db, e.getenv("WARROOM_DB"), cfg.Database.Path)

	ctx, stop := signal.NotifyContext(e.ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	a, err := app.New(ctx, cfg, app.Options{DBPath: dbPath, Logger: logger, Workers: *workers})
	if err != nil {
		return err
	}
	defer a.Close()
	v, _ := a.Store.SchemaVersion(ctx)
	logger.Info("starting warroom", "version", versionString(), "config", path, "db", dbPath, "schema_version", v)
	err = a.Run(ctx, addr, nil)
	if err != nil {
		return err
	}
	logger.Info("stopped")
	return nil
}

func cmdMigrate(e *env, args []string) error {
	fs := e.newFlags("migrate")
	cfgPath := fs.String("config", "", "config file to read database.path from (optional with --db)")
	db := fs.String("db", "", "SQLite database file (default $WARROOM_DB or database.path)")
	if err := parse(fs, args); err != nil {
		return err
	}
	dbPath := firstNonEmpty(*db, e.getenv("WARROOM_DB"))
	if dbPath == "" {
		path := e.configPath(*cfgPath)
		cfg, err := e.loadConfig(path)
		if err != nil {
			return err
		}
		dbPath = cfg.Database.Path
	}
	ctx := e.ctx
	st, err := sqlite.Open(ctx, dbPath)
	if err != nil {
		return err
	}
	defer st.Close()
	applied, err := st.Migrate(ctx)
	if err != nil {
		return err
	}
	v, err := st.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	if len(applied) == 0 {
		fmt.Fprintf(e.stdout, "%s is up to date at schema version %d\n", dbPath, v)
		return nil
	}
	names := make([]string, len(applied))
	for i, a := range applied {
		names[i] = fmt.Sprint(a)
	}
	fmt.Fprintf(e.stdout, "%s: applied migrations %s; schema version %d\n", dbPath, strings.Join(names, ", "), v)
	return nil
}

func cmdCheckConfig(e *env, args []string) error {
	fs := e.newFlags("check-config")
	cfgPath := fs.String("config", "", "config file (or give it as the argument)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 1 {
		fmt.Fprintln(e.stderr, "usage: warroom check-config [FILE]")
		return errUsage
	}
	path := e.configPath(firstNonEmpty(fs.Arg(0), *cfgPath))
	cfg, err := e.loadConfig(path)
	if err != nil {
		fmt.Fprintln(e.stdout, err)
		return &exitError{code: 1}
	}
	fmt.Fprintf(e.stdout, "%s: ok\n%s", path, summarize(cfg))
	return nil
}

// summarize lists what a config sets up, without any secret.
func summarize(cfg *config.Config) string {
	var b strings.Builder
	fmt.Fprintf(&b, "  %d people, %d schedules, %d escalation policies, %d services, %d alert routes\n",
		len(cfg.People), len(cfg.Schedules), len(cfg.EscalationPolicies), len(cfg.Services), len(cfg.Alerts.Routes))
	set := func(name string, ok bool) {
		state := "not set"
		if ok {
			state = "set"
		}
		fmt.Fprintf(&b, "  %-22s %s\n", name, state)
	}
	set("slack.bot_token", cfg.Slack.BotToken.IsSet())
	set("slack.signing_secret", cfg.Slack.SigningSecret.IsSet())
	set("github.token", cfg.GitHub.Token.IsSet())
	set("github.webhook_secret", cfg.GitHub.WebhookSecret.IsSet())
	set("webhooks.token", cfg.Webhooks.Token.IsSet())
	set("api.token", cfg.API.Token.IsSet())
	return b.String()
}
