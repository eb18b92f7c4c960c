package slackapp

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"
)

// Socket takes Slack's requests over Socket Mode: countersign opens a
// WebSocket to Slack with the app-level token, so no public endpoint is
// needed (on-premises installs behind a firewall). Requests arrive
// authenticated by that connection and go to the same Handler as over HTTP.
type Socket struct {
	handler *Handler
	client  *socketmode.Client
	logger  *slog.Logger
}

// maxInFlight bounds the requests answered at once over Socket Mode.
const maxInFlight = 16

// NewSocket takes h's requests over Socket Mode; c must have been made
// with the app-level token (slack.OptionAppLevelToken).
func NewSocket(h *Handler, c *Client) *Socket {
	return &Socket{handler: h, client: socketmode.New(c.API()), logger: h.logger()}
}

// Run connects and answers requests until ctx ends, reconnecting after a
// failure with a growing pause.
func (s *Socket) Run(ctx context.Context) {
	go s.serve(ctx, s.client.Events, s.client)
	pause := time.Second
	for {
		err := s.client.RunContext(ctx)
		if ctx.Err() != nil {
			return
		}
		s.logger.Warn("slack: Socket Mode connection lost; reconnecting", "error", err, "in", pause)
		if sleep(ctx, pause) != nil {
			return
		}
		pause = min(2*pause, time.Minute)
	}
}

// acker answers a Socket Mode request: socketmode.Client in use, a fake in
// tests.
type acker interface {
	Ack(req socketmode.Request, payload ...any) error
}

// serve answers the events until ctx ends, a bounded number at once.
func (s *Socket) serve(ctx context.Context, events <-chan socketmode.Event, ack acker) {
	slots := make(chan struct{}, maxInFlight)
	for {
		select {
		case <-ctx.Done():
			return
		case evt := <-events:
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
				return
			}
			go func() {
				defer func() { <-slots }()
				s.dispatch(ctx, evt, ack)
			}()
		}
	}
}

// dispatch answers one Socket Mode event: interactions and commands go to
// the Handler and its reply goes back in the acknowledgement; everything
// else is acknowledged, or only logged.
func (s *Socket) dispatch(ctx context.Context, evt socketmode.Event, ack acker) {
	switch evt.Type {
	case socketmode.EventTypeConnected:
		s.logger.Info("slack: Socket Mode connected")
		return
	case socketmode.EventTypeInvalidAuth:
		s.logger.Error("slack: Socket Mode refused the app-level token")
		return
	case socketmode.EventTypeConnectionError, socketmode.EventTypeIncomingError, socketmode.EventTypeErrorBadMessage:
		s.logger.Warn("slack: Socket Mode", "event", evt.Type)
		return
	}
	if evt.Request == nil || evt.Request.EnvelopeID == "" {
		return
	}
	var reply any
	switch evt.Type {
	case socketmode.EventTypeInteractive:
		in, err := ParseInteraction(evt.Request.Payload)
		if err == nil {
			reply = s.handler.Interact(ctx, in)
		} else if !errors.Is(err, errIgnored) {
			s.logger.Warn("slack: malformed interaction over Socket Mode", "error", err)
		}
	case socketmode.EventTypeSlashCommand:
		cmd, ok := evt.Data.(slack.SlashCommand)
		if !ok && json.Unmarshal(evt.Request.Payload, &cmd) != nil {
			break
		}
		if validID(cmd.UserID) {
			reply = s.handler.Command(ctx, cmd)
		}
	}
	var err error
	if reply == nil {
		err = ack.Ack(*evt.Request)
	} else {
		err = ack.Ack(*evt.Request, reply)
	}
	if err != nil {
		s.logger.Warn("slack: acknowledging a Socket Mode request", "type", evt.Type, "error", err)
	}
}
