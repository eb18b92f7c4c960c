package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/store"
)

// tokenColumns are what a token is read with; the hash is read only to
// authenticate.
const tokenColumns = `id, user_name, role, group_names, created_at, expires_at, revoked_at, revoked_by, revoke_reason`

// CreateToken stores an API token.
func (s *Store) CreateToken(ctx context.Context, t *countersign.Token) error {
	var expires any
	if t.ExpiresAt != nil {
		expires = store.FormatTime(*t.ExpiresAt)
	}
	groups, err := json.Marshal(store.Groups(t.Groups))
	if err != nil {
		return fmt.Errorf("create token for %s: %w", t.User, err)
	}
	_, err = s.write.ExecContext(ctx, `INSERT INTO api_tokens (id, hash, user_name, role, group_names, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		t.ID, t.Hash, t.User, string(t.Role), string(groups), store.FormatTime(t.CreatedAt), expires)
	if err != nil {
		return fmt.Errorf("create token for %s: %w", t.User, err)
	}
	return nil
}

// TokenByHash returns the token whose secret hashes to hash.
func (s *Store) TokenByHash(ctx context.Context, hash string) (*countersign.Token, error) {
	t, err := scanToken(s.read.QueryRowContext(ctx, `SELECT `+tokenColumns+` FROM api_tokens WHERE hash = ?`, hash))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, countersign.Errorf(countersign.CodeNotFound, "token not found")
	}
	if err != nil {
		return nil, fmt.Errorf("look up token: %w", err)
	}
	t.Hash = hash
	return t, nil
}

// CountTokens returns how many tokens exist.
func (s *Store) CountTokens(ctx context.Context) (int, error) {
	var n int
	err := s.read.QueryRowContext(ctx, `SELECT count(*) FROM api_tokens`).Scan(&n)
	return n, err
}

// ListTokens returns every token, oldest first, without its hash.
func (s *Store) ListTokens(ctx context.Context) ([]countersign.Token, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+tokenColumns+` FROM api_tokens ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	defer rows.Close()
	var tokens []countersign.Token
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, fmt.Errorf("list tokens: %w", err)
		}
		tokens = append(tokens, *t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	return tokens, nil
}

// RevokeToken revokes a token; see countersign.TokenStore. The write
// transaction is immediate, so of two revocations at once the second sees
// the first.
func (s *Store) RevokeToken(ctx context.Context, id, by, reason string, at time.Time) (*countersign.Token, error) {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("revoke token %s: %w", id, err)
	}
	defer tx.Rollback()
	t, err := scanToken(tx.QueryRowContext(ctx, `SELECT `+tokenColumns+` FROM api_tokens WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, countersign.Errorf(countersign.CodeNotFound, "token %s not found", id)
	}
	if err != nil {
		return nil, fmt.Errorf("revoke token %s: %w", id, err)
	}
	changed, err := store.Revoke(t, by, reason, at)
	if err != nil {
		return nil, err
	}
	if !changed {
		return t, nil
	}
	if _, err := tx.ExecContext(ctx, `UPDATE api_tokens SET revoked_at = ?, revoked_by = ?, revoke_reason = ? WHERE id = ?`,
		store.FormatTime(*t.RevokedAt), t.RevokedBy, t.RevokeReason, id); err != nil {
		return nil, fmt.Errorf("revoke token %s: %w", id, err)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("revoke token %s: %w", id, err)
	}
	return t, nil
}

// scanToken reads a row of tokenColumns.
func scanToken(row scanner) (*countersign.Token, error) {
	var (
		t                countersign.Token
		created, groups  string
		expires, revoked *string
	)
	if err := row.Scan(&t.ID, &t.User, &t.Role, &groups, &created, &expires, &revoked, &t.RevokedBy, &t.RevokeReason); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(groups), &t.Groups); err != nil {
		return nil, fmt.Errorf("token %s: groups: %w", t.ID, err)
	}
	if len(t.Groups) == 0 {
		t.Groups = nil
	}
	var err error
	if t.CreatedAt, err = store.ParseTime(created); err != nil {
		return nil, err
	}
	if t.ExpiresAt, err = parseOptionalTime(expires); err != nil {
		return nil, err
	}
	if t.RevokedAt, err = parseOptionalTime(revoked); err != nil {
		return nil, err
	}
	return &t, nil
}

func parseOptionalTime(s *string) (*time.Time, error) {
	if s == nil {
		return nil, nil
	}
	t, err := store.ParseTime(*s)
	if err != nil {
		return nil, err
	}
	return &t, nil
}
