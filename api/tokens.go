package api

import (
	"net/http"
	"time"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/auth"
	"github.com/countersign/countersign/internal/rest"
)

func (h *handlers) createToken(w http.ResponseWriter, r *http.Request) {
	var req TokenRequest
	if err := h.decodeBody(w, r, &req); err != nil {
		h.fail(w, r, err)
		return
	}
	var ttl time.Duration
	if req.ExpiresIn != "" {
		d, err := time.ParseDuration(req.ExpiresIn)
		if err != nil || d <= 0 {
			h.fail(w, r, countersign.Errorf(countersign.CodeInvalid, "expires_in must be a positive duration such as 720h, not %q", req.ExpiresIn))
			return
		}
		ttl = d
	}
	secret, token, err := auth.Issue(r.Context(), h.Store, principal(r).User, channel(r), req.User, req.Role, ttl, h.Now(), req.Groups...)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	rest.WriteJSON(w, http.StatusCreated, TokenResponse{Secret: secret, Token: token})
}

// listTokens lists every token, revoked ones included, so that an admin can
// find the ID to revoke. Hashes are never shown.
func (h *handlers) listTokens(w http.ResponseWriter, r *http.Request) {
	tokens, err := h.Store.ListTokens(r.Context())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if tokens == nil {
		tokens = []countersign.Token{}
	}
	rest.WriteJSON(w, http.StatusOK, TokenList{Tokens: tokens})
}

// revokeToken revokes a token for good; the revocation is an audit event.
func (h *handlers) revokeToken(w http.ResponseWriter, r *http.Request) {
	var req RevokeRequest
	if err := h.decodeBody(w, r, &req); err != nil {
		h.fail(w, r, err)
		return
	}
	token, err := auth.Revoke(r.Context(), h.Store, principal(r).User, channel(r), r.PathValue("id"), req.Reason, h.Now())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	rest.WriteJSON(w, http.StatusOK, token)
}
