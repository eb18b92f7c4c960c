package slackapp

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/slack-go/slack"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/rest"
)

// Limits of the HTTP endpoints.
const (
	// SignatureWindow is how far a request's timestamp may be from now:
	// Slack's own rule.
	SignatureWindow = 5 * time.Minute
	// rememberFor is how long after its timestamp a request is remembered
	// against replays: twice the window, so that API processes whose clocks
	// differ by up to a window still agree on what they have seen.
	rememberFor = 2 * SignatureWindow
	// maxRequestBytes bounds a request body; Slack's are a few kilobytes.
	maxRequestBytes = 1 << 20
)

// Replays remembers the signed requests received, for every API process
// on one store: countersign.SlackStore's RememberSlackRequest.
type Replays interface {
	RememberSlackRequest(ctx context.Context, key string, now, expires time.Time) (fresh bool, err error)
}

// HTTP serves Slack's requests over HTTP: POST /slack/interactions (the
// app's Interactivity Request URL) and POST /slack/commands (the slash
// command's Request URL). Every request must carry Slack's signature, made
// with the app's signing secret over its timestamp and body; a timestamp
// more than five minutes away, or a request already received by any API
// process on the same store, is refused, and nothing of a refused request is
// read further.
type HTTP struct {
	handler *Handler
	secret  string
	replays Replays
	// Now is the clock of the timestamp window.
	Now func() time.Time
}

// NewHTTP serves h's requests, verified with the app's signing secret;
// replays remembers the requests received.
func NewHTTP(h *Handler, signingSecret string, replays Replays) *HTTP {
	return &HTTP{handler: h, secret: signingSecret, replays: replays, Now: time.Now}
}

// Interactions is the handler of POST /slack/interactions.
func (s *HTTP) Interactions() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, ok := s.verify(w, r)
		if !ok {
			return
		}
		form, err := url.ParseQuery(string(body))
		if err != nil {
			rest.WriteError(w, countersign.Errorf(countersign.CodeBadRequest, "the body is not a form"))
			return
		}
		in, err := ParseInteraction([]byte(form.Get("payload")))
		switch {
		case errors.Is(err, errIgnored):
			w.WriteHeader(http.StatusOK)
			return
		case err != nil:
			rest.WriteError(w, countersign.Errorf(countersign.CodeBadRequest, "%v", err))
			return
		}
		writeReply(w, s.handler.Interact(r.Context(), in))
	})
}

// Commands is the handler of POST /slack/commands.
func (s *HTTP) Commands() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, ok := s.verify(w, r)
		if !ok {
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		cmd, err := slack.SlashCommandParse(r)
		if err != nil || !validID(cmd.UserID) {
			rest.WriteError(w, countersign.Errorf(countersign.CodeBadRequest, "not a slash command"))
			return
		}
		writeReply(w, s.handler.Command(r.Context(), cmd))
	})
}

// verify checks the request's signature, timestamp and freshness and
// returns its body; on failure it has answered the request.
func (s *HTTP) verify(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	signature := r.Header.Get("X-Slack-Signature")
	stamp := r.Header.Get("X-Slack-Request-Timestamp")
	if signature == "" || stamp == "" {
		rest.WriteError(w, countersign.Errorf(countersign.CodeUnauthorized, "missing X-Slack-Signature or X-Slack-Request-Timestamp: only Slack may call this endpoint"))
		return nil, false
	}
	seconds, err := strconv.ParseInt(stamp, 10, 64)
	if err != nil {
		rest.WriteError(w, countersign.Errorf(countersign.CodeUnauthorized, "X-Slack-Request-Timestamp is not a Unix time"))
		return nil, false
	}
	at, now := time.Unix(seconds, 0), s.Now()
	if d := now.Sub(at); d > SignatureWindow || d < -SignatureWindow {
		rest.WriteError(w, countersign.Errorf(countersign.CodeUnauthorized, "the request's timestamp is more than five minutes from now"))
		return nil, false
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRequestBytes))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		rest.WriteError(w, countersign.Errorf(countersign.CodeTooLarge, "the request body is too large"))
		return nil, false
	case err != nil:
		rest.WriteError(w, countersign.Errorf(countersign.CodeBadRequest, "the request body could not be read: %v", err))
		return nil, false
	}
	verifier, err := slack.NewSecretsVerifier(r.Header, s.secret)
	if err == nil {
		_, err = verifier.Write(body)
	}
	if err == nil {
		err = verifier.Ensure()
	}
	if err != nil {
		rest.WriteError(w, countersign.Errorf(countersign.CodeUnauthorized, "the request's Slack signature does not verify"))
		return nil, false
	}
	// What was signed, not how the signature was spelled: Slack's verifier
	// reads the hex in either case, so the header text could vary.
	signed := sha256.Sum256([]byte(stamp + ":" + string(body)))
	fresh, err := s.replays.RememberSlackRequest(r.Context(), hex.EncodeToString(signed[:]), now, at.Add(rememberFor))
	if err != nil {
		s.handler.logger().ErrorContext(r.Context(), "Slack request: could not check for a replay", "error", err)
		rest.WriteError(w, countersign.Errorf(countersign.CodeUnavailable, "countersign could not check whether this request was received before; try again in a moment"))
		return nil, false
	}
	if !fresh {
		rest.WriteError(w, countersign.Errorf(countersign.CodeUnauthorized, "this request was already received: a replay is refused"))
		return nil, false
	}
	return body, true
}

// writeReply writes the reply Slack expects in the response, or an empty
// 200.
func writeReply(w http.ResponseWriter, reply any) {
	if reply == nil {
		w.WriteHeader(http.StatusOK)
		return
	}
	rest.WriteJSON(w, http.StatusOK, reply)
}
