// Package deployhooks serves the webhooks by which Warroom learns of
// deploys as they happen, and of the progress of rollbacks that deploy
// tools carry out:
//
//	POST /hooks/deploy           a deploy event in Warroom's JSON (ParseDeploy); the webhook token
//	POST /hooks/deploy/rollback  a rollback status callback (deploywebhook.ParseCallback), signed
//	                             with X-Warroom-Signature and the service's rollback.webhook.secret
//	POST /hooks/github           GitHub's deployment_status and workflow_run events, signed with
//	                             X-Hub-Signature-256 and github.webhook_secret
//
// Each hands what it read to a deploys.Recorder before it answers, so an
// answered delivery is stored. Recording is idempotent (a deploy is
// identified by its source and external ID, a callback by its rollback's
// key), so replayed deliveries are harmless.
//
// Answers:
//
//	200 {"status":"ok", "deploy_id": 7, "service": "checkout"}   (a callback: {"status":"ok"})
//	202 {"status":"ignored", "reason": "..."}  a GitHub event other than deployment_status and
//	                                           workflow_run, a deployment or run of no configured
//	                                           service, a deploy to an environment (a run on a
//	                                           branch) the service does not follow
//	400 {"error":"status: ..."}  a malformed body; the message names the field
//	401 {"error":"..."}  no token or signature, or a wrong one
//	404 {"error":"..."}  the hook is off (no webhooks.token, no github.webhook_secret), or a
//	                     callback for an unknown rollback
//	413 {"error":"..."}  the body is larger than the limit
//	503 {"error":"..."}  it could not be stored; send it again (GitHub can redeliver)
package deployhooks

import (
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/warroomhq/warroom/config"
	"github.com/warroomhq/warroom/deploys"
	"github.com/warroomhq/warroom/incidents"
	"github.com/warroomhq/warroom/integrations/deploywebhook"
	"github.com/warroomhq/warroom/integrations/github"
	"github.com/warroomhq/warroom/integrations/webhook"
	"github.com/warroomhq/warroom/server"
)

// DefaultMaxBodyBytes is the body limit of the deploy hooks. GitHub's
// deployment_status events are some tens of kilobytes.
const DefaultMaxBodyBytes = 1 << 20

// The routes.
const (
	DeployPath   = "/hooks/deploy"
	CallbackPath = deploywebhook.CallbackPath
	GitHubPath   = "/hooks/github"
)

// GitHub's webhook headers.
const (
	GitHubEventHeader     = "X-GitHub-Event"
	GitHubSignatureHeader = "X-Hub-Signature-256"
	GitHubDeliveryHeader  = "X-GitHub-Delivery"
)

// Options configures the hooks.
type Options struct {
	// Token is webhooks.token, for POST /hooks/deploy. Empty turns that
	// hook off (404).
	Token string
	// GitHubSecret is github.webhook_secret, for POST /hooks/github. Empty
	// turns that hook off (404).
	GitHubSecret []byte
	// Services are the configured services: a deploy event must name one,
	// a GitHub deployment is matched to one by repository and environment,
	// and a callback is verified with its rollback.webhook.secret.
	Services map[string]config.Service
	Recorder deploys.Recorder
	Logger   *slog.Logger
	// Registry receives the hooks' metrics; nil registers none.
	Registry prometheus.Registerer
	// MaxBodyBytes limits bodies; 0 means DefaultMaxBodyBytes.
	MaxBodyBytes int64
}

// Hooks serves the deploy webhooks.
type Hooks struct {
	opts     Options
	token    server.Token
	log      *slog.Logger
	requests *prometheus.CounterVec
}

// New returns the hooks.
func New(opts Options) *Hooks {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	h := &Hooks{opts: opts, token: server.NewToken(opts.Token), log: opts.Logger,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "warroom_deploy_hook_requests_total",
			Help: "Deploy webhook requests, by hook (deploy, rollback_callback, github) and outcome (recorded, ignored, bad_request, too_large, unauthorized, not_found, unavailable, off).",
		}, []string{"hook", "outcome"}),
	}
	if opts.Registry != nil {
		opts.Registry.MustRegister(h.requests)
	}
	return h
}

// Routes registers the hooks with handle, which sets a body limit per route
// (server.Server.HandleLimited).
func (h *Hooks) Routes(handle func(pattern string, limit int64, h http.Handler)) {
	handle("POST "+DeployPath, h.opts.MaxBodyBytes, h.counted("deploy", h.serveDeploy))
	handle("POST "+CallbackPath, h.opts.MaxBodyBytes, h.counted("rollback_callback", h.serveCallback))
	handle("POST "+GitHubPath, h.opts.MaxBodyBytes, h.counted("github", h.serveGitHub))
}

func (h *Hooks) counted(hook string, serve func(http.ResponseWriter, *http.Request) string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.requests.WithLabelValues(hook, serve(w, r)).Inc()
	})
}

// fail answers with a status and a message, and returns the outcome.
func fail(w http.ResponseWriter, r *http.Request, code int, outcome, msg string) string {
	server.WriteError(w, r, &server.StatusError{Code: code, Msg: msg})
	return outcome
}

// readBody reads the body, answering 400 or 413 itself.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, string) {
	body, err := server.ReadBody(w, r)
	if err != nil {
		server.WriteError(w, r, err)
		var se *server.StatusError
		if errors.As(err, &se) && se.Code == http.StatusRequestEntityTooLarge {
			return nil, "too_large"
		}
		return nil, "bad_request"
	}
	return body, ""
}

type reply struct {
	Status   string `json:"status"`
	DeployID int64  `json:"deploy_id,omitempty"`
	Service  string `json:"service,omitempty"`
	Reason   string `json:"reason,omitempty"`
}

func ignored(w http.ResponseWriter, reason string) string {
	server.WriteJSON(w, http.StatusAccepted, reply{Status: "ignored", Reason: reason})
	return "ignored"
}

func (h *Hooks) serveDeploy(w http.ResponseWriter, r *http.Request) string {
	if !h.token.IsSet() {
		return fail(w, r, http.StatusNotFound, "off",
			"the deploy webhook is off; set webhooks.token in Warroom's configuration to turn it on")
	}
	if !h.token.BearerOrBasic(r) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="warroom", Basic realm="warroom"`)
		return fail(w, r, http.StatusUnauthorized, "unauthorized",
			"missing or wrong webhook token; send Authorization: Bearer <token>, or basic auth with the token as password")
	}
	body, outcome := readBody(w, r)
	if body == nil {
		return outcome
	}
	d, err := ParseDeploy(body)
	if err != nil {
		return fail(w, r, http.StatusBadRequest, "bad_request", err.Error())
	}
	svc, ok := h.opts.Services[d.Service]
	if !ok {
		return fail(w, r, http.StatusBadRequest, "bad_request", "service: "+strconv.Quote(d.Service)+" is not a service in Warroom's configuration")
	}
	if wh := webhookDeploys(svc); wh != nil && wh.Environment != "" && wh.Environment != d.Environment {
		return ignored(w, "service "+d.Service+" follows deploys to "+wh.Environment+" only")
	}
	return h.record(w, r, "deploy", d)
}

func webhookDeploys(s config.Service) *config.DeployWebhook {
	if s.Deploys == nil {
		return nil
	}
	return s.Deploys.Webhook
}

// record stores d and answers.
func (h *Hooks) record(w http.ResponseWriter, r *http.Request, hook string, d deploys.Deploy) string {
	stored, err := h.opts.Recorder.RecordDeploy(r.Context(), d)
	if err != nil {
		return h.storeFailed(w, r, hook, err, "service", d.Service, "external_id", d.ExternalID)
	}
	server.WriteJSON(w, http.StatusOK, reply{Status: "ok", DeployID: stored.ID, Service: d.Service})
	return "recorded"
}

// storeFailed answers a Recorder's error: a user error as it is (400, 404),
// anything else 503.
func (h *Hooks) storeFailed(w http.ResponseWriter, r *http.Request, hook string, err error, attrs ...any) string {
	if incidents.IsUserError(err) {
		server.WriteError(w, r, err)
		if errors.Is(err, incidents.ErrNotFound) {
			return "not_found"
		}
		return "bad_request"
	}
	h.log.Error("recording a deploy webhook failed", append([]any{"hook", hook, "err", err}, attrs...)...)
	w.Header().Set("Retry-After", "10")
	server.WriteError(w, r, &server.StatusError{Code: http.StatusServiceUnavailable,
		Msg: "it could not be stored; send it again", Err: err})
	return "unavailable"
}

// serveCallback records a rollback's progress reported by a deploy tool.
// The body names its service, whose rollback.webhook.secret must have
// signed it; it is parsed before it is verified only to find that secret.
func (h *Hooks) serveCallback(w http.ResponseWriter, r *http.Request) string {
	body, outcome := readBody(w, r)
	if body == nil {
		return outcome
	}
	service, key, p, err := deploywebhook.ParseCallback(body)
	if err != nil {
		if r.Header.Get(webhook.SignatureHeader) == "" {
			return fail(w, r, http.StatusUnauthorized, "unauthorized", "missing "+webhook.SignatureHeader)
		}
		return fail(w, r, http.StatusBadRequest, "bad_request", err.Error())
	}
	var secret []byte
	if svc, ok := h.opts.Services[service]; ok && svc.Rollback != nil && svc.Rollback.Webhook != nil {
		secret = []byte(svc.Rollback.Webhook.Secret.Reveal())
	}
	if !webhook.Verify(secret, body, r.Header.Get(webhook.SignatureHeader)) {
		return fail(w, r, http.StatusUnauthorized, "unauthorized",
			"missing or wrong "+webhook.SignatureHeader+"; sign the body with the service's rollback.webhook.secret")
	}
	if err := h.opts.Recorder.RecordRollbackProgress(r.Context(), service, key, p); err != nil {
		if errors.Is(err, incidents.ErrNotFound) {
			return fail(w, r, http.StatusNotFound, "not_found",
				"key: Warroom has no webhook rollback "+strconv.Quote(key)+" of "+strconv.Quote(service))
		}
		return h.storeFailed(w, r, "rollback_callback", err, "service", service, "key", key)
	}
	server.WriteJSON(w, http.StatusOK, reply{Status: "ok", Service: service})
	return "recorded"
}

// serveGitHub records GitHub's deployment_status and workflow_run events.
func (h *Hooks) serveGitHub(w http.ResponseWriter, r *http.Request) string {
	if len(h.opts.GitHubSecret) == 0 {
		return fail(w, r, http.StatusNotFound, "off",
			"the GitHub webhook is off; set github.webhook_secret in Warroom's configuration to turn it on")
	}
	body, outcome := readBody(w, r)
	if body == nil {
		return outcome
	}
	if !webhook.Verify(h.opts.GitHubSecret, body, r.Header.Get(GitHubSignatureHeader)) {
		return fail(w, r, http.StatusUnauthorized, "unauthorized",
			"missing or wrong "+GitHubSignatureHeader+"; set the webhook's secret to github.webhook_secret")
	}
	event := r.Header.Get(GitHubEventHeader)
	switch event {
	case "ping":
		server.WriteJSON(w, http.StatusOK, reply{Status: "ok"})
		return "recorded"
	case "deployment_status", "workflow_run":
	case "":
		return fail(w, r, http.StatusBadRequest, "bad_request", GitHubEventHeader+": missing")
	default:
		return ignored(w, "Warroom reads deployment_status and workflow_run events only, not "+event)
	}
	payload := body
	if ct := r.Header.Get("Content-Type"); strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
		form, err := url.ParseQuery(string(body))
		if err != nil || form.Get("payload") == "" {
			return fail(w, r, http.StatusBadRequest, "bad_request", "payload: missing from the form body (set the webhook's content type to application/json)")
		}
		payload = []byte(form.Get("payload"))
	}
	if event == "workflow_run" {
		return h.serveWorkflowRun(w, r, payload)
	}
	ev, err := github.ParseDeploymentStatus(payload)
	if err != nil {
		return fail(w, r, http.StatusBadRequest, "bad_request", err.Error())
	}
	service, ok := h.serviceOf(ev.Repository, ev.Deploy.Environment)
	if !ok {
		return ignored(w, "no service follows GitHub deployments of "+ev.Repository+" to "+ev.Deploy.Environment)
	}
	ev.Deploy.Service = service
	h.log.Debug("GitHub deployment status", "delivery", r.Header.Get(GitHubDeliveryHeader),
		"service", service, "deployment", ev.Deploy.ExternalID, "status", ev.Deploy.Status)
	return h.record(w, r, "github", ev.Deploy)
}

// serviceOf finds the service whose repository is repo and that follows,
// or rolls back through, GitHub deployments to env. Several match: the
// first by name.
func (h *Hooks) serviceOf(repo, env string) (string, bool) {
	var names []string
	for name, s := range h.opts.Services {
		if !strings.EqualFold(s.Repository, repo) {
			continue
		}
		follows := s.Deploys != nil && s.Deploys.GitHubDeployments != nil && s.Deploys.GitHubDeployments.Environment == env
		rollsBack := s.Rollback != nil && s.Rollback.GitHubDeployment != nil && s.Rollback.GitHubDeployment.Environment == env
		if follows || rollsBack {
			names = append(names, name)
		}
	}
	if len(names) == 0 {
		return "", false
	}
	slices.Sort(names)
	if len(names) > 1 {
		h.log.Warn("several services follow the same GitHub deployments; recording for the first",
			"repository", repo, "environment", env, "services", names)
	}
	return names[0], true
}
