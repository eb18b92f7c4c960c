// Package api is countersign's HTTP interface: the REST API (v1), bearer
// token authentication with roles, and the health probes. Router returns the
// whole thing as one http.Handler, so tests serve the real router.
package api

import (
	"context"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/auth"
	"github.com/countersign/countersign/internal/dispatch"
	"github.com/countersign/countersign/internal/oidc"
	"github.com/countersign/countersign/internal/pageimage"
	"github.com/countersign/countersign/internal/rest"
	"github.com/countersign/countersign/internal/telemetry"
)

// DefaultMaxBodyBytes bounds a request body unless configured otherwise.
const DefaultMaxBodyBytes = 8 << 20

// Services are what the API works with.
type Services struct {
	Store countersign.Store
	// Dispatch sends people's requests to the workflows (submissions,
	// decisions, vetoes, policy resets and changes), signed; its task types
	// are the ones the API serves. Without it (some tests) no review groups
	// apply and nothing reaches a workflow.
	Dispatch *dispatch.Dispatcher
	// Ready reports whether the service can do its work (store reachable,
	// workers polling); /readyz answers 503 otherwise. An error that wraps
	// countersign.ErrNoWorker is reported as such; others only as a dependency down.
	Ready func(ctx context.Context) error
	// MaxBodyBytes bounds request bodies (default DefaultMaxBodyBytes).
	MaxBodyBytes int64
	Logger       *slog.Logger
	Now          func() time.Time

	// MaxFields bounds the fields of a decision or veto (default
	// DefaultMaxFields), MaxMetadataKeys the metadata keys of a submitted
	// document (default DefaultMaxMetadataKeys).
	MaxFields       int
	MaxMetadataKeys int
	// MaxReasonBytes bounds the reason of a decision, veto or policy reset
	// (default DefaultMaxReasonBytes), MaxFieldValueBytes each field value
	// of a decision or veto, as JSON (default DefaultMaxFieldValueBytes);
	// neither goes above the ceilings every workflow holds to
	// (countersign.MaxReasonBytes, MaxFieldValueBytes).
	MaxReasonBytes     int
	MaxFieldValueBytes int
	// ReadTimeout bounds how long a request's body may take to arrive
	// (default DefaultReadTimeout); see readWithin.
	ReadTimeout time.Duration
	// RateLimit is how many requests per second one token may make on
	// average and RateBurst how many at once (defaults DefaultRateLimit and
	// DefaultRateBurst); RateLimit NoRateLimit turns the limit off.
	RateLimit float64
	RateBurst int

	// Telemetry, when set, traces every request (a span named by its route,
	// continuing a caller's traceparent) and serves GET /metrics.
	Telemetry *telemetry.Telemetry

	// OIDC, when set, accepts OIDC bearer tokens from the configured
	// issuer beside countersign API tokens.
	OIDC OIDCAuthenticator

	// UI, when set, is the web page for people (internal/web), served at
	// /ui/ with its own sign-in; GET / then leads there.
	UI http.Handler

	// SlackInteractions and SlackCommands, when set, answer Slack at
	// POST /slack/interactions and POST /slack/commands
	// (internal/slackapp); they verify Slack's signature themselves.
	SlackInteractions http.Handler
	SlackCommands     http.Handler

	// Pages renders the pages of documents' originals (a PDF) as images;
	// without it GET /v1/documents/{id}/pages/{page} answers 404.
	Pages *pageimage.Renderer
}

// Who may call what. Admin may call everything.
var (
	submitters = []countersign.Role{countersign.RoleSubmitter}
	readers    = []countersign.Role{countersign.RoleSubmitter, countersign.RoleReviewer, countersign.RoleApprover, countersign.RoleAuditor}
	queue      = []countersign.Role{countersign.RoleReviewer, countersign.RoleApprover, countersign.RoleAuditor}
	deciders   = []countersign.Role{countersign.RoleReviewer, countersign.RoleApprover}
	trail      = []countersign.Role{countersign.RoleReviewer, countersign.RoleApprover, countersign.RoleAuditor}
	verifiers  = []countersign.Role{countersign.RoleApprover, countersign.RoleAuditor}
	tuners     = []countersign.Role{countersign.RoleApprover}
	admins     = []countersign.Role{}
)

// Router returns the HTTP handler of the API.
func Router(s Services) http.Handler {
	if s.Logger == nil {
		s.Logger = slog.Default()
	}
	if s.Now == nil {
		s.Now = time.Now
	}
	if s.MaxBodyBytes <= 0 {
		s.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if s.MaxFields <= 0 {
		s.MaxFields = DefaultMaxFields
	}
	if s.MaxMetadataKeys <= 0 {
		s.MaxMetadataKeys = DefaultMaxMetadataKeys
	}
	if s.MaxReasonBytes <= 0 {
		s.MaxReasonBytes = DefaultMaxReasonBytes
	}
	if s.MaxFieldValueBytes <= 0 {
		s.MaxFieldValueBytes = DefaultMaxFieldValueBytes
	}
	if s.ReadTimeout <= 0 {
		s.ReadTimeout = DefaultReadTimeout
	}
	if s.RateLimit == 0 {
		s.RateLimit = DefaultRateLimit
	}
	if s.RateBurst <= 0 {
		s.RateBurst = DefaultRateBurst
	}
	h := &handlers{Services: s}
	if s.RateLimit > 0 {
		h.limiter = newRateLimiter(s.RateLimit, s.RateBurst)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", h.healthz)
	mux.HandleFunc("GET /readyz", h.readyz)
	if s.Telemetry != nil {
		// Unauthenticated, like the probes: scrapers carry no token, and
		// the figures are counts by task type, field and model, with no
		// document, person or ID in them.
		mux.Handle("GET /metrics", s.Telemetry.MetricsHandler())
	}
	mux.HandleFunc("GET /v1/openapi.json", h.openapi)
	mux.Handle("POST /v1/documents", h.allow(submitters, "submit documents", h.submit))
	mux.Handle("GET /v1/documents/{id}", h.allow(readers, "read documents", h.getDocument))
	mux.Handle("GET /v1/batches", h.allow(readers, "list batches", h.listBatches))
	mux.Handle("GET /v1/batches/{name}", h.allow(readers, "read batches", h.getBatch))
	mux.Handle("GET /v1/documents/{id}/audit", h.allow(trail, "read a document's audit trail", h.documentAudit))
	mux.Handle("GET /v1/documents/{id}/original", h.allow(trail, "read a document's original file", h.getOriginal))
	mux.Handle("GET /v1/documents/{id}/pages/{page}", h.allow(trail, "see a document's pages", h.getPage))
	mux.Handle("GET /v1/reviews", h.allow(queue, "list reviews", h.listReviews))
	mux.Handle("GET /v1/reviews/{id}", h.allow(queue, "read reviews", h.getReview))
	mux.Handle("POST /v1/reviews/{id}/decision", h.allow(deciders, "decide reviews", h.decide))
	mux.Handle("POST /v1/reviews/{id}/claim", h.allow(deciders, "claim reviews", h.claimReview))
	mux.Handle("DELETE /v1/reviews/{id}/claim", h.allow(deciders, "release claims on reviews", h.releaseClaim))
	mux.Handle("POST /v1/reviews/{id}/assign", h.allow(tuners, "assign reviews", h.assignReview))
	mux.Handle("POST /v1/reviews/next", h.allow(deciders, "take the next review", h.nextReview))
	mux.Handle("GET /v1/audit/verify", h.allow(verifiers, "verify the audit log", h.verifyAudit))
	mux.Handle("POST /v1/tokens", h.allow(admins, "create API tokens", h.createToken))
	mux.Handle("GET /v1/tokens", h.allow(admins, "list API tokens", h.listTokens))
	mux.Handle("POST /v1/tokens/{id}/revoke", h.allow(admins, "revoke API tokens", h.revokeToken))
	mux.Handle("POST /v1/calibrations", h.allow(tuners, "fit calibrations", h.calibrate))
	mux.Handle("GET /v1/calibrations/{task_type}", h.allow(verifiers, "read calibrations", h.getCalibration))
	mux.Handle("GET /v1/policy/simulate", h.allow(verifiers, "simulate policies", h.simulatePolicy))
	mux.Handle("POST /v1/policy/reset", h.allow(tuners, "reset policies", h.resetPolicy))
	mux.Handle("POST /v1/policy/certify", h.allow(tuners, "certify policies", h.certifyPolicy))
	mux.Handle("GET /v1/policy/certificates", h.allow(verifiers, "list policy certificates", h.listCertificates))
	mux.Handle("POST /v1/policy/apply", h.allow(tuners, "apply policy certificates", h.applyCertificate))
	mux.Handle("POST /v1/policy/set", h.allow(tuners, "set policies", h.setPolicy))
	mux.Handle("GET /v1/policy/versions", h.allow(verifiers, "list policy versions", h.listPolicyVersions))
	mux.Handle("POST /v1/documents/{id}/escalate", h.allow(deciders, "escalate documents", h.escalate))
	mux.Handle("POST /v1/documents/{id}/veto", h.allow(tuners, "veto auto-accepted documents", h.veto))
	mux.Handle("GET /v1/stats", h.allow(verifiers, "read statistics", h.stats))
	mux.Handle("GET /v1/reviewers", h.allow(verifiers, "read reviewers' statistics", h.reviewers))
	mux.Handle("GET /v1/export", h.allow(verifiers, "export training data", h.exportData))
	mux.Handle("POST /v1/slack/users", h.allow(admins, "link Slack users", h.linkSlackUser))
	mux.Handle("GET /v1/slack/users", h.allow(admins, "list Slack users", h.listSlackUsers))
	mux.Handle("DELETE /v1/slack/users/{slack_user_id}", h.allow(admins, "unlink Slack users", h.unlinkSlackUser))
	if s.SlackInteractions != nil && s.SlackCommands != nil {
		mux.Handle("POST /slack/interactions", s.SlackInteractions)
		mux.Handle("POST /slack/commands", s.SlackCommands)
	}
	if s.UI != nil {
		mux.Handle("/ui/", s.UI)
		mux.Handle("GET /{$}", http.RedirectHandler("/ui/", http.StatusSeeOther))
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		rest.WriteError(w, countersign.Errorf(countersign.CodeNotFound, "no such endpoint: %s %s", r.Method, r.URL.Path))
	})
	route := func(r *http.Request) string {
		_, pattern := mux.Handler(r)
		return pattern
	}
	return readWithin(s.ReadTimeout, s.Telemetry.HTTP(h.logRequests(mux), route))
}

type handlers struct {
	Services
	limiter *rateLimiter // nil when rate limiting is off
}

type principalKey struct{}

// principal is the authenticated caller of a request.
func principal(r *http.Request) countersign.Principal {
	p, _ := r.Context().Value(principalKey{}).(countersign.Principal)
	return p
}

// allow authenticates the bearer token, holds its rate, and lets the
// request through if the caller's role is among roles (admin always is);
// what says what the route does, for the refusal of a caller whose role
// may not.
func (h *handlers) allow(roles []countersign.Role, what string, next http.HandlerFunc) http.Handler {
	needed := countersign.RoleList(append(slices.Clone(roles), countersign.RoleAdmin))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		secret, ok := rest.Bearer(r)
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="countersign"`)
			rest.WriteError(w, countersign.Errorf(countersign.CodeUnauthorized, "missing bearer token: send Authorization: Bearer <token>"))
			return
		}
		c, err := h.authenticate(r.Context(), secret)
		if err != nil {
			w.Header().Set("WWW-Authenticate", `Bearer realm="countersign", error="invalid_token"`)
			rest.WriteError(w, err)
			return
		}
		if h.rateLimited(w, r, c) {
			return
		}
		p := c.principal
		if p.Role != countersign.RoleAdmin && !slices.Contains(roles, p.Role) {
			rest.WriteError(w, countersign.Errorf(countersign.CodeForbidden, "%s (role %s) may not %s (%s %s): that needs the %s role",
				p.User, p.Role, what, r.Method, r.URL.Path, needed))
			return
		}
		next(w, r.WithContext(context.WithValue(r.Context(), principalKey{}, p)))
	})
}

// caller is an authenticated request's principal, with the key its rate
// limit is kept under and how to name it in a refusal.
type caller struct {
	principal countersign.Principal
	key, name string
}

// authenticate checks a bearer value: an OIDC token (a JWT) when an issuer
// is configured, else a countersign API token.
func (h *handlers) authenticate(ctx context.Context, secret string) (caller, error) {
	if h.OIDC != nil && oidc.LooksLikeJWT(secret) {
		id, err := h.OIDC.Authenticate(ctx, secret)
		if err != nil {
			return caller{}, err
		}
		p := id.Principal
		p.Groups = id.Groups
		return caller{principal: p, key: "oidc:" + id.Subject, name: p.User + " (OIDC)"}, nil
	}
	token, err := auth.Check(ctx, h.Store, secret, h.Now())
	if err != nil {
		return caller{}, err
	}
	return caller{principal: token.Principal(), key: token.ID, name: "token " + token.ID + " (" + token.User + ")"}, nil
}

// OIDCAuthenticator verifies OIDC bearer tokens (internal/oidc).
type OIDCAuthenticator interface {
	Authenticate(ctx context.Context, raw string) (oidc.Identity, error)
}

func (h *handlers) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := rest.NewStatusRecorder(w)
		next.ServeHTTP(rec, r)
		if r.URL.Path == "/healthz" || r.URL.Path == "/readyz" {
			return
		}
		level := slog.LevelDebug
		if rec.Status >= 500 {
			level = slog.LevelError
		}
		h.Logger.Log(r.Context(), level, "http request", "method", r.Method, "path", r.URL.Path,
			"status", rec.Status, "duration", time.Since(start).Round(time.Millisecond))
	})
}
