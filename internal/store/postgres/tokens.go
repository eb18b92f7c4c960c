package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/store"
	"github.com/countersign/countersign/internal/store/postgres/dbsqlc"
)

// CreateToken stores an API token.
func (s *Store) CreateToken(ctx context.Context, t *countersign.Token) error {
	groups, err := store.Groups(t.Groups)
	if err != nil {
		return fmt.Errorf("create token for %s: %w", t.User, err)
	}
	err = s.q.CreateToken(ctx, dbsqlc.CreateTokenParams{
		ID: t.ID, Hash: t.Hash, UserName: t.User, Role: string(t.Role), GroupNames: groups,
		CreatedAt: store.Time(t.CreatedAt), ExpiresAt: store.OptionalTime(t.ExpiresAt),
	})
	if err != nil {
		return fmt.Errorf("create token for %s: %w", t.User, classify(err))
	}
	return nil
}

// TokenByHash returns the token whose secret hashes to hash.
func (s *Store) TokenByHash(ctx context.Context, hash string) (*countersign.Token, error) {
	row, err := s.q.TokenByHash(ctx, hash)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, countersign.Errorf(countersign.CodeNotFound, "token not found")
	}
	if err != nil {
		return nil, fmt.Errorf("look up token: %w", err)
	}
	t, err := token(dbsqlc.ListTokensRow(row))
	if err != nil {
		return nil, fmt.Errorf("look up token: %w", err)
	}
	t.Hash = hash
	return &t, nil
}

// CountTokens returns how many tokens exist.
func (s *Store) CountTokens(ctx context.Context) (int, error) {
	n, err := s.q.CountTokens(ctx)
	return int(n), err
}

// ListTokens returns every token, oldest first, without its hash.
func (s *Store) ListTokens(ctx context.Context) ([]countersign.Token, error) {
	rows, err := s.q.ListTokens(ctx)
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	tokens, err := store.Map(rows, nil, token)
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
	var t countersign.Token
	err := s.inTx(ctx, func(q *dbsqlc.Queries) error {
		row, err := q.LockToken(ctx, id)
		if errors.Is(err, pgx.ErrNoRows) {
			return countersign.Errorf(countersign.CodeNotFound, "token %s not found", id)
		}
		if err != nil {
			return err
		}
		if t, err = token(dbsqlc.ListTokensRow(row)); err != nil {
			return err
		}
		changed, err := t.Revoke(by, reason, store.Time(at))
		if err != nil || !changed {
			return err
		}
		return q.RevokeToken(ctx, dbsqlc.RevokeTokenParams{RevokedAt: t.RevokedAt, RevokedBy: t.RevokedBy, RevokeReason: t.RevokeReason, ID: id})
	})
	if err := store.Refusal(err); err != nil {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("revoke token %s: %w", id, classify(err))
	}
	return &t, nil
}

// token reads a token's row, without its hash.
func token(r dbsqlc.ListTokensRow) (countersign.Token, error) {
	groups, err := store.DecodeGroups(r.GroupNames)
	if err != nil {
		return countersign.Token{}, fmt.Errorf("token %s: %w", r.ID, err)
	}
	return countersign.Token{
		ID: r.ID, User: r.UserName, Role: countersign.Role(r.Role), Groups: groups, CreatedAt: r.CreatedAt.UTC(),
		ExpiresAt: utc(r.ExpiresAt), RevokedAt: utc(r.RevokedAt), RevokedBy: r.RevokedBy, RevokeReason: r.RevokeReason,
	}, nil
}

func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}
