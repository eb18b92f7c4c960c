package web

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/auth"
	"github.com/countersign/countersign/internal/oidc"
)

// Cookies. The session cookie holds the API token itself, or the ID token
// of a sign-in through the OIDC provider (oidc.go): the server keeps
// no session state, so any replica serves any request, and a revoked or
// expired token signs its holder out at once. It is HttpOnly (no script
// reads it), SameSite=Strict (no other site's page sends it) and scoped to
// the page's path, and Secure whenever the request came over TLS, directly
// or behind a proxy that says so (X-Forwarded-Proto: https). On plain HTTP
// (`countersign dev` on localhost) it cannot be Secure, or browsers would
// drop it.
const (
	sessionCookie = "countersign_session"
	// loginCookie holds the sign-in form's CSRF token, before any session.
	loginCookie = "countersign_login"
	csrfField   = "csrf"
)

// session is a signed-in person: who, and the CSRF token of their forms.
type session struct {
	countersign.Principal
	CSRF string
}

// MayQueue reports whether the person may see the queue.
func (s *session) MayQueue() bool { return may(s.Role, queueRoles) }

// MayOverview reports whether the person may see the overview.
func (s *session) MayOverview() bool { return may(s.Role, statsRoles) }

// MaySubmit reports whether the person may submit documents.
func (s *session) MaySubmit() bool { return may(s.Role, submitRoles) }

// csrfToken is the CSRF token of a session: an HMAC keyed by the session's
// token, so only someone who can read the cookie can make it, and any
// replica can check it without shared state.
func csrfToken(secret string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte("countersign web csrf v1"))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// isTLS reports whether the browser reached us over TLS.
func isTLS(r *http.Request) bool {
	return r.TLS != nil || strings.EqualFold(strings.TrimSpace(r.Header.Get("X-Forwarded-Proto")), "https")
}

func setCookie(w http.ResponseWriter, r *http.Request, name, value, path string, maxAge int) {
	http.SetCookie(w, newCookie(r, name, value, path, maxAge))
}

// newCookie is a cookie of the page: HttpOnly, SameSite=Strict, and Secure
// over TLS.
func newCookie(r *http.Request, name, value, path string, maxAge int) *http.Cookie {
	return &http.Cookie{
		Name:     name,
		Value:    value,
		Path:     path,
		MaxAge:   maxAge,
		HttpOnly: true,
		Secure:   isTLS(r),
		SameSite: http.SameSiteStrictMode,
	}
}

// authenticate returns the session of the request's cookie, or the reason
// there is none.
func (h *handler) authenticate(r *http.Request) (*session, error) {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return nil, countersign.Errorf(countersign.CodeUnauthorized, "not signed in")
	}
	p, err := h.principal(r.Context(), c.Value)
	if err != nil {
		return nil, err
	}
	return &session{Principal: p, CSRF: csrfToken(c.Value)}, nil
}

// principal is who a session cookie's value stands for: an ID token of the
// OIDC sign-in, verified again as the API verifies OIDC bearer tokens, or
// an API token.
func (h *handler) principal(ctx context.Context, value string) (countersign.Principal, error) {
	if h.OIDC != nil && oidc.LooksLikeJWT(value) {
		id, err := h.OIDC.Tokens.Authenticate(ctx, value)
		if err != nil {
			return countersign.Principal{}, err
		}
		p := id.Principal
		p.Groups = id.Groups
		return p, nil
	}
	return auth.Authenticate(ctx, h.Store, value, h.Now())
}

// signIn sends a request without a valid session to the sign-in page, and
// comes back to where it was going after. A script's background request
// (htmx) is told to send the whole page there instead.
func (h *handler) signIn(w http.ResponseWriter, r *http.Request, err error) {
	if countersign.ErrorCode(err) != countersign.CodeUnauthorized {
		h.fail(w, r, nil, err)
		return
	}
	if _, err := r.Cookie(sessionCookie); err == nil {
		setCookie(w, r, sessionCookie, "", prefix, -1)
	}
	if r.Header.Get("HX-Request") != "" {
		w.Header().Set("HX-Redirect", "/ui/login")
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	target := "/ui/login"
	if r.Method == http.MethodGet {
		target += "?next=" + url.QueryEscape(r.URL.RequestURI())
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// page serves a GET page to the signed-in roles given; others get a 403
// page that says what the page needs. what names the page in it.
func (h *handler) page(roles []countersign.Role, what string, next func(http.ResponseWriter, *http.Request, *session)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sess, err := h.authenticate(r)
		if err != nil {
			h.signIn(w, r, err)
			return
		}
		if !may(sess.Role, roles) {
			h.fail(w, r, sess, countersign.Errorf(countersign.CodeForbidden, "%s (role %s) may not see %s: it needs the %s role.", sess.User, sess.Role, what, countersign.RoleList(append(slices.Clone(roles), countersign.RoleAdmin))))
			return
		}
		next(w, r, sess)
	})
}

// form serves a POST from a signed-in person whose form carries the
// session's CSRF token and whose role allowed passes (nil: any role).
func (h *handler) form(allowed func(countersign.Role) bool, next func(http.ResponseWriter, *http.Request, *session)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sess, err := h.authenticate(r)
		if err != nil {
			h.signIn(w, r, err)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
		if !hmac.Equal([]byte(r.PostFormValue(csrfField)), []byte(sess.CSRF)) {
			h.fail(w, r, sess, countersign.Errorf(countersign.CodeForbidden, "The form was refused: it did not carry this session's security token (CSRF). Reload the page and try again."))
			return
		}
		if allowed != nil && !allowed(sess.Role) {
			h.fail(w, r, sess, countersign.Errorf(countersign.CodeForbidden, "%s (role %s) may not decide reviews: the reviewer, approver or admin role is needed. Auditors read everything and change nothing.", sess.User, sess.Role))
			return
		}
		next(w, r, sess)
	})
}

// maxFormBytes bounds a form: a correction of every field of a task type
// fits many times over.
const maxFormBytes = 1 << 20

// loginView is the sign-in page's data.
type loginView struct {
	CSRF    string
	Next    string
	Message string
	// OIDC names the provider people may sign in through; empty when
	// there is none.
	OIDC string
}

func (h *handler) loginPage(w http.ResponseWriter, r *http.Request) {
	h.showLogin(w, r, http.StatusOK, "")
}

// showLogin renders the sign-in form with a fresh CSRF token, kept in a
// cookie of its own until the form comes back (double submit: another site
// can neither read the cookie nor set it).
func (h *handler) showLogin(w http.ResponseWriter, r *http.Request, status int, message string) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		h.fail(w, r, nil, err)
		return
	}
	token := base64.RawURLEncoding.EncodeToString(raw)
	setCookie(w, r, loginCookie, token, "/ui/login", 3600)
	data := loginView{CSRF: token, Next: safeNext(r.FormValue("next")), Message: message}
	if h.OIDC != nil {
		data.OIDC = h.OIDC.Name
	}
	h.render(w, r, status, "login", "", view{Title: "Sign in", Data: data})
}

// safeNext keeps a post-sign-in target only when it is a page of this
// site, so that the sign-in form cannot send anyone elsewhere.
func safeNext(next string) string {
	if !strings.HasPrefix(next, prefix) || strings.ContainsAny(next, "\\\r\n") || strings.HasPrefix(next, "//") {
		return ""
	}
	return next
}

func (h *handler) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	c, err := r.Cookie(loginCookie)
	if err != nil || c.Value == "" || !hmac.Equal([]byte(r.PostFormValue(csrfField)), []byte(c.Value)) {
		h.showLogin(w, r, http.StatusForbidden, "The sign-in form had expired or did not come from this site (CSRF check). Please try again.")
		return
	}
	secret := strings.TrimSpace(r.PostFormValue("token"))
	p, err := auth.Authenticate(r.Context(), h.Store, secret, h.Now())
	if err != nil {
		if countersign.ErrorCode(err) != countersign.CodeUnauthorized {
			h.fail(w, r, nil, err)
			return
		}
		h.showLogin(w, r, http.StatusUnauthorized, "That token does not sign anyone in: "+err.Error()+".")
		return
	}
	h.Logger.InfoContext(r.Context(), "web sign-in", "user", p.User, "role", p.Role)
	setCookie(w, r, loginCookie, "", "/ui/login", -1)
	setCookie(w, r, sessionCookie, secret, prefix, 0)
	next := safeNext(r.PostFormValue("next"))
	if next == "" {
		next = landing(p.Role)
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// landing is where a sign-in without a target goes: the queue, or for a
// submitter, who may not see it, the submit page.
func landing(role countersign.Role) string {
	if role == countersign.RoleSubmitter {
		return "/ui/submit"
	}
	return "/ui/queue"
}

func (h *handler) logout(w http.ResponseWriter, r *http.Request, _ *session) {
	setCookie(w, r, sessionCookie, "", prefix, -1)
	http.Redirect(w, r, "/ui/login", http.StatusSeeOther)
}
