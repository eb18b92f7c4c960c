// Package oidctest is an OpenID Connect issuer for tests: discovery, a JWKS
// the test can change, keys to sign tokens with, and the authorization code
// flow with PKCE for one registered client, so that both bearer tokens and
// a browser's sign-in can be tested without a real identity provider.
package oidctest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// Audience is the aud of the tokens Claims makes.
const Audience = "countersign"

// Issuer is an OIDC issuer served by httptest.
type Issuer struct {
	// URL is the issuer's URL, its tokens' iss.
	URL string
	t   testing.TB
	srv *httptest.Server

	mu        sync.Mutex
	published []jose.JSONWebKey
	fetches   int
	client    Client
	signer    jose.JSONWebKey
	edits     map[string]any
	now       func() time.Time
	grants    map[string]grant
	authorize url.Values
	exchanges int
}

// Client is the OAuth client the issuer signs people in for.
type Client struct {
	ID, Secret, RedirectURL string
}

// grant is an authorization code waiting to be exchanged.
type grant struct {
	challenge, redirectURL, idToken string
}

// New starts an issuer; the test's end stops it.
func New(t testing.TB) *Issuer {
	t.Helper()
	iss := &Issuer{t: t, grants: map[string]grant{}, now: time.Now}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		WriteJSON(w, http.StatusOK, map[string]any{
			"issuer":                                iss.URL,
			"jwks_uri":                              iss.URL + "/keys",
			"authorization_endpoint":                iss.URL + "/authorize",
			"token_endpoint":                        iss.URL + "/token",
			"id_token_signing_alg_values_supported": []string{"ES256"},
			"code_challenge_methods_supported":      []string{"S256"},
		})
	})
	mux.HandleFunc("GET /keys", func(w http.ResponseWriter, r *http.Request) {
		iss.mu.Lock()
		defer iss.mu.Unlock()
		iss.fetches++
		WriteJSON(w, http.StatusOK, jose.JSONWebKeySet{Keys: iss.published})
	})
	mux.HandleFunc("GET /authorize", iss.serveAuthorize)
	mux.HandleFunc("POST /token", iss.serveToken)
	iss.srv = httptest.NewServer(mux)
	iss.URL = iss.srv.URL
	t.Cleanup(iss.srv.Close)
	return iss
}

// Close stops the issuer, as if it were down.
func (iss *Issuer) Close() { iss.srv.Close() }

// WriteJSON answers v as JSON with status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// NewKey makes an ES256 signing key with the given key ID.
func NewKey(t testing.TB, kid string) jose.JSONWebKey {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return jose.JSONWebKey{Key: priv, KeyID: kid, Algorithm: string(jose.ES256), Use: "sig"}
}

// Publish makes keys the issuer's JWKS, replacing what it held.
func (iss *Issuer) Publish(keys ...jose.JSONWebKey) {
	iss.mu.Lock()
	defer iss.mu.Unlock()
	iss.published = nil
	for _, k := range keys {
		iss.published = append(iss.published, k.Public())
	}
}

// Fetches is how many times the JWKS was fetched.
func (iss *Issuer) Fetches() int {
	iss.mu.Lock()
	defer iss.mu.Unlock()
	return iss.fetches
}

// Claims are a valid token's claims at now, for Audience, changed by edits
// (a nil value removes the claim).
func (iss *Issuer) Claims(now time.Time, edits map[string]any) map[string]any {
	c := map[string]any{
		"iss":            iss.URL,
		"aud":            Audience,
		"sub":            "u-1234",
		"email":          "rita@example.com",
		"email_verified": true,
		"roles":          []string{"reviewer"},
		"groups":         []string{"legal", "emea"},
		"iat":            now.Unix(),
		"exp":            now.Add(time.Hour).Unix(),
	}
	for k, v := range edits {
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
	}
	return c
}

// Sign makes a compact JWT of claims signed with key.
func Sign(t testing.TB, key jose.JSONWebKey, claims map[string]any) string {
	t.Helper()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.SignatureAlgorithm(key.Algorithm), Key: key}, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// Register makes c the client the issuer signs people in for, with ID
// tokens signed by key (which it publishes).
func (iss *Issuer) Register(c Client, key jose.JSONWebKey) {
	iss.Publish(key)
	iss.mu.Lock()
	defer iss.mu.Unlock()
	iss.client, iss.signer = c, key
}

// SignInAs sets who the next sign-ins are: the ID token has Claims at the
// time of the sign-in changed by edits, the client's ID as aud and the
// nonce the sign-in sent.
func (iss *Issuer) SignInAs(edits map[string]any) {
	iss.mu.Lock()
	defer iss.mu.Unlock()
	iss.edits = edits
}

// LastAuthorization is the query of the last authorization request.
func (iss *Issuer) LastAuthorization() url.Values {
	iss.mu.Lock()
	defer iss.mu.Unlock()
	return iss.authorize
}

// Exchanges is how many codes were exchanged for tokens.
func (iss *Issuer) Exchanges() int {
	iss.mu.Lock()
	defer iss.mu.Unlock()
	return iss.exchanges
}

// serveAuthorize signs the person in at once and sends the browser back
// with a code, as an identity provider does after its own sign-in page.
func (iss *Issuer) serveAuthorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	iss.mu.Lock()
	defer iss.mu.Unlock()
	iss.authorize = q
	if q.Get("client_id") != iss.client.ID || q.Get("redirect_uri") != iss.client.RedirectURL || q.Get("response_type") != "code" {
		http.Error(w, "unknown client or redirect URI", http.StatusBadRequest)
		return
	}
	if q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" {
		http.Error(w, "PKCE with S256 is required", http.StatusBadRequest)
		return
	}
	claims := iss.Claims(iss.now(), iss.edits)
	claims["aud"] = iss.client.ID
	if nonce := q.Get("nonce"); nonce != "" {
		claims["nonce"] = nonce
	}
	code := rand.Text()
	iss.grants[code] = grant{challenge: q.Get("code_challenge"), redirectURL: q.Get("redirect_uri"), idToken: Sign(iss.t, iss.signer, claims)}
	back, _ := url.Parse(q.Get("redirect_uri"))
	v := back.Query()
	v.Set("code", code)
	v.Set("state", q.Get("state"))
	back.RawQuery = v.Encode()
	http.Redirect(w, r, back.String(), http.StatusFound)
}

// serveToken exchanges a code for an ID token once, for the registered
// client with its secret and the PKCE verifier of the code's challenge.
func (iss *Issuer) serveToken(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		WriteJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request"})
		return
	}
	id, secret, ok := r.BasicAuth()
	if !ok {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	} else {
		id, _ = url.QueryUnescape(id)
		secret, _ = url.QueryUnescape(secret)
	}
	iss.mu.Lock()
	defer iss.mu.Unlock()
	if id != iss.client.ID || secret != iss.client.Secret {
		WriteJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_client"})
		return
	}
	code := r.PostForm.Get("code")
	g, ok := iss.grants[code]
	delete(iss.grants, code)
	sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
	switch {
	case !ok || r.PostForm.Get("grant_type") != "authorization_code" || r.PostForm.Get("redirect_uri") != g.redirectURL:
		WriteJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant"})
		return
	case base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge:
		WriteJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant", "error_description": "PKCE verifier does not match"})
		return
	}
	iss.exchanges++
	WriteJSON(w, http.StatusOK, map[string]any{
		"access_token": "at-" + rand.Text(),
		"token_type":   "Bearer",
		"expires_in":   3600,
		"id_token":     g.idToken,
	})
}
