package llm

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	openai "github.com/sashabaranov/go-openai"
)

// Error is an extraction failure. A temporary one (rate limited, overloaded,
// unreachable) is retried by the activity's retry policy, after RetryAfter
// when the endpoint named a time; a permanent one sends the document to a
// person with the reason recorded.
type Error struct {
	msg       string
	temporary bool
	// kind names the failure for metrics and spans: rate_limited,
	// server_error, timeout, unreachable, context_length, ...; empty for
	// failures that are not a model call's.
	kind       string
	retryAfter time.Duration
	err        error
}

func (e *Error) Error() string { return e.msg }
func (e *Error) Unwrap() error { return e.err }

// Temporary reports whether trying again later may succeed.
func (e *Error) Temporary() bool { return e.temporary }

// RetryAfter is how long the endpoint asked to wait, or 0.
func (e *Error) RetryAfter() time.Duration { return e.retryAfter }

func permanentf(format string, args ...any) error {
	return &Error{msg: fmt.Sprintf(format, args...)}
}

func classify(err error) error { return classifyWithHint(err, retryAfterHint{}) }

// classifyWithHint sorts a failed call: 408, 409, 429 and 5xx answers and
// transport failures are temporary; other answers (a bad key, an unknown
// model, a request the endpoint refuses) are permanent.
func classifyWithHint(err error, hint retryAfterHint) error {
	var apiErr *openai.APIError
	var reqErr *openai.RequestError
	status := 0
	msg := err.Error()
	switch {
	case errors.As(err, &apiErr):
		status = apiErr.HTTPStatusCode
		msg = apiErr.Message
		if code, ok := apiErr.Code.(string); ok && code == "context_length_exceeded" {
			return &Error{msg: "the document is too long for the model's context: " + msg, kind: "context_length", err: err}
		}
	case errors.As(err, &reqErr):
		status = reqErr.HTTPStatusCode
		if reqErr.Err != nil {
			msg = reqErr.Err.Error()
		}
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled):
		return &Error{msg: "the model did not answer in time: " + clip(msg), temporary: true, kind: "timeout", err: err}
	case transport(err):
		return &Error{msg: "the model endpoint is unreachable: " + clip(msg), temporary: true, kind: "unreachable", err: err}
	default:
		// go-openai refusing the request before sending it (a parameter
		// the model does not support), or an answer it cannot read.
		return &Error{msg: "the model call failed: " + clip(msg), kind: "invalid_request", err: err}
	}
	text := fmt.Sprintf("the model endpoint answered %d %s: %s", status, http.StatusText(status), clip(strings.TrimSpace(msg)))
	temporary := status == http.StatusTooManyRequests || status == http.StatusRequestTimeout || status == http.StatusConflict || status >= 500 || status == 0
	return &Error{msg: text, temporary: temporary, retryAfter: hint.wait, kind: statusKind(status), err: err}
}

// transport reports whether err is a failure to reach the endpoint or to
// read its answer: refused or reset connections, DNS, a cut-off body.
func transport(err error) bool {
	var urlErr *url.Error
	var netErr net.Error
	return errors.As(err, &urlErr) || errors.As(err, &netErr) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF)
}

// retryAfterHint carries the Retry-After of a failed answer from the HTTP
// client to the error, which go-openai does not expose.
type retryAfterHint struct{ wait time.Duration }

type retryAfterKey struct{}

func withRetryAfter(ctx context.Context, h *retryAfterHint) context.Context {
	return context.WithValue(ctx, retryAfterKey{}, h)
}

// retryAfterDoer is the HTTP client go-openai calls through; it notes the
// Retry-After of 429 and 503 answers.
type retryAfterDoer struct{ client *http.Client }

func (d *retryAfterDoer) Do(req *http.Request) (*http.Response, error) {
	resp, err := d.client.Do(req)
	if err != nil || (resp.StatusCode != http.StatusTooManyRequests && resp.StatusCode != http.StatusServiceUnavailable) {
		return resp, err
	}
	if h, ok := req.Context().Value(retryAfterKey{}).(*retryAfterHint); ok {
		h.wait = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
	}
	return resp, nil
}

// maxRetryAfter bounds the wait an endpoint can ask for.
const maxRetryAfter = 10 * time.Minute

// parseRetryAfter reads a Retry-After header: seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	var d time.Duration
	if secs, err := strconv.Atoi(v); err == nil {
		d = time.Duration(secs) * time.Second
	} else if at, err := http.ParseTime(v); err == nil {
		d = at.Sub(now)
	}
	return min(max(d, 0), maxRetryAfter)
}
