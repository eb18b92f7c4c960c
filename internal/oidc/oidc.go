// Package oidc accepts OpenID Connect bearer tokens for the API beside
// countersign's own API tokens: it discovers one issuer's signing keys,
// verifies each token locally against them and maps its claims to a
// principal.
package oidc

import (
	"cmp"
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/auth"
)

// Default claim names.
const (
	DefaultUserClaim   = "email"
	DefaultRoleClaim   = "roles"
	DefaultGroupsClaim = "groups"
)

// leeway is the clock skew allowed between the issuer and countersign on
// exp and nbf.
const leeway = time.Minute

// signingAlgs are the algorithms a token may be signed with: asymmetric
// ones only, so that neither "none" nor an HMAC keyed with a published key
// can pass.
var signingAlgs = []jose.SignatureAlgorithm{
	jose.RS256, jose.RS384, jose.RS512,
	jose.PS256, jose.PS384, jose.PS512,
	jose.ES256, jose.ES384, jose.ES512,
	jose.EdDSA,
}

// Config says which tokens to accept and how to read them.
type Config struct {
	// Issuer is the issuer's URL, exactly as its tokens' iss has it; its
	// discovery document is at Issuer/.well-known/openid-configuration. It
	// must be https, or http to this machine.
	Issuer string
	// Audience is the aud every token must carry: the issuer's name for
	// countersign. Without it a token made for any other service of the
	// issuer would do.
	Audience string
	// UserClaim names the user (default "email"). A token without it, or
	// with it empty, is refused: falling back to another claim would let
	// one person appear under two names (say, email from the web sign-in
	// and sub from a CLI token) and count twice where four eyes are
	// needed. Set it to a claim every token carries, such as sub, when
	// machine clients' tokens have no email. With "email", the token must
	// also say email_verified true.
	UserClaim string
	// RoleClaim holds the values mapped to a role (default "roles") and
	// GroupsClaim the caller's groups (default "groups"), each a string or a
	// list of strings at the top level of the claims.
	RoleClaim   string
	GroupsClaim string
	// Roles maps role claim values to roles; the first mapping whose value
	// the token carries decides. Without one, values equal to a role's name
	// map to that role, in the order of DirectRoles.
	Roles []RoleMapping
	// Now is the clock tokens are checked against; nil means time.Now.
	Now func() time.Time
}

// withDefaults checks c and fills in the defaults.
func (c Config) withDefaults() (Config, error) {
	if err := checkURL(c.Issuer); err != nil {
		return c, fmt.Errorf("OIDC issuer %q: %w", c.Issuer, err)
	}
	if c.Audience == "" {
		return c, fmt.Errorf("OIDC issuer %s: an audience is required, or tokens the issuer made for other services would be accepted", c.Issuer)
	}
	if err := checkRoles(c.Roles); err != nil {
		return c, fmt.Errorf("OIDC issuer %s: role mapping: %w", c.Issuer, err)
	}
	c.Roles = slices.Clone(c.Roles)
	if len(c.Roles) == 0 {
		c.Roles = DirectRoles()
	}
	c.UserClaim = cmp.Or(c.UserClaim, DefaultUserClaim)
	c.RoleClaim = cmp.Or(c.RoleClaim, DefaultRoleClaim)
	c.GroupsClaim = cmp.Or(c.GroupsClaim, DefaultGroupsClaim)
	if c.Now == nil {
		c.Now = time.Now
	}
	return c, nil
}

// checkURL refuses a URL the keys could be forged on the way from: anything
// but https, except http to this machine (tests, a local identity provider).
func checkURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return errors.New("not a URL")
	}
	if u.Scheme == "https" || (u.Scheme == "http" && isLoopback(u.Hostname())) {
		return nil
	}
	return errors.New("not an https URL (plain http only to localhost)")
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Identity is who a token stands for.
type Identity struct {
	Principal countersign.Principal
	// Groups are the values of the groups claim.
	Groups []string
	// Subject is the issuer and the token's sub: stable across the user's
	// tokens and renamed emails, so a key for rate limiting.
	Subject string
	// Expiry is when the token stops being accepted (before the leeway).
	Expiry time.Time
}

// Authenticator checks the bearer tokens of one issuer. It is safe for
// concurrent use; keep one for the life of the process, so that the keys
// stay cached.
type Authenticator struct {
	cfg      Config
	keys     *keySet
	verifier *gooidc.IDTokenVerifier
	// endpoint is the issuer's authorization and token endpoints, as its
	// discovery document gives them (empty when it gives none).
	endpoint oauth2.Endpoint
}

// New discovers cfg.Issuer and fetches its keys, failing when the issuer is
// unreachable or its discovery document or keys are unusable.
func New(ctx context.Context, cfg Config) (*Authenticator, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	client := &http.Client{Timeout: fetchTimeout}
	provider, err := gooidc.NewProvider(gooidc.ClientContext(ctx, client), cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("OIDC issuer %s: discovery: %w", cfg.Issuer, err)
	}
	var discovered struct {
		JWKSURL string `json:"jwks_uri"`
	}
	if err := provider.Claims(&discovered); err != nil {
		return nil, fmt.Errorf("OIDC issuer %s: discovery: %w", cfg.Issuer, err)
	}
	if err := checkURL(discovered.JWKSURL); err != nil {
		return nil, fmt.Errorf("OIDC issuer %s: jwks_uri %q: %w", cfg.Issuer, discovered.JWKSURL, err)
	}
	keys := &keySet{url: discovered.JWKSURL, client: client, now: cfg.Now}
	if _, err := keys.refresh(ctx); err != nil {
		return nil, fmt.Errorf("OIDC issuer %s: %w", cfg.Issuer, err)
	}
	a := &Authenticator{cfg: cfg, keys: keys, endpoint: provider.Endpoint()}
	a.verifier = newVerifier(cfg.Issuer, cfg.Audience, keys)
	return a, nil
}

func newVerifier(issuer, audience string, keys *keySet) *gooidc.IDTokenVerifier {
	algs := make([]string, len(signingAlgs))
	for i, alg := range signingAlgs {
		algs[i] = string(alg)
	}
	return gooidc.NewVerifier(issuer, keys, &gooidc.Config{
		ClientID:             audience,
		SupportedSigningAlgs: algs,
		// Authenticate checks exp and nbf itself, against cfg.Now and with
		// the same leeway on both.
		SkipExpiryCheck: true,
	})
}

// WithAudience returns an Authenticator of the same issuer, sharing its
// cached keys, that accepts tokens made for audience instead: the ID tokens
// of the web page's OAuth client, whose client ID need not be the API's
// audience.
func (a *Authenticator) WithAudience(audience string) *Authenticator {
	if audience == "" || audience == a.cfg.Audience {
		return a
	}
	b := *a
	b.cfg.Audience = audience
	b.verifier = newVerifier(a.cfg.Issuer, audience, a.keys)
	return &b
}

// Issuer is the issuer's URL, as its tokens' iss has it.
func (a *Authenticator) Issuer() string { return a.cfg.Issuer }

// Endpoint returns the issuer's authorization and token endpoints, for
// signing people in with the authorization code flow. An issuer whose
// discovery document names neither, or names one that is not https, cannot
// sign anyone in.
func (a *Authenticator) Endpoint() (oauth2.Endpoint, error) {
	for name, u := range map[string]string{"authorization_endpoint": a.endpoint.AuthURL, "token_endpoint": a.endpoint.TokenURL} {
		if u == "" {
			return oauth2.Endpoint{}, fmt.Errorf("OIDC issuer %s: its discovery document has no %s, so people cannot sign in through it", a.cfg.Issuer, name)
		}
		if err := checkURL(u); err != nil {
			return oauth2.Endpoint{}, fmt.Errorf("OIDC issuer %s: %s %q: %w", a.cfg.Issuer, name, u, err)
		}
	}
	return a.endpoint, nil
}

// Authenticate verifies a raw JWT (its signature against the issuer's keys,
// iss, aud, exp and nbf) and returns who it stands for. A token that is not
// valid is unauthorized; a valid one whose role claim maps to no role is
// forbidden.
func (a *Authenticator) Authenticate(ctx context.Context, raw string) (Identity, error) {
	return a.authenticate(ctx, raw, nil)
}

// AuthenticateNonce is Authenticate for the ID token of a sign-in this
// process started: its nonce claim must be nonce, so that a token taken
// from another sign-in cannot be replayed into this one.
func (a *Authenticator) AuthenticateNonce(ctx context.Context, raw, nonce string) (Identity, error) {
	return a.authenticate(ctx, raw, func(token *gooidc.IDToken) error {
		if nonce == "" || subtle.ConstantTimeCompare([]byte(token.Nonce), []byte(nonce)) != 1 {
			return countersign.Errorf(countersign.CodeUnauthorized, "token refused: its nonce is not the one this sign-in sent")
		}
		return nil
	})
}

// authenticate is Authenticate, with check, when not nil, refusing tokens
// whose signature and issuer passed.
func (a *Authenticator) authenticate(ctx context.Context, raw string, check func(*gooidc.IDToken) error) (Identity, error) {
	if !LooksLikeJWT(raw) {
		return Identity{}, countersign.Errorf(countersign.CodeUnauthorized, "not a JWT")
	}
	token, err := a.verifier.Verify(ctx, raw)
	if err != nil {
		return Identity{}, countersign.Errorf(countersign.CodeUnauthorized, "token refused: %s", strings.TrimPrefix(err.Error(), "oidc: "))
	}
	if check != nil {
		if err := check(token); err != nil {
			return Identity{}, err
		}
	}
	var claims map[string]any
	if err := token.Claims(&claims); err != nil {
		return Identity{}, countersign.Errorf(countersign.CodeUnauthorized, "token refused: claims: %v", err)
	}
	if err := a.checkTimes(token.Expiry, claims["nbf"]); err != nil {
		return Identity{}, err
	}
	if token.Subject == "" {
		return Identity{}, countersign.Errorf(countersign.CodeUnauthorized, "token refused: it has no sub")
	}
	user, err := a.user(claims)
	if err != nil {
		return Identity{}, err
	}
	groups, err := claimStrings(claims, a.cfg.GroupsClaim)
	if err != nil {
		return Identity{}, err
	}
	values, err := claimStrings(claims, a.cfg.RoleClaim)
	if err != nil {
		return Identity{}, err
	}
	role, ok := a.role(values)
	if !ok {
		return Identity{}, countersign.Errorf(countersign.CodeForbidden, "token of %s maps to no countersign role: claim %s has %q", user, a.cfg.RoleClaim, values)
	}
	return Identity{
		Principal: countersign.Principal{User: user, Role: role},
		Groups:    groups,
		Subject:   token.Issuer + "#" + token.Subject,
		Expiry:    token.Expiry,
	}, nil
}

// checkTimes refuses a token without an expiry, expired, or not valid yet.
func (a *Authenticator) checkTimes(expiry time.Time, nbf any) error {
	now := a.cfg.Now()
	if expiry.IsZero() {
		return countersign.Errorf(countersign.CodeUnauthorized, "token refused: it has no exp")
	}
	if now.After(expiry.Add(leeway)) {
		return countersign.Errorf(countersign.CodeUnauthorized, "token expired at %s", expiry.UTC().Format(time.RFC3339))
	}
	if nbf == nil {
		return nil
	}
	seconds, ok := nbf.(float64)
	if !ok {
		return countersign.Errorf(countersign.CodeUnauthorized, "token refused: nbf is not a number")
	}
	if notBefore := time.Unix(int64(seconds), 0); now.Add(leeway).Before(notBefore) {
		return countersign.Errorf(countersign.CodeUnauthorized, "token not valid before %s", notBefore.UTC().Format(time.RFC3339))
	}
	return nil
}

// user is the value of the user claim. A token without it, or with it
// empty, is refused rather than named by another claim, so that one person
// has one name whatever token they come with; an email must be verified.
func (a *Authenticator) user(claims map[string]any) (string, error) {
	name := a.cfg.UserClaim
	switch v := claims[name].(type) {
	case nil:
		return "", countersign.Errorf(countersign.CodeUnauthorized, "token has no %s claim: set --oidc-user-claim to a claim every token carries, such as sub", name)
	case string:
		if v == "" {
			return "", countersign.Errorf(countersign.CodeUnauthorized, "token has an empty %s claim: set --oidc-user-claim to a claim every token carries, such as sub", name)
		}
		if name == "email" {
			// Some issuers send the flag as a string.
			if verified := claims["email_verified"]; verified != true && verified != "true" {
				return "", countersign.Errorf(countersign.CodeUnauthorized, "token refused: email %s is not verified (email_verified is not true)", v)
			}
		}
		// The names countersign records its own actions under, and names
		// that could not be shown, are no one's: a person named
		// "countersign" would pass for an automatic decision.
		if err := auth.CheckUserName(v); err != nil {
			return "", countersign.Errorf(countersign.CodeUnauthorized, "token refused: claim %s: %v", name, err)
		}
		return v, nil
	default:
		return "", countersign.Errorf(countersign.CodeUnauthorized, "token refused: claim %s is not a string", name)
	}
}

// role is the role of the first mapping whose value is among values.
func (a *Authenticator) role(values []string) (countersign.Role, bool) {
	for _, m := range a.cfg.Roles {
		if slices.Contains(values, m.Value) {
			return m.Role, true
		}
	}
	return "", false
}

// claimStrings reads a claim that is a string or a list of strings; an
// absent or null claim has no values.
func claimStrings(claims map[string]any, name string) ([]string, error) {
	switch v := claims[name].(type) {
	case nil:
		return nil, nil
	case string:
		return []string{v}, nil
	case []any:
		values := make([]string, 0, len(v))
		for _, item := range v {
			s, ok := item.(string)
			if !ok {
				return nil, countersign.Errorf(countersign.CodeUnauthorized, "token refused: claim %s holds something other than strings", name)
			}
			values = append(values, s)
		}
		return values, nil
	default:
		return nil, countersign.Errorf(countersign.CodeUnauthorized, "token refused: claim %s is neither a string nor a list of strings", name)
	}
}

// LooksLikeJWT reports whether a bearer value is a JWT (three base64url
// parts separated by dots) rather than a countersign API token, which
// starts with "cs_" and has no dots.
func LooksLikeJWT(s string) bool {
	parts := strings.Split(s, ".")
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" {
		return false
	}
	for _, part := range parts {
		for _, r := range part {
			if !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
				return false
			}
		}
	}
	return true
}
