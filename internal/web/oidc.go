package web

import (
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"time"

	"golang.org/x/oauth2"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/oidc"
)

// OIDC is sign-in through an OpenID Connect provider: the authorization
// code flow with PKCE, a state and a nonce. The session cookie then holds
// the provider's ID token itself, as it holds an API token after the token
// form: every request verifies it again, as the API verifies OIDC bearer
// tokens, and the session ends when the token expires.
type OIDC struct {
	// Tokens verifies the provider's ID tokens, whose aud is the client's
	// ID, and maps them to principals as the API maps OIDC bearer tokens.
	Tokens IDTokenVerifier
	// Client is countersign's OAuth client at the provider: its ID and
	// secret, the provider's endpoints, the scopes, and the redirect URL,
	// which ends in /ui/oidc/callback.
	Client *oauth2.Config
	// Name is what the sign-in button names: the provider's host.
	Name string
}

// IDTokenVerifier verifies ID tokens (internal/oidc's Authenticator).
type IDTokenVerifier interface {
	Authenticate(ctx context.Context, raw string) (oidc.Identity, error)
	AuthenticateNonce(ctx context.Context, raw, nonce string) (oidc.Identity, error)
}

const (
	// flowCookie holds a sign-in's state, nonce, PKCE verifier and target
	// while the browser is at the provider. It is SameSite=Lax, not
	// Strict: the provider's redirect back is a navigation from its site,
	// and a Strict cookie would not come with it.
	flowCookie = "countersign_oidc"
	flowPath   = "/ui/oidc/"
	// flowTTL is how long a person may take at the provider.
	flowTTL = 10 * time.Minute
	// exchangeTimeout bounds the call to the provider's token endpoint.
	exchangeTimeout = 10 * time.Second
	// maxSessionToken is the longest ID token a session cookie can carry:
	// browsers keep cookies of up to 4096 bytes, name and attributes
	// included.
	maxSessionToken = 3800
)

// flow is a sign-in under way, kept in flowCookie.
type flow struct {
	State    string `json:"s"`
	Nonce    string `json:"n"`
	Verifier string `json:"v"`
	Next     string `json:"t,omitempty"`
}

// oidcLogin starts a sign-in: it keeps a fresh state, nonce and PKCE
// verifier in the browser and sends it to the provider.
func (h *handler) oidcLogin(w http.ResponseWriter, r *http.Request) {
	f := flow{State: rand.Text(), Nonce: rand.Text(), Verifier: oauth2.GenerateVerifier(), Next: safeNext(r.FormValue("next"))}
	raw, err := json.Marshal(f)
	if err != nil {
		h.fail(w, r, nil, err)
		return
	}
	c := newCookie(r, flowCookie, base64.RawURLEncoding.EncodeToString(raw), flowPath, int(flowTTL.Seconds()))
	c.SameSite = http.SameSiteLaxMode
	http.SetCookie(w, c)
	http.Redirect(w, r, h.OIDC.Client.AuthCodeURL(f.State, oauth2.S256ChallengeOption(f.Verifier), oauth2.SetAuthURLParam("nonce", f.Nonce)), http.StatusFound)
}

// readFlow is the sign-in this browser started, if any.
func readFlow(r *http.Request) (flow, bool) {
	var f flow
	c, err := r.Cookie(flowCookie)
	if err != nil {
		return f, false
	}
	raw, err := base64.RawURLEncoding.DecodeString(c.Value)
	if err != nil || json.Unmarshal(raw, &f) != nil || f.State == "" || f.Nonce == "" || f.Verifier == "" {
		return f, false
	}
	return f, true
}

// signedInView is the page that follows a sign-in through the provider.
type signedInView struct {
	User     string
	Role     countersign.Role
	Provider string
	Expiry   time.Time
	Next     string
}

// oidcCallback completes a sign-in: the provider's answer must carry the
// state this browser's sign-in started with; the code is exchanged, with
// the PKCE verifier, for an ID token that must carry the sign-in's nonce
// and map to a role, and that token becomes the session.
func (h *handler) oidcCallback(w http.ResponseWriter, r *http.Request) {
	f, ok := readFlow(r)
	// A sign-in's state serves once, whatever comes of it.
	spent := newCookie(r, flowCookie, "", flowPath, -1)
	spent.SameSite = http.SameSiteLaxMode
	http.SetCookie(w, spent)
	q := r.URL.Query()
	if !ok || q.Get("state") == "" || !hmac.Equal([]byte(q.Get("state")), []byte(f.State)) {
		h.fail(w, r, nil, countersign.Errorf(countersign.CodeBadRequest,
			"This sign-in cannot be completed: the answer from %s does not carry the state this browser's sign-in started with. The sign-in may have taken longer than %d minutes, been started in another tab, or the link came from elsewhere. Start again from the sign-in page.",
			h.OIDC.Name, int(flowTTL.Minutes())))
		return
	}
	if e := q.Get("error"); e != "" {
		h.showLogin(w, r, http.StatusUnauthorized, h.OIDC.Name+" did not sign you in: "+cmp.Or(q.Get("error_description"), e)+".")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), exchangeTimeout)
	defer cancel()
	token, err := h.OIDC.Client.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(f.Verifier))
	if err != nil {
		h.Logger.WarnContext(r.Context(), "web OIDC code exchange failed", "provider", h.OIDC.Name, "error", err)
		h.showLogin(w, r, http.StatusBadGateway, "countersign could not complete the sign-in with "+h.OIDC.Name+": exchanging its code failed (the server log says why). Please try again.")
		return
	}
	raw, _ := token.Extra("id_token").(string)
	if raw == "" {
		h.showLogin(w, r, http.StatusBadGateway, h.OIDC.Name+" answered the sign-in without an ID token; is the openid scope allowed for countersign's client?")
		return
	}
	id, err := h.OIDC.Tokens.AuthenticateNonce(ctx, raw, f.Nonce)
	switch {
	case err == nil:
	case countersign.ErrorCode(err) == countersign.CodeForbidden:
		h.showLogin(w, r, http.StatusForbidden, "You signed in at "+h.OIDC.Name+", but your account has no countersign role ("+err.Error()+"). Ask an admin to give your account a role, then sign in again.")
		return
	case countersign.ErrorCode(err) == countersign.CodeUnauthorized:
		h.showLogin(w, r, http.StatusUnauthorized, "The sign-in token from "+h.OIDC.Name+" was refused: "+err.Error()+".")
		return
	default:
		h.fail(w, r, nil, err)
		return
	}
	if len(raw) > maxSessionToken {
		h.showLogin(w, r, http.StatusBadGateway, "The sign-in token from "+h.OIDC.Name+" is too large to keep in a cookie; ask an admin to trim the claims of countersign's client at the provider.")
		return
	}
	h.Logger.InfoContext(r.Context(), "web sign-in", "user", id.Principal.User, "role", id.Principal.Role, "provider", h.OIDC.Name)
	setCookie(w, r, sessionCookie, raw, prefix, max(1, int(id.Expiry.Sub(h.Now()).Seconds())))
	next := cmp.Or(f.Next, landing(id.Principal.Role))
	// A page, not a redirect: the browser came here from the provider's
	// site, and in that navigation it would not send the SameSite=Strict
	// session cookie to the next page. The page's own refresh is a
	// navigation from this site.
	h.render(w, r, http.StatusOK, "signedin", "", view{Title: "Signed in", Refresh: next, Data: signedInView{
		User: id.Principal.User, Role: id.Principal.Role, Provider: h.OIDC.Name, Expiry: id.Expiry, Next: next,
	}})
}
