package countersign

import (
	"context"
	"slices"
	"strings"
	"time"
	"unicode"
)

// SlackUser links a Slack account to a countersign user: whoever clicks a
// button or sends a command from that Slack account acts as User, with Role
// and Groups, as an API token of theirs would. A Slack account with no link
// can do nothing in countersign.
type SlackUser struct {
	// SlackUserID is the Slack member ID (U… or W…), not the display name,
	// which its owner can change.
	SlackUserID string   `json:"slack_user_id"`
	User        string   `json:"user"`
	Role        Role     `json:"role"`
	Groups      []string `json:"groups,omitempty"`
	// LinkedBy is the admin who linked the account, LinkedAt when.
	LinkedBy string    `json:"linked_by"`
	LinkedAt time.Time `json:"linked_at"`
}

// Principal is whom the Slack account stands for.
func (u *SlackUser) Principal() Principal {
	return Principal{User: u.User, Role: u.Role, Groups: u.Groups}
}

// SameLink reports whether u and v give the same person the same rights,
// whoever linked them and when.
func (u *SlackUser) SameLink(v *SlackUser) bool {
	return u.SlackUserID == v.SlackUserID && u.User == v.User && u.Role == v.Role && slices.Equal(u.Groups, v.Groups)
}

// CheckSlackUserID refuses what cannot be a Slack member ID: Slack's IDs
// are upper-case letters and digits starting with U or W.
func CheckSlackUserID(id string) error {
	if len(id) < 2 || len(id) > 32 || (id[0] != 'U' && id[0] != 'W') ||
		strings.ContainsFunc(id, func(r rune) bool { return !unicode.IsUpper(r) && !unicode.IsDigit(r) }) {
		return Errorf(CodeInvalid, "%q is not a Slack member ID: copy it from the person's Slack profile (⋮ → Copy member ID), like U024BE7LH", id)
	}
	return nil
}

// SlackStore keeps the links between Slack accounts and countersign users.
type SlackStore interface {
	// LinkSlackUser stores u, replacing the link of the same Slack account
	// if there is one, and reports whether anything changed: linking again
	// to the same user, role and groups keeps the stored link as it is.
	LinkSlackUser(ctx context.Context, u *SlackUser) (changed bool, err error)
	// SlackUser returns the link of a Slack account; ErrNotFound if none.
	SlackUser(ctx context.Context, slackUserID string) (*SlackUser, error)
	// SlackUsers returns every link, ordered by Slack member ID.
	SlackUsers(ctx context.Context) ([]SlackUser, error)
	// UnlinkSlackUser removes the link of a Slack account and returns it as
	// it was; ErrNotFound if none.
	UnlinkSlackUser(ctx context.Context, slackUserID string) (*SlackUser, error)
	// RememberSlackRequest records the signed Slack request with the given
	// key until expires and reports whether it is fresh: false when the key
	// is recorded already with an expiry after now, which makes the request
	// a replay. The record is shared by every process on the store, so a
	// replay is refused on another replica and after a restart; of two
	// calls with one key at once, exactly one is fresh. Records expired at
	// now are removed.
	RememberSlackRequest(ctx context.Context, key string, now, expires time.Time) (fresh bool, err error)
}

// Audit event types of Slack links: who may act from which Slack account
// is part of the record, as API tokens are.
const (
	EventSlackUserLinked   = "slack_user.linked"
	EventSlackUserUnlinked = "slack_user.unlinked"
)
