package oidc

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/oidc/oidctest"
)

const audience = oidctest.Audience

// clock is a settable time for Config.Now.
type clock struct{ now time.Time }

func (c *clock) Now() time.Time { return c.now }

func newAuthenticator(t *testing.T, iss *oidctest.Issuer, clk *clock, edit func(*Config)) *Authenticator {
	t.Helper()
	cfg := Config{Issuer: iss.URL, Audience: audience, Now: clk.Now}
	if edit != nil {
		edit(&cfg)
	}
	a, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func wantCode(t *testing.T, what string, err error, code countersign.Code) {
	t.Helper()
	if countersign.ErrorCode(err) != code {
		t.Errorf("%s: %v (code %q), want code %q", what, err, countersign.ErrorCode(err), code)
	}
}

func TestAuthenticateMapsClaims(t *testing.T) {
	iss := oidctest.New(t)
	key := oidctest.NewKey(t, "k1")
	iss.Publish(key)
	clk := &clock{now: time.Now().Truncate(time.Second)}
	a := newAuthenticator(t, iss, clk, nil)

	id, err := a.Authenticate(context.Background(), oidctest.Sign(t, key, iss.Claims(clk.now, nil)))
	if err != nil {
		t.Fatal(err)
	}
	want := Identity{
		Principal: countersign.Principal{User: "rita@example.com", Role: countersign.RoleReviewer},
		Groups:    []string{"legal", "emea"},
		Subject:   iss.URL + "#u-1234",
		Expiry:    clk.now.Add(time.Hour),
	}
	if !samePrincipal(id.Principal, want.Principal) || !slices.Equal(id.Groups, want.Groups) || id.Subject != want.Subject || !id.Expiry.Equal(want.Expiry) {
		t.Fatalf("identity %+v, want %+v", id, want)
	}

	for _, tc := range []struct {
		name  string
		edits map[string]any
		user  string
		role  countersign.Role
		code  countersign.Code
	}{
		{name: "role as a string", edits: map[string]any{"roles": "approver"}, user: "rita@example.com", role: countersign.RoleApprover},
		{name: "admin first", edits: map[string]any{"roles": []string{"submitter", "reviewer", "admin", "auditor"}}, role: countersign.RoleAdmin},
		{name: "approver before auditor", edits: map[string]any{"roles": []string{"auditor", "approver"}}, role: countersign.RoleApprover},
		{name: "auditor before reviewer", edits: map[string]any{"roles": []string{"reviewer", "auditor"}}, role: countersign.RoleAuditor},
		{name: "unknown values ignored", edits: map[string]any{"roles": []string{"Admin", "offline_access", "submitter"}}, role: countersign.RoleSubmitter},
		{name: "email verified as a string", edits: map[string]any{"email_verified": "true"}, user: "rita@example.com", role: countersign.RoleReviewer},
		{name: "no email: refused, not named by sub", edits: map[string]any{"email": nil}, code: countersign.CodeUnauthorized},
		{name: "empty email: refused, not named by sub", edits: map[string]any{"email": ""}, code: countersign.CodeUnauthorized},
		{name: "unverified email", edits: map[string]any{"email_verified": false}, code: countersign.CodeUnauthorized},
		{name: "unverified email as a string", edits: map[string]any{"email_verified": "false"}, code: countersign.CodeUnauthorized},
		{name: "no email_verified", edits: map[string]any{"email_verified": nil}, code: countersign.CodeUnauthorized},
		{name: "email_verified not a boolean", edits: map[string]any{"email_verified": 1}, code: countersign.CodeUnauthorized},
		{name: "email not a string", edits: map[string]any{"email": 7}, code: countersign.CodeUnauthorized},
		{name: "the name countersign acts under", edits: map[string]any{"email": "Countersign"}, code: countersign.CodeUnauthorized},
		{name: "a name that cannot be shown", edits: map[string]any{"email": "rita\u202e@example.com"}, code: countersign.CodeUnauthorized},
		{name: "roles not strings", edits: map[string]any{"roles": []any{"reviewer", 3}}, code: countersign.CodeUnauthorized},
		{name: "no sub", edits: map[string]any{"sub": nil}, code: countersign.CodeUnauthorized},
		{name: "no role", edits: map[string]any{"roles": []string{"offline_access"}}, code: countersign.CodeForbidden},
		{name: "no roles claim", edits: map[string]any{"roles": nil}, code: countersign.CodeForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id, err := a.Authenticate(context.Background(), oidctest.Sign(t, key, iss.Claims(clk.now, tc.edits)))
			if tc.code != "" {
				wantCode(t, "token", err, tc.code)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if id.Principal.Role != tc.role || (tc.user != "" && id.Principal.User != tc.user) {
				t.Fatalf("principal %+v, want user %q role %q", id.Principal, tc.user, tc.role)
			}
		})
	}

	_, err = a.Authenticate(context.Background(), oidctest.Sign(t, key, iss.Claims(clk.now, map[string]any{"email": nil})))
	if msg := errMessage(err); msg != "token has no email claim: set --oidc-user-claim to a claim every token carries, such as sub" {
		t.Errorf("no email: message %q", msg)
	}

	_, err = a.Authenticate(context.Background(), oidctest.Sign(t, key, iss.Claims(clk.now, map[string]any{"roles": []string{"offline_access", "uma"}})))
	if msg := errMessage(err); msg != `token of rita@example.com maps to no countersign role: claim roles has ["offline_access" "uma"]` {
		t.Errorf("no role: message %q", msg)
	}
}

// samePrincipal compares user and role: groups travel in Identity.Groups.
func samePrincipal(a, b countersign.Principal) bool {
	return a.User == b.User && a.Role == b.Role && len(a.Groups) == 0 && len(b.Groups) == 0
}

func errMessage(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func TestConfiguredClaimsAndRoles(t *testing.T) {
	iss := oidctest.New(t)
	key := oidctest.NewKey(t, "k1")
	iss.Publish(key)
	clk := &clock{now: time.Now()}
	roles, err := ParseRoles("cs-reviewers=reviewer, cs-approvers=approver")
	if err != nil {
		t.Fatal(err)
	}
	a := newAuthenticator(t, iss, clk, func(c *Config) {
		c.UserClaim, c.RoleClaim, c.GroupsClaim, c.Roles = "preferred_username", "groups", "teams", roles
	})

	claims := iss.Claims(clk.now, map[string]any{
		"preferred_username": "rita",
		"groups":             []string{"cs-approvers", "cs-reviewers"},
		"teams":              "legal",
	})
	id, err := a.Authenticate(context.Background(), oidctest.Sign(t, key, claims))
	if err != nil {
		t.Fatal(err)
	}
	// The mapping's order decides, not the token's.
	if !samePrincipal(id.Principal, countersign.Principal{User: "rita", Role: countersign.RoleReviewer}) || !slices.Equal(id.Groups, []string{"legal"}) {
		t.Fatalf("identity %+v", id)
	}

	// With a mapping, role names in the claim are nothing special.
	_, err = a.Authenticate(context.Background(), oidctest.Sign(t, key, iss.Claims(clk.now, map[string]any{"preferred_username": "rita", "groups": []string{"admin"}})))
	wantCode(t, "role name outside the mapping", err, countersign.CodeForbidden)
	if !strings.Contains(errMessage(err), "claim groups has") {
		t.Errorf("message %q does not name the role claim", errMessage(err))
	}

	// Without the user claim the token is refused: it is not named by sub,
	// nor by email.
	_, err = a.Authenticate(context.Background(), oidctest.Sign(t, key, iss.Claims(clk.now, map[string]any{"groups": "cs-approvers"})))
	wantCode(t, "without preferred_username", err, countersign.CodeUnauthorized)
	if !strings.Contains(errMessage(err), "token has no preferred_username claim") {
		t.Errorf("message %q does not name the user claim", errMessage(err))
	}

	// Only the email claim needs email_verified.
	id, err = a.Authenticate(context.Background(), oidctest.Sign(t, key, iss.Claims(clk.now, map[string]any{"preferred_username": "rita", "groups": "cs-approvers", "email_verified": nil})))
	if err != nil || id.Principal.User != "rita" {
		t.Fatalf("preferred_username without email_verified: %+v, %v", id.Principal, err)
	}

	// sub as the user claim names machine clients, whose tokens carry no
	// email.
	bySub := newAuthenticator(t, iss, clk, func(c *Config) { c.UserClaim = "sub" })
	id, err = bySub.Authenticate(context.Background(), oidctest.Sign(t, key, iss.Claims(clk.now, map[string]any{"email": nil, "email_verified": nil})))
	if err != nil || id.Principal.User != "u-1234" {
		t.Fatalf("user claim sub: %+v, %v", id.Principal, err)
	}
}

func TestRefusedTokens(t *testing.T) {
	iss := oidctest.New(t)
	key := oidctest.NewKey(t, "k1")
	iss.Publish(key)
	clk := &clock{now: time.Now().Truncate(time.Second)}
	a := newAuthenticator(t, iss, clk, nil)
	now := clk.now
	valid := oidctest.Sign(t, key, iss.Claims(now, nil))

	stranger := oidctest.NewKey(t, "k1") // the issuer's key ID, someone else's key
	parts := strings.Split(valid, ".")
	header := func(alg string) string {
		return base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"` + alg + `","kid":"k1","typ":"JWT"}`))
	}
	hmac, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: []byte("a shared secret anyone could guess!")}, (&jose.SignerOptions{}).WithHeader("kid", "k1"))
	if err != nil {
		t.Fatal(err)
	}
	hs256, err := hmac.Sign([]byte(base64Decode(t, parts[1])))
	if err != nil {
		t.Fatal(err)
	}
	hs256Raw, _ := hs256.CompactSerialize()

	for _, tc := range []struct {
		name string
		raw  string
		why  string // in the message, so that each token fails for its own reason
	}{
		{"expired", oidctest.Sign(t, key, iss.Claims(now, map[string]any{"exp": now.Add(-2 * time.Minute).Unix()})), "expired at"},
		{"no exp", oidctest.Sign(t, key, iss.Claims(now, map[string]any{"exp": nil})), "no exp"},
		{"not valid yet", oidctest.Sign(t, key, iss.Claims(now, map[string]any{"nbf": now.Add(5 * time.Minute).Unix()})), "not valid before"},
		{"wrong audience", oidctest.Sign(t, key, iss.Claims(now, map[string]any{"aud": "grafana"})), `audience "countersign"`},
		{"wrong issuer", oidctest.Sign(t, key, iss.Claims(now, map[string]any{"iss": "https://login.example.com"})), "https://login.example.com"},
		{"unknown key", oidctest.Sign(t, stranger, iss.Claims(now, nil)), "no key"},
		{"alg none", header("none") + "." + parts[1] + ".", `algorithm "none"`},
		{"HS256", hs256Raw, `algorithm "HS256"`},
		{"payload swapped", parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"iss":"`+iss.URL+`","aud":"countersign","sub":"x","roles":"admin","exp":`+jsonNumber(now.Add(time.Hour).Unix())+`}`)) + "." + parts[2], "no key"},
		{"API token", "cs_" + strings.Repeat("A", 43), "not a JWT"},
		{"empty", "", "not a JWT"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id, err := a.Authenticate(context.Background(), tc.raw)
			wantCode(t, tc.name, err, countersign.CodeUnauthorized)
			if !strings.Contains(errMessage(err), tc.why) {
				t.Errorf("message %q, want it to say %q", errMessage(err), tc.why)
			}
			if !samePrincipal(id.Principal, countersign.Principal{}) {
				t.Errorf("refused token still gave %+v", id.Principal)
			}
		})
	}

	// A minute of clock skew is allowed either way.
	for name, edits := range map[string]map[string]any{
		"expired 30s ago":    {"exp": now.Add(-30 * time.Second).Unix()},
		"valid in 30s":       {"nbf": now.Add(30 * time.Second).Unix()},
		"valid from 30s ago": {"nbf": now.Add(-30 * time.Second).Unix()},
	} {
		if _, err := a.Authenticate(context.Background(), oidctest.Sign(t, key, iss.Claims(now, edits))); err != nil {
			t.Errorf("%s: %v, want accepted within the leeway", name, err)
		}
	}
}

func base64Decode(t *testing.T, s string) string {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func jsonNumber(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func TestKeyRotation(t *testing.T) {
	iss := oidctest.New(t)
	old, next := oidctest.NewKey(t, "2026-01"), oidctest.NewKey(t, "2026-02")
	iss.Publish(old)
	clk := &clock{now: time.Now()}
	a := newAuthenticator(t, iss, clk, nil)
	if _, err := a.Authenticate(context.Background(), oidctest.Sign(t, old, iss.Claims(clk.now, nil))); err != nil {
		t.Fatal(err)
	}

	iss.Publish(next)
	clk.now = clk.now.Add(time.Minute)
	fetches := iss.Fetches()
	if _, err := a.Authenticate(context.Background(), oidctest.Sign(t, next, iss.Claims(clk.now, nil))); err != nil {
		t.Fatalf("token signed with the new key: %v", err)
	}
	if got := iss.Fetches() - fetches; got != 1 {
		t.Errorf("the new key ID made %d fetches of the keys, want 1", got)
	}
	_, err := a.Authenticate(context.Background(), oidctest.Sign(t, old, iss.Claims(clk.now, nil)))
	wantCode(t, "token signed with the withdrawn key", err, countersign.CodeUnauthorized)
}

func TestWithdrawnKeyExpiresFromTheCache(t *testing.T) {
	iss := oidctest.New(t)
	leaked, next := oidctest.NewKey(t, "leaked"), oidctest.NewKey(t, "next")
	iss.Publish(leaked, next)
	clk := &clock{now: time.Now()}
	a := newAuthenticator(t, iss, clk, nil)

	iss.Publish(next)
	clk.now = clk.now.Add(5 * time.Minute)
	if _, err := a.Authenticate(context.Background(), oidctest.Sign(t, leaked, iss.Claims(clk.now, nil))); err != nil {
		t.Fatalf("5 minutes on, the cached key still verifies: %v", err)
	}
	clk.now = clk.now.Add(6 * time.Minute)
	_, err := a.Authenticate(context.Background(), oidctest.Sign(t, leaked, iss.Claims(clk.now, nil)))
	wantCode(t, "withdrawn key 11 minutes on", err, countersign.CodeUnauthorized)
	if _, err := a.Authenticate(context.Background(), oidctest.Sign(t, next, iss.Claims(clk.now, nil))); err != nil {
		t.Fatal(err)
	}
}

func TestUnknownKeysDoNotFloodTheIssuer(t *testing.T) {
	iss := oidctest.New(t)
	key := oidctest.NewKey(t, "k1")
	iss.Publish(key)
	clk := &clock{now: time.Now()}
	a := newAuthenticator(t, iss, clk, nil)

	clk.now = clk.now.Add(time.Minute)
	fetches := iss.Fetches()
	for i := range 20 {
		forged := oidctest.Sign(t, oidctest.NewKey(t, "made-up-"+string(rune('a'+i))), iss.Claims(clk.now, nil))
		_, err := a.Authenticate(context.Background(), forged)
		wantCode(t, "forged token", err, countersign.CodeUnauthorized)
	}
	if got := iss.Fetches() - fetches; got != 1 {
		t.Errorf("20 tokens with unknown keys made %d fetches of the keys, want 1", got)
	}
	if _, err := a.Authenticate(context.Background(), oidctest.Sign(t, key, iss.Claims(clk.now, nil))); err != nil {
		t.Fatalf("a good token after them: %v", err)
	}
}

func TestIssuerDownKeepsTheCachedKeys(t *testing.T) {
	iss := oidctest.New(t)
	key := oidctest.NewKey(t, "k1")
	iss.Publish(key)
	start := time.Now()
	clk := &clock{now: start}
	a := newAuthenticator(t, iss, clk, nil)

	iss.Close()
	clk.now = start.Add(2 * maxKeyAge)
	if _, err := a.Authenticate(context.Background(), oidctest.Sign(t, key, iss.Claims(clk.now, nil))); err != nil {
		t.Fatalf("issuer unreachable, key cached: %v", err)
	}
	// Within minRefetch of the failed fetch, the cached keys hold too.
	clk.now = clk.now.Add(time.Second)
	if _, err := a.Authenticate(context.Background(), oidctest.Sign(t, key, iss.Claims(clk.now, nil))); err != nil {
		t.Fatalf("issuer unreachable, refetch throttled, key cached: %v", err)
	}
	clk.now = start.Add(maxStaleKeyAge - time.Second)
	if _, err := a.Authenticate(context.Background(), oidctest.Sign(t, key, iss.Claims(clk.now, nil))); err != nil {
		t.Fatalf("issuer unreachable, key cached for just under an hour: %v", err)
	}
}

func TestIssuerDownForOverAnHourDropsTheCachedKeys(t *testing.T) {
	iss := oidctest.New(t)
	key := oidctest.NewKey(t, "k1")
	iss.Publish(key)
	start := time.Now()
	clk := &clock{now: start}
	a := newAuthenticator(t, iss, clk, nil)

	iss.Close()
	// A first request fetches (and fails), a second one comes within
	// minRefetch, when no fetch is tried: both are refused.
	for i, at := range []time.Time{start.Add(maxStaleKeyAge), start.Add(maxStaleKeyAge + time.Second), start.Add(maxStaleKeyAge + minRefetch + time.Second)} {
		clk.now = at
		_, err := a.Authenticate(context.Background(), oidctest.Sign(t, key, iss.Claims(clk.now, nil)))
		wantCode(t, fmt.Sprintf("request %d past the hour", i), err, countersign.CodeUnauthorized)
		if !strings.Contains(errMessage(err), "the issuer's keys could not be refreshed for over an hour") {
			t.Errorf("request %d: message %q", i, errMessage(err))
		}
	}
}

func TestNewRefusesUnusableIssuers(t *testing.T) {
	iss := oidctest.New(t)
	iss.Publish(oidctest.NewKey(t, "k1"))
	mismatched := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		oidctest.WriteJSON(w, http.StatusOK, map[string]any{"issuer": "https://login.example.com", "jwks_uri": iss.URL + "/keys"})
	}))
	defer mismatched.Close()
	noKeys := oidctest.New(t)
	gone := httptest.NewServer(http.NotFoundHandler())
	gone.Close()

	for _, tc := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"unreachable", Config{Issuer: gone.URL, Audience: audience}, gone.URL},
		{"issuer mismatch", Config{Issuer: mismatched.URL, Audience: audience}, "https://login.example.com"},
		{"empty JWKS", Config{Issuer: noKeys.URL, Audience: audience}, "no public signing key"},
		{"plain http", Config{Issuer: "http://login.example.com", Audience: audience}, "https"},
		{"no audience", Config{Issuer: iss.URL}, "audience"},
		{"bad mapping", Config{Issuer: iss.URL, Audience: audience, Roles: []RoleMapping{{Value: "x", Role: "boss"}}}, `"boss"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(context.Background(), tc.cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("New: %v, want an error mentioning %q", err, tc.want)
			}
			if tc.cfg.Issuer != "" && !strings.Contains(err.Error(), tc.cfg.Issuer) {
				t.Errorf("error %q does not name the issuer", err)
			}
		})
	}
}

func TestParseRoles(t *testing.T) {
	roles, err := ParseRoles(" cs-approvers=approver, cn=reviewers=reviewer ,")
	want := []RoleMapping{{"cs-approvers", countersign.RoleApprover}, {"cn=reviewers", countersign.RoleReviewer}}
	if err != nil || !slices.Equal(roles, want) {
		t.Fatalf("ParseRoles: %v, %v; want %v", roles, err, want)
	}
	if roles, err := ParseRoles(""); err != nil || roles != nil {
		t.Fatalf("empty: %v, %v; want no mapping", roles, err)
	}
	for text, want := range map[string]string{
		"cs-approvers=approver,cs-boss=boss": `entry "cs-boss=boss": unknown role "boss"`,
		"cs-approvers":                       `entry "cs-approvers" is not VALUE=ROLE`,
		"=admin":                             `entry "=admin" has no claim value`,
		"a=admin,a=reviewer":                 `entry "a=reviewer": claim value "a" is mapped twice`,
	} {
		if _, err := ParseRoles(text); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseRoles(%q): %v, want %q", text, err, want)
		}
	}
}

func TestLooksLikeJWT(t *testing.T) {
	key := oidctest.NewKey(t, "k1")
	jwt := oidctest.Sign(t, key, map[string]any{"sub": "x"})
	for s, want := range map[string]bool{
		jwt:                             true,
		"eyJhbGciOiJub25lIn0.eyJ9.":     true, // unsigned: a JWT, refused later
		"cs_" + strings.Repeat("a", 43): false,
		"a.b":                           false,
		"a.b.c.d.e":                     false, // JWE
		"a..c":                          false,
		"a b.c.d":                       false,
		"eyJ+.eyJ/.sig=":                false, // standard base64, not base64url
		"":                              false,
	} {
		if got := LooksLikeJWT(s); got != want {
			t.Errorf("LooksLikeJWT(%q) = %v, want %v", s, got, want)
		}
	}
}

// TestSignInTokens: the ID token of a web sign-in must carry the nonce the
// sign-in sent and the client's ID as aud; the issuer's endpoints are those
// its discovery document names.
func TestSignInTokens(t *testing.T) {
	iss := oidctest.New(t)
	key := oidctest.NewKey(t, "k1")
	iss.Publish(key)
	clk := &clock{now: time.Now()}
	api := newAuthenticator(t, iss, clk, nil)
	web := api.WithAudience("countersign-web")

	token := oidctest.Sign(t, key, iss.Claims(clk.now, map[string]any{"aud": "countersign-web", "nonce": "n-1"}))
	if id, err := web.AuthenticateNonce(context.Background(), token, "n-1"); err != nil || id.Principal.Role != countersign.RoleReviewer {
		t.Fatalf("the sign-in's own token: %+v, %v", id, err)
	}
	for nonce, why := range map[string]string{"n-2": "another sign-in's nonce", "": "no nonce expected"} {
		_, err := web.AuthenticateNonce(context.Background(), token, nonce)
		wantCode(t, why, err, countersign.CodeUnauthorized)
		if !strings.Contains(errMessage(err), "nonce") {
			t.Errorf("%s: message %q does not name the nonce", why, errMessage(err))
		}
	}
	noNonce := oidctest.Sign(t, key, iss.Claims(clk.now, map[string]any{"aud": "countersign-web"}))
	_, err := web.AuthenticateNonce(context.Background(), noNonce, "n-1")
	wantCode(t, "token without a nonce", err, countersign.CodeUnauthorized)
	// Each audience accepts only its own tokens.
	_, err = api.Authenticate(context.Background(), token)
	wantCode(t, "web token at the API", err, countersign.CodeUnauthorized)
	if _, err := web.Authenticate(context.Background(), token); err != nil {
		t.Errorf("web token re-verified without a nonce: %v", err)
	}

	endpoint, err := web.Endpoint()
	if err != nil || endpoint.AuthURL != iss.URL+"/authorize" || endpoint.TokenURL != iss.URL+"/token" {
		t.Fatalf("Endpoint = %+v, %v", endpoint, err)
	}
}
