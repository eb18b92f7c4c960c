// Package auth makes and checks API tokens. A token is a random secret shown
// once; the store keeps only its SHA-256.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/audit"
)

// Prefix starts every token, so that a leaked one is easy to recognise.
const Prefix = "cs_"

// NewToken makes a token for user with role and, optionally, the reviewer
// groups the user belongs to. It returns the secret, to hand to the user
// once, and the record to store. ttl 0 means no expiry. The name is checked
// on its own (CheckUserName); Issue also checks it against the users known.
func NewToken(user string, role countersign.Role, ttl time.Duration, now time.Time, groups ...string) (string, *countersign.Token, error) {
	if err := CheckUserName(user); err != nil {
		return "", nil, err
	}
	if !role.Valid() {
		return "", nil, countersign.Errorf(countersign.CodeInvalid, "unknown role %q (roles: %s)", role, roleList())
	}
	if ttl < 0 {
		return "", nil, countersign.Errorf(countersign.CodeInvalid, "token lifetime must not be negative")
	}
	if err := countersign.CheckGroups(groups); err != nil {
		return "", nil, err
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", nil, err
	}
	secret := Prefix + base64.RawURLEncoding.EncodeToString(raw)
	id := make([]byte, 8)
	if _, err := rand.Read(id); err != nil {
		return "", nil, err
	}
	t := &countersign.Token{ID: "tok_" + hex.EncodeToString(id), Hash: Hash(secret), User: user, Role: role, Groups: groups, CreatedAt: now}
	if len(groups) == 0 {
		t.Groups = nil
	}
	if ttl > 0 {
		expires := now.Add(ttl)
		t.ExpiresAt = &expires
	}
	return secret, t, nil
}

// Hash is what the store keeps of a secret.
func Hash(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// Authenticate returns the principal a secret stands for. Unknown, malformed,
// revoked and expired tokens are all unauthorized.
func Authenticate(ctx context.Context, tokens countersign.TokenStore, secret string, now time.Time) (countersign.Principal, error) {
	t, err := Check(ctx, tokens, secret, now)
	if err != nil {
		return countersign.Principal{}, err
	}
	return t.Principal(), nil
}

// Check returns the stored token a secret stands for, if it may be used at
// now; see Authenticate.
func Check(ctx context.Context, tokens countersign.TokenStore, secret string, now time.Time) (*countersign.Token, error) {
	if !strings.HasPrefix(secret, Prefix) {
		return nil, countersign.Errorf(countersign.CodeUnauthorized, "not a countersign token")
	}
	t, err := tokens.TokenByHash(ctx, Hash(secret))
	if errors.Is(err, countersign.ErrNotFound) {
		return nil, countersign.Errorf(countersign.CodeUnauthorized, "unknown token")
	}
	if err != nil {
		return nil, fmt.Errorf("authenticate: %w", err)
	}
	if t.RevokedAt != nil {
		return nil, countersign.Errorf(countersign.CodeUnauthorized, "token revoked at %s", t.RevokedAt.Format(time.RFC3339))
	}
	if t.ExpiresAt != nil && !now.Before(*t.ExpiresAt) {
		return nil, countersign.Errorf(countersign.CodeUnauthorized, "token expired at %s", t.ExpiresAt.Format(time.RFC3339))
	}
	return t, nil
}

func roleList() string {
	names := make([]string, len(countersign.Roles))
	for i, r := range countersign.Roles {
		names[i] = string(r)
	}
	return strings.Join(names, ", ")
}

// Issue makes a token, stores it and records who issued it for whom in the
// audit log. It returns the secret, to show once. Every way of making a
// token (the API, the CLI, the dev stack's admin token) comes here, so the
// user name is checked here: see CheckUser.
func Issue(ctx context.Context, s countersign.Store, issuer string, channel countersign.Channel, user string, role countersign.Role, ttl time.Duration, now time.Time, groups ...string) (string, *countersign.Token, error) {
	secret, token, err := NewToken(user, role, ttl, now, groups...)
	if err != nil {
		return "", nil, err
	}
	if err := CheckUser(ctx, s, user); err != nil {
		return "", nil, err
	}
	if err := s.CreateToken(ctx, token); err != nil {
		return "", nil, err
	}
	fields := map[string]any{"token_id": token.ID, "user": token.User, "role": token.Role, "expires_at": token.ExpiresAt}
	if len(token.Groups) > 0 {
		fields["groups"] = token.Groups
	}
	data, err := audit.Canonical(fields)
	if err != nil {
		return "", nil, err
	}
	_, err = s.AppendAudit(ctx, countersign.AuditEvent{
		ID: "token/" + token.ID, Type: countersign.EventTokenCreated, Actor: issuer, Channel: channel, At: now, Data: data,
	})
	if err != nil {
		return "", nil, fmt.Errorf("record token creation: %w", err)
	}
	return secret, token, nil
}

// Revoke revokes the token with the given ID for reason and records who
// revoked it, and why, in the audit log. It returns the token as stored.
// Revoking it again by the same person for the same reason is a retry: it
// changes nothing and records nothing new.
func Revoke(ctx context.Context, s countersign.Store, revoker string, channel countersign.Channel, id, reason string, now time.Time) (*countersign.Token, error) {
	reason = strings.TrimSpace(reason)
	switch {
	case strings.TrimSpace(id) == "":
		return nil, countersign.Errorf(countersign.CodeInvalid, "which token? give its ID (countersign token list shows them)")
	case reason == "":
		return nil, countersign.Errorf(countersign.CodeInvalid, "a revocation needs a reason")
	}
	token, err := s.RevokeToken(ctx, id, revoker, reason, now)
	if err != nil {
		return nil, err
	}
	// The event is made from the token as stored, so that a retry appends
	// the same event, which the log keeps once.
	data, err := audit.Canonical(map[string]any{"token_id": token.ID, "user": token.User, "role": token.Role, "reason": token.RevokeReason})
	if err != nil {
		return nil, err
	}
	_, err = s.AppendAudit(ctx, countersign.AuditEvent{
		ID: "token/" + token.ID + "/revoked", Type: countersign.EventTokenRevoked, Actor: token.RevokedBy, Channel: channel, At: *token.RevokedAt, Data: data,
	})
	if err != nil {
		return nil, fmt.Errorf("record token revocation: %w", err)
	}
	return token, nil
}
