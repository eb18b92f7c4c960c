package countersign

import (
	"slices"
	"strings"
	"time"
	"unicode"
)

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

// RoleList names roles for a message, as "reviewer, approver or admin".
func RoleList(roles []Role) string {
	names := make([]string, len(roles))
	for i, r := range roles {
		names[i] = string(r)
	}
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
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

// Principal is an authenticated caller. Groups are the reviewer groups the
// caller belongs to; a task type that names review groups is reviewed only
// by reviewers of one of them.
type Principal struct {
	User   string   `json:"user"`
	Role   Role     `json:"role"`
	Groups []string `json:"groups,omitempty"`
}

// MayReview reports whether p may see and decide documents of tt: every
// role but reviewer may (auditors read everything, approvers and admins
// stand above the groups); a reviewer may when tt names no review groups or
// one of p's groups.
func (p Principal) MayReview(tt *TaskType) bool {
	return p.MayReviewIn(tt.ReviewGroups)
}

// MayReviewIn is MayReview for a task type whose review groups are groups.
func (p Principal) MayReviewIn(groups []string) bool {
	if p.Role != RoleReviewer || len(groups) == 0 {
		return true
	}
	for _, g := range p.Groups {
		if slices.Contains(groups, g) {
			return true
		}
	}
	return false
}

// Principal is whom the token stands for.
func (t *Token) Principal() Principal {
	return Principal{User: t.User, Role: t.Role, Groups: t.Groups}
}

// Token is a stored API token. Only the SHA-256 hash of the secret is kept.
type Token struct {
	ID        string     `json:"id"`
	Hash      string     `json:"-"`
	User      string     `json:"user"`
	Role      Role       `json:"role"`
	Groups    []string   `json:"groups,omitempty"`
	CreatedAt time.Time  `json:"created_at"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
	// RevokedAt is when an admin revoked the token, RevokedBy who and
	// RevokeReason why; a revoked token authenticates no one.
	RevokedAt    *time.Time `json:"revoked_at,omitempty"`
	RevokedBy    string     `json:"revoked_by,omitempty"`
	RevokeReason string     `json:"revoke_reason,omitempty"`
}

// Revoke records on t who revoked it, when (at, as the store keeps times)
// and why, and reports whether t changed. Revoking it again with the same
// person and reason changes nothing, since that is a request retried; any
// other revocation of a token already revoked is a conflict.
func (t *Token) Revoke(by, reason string, at time.Time) (bool, error) {
	if t.RevokedAt != nil {
		if t.RevokedBy == by && t.RevokeReason == reason {
			return false, nil
		}
		return false, Errorf(CodeConflict, "token %s was already revoked by %s at %s",
			t.ID, t.RevokedBy, t.RevokedAt.Format(time.RFC3339))
	}
	t.RevokedAt, t.RevokedBy, t.RevokeReason = &at, by, reason
	return true, nil
}

// CheckGroups refuses group names a list could not carry: empty, with a
// comma, a control character, or longer than 100 bytes.
func CheckGroups(groups []string) error {
	for _, g := range groups {
		if strings.TrimSpace(g) == "" || len(g) > 100 || strings.Contains(g, ",") || strings.ContainsFunc(g, unicode.IsControl) {
			return Errorf(CodeInvalid, "group name %q: use 1 to 100 characters, no commas or control characters", g)
		}
	}
	return nil
}
