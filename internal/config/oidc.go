package config

import (
	"cmp"
	"fmt"
	"net/url"
	"strings"

	"github.com/spf13/pflag"

	"github.com/countersign/countersign/internal/oidc"
)

// AddOIDC adds the flags of OIDC bearer tokens for the API.
func (c *Config) AddOIDC(fs *pflag.FlagSet) {
	fs.StringVar(&c.OIDCIssuer, "oidc-issuer", "", usage("oidc-issuer", "also accept OIDC bearer tokens from this issuer, such as https://login.example.com/realms/main; its keys are found through ISSUER/.well-known/openid-configuration (default: API tokens only)"))
	fs.StringVar(&c.OIDCAudience, "oidc-audience", "", usage("oidc-audience", "aud an OIDC token must carry, the issuer's name for countersign (required with --oidc-issuer)"))
	fs.StringVar(&c.OIDCUserClaim, "oidc-user-claim", oidc.DefaultUserClaim, usage("oidc-user-claim", "claim naming the user; tokens without it are refused (with email, email_verified must be true)"))
	fs.StringVar(&c.OIDCRoleClaim, "oidc-role-claim", oidc.DefaultRoleClaim, usage("oidc-role-claim", "claim whose values map to a role, a string or a list of strings"))
	fs.StringVar(&c.OIDCGroupsClaim, "oidc-groups-claim", oidc.DefaultGroupsClaim, usage("oidc-groups-claim", "claim holding the caller's groups, a string or a list of strings"))
	fs.StringVar(&c.OIDCRoles, "oidc-roles", "", usage("oidc-roles", "role claim values to roles, first match wins, such as cs-approvers=approver,cs-reviewers=reviewer (default: values named like a role, admin first, then approver, auditor, reviewer, submitter)"))
}

// OIDC returns the configuration of OIDC bearer tokens, or nil when
// --oidc-issuer is not set.
func (c *Config) OIDC() (*oidc.Config, error) {
	if c.OIDCIssuer == "" {
		if c.OIDCAudience != "" || c.OIDCRoles != "" {
			return nil, fmt.Errorf("--oidc-audience and --oidc-roles need --oidc-issuer (or %s)", Env("oidc-issuer"))
		}
		return nil, nil
	}
	if c.OIDCAudience == "" {
		return nil, fmt.Errorf("--oidc-issuer is set but --oidc-audience (or %s) is not: tokens the issuer made for any other service would be accepted", Env("oidc-audience"))
	}
	roles, err := oidc.ParseRoles(c.OIDCRoles)
	if err != nil {
		return nil, fmt.Errorf("--oidc-roles: %w", err)
	}
	return &oidc.Config{
		Issuer:      c.OIDCIssuer,
		Audience:    c.OIDCAudience,
		UserClaim:   c.OIDCUserClaim,
		RoleClaim:   c.OIDCRoleClaim,
		GroupsClaim: c.OIDCGroupsClaim,
		Roles:       roles,
	}, nil
}

// OIDCCallbackPath is where the issuer sends people back to after they
// sign in to the web page; the redirect URL registered at the issuer ends
// in it.
const OIDCCallbackPath = "/ui/oidc/callback"

// AddOIDCSignIn adds the flags of signing in to the web page through the
// OIDC issuer. Any of them turns it on.
func (c *Config) AddOIDCSignIn(fs *pflag.FlagSet) {
	fs.StringVar(&c.OIDCClientID, "oidc-client-id", "", usage("oidc-client-id", "OAuth client ID of the web page at the OIDC issuer; setting it, --oidc-client-secret or --oidc-redirect-url turns on signing in through the issuer (default: the --oidc-audience)"))
	fs.StringVar(&c.OIDCClientSecret, "oidc-client-secret", "", usage("oidc-client-secret", "the web page's client secret at the OIDC issuer, empty for a public client; prefer the environment variable"))
	fs.StringVar(&c.OIDCRedirectURL, "oidc-redirect-url", "", usage("oidc-redirect-url", "redirect URL registered at the OIDC issuer for the web page (default: --public-url + "+OIDCCallbackPath+")"))
}

// OIDCSignIn is how the web page signs people in through the OIDC issuer.
type OIDCSignIn struct {
	ClientID, ClientSecret, RedirectURL string
}

// OIDCSignIn returns the web page's OIDC sign-in, or nil when none of its
// flags is set.
func (c *Config) OIDCSignIn() (*OIDCSignIn, error) {
	if c.OIDCClientID == "" && c.OIDCClientSecret == "" && c.OIDCRedirectURL == "" {
		return nil, nil
	}
	if c.OIDCIssuer == "" {
		return nil, fmt.Errorf("--oidc-client-id, --oidc-client-secret and --oidc-redirect-url need --oidc-issuer (or %s)", Env("oidc-issuer"))
	}
	s := &OIDCSignIn{ClientID: cmp.Or(c.OIDCClientID, c.OIDCAudience), ClientSecret: c.OIDCClientSecret, RedirectURL: c.OIDCRedirectURL}
	if s.RedirectURL == "" {
		if c.PublicURL == "" {
			return nil, fmt.Errorf("signing in through the OIDC issuer needs --oidc-redirect-url (or %s), or --public-url to make it from: the URL of %s on this server, as registered at the issuer", Env("oidc-redirect-url"), OIDCCallbackPath)
		}
		s.RedirectURL = strings.TrimRight(c.PublicURL, "/") + OIDCCallbackPath
	}
	u, err := url.Parse(s.RedirectURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != OIDCCallbackPath {
		return nil, fmt.Errorf("--oidc-redirect-url %q must be an http(s) URL whose path is %s", s.RedirectURL, OIDCCallbackPath)
	}
	return s, nil
}
