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

// LinkSlackUser stores the link of a Slack account; see
// countersign.SlackStore. The account's row stays locked from the read to
// the commit, so of two links at once the second sees the first.
func (s *Store) LinkSlackUser(ctx context.Context, u *countersign.SlackUser) (bool, error) {
	groups, err := store.Groups(u.Groups)
	if err != nil {
		return false, fmt.Errorf("link Slack user %s: %w", u.SlackUserID, err)
	}
	changed := false
	err = s.inTx(ctx, func(q *dbsqlc.Queries) error {
		row, err := q.LockSlackUser(ctx, u.SlackUserID)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
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
			LinkedBy: u.LinkedBy, LinkedAt: store.Time(u.LinkedAt),
		})
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
	row, err := s.q.SlackUser(ctx, slackUserID)
	if errors.Is(err, pgx.ErrNoRows) {
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
	rows, err := s.q.SlackUsers(ctx)
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
	row, err := s.q.UnlinkSlackUser(ctx, slackUserID)
	if errors.Is(err, pgx.ErrNoRows) {
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
	return countersign.SlackUser{
		SlackUserID: r.SlackUserID, User: r.UserName, Role: countersign.Role(r.Role), Groups: groups,
		LinkedBy: r.LinkedBy, LinkedAt: r.LinkedAt.UTC(),
	}, nil
}

// RememberSlackRequest records a signed Slack request; see
// countersign.SlackStore and dbsqlc/slack.sql.
func (s *Store) RememberSlackRequest(ctx context.Context, key string, now, expires time.Time) (bool, error) {
	if err := s.q.ForgetSlackRequests(ctx, store.Time(now)); err != nil {
		return false, fmt.Errorf("forget expired Slack requests: %w", err)
	}
	n, err := s.q.RememberSlackRequest(ctx, dbsqlc.RememberSlackRequestParams{RequestKey: key, ExpiresAt: store.Time(expires), Now: store.Time(now)})
	if err != nil {
		return false, fmt.Errorf("remember Slack request: %w", classify(err))
	}
	return n == 1, nil
}
