// Package web is countersign's web page for people, served at /ui/ by the
// same process as the API. Reviewers work the queue and decide reviews with
// the document and its evidence in view; auditors read a document's history
// and check the audit chain; approvers and auditors see the quality overview;
// submitters upload documents (a PDF, an image or text) for review.
//
// It is server-rendered HTML (html/template) that works without JavaScript.
// A little script adds what a page is better with: its own (keyboard
// shortcuts, evidence that follows the field in focus) and htmx, vendored
// from npm into the binary, for the live queue and verifying in place.
//
// People sign in with their API token, or through the OIDC provider when
// one is configured (its ID token then stands in for the API token), kept
// in an HttpOnly, SameSite=Strict cookie. Every request authenticates it
// again as the API does (internal/auth, internal/oidc), so a revoked or
// expired token stops working at once, and every page admits the roles
// that the API route serving the same data admits. Every form carries a CSRF
// token. Decisions go through dispatch.Dispatcher, the REST API's own path
// to the review workflow's update, and uploads through its intake.
package web

import (
	"bytes"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/dispatch"
	"github.com/countersign/countersign/internal/pageimage"
	"github.com/countersign/countersign/internal/rest"
	"github.com/countersign/countersign/internal/tasktype"
)

// prefix is where the page is served: api.Router mounts it there.
const prefix = "/ui/"

// Decider sends a person's decision to the review workflow.
// dispatch.Dispatcher is the real one, shared with the REST API and Slack.
type Decider interface {
	Decide(ctx context.Context, reviewID string, caller countersign.Principal, ch countersign.Channel, dec dispatch.Decision, key string) (*dispatch.Decided, error)
}

// Claimer holds reviews for the people working on them.
// dispatch.Dispatcher is the real one, shared with the REST API.
type Claimer interface {
	Claim(ctx context.Context, reviewID string, caller countersign.Principal, ch countersign.Channel) (*countersign.Review, error)
	Release(ctx context.Context, reviewID string, caller countersign.Principal, ch countersign.Channel) (*countersign.Review, error)
	Renew(ctx context.Context, reviewID string, caller countersign.Principal) (*countersign.Review, error)
	Next(ctx context.Context, caller countersign.Principal, ch countersign.Channel, f countersign.ReviewFilter) (*countersign.Review, error)
}

// Escalator raises a document to an incident (dispatch.Dispatcher.Escalate
// is the real one, shared with the REST API).
type Escalator interface {
	Escalate(ctx context.Context, id string, caller countersign.Principal, ch countersign.Channel, e dispatch.Escalation, key string) (*dispatch.Escalated, error)
}

// Services are what the page works with.
type Services struct {
	Store countersign.Store
	// TaskTypes are the task types this process serves; older versions
	// are read from the store's snapshots.
	TaskTypes *tasktype.Registry
	Decider   Decider
	// Claims, when set, lets people claim, release and take the next
	// review; without it the page shows claims but takes none.
	Claims Claimer
	// ClaimLease is how long a claim holds (countersign.DefaultClaimLease
	// when zero): a review page renews its viewer's claim well within it.
	ClaimLease time.Duration
	// Escalations, when set, lets people escalate an alert (a document of
	// a verdict task type) to an incident from its review page.
	Escalations Escalator
	Logger      *slog.Logger
	Now         func() time.Time
	// OIDC, when set, lets people sign in through an OpenID Connect
	// provider beside the token form.
	OIDC *OIDC
	// Pages, when set, renders the pages of a document's original (a
	// PDF), which the review and document pages then show with the
	// evidence boxed on them.
	Pages *pageimage.Renderer
	// Submitter, when set, lets submitters upload documents (a PDF, an
	// image or text) from the submit page, up to MaxUploadBytes
	// (DefaultMaxUploadBytes when zero).
	Submitter      Submitter
	MaxUploadBytes int64
}

// Who may see what. Each page shows what one API route serves and admits
// the roles that route admits (api/router.go); admin may see everything.
// TestPagesAdmitTheAPIsRoles holds the two together.
var (
	// the queue and the review page: GET /v1/reviews
	queueRoles = []countersign.Role{countersign.RoleReviewer, countersign.RoleApprover, countersign.RoleAuditor}
	// the document page: GET /v1/documents/{id}/audit
	trailRoles = []countersign.Role{countersign.RoleReviewer, countersign.RoleApprover, countersign.RoleAuditor}
	// verifying the chain: GET /v1/audit/verify
	verifyRoles = []countersign.Role{countersign.RoleApprover, countersign.RoleAuditor}
	// the overview: GET /v1/stats
	statsRoles = []countersign.Role{countersign.RoleApprover, countersign.RoleAuditor}
	// the submit page: POST /v1/documents
	submitRoles = []countersign.Role{countersign.RoleSubmitter}
)

// may reports whether role is among roles; admin always is.
func may(role countersign.Role, roles []countersign.Role) bool {
	return role == countersign.RoleAdmin || slices.Contains(roles, role)
}

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static
var staticFiles embed.FS

type handler struct {
	Services
	resolver *tasktype.Resolver
	pages    map[string]*template.Template
	// staticVersion is a hash of the static files, added to their URLs so
	// that browsers may cache them for good.
	staticVersion string
	schemas       *schemaCache
}

// New returns the page's handler. It serves paths under /ui/.
func New(s Services) http.Handler {
	if s.Logger == nil {
		s.Logger = slog.Default()
	}
	if s.Now == nil {
		s.Now = time.Now
	}
	h := &handler{
		Services:      s,
		resolver:      tasktype.NewResolver(s.TaskTypes, s.Store),
		staticVersion: staticVersion(),
		schemas:       newSchemaCache(),
	}
	h.pages = parsePages(h.funcs())

	mux := http.NewServeMux()
	mux.Handle("GET /ui/static/", h.static())
	mux.HandleFunc("GET /ui/{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/ui/queue", http.StatusSeeOther)
	})
	mux.HandleFunc("GET /ui/login", h.loginPage)
	mux.HandleFunc("POST /ui/login", h.login)
	mux.Handle("POST /ui/logout", h.form(nil, h.logout))
	if s.OIDC != nil {
		mux.HandleFunc("GET /ui/oidc/login", h.oidcLogin)
		mux.HandleFunc("GET /ui/oidc/callback", h.oidcCallback)
	}
	mux.Handle("GET /ui/queue", h.page(queueRoles, "the review queue", h.queue))
	mux.Handle("GET /ui/queue/rows", h.page(queueRoles, "the review queue", h.queueRows))
	mux.Handle("GET /ui/reviews/{id}", h.page(queueRoles, "reviews", h.review))
	mux.Handle("POST /ui/reviews/{id}/decision", h.form(countersign.Role.CanDecide, h.decide))
	mux.Handle("POST /ui/reviews/{id}/claim", h.form(countersign.Role.CanDecide, h.claim))
	mux.Handle("POST /ui/reviews/{id}/release", h.form(countersign.Role.CanDecide, h.release))
	mux.Handle("POST /ui/next", h.form(countersign.Role.CanDecide, h.next))
	mux.Handle("POST /ui/reviews/{id}/escalate", h.form(countersign.Role.CanDecide, h.escalate))
	mux.Handle("GET /ui/documents/{id}", h.page(trailRoles, "a document's audit trail", h.document))
	// the page images: GET /v1/documents/{id}/pages/{page}
	mux.Handle("GET /ui/documents/{id}/pages/{page}", h.page(trailRoles, "a document's pages", h.pageImage))
	mux.Handle("GET /ui/audit/verify", h.page(verifyRoles, "the audit chain check", h.verifyFragment))
	mux.Handle("GET /ui/overview", h.page(statsRoles, "the quality overview", h.overview))
	if s.Submitter != nil {
		mux.Handle("GET /ui/submit", h.page(submitRoles, "the submit page", h.submitForm))
		mux.HandleFunc("POST /ui/submit", h.submit)
	}
	mux.HandleFunc("/ui/", func(w http.ResponseWriter, r *http.Request) {
		sess, _ := h.authenticate(r)
		h.fail(w, r, sess, countersign.Errorf(countersign.CodeNotFound, "There is no page at %s.", r.URL.Path))
	})
	// Cross-origin protection refuses unsafe requests a browser marks as
	// coming from another site, before the CSRF token is even looked at.
	return secure(http.NewCrossOriginProtection().Handler(mux))
}

// secure sets the headers every answer carries: no framing, no sniffing,
// scripts and styles only from this server, nothing cached.
func secure(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hdr := w.Header()
		hdr.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		hdr.Set("X-Content-Type-Options", "nosniff")
		hdr.Set("X-Frame-Options", "DENY")
		hdr.Set("Referrer-Policy", "same-origin")
		if !strings.HasPrefix(r.URL.Path, "/ui/static/") {
			hdr.Set("Cache-Control", "no-store")
		}
		next.ServeHTTP(w, r)
	})
}

func (h *handler) static() http.Handler {
	sub, err := fs.Sub(staticFiles, "static")
	if err != nil {
		panic(err) // the embedded folder is part of the binary
	}
	files := http.StripPrefix("/ui/static/", http.FileServerFS(sub))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("v") == h.staticVersion {
			w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			w.Header().Set("Cache-Control", "no-cache")
		}
		files.ServeHTTP(w, r)
	})
}

func staticVersion() string {
	sum := sha256.New()
	_ = fs.WalkDir(staticFiles, "static", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		raw, err := staticFiles.ReadFile(path)
		sum.Write([]byte(path))
		sum.Write(raw)
		return err
	})
	return hex.EncodeToString(sum.Sum(nil))[:12]
}

// pageNames are the templates that render a whole page on the base layout.
var pageNames = []string{"login", "signedin", "queue", "review", "document", "overview", "submit", "error"}

func parsePages(funcs template.FuncMap) map[string]*template.Template {
	base := template.Must(template.New("base.html").Funcs(funcs).ParseFS(templateFiles, "templates/base.html", "templates/alert.html", "templates/comparison.html", "templates/pages.html"))
	pages := map[string]*template.Template{}
	for _, name := range pageNames {
		pages[name] = template.Must(template.Must(base.Clone()).ParseFS(templateFiles, "templates/"+name+".html"))
	}
	return pages
}

// view is what every page template gets: the layout's parts and the page's
// own data.
type view struct {
	Title   string
	Nav     string
	Session *session
	Data    any
	// Refresh, when set, is a page of this site the browser goes on to at
	// once.
	Refresh string
}

// render writes a whole page, or with fragment set only that template of
// the page, with status. It renders into a buffer first, so a template
// error is a clean 500 and not half a page.
func (h *handler) render(w http.ResponseWriter, r *http.Request, status int, page, fragment string, v view) {
	var buf bytes.Buffer
	name := "base"
	if fragment != "" {
		name = fragment
	}
	if err := h.pages[page].ExecuteTemplate(&buf, name, v); err != nil {
		h.Logger.ErrorContext(r.Context(), "web page failed to render", "page", page, "error", err)
		http.Error(w, "the page failed to render; the server log has the details", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
}

// errorView is the error page's data.
type errorView struct {
	Status  int
	Heading string
	Message string
	// Back is where to go from here.
	Back, BackText string
}

// fail answers err as an error page with the status of its code. An
// internal error's text is logged, not shown.
func (h *handler) fail(w http.ResponseWriter, r *http.Request, sess *session, err error) {
	code := countersign.ErrorCode(err)
	status := rest.Status(code)
	message := err.Error()
	switch code {
	case countersign.CodeInternal:
		h.Logger.ErrorContext(r.Context(), "web request failed", "method", r.Method, "path", r.URL.Path, "error", err)
		message = "Something went wrong on the server; its log has the details."
	case countersign.CodeUnavailable:
		h.Logger.WarnContext(r.Context(), "web request failed", "method", r.Method, "path", r.URL.Path, "error", err, "cause", countersign.Cause(err))
	}
	ev := errorView{Status: status, Heading: http.StatusText(status), Message: message}
	switch {
	case sess == nil:
		ev.Back, ev.BackText = "/ui/login", "Sign in"
	case sess.MayQueue():
		ev.Back, ev.BackText = "/ui/queue", "Back to the queue"
	}
	h.render(w, r, status, "error", "", view{Title: ev.Heading, Session: sess, Data: ev})
}
