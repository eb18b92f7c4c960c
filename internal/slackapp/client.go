package slackapp

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/slack-go/slack"
	"golang.org/x/time/rate"
)

// Client is Slack's Web API as countersign uses it. Every call first waits
// for its method's share of Slack's published rate limit (per channel for
// chat.postMessage), and a call Slack still answers 429 is tried again after
// the Retry-After it sent, a few times, then fails: a notifier's caller
// retries later, and a person's click gets its answer another way.
type Client struct {
	api *slack.Client
	// Now and Sleep are the clock the limits and waits run on; tests
	// replace them to assert waits without spending them.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
	// Retries is how many times a call answered 429 is tried again.
	Retries int

	mu       sync.Mutex
	limiters map[string]*rate.Limiter
}

// DefaultRetries is Client.Retries unless set otherwise.
const DefaultRetries = 3

// NewClient returns a client with the bot token; apiURL, when not empty,
// replaces Slack's Web API base URL (a proxy, a test server). options are
// passed on to slack-go (the app-level token for Socket Mode, say).
func NewClient(botToken, apiURL string, options ...slack.Option) *Client {
	if apiURL != "" {
		options = append(options, slack.OptionAPIURL(apiURL))
	}
	return &Client{
		api:      slack.New(botToken, options...),
		Now:      time.Now,
		Sleep:    sleep,
		Retries:  DefaultRetries,
		limiters: map[string]*rate.Limiter{},
	}
}

// API is the underlying slack-go client, for Socket Mode.
func (c *Client) API() *slack.Client { return c.api }

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// tier is a Slack rate limit: events per minute, and the burst it allows.
type tier struct {
	perMinute float64
	burst     int
}

// tiers are Slack's published limits of the methods countersign calls
// (docs.slack.dev/apis/web-api/rate-limits): chat.postMessage allows about
// one message a second per channel; chat.update is Tier 3 (50+ a minute);
// chat.postEphemeral and views.open are Tier 4 (100+); conversations.open
// is Tier 3. Slack counts per workspace and app; one process keeps to them
// and a second replica shares the budget, which Retry-After then enforces.
var tiers = map[string]tier{
	"chat.postMessage":   {perMinute: 60, burst: 1},
	"chat.update":        {perMinute: 50, burst: 5},
	"chat.postEphemeral": {perMinute: 100, burst: 10},
	"views.open":         {perMinute: 100, burst: 10},
	"conversations.open": {perMinute: 50, burst: 5},
}

// limiter is the limiter of a method, or of a method in one channel.
func (c *Client) limiter(method, channel string) *rate.Limiter {
	key := method
	if method == "chat.postMessage" {
		key += " " + channel
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if l, ok := c.limiters[key]; ok {
		return l
	}
	t := tiers[method]
	l := rate.NewLimiter(rate.Limit(t.perMinute/60), t.burst)
	c.limiters[key] = l
	return l
}

// call runs fn, Slack's method in channel, within the method's limit,
// waiting out 429s.
func (c *Client) call(ctx context.Context, method, channel string, fn func() error) error {
	l := c.limiter(method, channel)
	for attempt := 0; ; attempt++ {
		now := c.Now()
		r := l.ReserveN(now, 1)
		if !r.OK() {
			return fmt.Errorf("slack %s: rate limiter refused the call", method)
		}
		if d := r.DelayFrom(now); d > 0 {
			if err := c.Sleep(ctx, d); err != nil {
				r.CancelAt(now)
				return fmt.Errorf("slack %s: waiting for the rate limit: %w", method, err)
			}
		}
		err := fn()
		var limited *slack.RateLimitedError
		if !errors.As(err, &limited) {
			if err != nil {
				return fmt.Errorf("slack %s: %w", method, err)
			}
			return nil
		}
		if attempt >= c.Retries {
			return fmt.Errorf("slack %s: still rate limited after %d attempts: %w", method, attempt+1, err)
		}
		wait := limited.RetryAfter
		if wait <= 0 {
			wait = time.Second
		}
		if deadline, ok := ctx.Deadline(); ok && c.Now().Add(wait).After(deadline) {
			return fmt.Errorf("slack %s: rate limited for %s, past the deadline: %w", method, wait, err)
		}
		if err := c.Sleep(ctx, wait); err != nil {
			return fmt.Errorf("slack %s: waiting out Retry-After: %w", method, err)
		}
	}
}

// PostMessage posts a message to channel and returns the channel's ID and
// the message's ts.
func (c *Client) PostMessage(ctx context.Context, channel string, options ...slack.MsgOption) (channelID, ts string, err error) {
	err = c.call(ctx, "chat.postMessage", channel, func() error {
		channelID, ts, err = c.api.PostMessageContext(ctx, channel, options...)
		return err
	})
	return channelID, ts, err
}

// UpdateMessage replaces the message ts of channel.
func (c *Client) UpdateMessage(ctx context.Context, channel, ts string, options ...slack.MsgOption) error {
	return c.call(ctx, "chat.update", channel, func() error {
		_, _, _, err := c.api.UpdateMessageContext(ctx, channel, ts, options...)
		return err
	})
}

// PostEphemeral shows a message to user alone, in channel.
func (c *Client) PostEphemeral(ctx context.Context, channel, user string, options ...slack.MsgOption) error {
	return c.call(ctx, "chat.postEphemeral", channel, func() error {
		_, err := c.api.PostEphemeralContext(ctx, channel, user, options...)
		return err
	})
}

// OpenView opens a modal for the click or command that gave triggerID.
func (c *Client) OpenView(ctx context.Context, triggerID string, view slack.ModalViewRequest) error {
	return c.call(ctx, "views.open", "", func() error {
		_, err := c.api.OpenViewContext(ctx, triggerID, view)
		return err
	})
}

// OpenDM returns the ID of the bot's direct-message channel with user.
func (c *Client) OpenDM(ctx context.Context, user string) (string, error) {
	var id string
	err := c.call(ctx, "conversations.open", "", func() error {
		ch, _, _, err := c.api.OpenConversationContext(ctx, &slack.OpenConversationParameters{Users: []string{user}, ReturnIM: true})
		if err == nil {
			id = ch.ID
		}
		return err
	})
	return id, err
}
