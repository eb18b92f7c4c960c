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

const slackUserColumns = `slack_user_id, user_name, role, group_names, linked_by, linked_at`

// LinkSlackUser stores the link of a Slack account; see
// countersign.SlackStore. The account's row stays locked from the read to
// the commit, so of two links at once the second sees the first.
func (s *Store) LinkSlackUser(ctx context.Context, u *countersign.SlackUser) (bool, error) {
	changed := false
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.ReadCommitted}, func(tx pgx.Tx) error {
		stored, err := scanSlackUser(tx.QueryRow(ctx, `SELECT `+slackUserColumns+` FROM slack_users WHERE slack_user_id = $1 FOR UPDATE`, u.SlackUserID))
		switch {
		case err == nil && stored.SameLink(u):
			return nil
		case err != nil && !errors.Is(err, pgx.ErrNoRows):
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO slack_users (`+slackUserColumns+`) VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (slack_user_id) DO UPDATE SET user_name = excluded.user_name, role = excluded.role,
				group_names = excluded.group_names, linked_by = excluded.linked_by, linked_at = excluded.linked_at`,
			u.SlackUserID, u.User, string(u.Role), store.Groups(u.Groups), u.LinkedBy, store.Time(u.LinkedAt))
		changed = err == nil
		return err
	})
	if err != nil {
		return false, fmt.Errorf("link Slack user %s: %w", u.SlackUserID, classify(err))
	}
	return changed, nil
}

// SlackUser returns the link of a Slack account.
func (s *Store) SlackUser(ctx context.Context, slackUserID string) (*countersign.SlackUser, error) {
	u, err := scanSlackUser(s.pool.QueryRow(ctx, `SELECT `+slackUserColumns+` FROM slack_users WHERE slack_user_id = $1`, slackUserID))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, countersign.Errorf(countersign.CodeNotFound, "Slack user %s is not linked to a countersign user", slackUserID)
	}
	if err != nil {
		return nil, fmt.Errorf("look up Slack user %s: %w", slackUserID, err)
	}
	return u, nil
}

// SlackUsers returns every link, by Slack member ID.
func (s *Store) SlackUsers(ctx context.Context) ([]countersign.SlackUser, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+slackUserColumns+` FROM slack_users ORDER BY slack_user_id`)
	if err != nil {
		return nil, fmt.Errorf("list Slack users: %w", err)
	}
	users, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (countersign.SlackUser, error) {
		u, err := scanSlackUser(row)
		if err != nil {
			return countersign.SlackUser{}, err
		}
		return *u, nil
	})
	if err != nil {
		return nil, fmt.Errorf("list Slack users: %w", err)
	}
	return users, nil
}

// UnlinkSlackUser removes the link of a Slack account and returns it.
func (s *Store) UnlinkSlackUser(ctx context.Context, slackUserID string) (*countersign.SlackUser, error) {
	u, err := scanSlackUser(s.pool.QueryRow(ctx, `DELETE FROM slack_users WHERE slack_user_id = $1 RETURNING `+slackUserColumns, slackUserID))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, countersign.Errorf(countersign.CodeNotFound, "Slack user %s is not linked to a countersign user", slackUserID)
	}
	if err != nil {
		return nil, fmt.Errorf("unlink Slack user %s: %w", slackUserID, err)
	}
	return u, nil
}

// scanSlackUser reads a row of slackUserColumns, its time in UTC.
func scanSlackUser(row pgx.Row) (*countersign.SlackUser, error) {
	var u countersign.SlackUser
	if err := row.Scan(&u.SlackUserID, &u.User, &u.Role, &u.Groups, &u.LinkedBy, &u.LinkedAt); err != nil {
		return nil, err
	}
	if len(u.Groups) == 0 {
		u.Groups = nil
	}
	u.LinkedAt = u.LinkedAt.UTC()
	return &u, nil
}

// RememberSlackRequest records a signed Slack request; see
// countersign.SlackStore. A key already recorded counts again only once its
// record has expired: the upsert changes no row otherwise, and the primary
// key makes one of two inserts at once wait for the other and see it.
func (s *Store) RememberSlackRequest(ctx context.Context, key string, now, expires time.Time) (bool, error) {
	if _, err := s.pool.Exec(ctx, `DELETE FROM slack_requests WHERE expires_at <= $1`, store.Time(now)); err != nil {
		return false, fmt.Errorf("forget expired Slack requests: %w", err)
	}
	tag, err := s.pool.Exec(ctx, `INSERT INTO slack_requests (request_key, expires_at) VALUES ($1, $2)
		ON CONFLICT (request_key) DO UPDATE SET expires_at = excluded.expires_at WHERE slack_requests.expires_at <= $3`,
		key, store.Time(expires), store.Time(now))
	if err != nil {
		return false, fmt.Errorf("remember Slack request: %w", classify(err))
	}
	return tag.RowsAffected() == 1, nil
}
