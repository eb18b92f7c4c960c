package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/store"
	"github.com/countersign/countersign/internal/store/sqlite/dbsqlc"
)

// LinkSlackUser stores the link of a Slack account; see
// countersign.SlackStore. The write transaction is immediate, so of two
// links of one account at once the second sees the first.
func (s *Store) LinkSlackUser(ctx context.Context, u *countersign.SlackUser) (bool, error) {
	groups, err := store.Groups(u.Groups)
	if err != nil {
		return false, fmt.Errorf("link Slack user %s: %w", u.SlackUserID, err)
	}
	changed := false
	err = s.inTx(ctx, func(q *dbsqlc.Queries) error {
		row, err := q.SlackUser(ctx, u.SlackUserID)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if err == nil {
			stored, err := slackUser(row)
			if err != nil || stored.SameLink(u) {
				return err
			}
		}
		err = q.LinkSlackUser(ctx, dbsqlc.LinkSlackUserParams{
			SlackUserID: u.SlackUserID, UserName: u.User, Role: string(u.Role), GroupNames: groups,
			LinkedBy: u.LinkedBy, LinkedAt: store.FormatTime(u.LinkedAt),
		})
		changed = err == nil
		return err
	})
	if err != nil {
		return false, fmt.Errorf("link Slack user %s: %w", u.SlackUserID, err)
	}
	return changed, nil
}

// SlackUser returns the link of a Slack account.
func (s *Store) SlackUser(ctx context.Context, slackUserID string) (*countersign.SlackUser, error) {
	row, err := s.read.SlackUser(ctx, slackUserID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, countersign.Errorf(countersign.CodeNotFound, "Slack user %s is not linked to a countersign user", slackUserID)
	}
	if err != nil {
		return nil, fmt.Errorf("look up Slack user %s: %w", slackUserID, err)
	}
	u, err := slackUser(row)
	if err != nil {
		return nil, fmt.Errorf("look up Slack user %s: %w", slackUserID, err)
	}
	return &u, nil
}

// SlackUsers returns every link, by Slack member ID.
func (s *Store) SlackUsers(ctx context.Context) ([]countersign.SlackUser, error) {
	rows, err := s.read.SlackUsers(ctx)
	if err != nil {
		return nil, fmt.Errorf("list Slack users: %w", err)
	}
	users, err := store.Map(rows, nil, slackUser)
	if err != nil {
		return nil, fmt.Errorf("list Slack users: %w", err)
	}
	return users, nil
}

// UnlinkSlackUser removes the link of a Slack account and returns it.
func (s *Store) UnlinkSlackUser(ctx context.Context, slackUserID string) (*countersign.SlackUser, error) {
	row, err := s.write.UnlinkSlackUser(ctx, slackUserID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, countersign.Errorf(countersign.CodeNotFound, "Slack user %s is not linked to a countersign user", slackUserID)
	}
	if err != nil {
		return nil, fmt.Errorf("unlink Slack user %s: %w", slackUserID, err)
	}
	u, err := slackUser(row)
	if err != nil {
		return nil, fmt.Errorf("unlink Slack user %s: %w", slackUserID, err)
	}
	return &u, nil
}

// slackUser reads a Slack link's row.
func slackUser(r dbsqlc.SlackUser) (countersign.SlackUser, error) {
	groups, err := store.DecodeGroups(r.GroupNames)
	if err != nil {
		return countersign.SlackUser{}, fmt.Errorf("Slack user %s: %w", r.SlackUserID, err)
	}
	var t times
	u := countersign.SlackUser{
		SlackUserID: r.SlackUserID, User: r.UserName, Role: countersign.Role(r.Role), Groups: groups,
		LinkedBy: r.LinkedBy, LinkedAt: t.at(r.LinkedAt),
	}
	return u, t.err
}

// RememberSlackRequest records a signed Slack request; see
// countersign.SlackStore and dbsqlc/slack.sql.
func (s *Store) RememberSlackRequest(ctx context.Context, key string, now, expires time.Time) (bool, error) {
	var n int64
	err := s.inTx(ctx, func(q *dbsqlc.Queries) error {
		if err := q.ForgetSlackRequests(ctx, store.FormatTime(now)); err != nil {
			return fmt.Errorf("forget expired Slack requests: %w", err)
		}
		var err error
		if n, err = q.RememberSlackRequest(ctx, dbsqlc.RememberSlackRequestParams{RequestKey: key, ExpiresAt: store.FormatTime(expires)}); err != nil {
			return fmt.Errorf("remember Slack request: %w", err)
		}
		return nil
	})
	if err != nil {
		return false, err
	}
	return n == 1, nil
}
