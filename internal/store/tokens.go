package store

import (
	"time"

	"github.com/countersign/countersign"
)

// Revoke records on the stored token t, for a store's RevokeToken, who
// revoked it, when and why, and reports whether t changed. Revoking again
// with the same person and reason changes nothing, since that is a request
// retried; any other revocation of a token already revoked is a conflict.
func Revoke(t *countersign.Token, by, reason string, at time.Time) (bool, error) {
	if t.RevokedAt != nil {
		if t.RevokedBy == by && t.RevokeReason == reason {
			return false, nil
		}
		return false, countersign.Errorf(countersign.CodeConflict, "token %s was already revoked by %s at %s",
			t.ID, t.RevokedBy, t.RevokedAt.Format(time.RFC3339))
	}
	revoked := Time(at)
	t.RevokedAt, t.RevokedBy, t.RevokeReason = &revoked, by, reason
	return true, nil
}

// Groups is how a token's groups are stored: a JSON array, empty rather
// than null when there are none.
func Groups(groups []string) []string {
	if groups == nil {
		return []string{}
	}
	return groups
}
