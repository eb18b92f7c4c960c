package config

import (
	"fmt"

	"github.com/spf13/pflag"

	"github.com/countersign/countersign/internal/oidc"
)

// AddOIDC adds the flags of OIDC bearer tokens for the API.
func (c *Config) AddOIDC(fs *pflag.FlagSet) {
	fs.StringVar(&c.OIDCIssuer, "oidc-issuer", "", usage("oidc-issuer", "also accept OIDC bearer tokens from this issuer, such as https://login.example.com/realms/main; its keys are found through ISSUER/.well-known/openid-configuration (default: API tokens only)"))
	fs.StringVar(&c.OIDCAudience, "oidc-audience", "", usage("oidc-audience", "aud an OIDC token must carry, the issuer's name for countersign (required with --oidc-issuer)"))
	fs.StringVar(&c.OIDCUserClaim, "oidc-user-claim", oidc.DefaultUserClaim, usage("oidc-user-claim", "claim naming the user; tokens without it are named by sub"))
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
