// Package slacklink keeps the links between Slack accounts and countersign
// users: reading them from a configuration file, making them, and recording
// each change in the audit log, for the API and the App alike.
package slacklink

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/audit"
	"github.com/countersign/countersign/internal/auth"
)

// RecordLink appends the audit event of a link made or removed (event is
// countersign.EventSlackUserLinked or EventSlackUserUnlinked): which Slack
// account, to which user and rights, by whom, through which channel.
func RecordLink(ctx context.Context, log countersign.AuditLog, event string, u *countersign.SlackUser, actor string, ch countersign.Channel, at time.Time) error {
	fields := map[string]any{"slack_user_id": u.SlackUserID, "user": u.User, "role": u.Role}
	if len(u.Groups) > 0 {
		fields["groups"] = u.Groups
	}
	data, err := audit.Canonical(fields)
	if err != nil {
		return err
	}
	_, err = log.AppendAudit(ctx, countersign.AuditEvent{
		ID:   "slack-user/" + u.SlackUserID + "/" + strings.TrimPrefix(event, "slack_user.") + "/" + at.Format(audit.TimeLayout),
		Type: event, Actor: actor, Channel: ch, At: at, Data: data,
	})
	return err
}

// ParseLinks reads Slack account links from a configuration file: one a
// line, "SLACK_MEMBER_ID USER ROLE [GROUP,GROUP...]", blank lines and lines
// starting with # skipped. Errors name the line.
func ParseLinks(text string) ([]countersign.SlackUser, error) {
	var links []countersign.SlackUser
	seen := map[string]int{}
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		parts := strings.Fields(line)
		if len(parts) < 3 || len(parts) > 4 {
			return nil, fmt.Errorf("line %d: want SLACK_MEMBER_ID USER ROLE [GROUP,GROUP...], got %q", i+1, line)
		}
		u := countersign.SlackUser{SlackUserID: parts[0], User: parts[1], Role: countersign.Role(parts[2])}
		if len(parts) == 4 {
			u.Groups = strings.Split(parts[3], ",")
		}
		if err := countersign.CheckSlackUserID(u.SlackUserID); err != nil {
			return nil, fmt.Errorf("line %d: %w", i+1, err)
		}
		if err := auth.CheckUserName(u.User); err != nil {
			return nil, fmt.Errorf("line %d: %w", i+1, err)
		}
		if !u.Role.Valid() {
			return nil, fmt.Errorf("line %d: unknown role %q", i+1, u.Role)
		}
		if err := countersign.CheckGroups(u.Groups); err != nil {
			return nil, fmt.Errorf("line %d: %w", i+1, err)
		}
		if first, dup := seen[u.SlackUserID]; dup {
			return nil, fmt.Errorf("line %d: %s is linked on line %d already", i+1, u.SlackUserID, first)
		}
		seen[u.SlackUserID] = i + 1
		links = append(links, u)
	}
	return links, nil
}

// LinkAll makes the links a configuration file gives, as actor, recording
// each link that changed; those already in place change nothing. Links made
// otherwise (through the API) are left as they are. A user name too like
// another user's (auth.CheckUser) stops it.
func LinkAll(ctx context.Context, s interface {
	countersign.SlackStore
	countersign.TokenStore
	countersign.AuditLog
}, links []countersign.SlackUser, actor string, now time.Time) (changed int, err error) {
	at := audit.Time(now)
	for _, u := range links {
		u.LinkedBy, u.LinkedAt = actor, at
		if err := auth.CheckUser(ctx, s, u.User); err != nil {
			return changed, fmt.Errorf("link Slack account %s: %w", u.SlackUserID, err)
		}
		did, err := s.LinkSlackUser(ctx, &u)
		if err != nil {
			return changed, fmt.Errorf("link Slack account %s: %w", u.SlackUserID, err)
		}
		if !did {
			continue
		}
		changed++
		if err := RecordLink(ctx, s, countersign.EventSlackUserLinked, &u, actor, countersign.ChannelConfig, at); err != nil {
			return changed, fmt.Errorf("record the link of Slack account %s: %w", u.SlackUserID, err)
		}
	}
	return changed, nil
}
