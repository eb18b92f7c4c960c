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

const slackUserColumns = `slack_user_id, user_name, role, group_names, linked_by, linked_at`

// LinkSlackUser stores the link of a Slack account; see
// countersign.SlackStore. The write transaction is immediate, so of two
// links of one account at once the second sees the first.
func (s *Store) LinkSlackUser(ctx context.Context, u *countersign.SlackUser) (bool, error) {
	groups, err := json.Marshal(store.Groups(u.Groups))
	if err != nil {
		return false, fmt.Errorf("link Slack user %s: %w", u.SlackUserID, err)
	}
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("link Slack user %s: %w", u.SlackUserID, err)
	}
	defer tx.Rollback()
	stored, err := scanSlackUser(tx.QueryRowContext(ctx, `SELECT `+slackUserColumns+` FROM slack_users WHERE slack_user_id = ?`, u.SlackUserID))
	switch {
	case err == nil && stored.SameLink(u):
		return false, nil
	case err != nil && !errors.Is(err, sql.ErrNoRows):
		return false, fmt.Errorf("link Slack user %s: %w", u.SlackUserID, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO slack_users (`+slackUserColumns+`) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (slack_user_id) DO UPDATE SET user_name = excluded.user_name, role = excluded.role,
			group_names = excluded.group_names, linked_by = excluded.linked_by, linked_at = excluded.linked_at`,
		u.SlackUserID, u.User, string(u.Role), string(groups), u.LinkedBy, store.FormatTime(u.LinkedAt)); err != nil {
		return false, fmt.Errorf("link Slack user %s: %w", u.SlackUserID, err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("link Slack user %s: %w", u.SlackUserID, err)
	}
	return true, nil
}

// SlackUser returns the link of a Slack account.
func (s *Store) SlackUser(ctx context.Context, slackUserID string) (*countersign.SlackUser, error) {
	u, err := scanSlackUser(s.read.QueryRowContext(ctx, `SELECT `+slackUserColumns+` FROM slack_users WHERE slack_user_id = ?`, slackUserID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, countersign.Errorf(countersign.CodeNotFound, "Slack user %s is not linked to a countersign user", slackUserID)
	}
	if err != nil {
		return nil, fmt.Errorf("look up Slack user %s: %w", slackUserID, err)
	}
	return u, nil
}

// SlackUsers returns every link, by Slack member ID.
func (s *Store) SlackUsers(ctx context.Context) ([]countersign.SlackUser, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+slackUserColumns+` FROM slack_users ORDER BY slack_user_id`)
	if err != nil {
		return nil, fmt.Errorf("list Slack users: %w", err)
	}
	defer rows.Close()
	var users []countersign.SlackUser
	for rows.Next() {
		u, err := scanSlackUser(rows)
		if err != nil {
			return nil, fmt.Errorf("list Slack users: %w", err)
		}
		users = append(users, *u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list Slack users: %w", err)
	}
	return users, nil
}

// UnlinkSlackUser removes the link of a Slack account and returns it.
func (s *Store) UnlinkSlackUser(ctx context.Context, slackUserID string) (*countersign.SlackUser, error) {
	u, err := scanSlackUser(s.write.QueryRowContext(ctx, `DELETE FROM slack_users WHERE slack_user_id = ? RETURNING `+slackUserColumns, slackUserID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, countersign.Errorf(countersign.CodeNotFound, "Slack user %s is not linked to a countersign user", slackUserID)
	}
	if err != nil {
		return nil, fmt.Errorf("unlink Slack user %s: %w", slackUserID, err)
	}
	return u, nil
}

// scanSlackUser reads a row of slackUserColumns.
func scanSlackUser(row scanner) (*countersign.SlackUser, error) {
	var (
		u              countersign.SlackUser
		groups, linked string
	)
	if err := row.Scan(&u.SlackUserID, &u.User, &u.Role, &groups, &u.LinkedBy, &linked); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(groups), &u.Groups); err != nil {
		return nil, fmt.Errorf("Slack user %s: groups: %w", u.SlackUserID, err)
	}
	if len(u.Groups) == 0 {
		u.Groups = nil
	}
	var err error
	if u.LinkedAt, err = store.ParseTime(linked); err != nil {
		return nil, err
	}
	return &u, nil
}

// RememberSlackRequest records a signed Slack request; see
// countersign.SlackStore. A key already recorded counts again only once its
// record has expired: the upsert changes no row otherwise. Writes go through
// one connection, so two calls at once take turns.
func (s *Store) RememberSlackRequest(ctx context.Context, key string, now, expires time.Time) (bool, error) {
	if _, err := s.write.ExecContext(ctx, `DELETE FROM slack_requests WHERE expires_at <= ?`, store.FormatTime(now)); err != nil {
		return false, fmt.Errorf("forget expired Slack requests: %w", err)
	}
	res, err := s.write.ExecContext(ctx, `INSERT INTO slack_requests (request_key, expires_at) VALUES (?, ?)
		ON CONFLICT (request_key) DO UPDATE SET expires_at = excluded.expires_at WHERE slack_requests.expires_at <= ?`,
		key, store.FormatTime(expires), store.FormatTime(now))
	if err != nil {
		return false, fmt.Errorf("remember Slack request: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("remember Slack request: %w", err)
	}
	return n == 1, nil
}
