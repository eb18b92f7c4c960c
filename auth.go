package countersign

import "time"

// Role is what a token holder may do. Roles are not hierarchical except that
// admin may do everything.
type Role string

// Roles.
const (
	RoleSubmitter Role = "submitter"
	RoleReviewer  Role = "reviewer"
	RoleApprover  Role = "approver"
	RoleAuditor   Role = "auditor"
	RoleAdmin     Role = "admin"
)

// Roles lists every role, in the order help texts show them.
var Roles = []Role{RoleSubmitter, RoleReviewer, RoleApprover, RoleAuditor, RoleAdmin}

// Valid reports whether r is a known role.
func (r Role) Valid() bool {
	for _, known := range Roles {
		if r == known {
			return true
		}
	}
	return false
}

// CanDecide reports whether holders of r may approve, correct or reject a
// review. Auditors read everything and change nothing; submitters cannot review.
func (r Role) CanDecide() bool {
	return r == RoleReviewer || r == RoleApprover || r == RoleAdmin
}

// CanSupervise reports whether holders of r may override the policy's
// outcome: veto an auto-accepted document, reset a tightened policy.
func (r Role) CanSupervise() bool {
	return r == RoleApprover || r == RoleAdmin
}

// Principal is an authenticated caller.
type Principal struct {
	User string `json:"user"`
	Role Role   `json:"role"`
}

// Token is a stored API token. Only the SHA-256 hash of the secret is kept.
type Token struct {
	ID        string     `json:"id"`
	Hash      string     `json:"-"`
	User      string     `json:"user"`
	Role      Role       `json:"role"`
	CreatedAt time.Time  `json:"created_at"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
	// RevokedAt is when an admin revoked the token, RevokedBy who and
	// RevokeReason why; a revoked token authenticates no one.
	RevokedAt    *time.Time `json:"revoked_at,omitempty"`
	RevokedBy    string     `json:"revoked_by,omitempty"`
	RevokeReason string     `json:"revoke_reason,omitempty"`
}
