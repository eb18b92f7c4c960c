package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/store"
)

// tokenColumns are what a token is read with; the hash is read only to
// authenticate.
const tokenColumns = `id, user_name, role, group_names, created_at, expires_at, revoked_at, revoked_by, revoke_reason`

// CreateToken stores an API token.
func (s *Store) CreateToken(ctx context.Context, t *countersign.Token) error {
	var expires *time.Time
	if t.ExpiresAt != nil {
		e := store.Time(*t.ExpiresAt)
		expires = &e
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO api_tokens (id, hash, user_name, role, group_names, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		t.ID, t.Hash, t.User, string(t.Role), store.Groups(t.Groups), store.Time(t.CreatedAt), expires)
	if err != nil {
		return fmt.Errorf("create token for %s: %w", t.User, classify(err))
	}
	return nil
}

// TokenByHash returns the token whose secret hashes to hash.
func (s *Store) TokenByHash(ctx context.Context, hash string) (*countersign.Token, error) {
	t, err := scanToken(s.pool.QueryRow(ctx, `SELECT `+tokenColumns+` FROM api_tokens WHERE hash = $1`, hash))
	if errors.Is(err, pgx.ErrNoRows) {
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
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM api_tokens`).Scan(&n)
	return n, err
}

// ListTokens returns every token, oldest first, without its hash.
func (s *Store) ListTokens(ctx context.Context) ([]countersign.Token, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+tokenColumns+` FROM api_tokens ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	tokens, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (countersign.Token, error) {
		t, err := scanToken(row)
		if err != nil {
			return countersign.Token{}, err
		}
		return *t, nil
	})
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	return tokens, nil
}

// RevokeToken revokes a token; see countersign.TokenStore. The token's row
// stays locked from the read to the commit, so of two revocations at once
// the second sees the first. A refusal (not found, already revoked) is
// returned as it is: it is the caller's answer.
func (s *Store) RevokeToken(ctx context.Context, id, by, reason string, at time.Time) (*countersign.Token, error) {
	var t *countersign.Token
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.ReadCommitted}, func(tx pgx.Tx) error {
		var err error
		t, err = scanToken(tx.QueryRow(ctx, `SELECT `+tokenColumns+` FROM api_tokens WHERE id = $1 FOR UPDATE`, id))
		if errors.Is(err, pgx.ErrNoRows) {
			return countersign.Errorf(countersign.CodeNotFound, "token %s not found", id)
		}
		if err != nil {
			return err
		}
		changed, err := store.Revoke(t, by, reason, at)
		if err != nil || !changed {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE api_tokens SET revoked_at = $1, revoked_by = $2, revoke_reason = $3 WHERE id = $4`,
			*t.RevokedAt, t.RevokedBy, t.RevokeReason, id)
		return err
	})
	var refusal *countersign.Error
	if errors.As(err, &refusal) {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("revoke token %s: %w", id, classify(err))
	}
	return t, nil
}

// scanToken reads a row of tokenColumns, its times in UTC.
func scanToken(row pgx.Row) (*countersign.Token, error) {
	var t countersign.Token
	if err := row.Scan(&t.ID, &t.User, &t.Role, &t.Groups, &t.CreatedAt, &t.ExpiresAt, &t.RevokedAt, &t.RevokedBy, &t.RevokeReason); err != nil {
		return nil, err
	}
	if len(t.Groups) == 0 {
		t.Groups = nil
	}
	t.CreatedAt = t.CreatedAt.UTC()
	t.ExpiresAt = utc(t.ExpiresAt)
	t.RevokedAt = utc(t.RevokedAt)
	return &t, nil
}

func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}
