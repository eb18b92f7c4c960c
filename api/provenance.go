package api

import (
	"time"

	"github.com/google/uuid"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/provenance"
)

// attest signs the claims of a person's update (see package provenance), so
// that the workflow's validator can tell it from one sent around the API.
// Without a signer the API cannot vouch for anyone, and says so.
func attest(signer *provenance.Signer, claims provenance.Claims, claimsErr error, now time.Time) (*provenance.Envelope, error) {
	if claimsErr != nil {
		return nil, countersign.Errorf(countersign.CodeInvalid, "the request cannot be signed: %v", claimsErr)
	}
	if signer == nil {
		return nil, countersign.Errorf(countersign.CodeUnavailable, "this API has no decision signing key, so it cannot send decisions to workflows")
	}
	claims.IssuedAt = now.UTC()
	env, err := signer.Sign(claims)
	if err != nil {
		return nil, countersign.Errorf(countersign.CodeInternal, "sign the request: %v", err)
	}
	return env, nil
}

// newUpdateID names an update no caller asked to deduplicate: the envelope
// is bound to its ID, so the ID is chosen before signing.
func newUpdateID(kind string) string {
	return kind + "-" + uuid.NewString()
}
