package apiclient

import (
	"context"
	"net/http"
	"net/url"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/api/wire"
)

// LinkSlackUser links a Slack account to a countersign user with a role
// and groups (admin only) and returns the link as stored.
func (c *Client) LinkSlackUser(ctx context.Context, req wire.SlackUserRequest) (*countersign.SlackUser, error) {
	var out countersign.SlackUser
	return &out, c.do(ctx, http.MethodPost, "/v1/slack/users", req, &out)
}

// SlackUsers lists the linked Slack accounts (admin only).
func (c *Client) SlackUsers(ctx context.Context) ([]countersign.SlackUser, error) {
	var out wire.SlackUserList
	return out.SlackUsers, c.do(ctx, http.MethodGet, "/v1/slack/users", nil, &out)
}

// UnlinkSlackUser removes a Slack account's link (admin only) and returns
// it as it was.
func (c *Client) UnlinkSlackUser(ctx context.Context, slackUserID string) (*countersign.SlackUser, error) {
	var out countersign.SlackUser
	return &out, c.do(ctx, http.MethodDelete, "/v1/slack/users/"+url.PathEscape(slackUserID), nil, &out)
}
