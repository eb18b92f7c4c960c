// Package apiclient is a Go client of countersign's REST API, used by the CLI
// and by the end-to-end tests. It speaks the public contract only.
package apiclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/api/wire"
	"github.com/countersign/countersign/internal/audit"
	"github.com/countersign/countersign/internal/report"
	"github.com/countersign/countersign/internal/simulate"
)

// Client calls one countersign API with one token.
type Client struct {
	BaseURL string
	Token   string
	// Channel is sent as X-Countersign-Channel (the CLI sets "cli").
	Channel countersign.Channel
	HTTP    *http.Client
	// Timeout bounds a call whose answer comes whole (DefaultTimeout when
	// zero); IdleTimeout bounds how long a streamed answer, an export, may
	// go without a byte (DefaultIdleTimeout when zero), however long it
	// runs in all.
	Timeout, IdleTimeout time.Duration
	// RateLimitRetries is how many times a call refused with 429 is sent
	// again, each after the Retry-After the API answered (at most
	// MaxRetryAfter); none when zero. A 429 comes before the API does
	// anything with a request, so any call may be sent again.
	RateLimitRetries int
}

// MaxRetryAfter is the longest a client waits on one Retry-After.
const MaxRetryAfter = time.Minute

// The timeouts of a client that sets none.
const (
	DefaultTimeout     = 2 * time.Minute
	DefaultIdleTimeout = 2 * time.Minute
)

// New returns a client of the API at baseURL. Its HTTP client has no total
// timeout: each call bounds itself (Timeout, IdleTimeout).
func New(baseURL, token string) *Client {
	return &Client{BaseURL: strings.TrimRight(baseURL, "/"), Token: token, HTTP: &http.Client{}}
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// Error is an error answer of the API.
type Error struct {
	Status  int
	Code    countersign.Code `json:"code"`
	Message string           `json:"message"`
	// RetryAfter is the answer's Retry-After, when it had one in seconds.
	RetryAfter time.Duration `json:"-"`
	// Body is the whole answer, for what some errors carry beside the
	// error (a refused certification's test, say).
	Body json.RawMessage `json:"-"`
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s (HTTP %d %s)", e.Message, e.Status, e.Code)
}

func (c *Client) do(ctx context.Context, method, path string, body, out any) error {
	return c.doWith(ctx, method, path, nil, body, out)
}

func (c *Client) doWith(ctx context.Context, method, path string, header http.Header, body, out any) error {
	var raw []byte
	if body != nil {
		var err error
		if raw, err = json.Marshal(body); err != nil {
			return err
		}
	}
	for retries := 0; ; retries++ {
		err := c.once(ctx, method, path, header, raw, out)
		var apiErr *Error
		if retries >= c.RateLimitRetries || !errors.As(err, &apiErr) || apiErr.Status != http.StatusTooManyRequests {
			return err
		}
		select {
		case <-time.After(min(max(apiErr.RetryAfter, 100*time.Millisecond), MaxRetryAfter)):
		case <-ctx.Done():
			return err
		}
	}
}

// once makes one call, bounded by Timeout; body is the request's JSON, if
// any.
func (c *Client) once(ctx context.Context, method, path string, header http.Header, body []byte, out any) error {
	ctx, cancel := context.WithTimeout(ctx, orDefault(c.Timeout, DefaultTimeout))
	defer cancel()
	var reader io.Reader
	if body != nil {
		reader = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.BaseURL+path, reader)
	if err != nil {
		return err
	}
	for name, values := range header {
		req.Header[name] = values
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	if c.Channel != "" {
		req.Header.Set("X-Countersign-Channel", string(c.Channel))
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return fmt.Errorf("cannot reach the countersign API at %s: %w", c.BaseURL, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("%s %s: reading the answer: %w", method, path, err)
	}
	if resp.StatusCode >= 300 {
		var e struct {
			Error Error `json:"error"`
		}
		if json.Unmarshal(raw, &e) != nil || e.Error.Message == "" {
			e.Error = Error{Code: countersign.CodeInternal, Message: fmt.Sprintf("%s %s: %s", method, path, strings.TrimSpace(string(raw)))}
		}
		e.Error.Status, e.Error.Body = resp.StatusCode, raw
		if seconds, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && seconds >= 0 {
			e.Error.RetryAfter = time.Duration(seconds) * time.Second
		}
		return &e.Error
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("%s %s: unexpected answer: %w", method, path, err)
	}
	return nil
}

// Submit submits a document.
func (c *Client) Submit(ctx context.Context, s wire.SubmitRequest) (*wire.SubmitResponse, error) {
	var out wire.SubmitResponse
	return &out, c.do(ctx, http.MethodPost, "/v1/documents", s, &out)
}

// Document returns a document.
func (c *Client) Document(ctx context.Context, id string) (*wire.DocumentView, error) {
	var out wire.DocumentView
	return &out, c.do(ctx, http.MethodGet, "/v1/documents/"+url.PathEscape(id), nil, &out)
}

// WaitFinal polls a document until its status is final or ctx ends.
func (c *Client) WaitFinal(ctx context.Context, id string, every time.Duration) (*wire.DocumentView, error) {
	return c.WaitUntil(ctx, id, every, countersign.Status.Final)
}

// WaitUntil polls a document until done says its status is one to stop at,
// or ctx ends.
func (c *Client) WaitUntil(ctx context.Context, id string, every time.Duration, done func(countersign.Status) bool) (*wire.DocumentView, error) {
	for {
		doc, err := c.Document(ctx, id)
		if err != nil {
			return nil, err
		}
		if done(doc.Status) {
			return doc, nil
		}
		select {
		case <-ctx.Done():
			return doc, fmt.Errorf("document %s is still %s: %w", id, doc.Status, ctx.Err())
		case <-time.After(every):
		}
	}
}

// ReviewQuery selects reviews.
type ReviewQuery struct {
	Status   string // pending (default), closed or all
	Kind     string // review or audit; both when empty
	TaskType string
	Order    string // due: the soonest due first; oldest first when empty
	Limit    int
	Cursor   string
}

// Reviews returns one page of the review queue.
func (c *Client) Reviews(ctx context.Context, q ReviewQuery) (*wire.ReviewList, error) {
	v := url.Values{}
	if q.Status != "" {
		v.Set("status", q.Status)
	}
	if q.TaskType != "" {
		v.Set("task_type", q.TaskType)
	}
	if q.Kind != "" {
		v.Set("kind", q.Kind)
	}
	if q.Order != "" {
		v.Set("order", q.Order)
	}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	if q.Cursor != "" {
		v.Set("cursor", q.Cursor)
	}
	var out wire.ReviewList
	return &out, c.do(ctx, http.MethodGet, "/v1/reviews?"+v.Encode(), nil, &out)
}

// Review returns what a person sees of a review before deciding it.
func (c *Client) Review(ctx context.Context, id string) (*wire.ReviewView, error) {
	var out wire.ReviewView
	return &out, c.do(ctx, http.MethodGet, "/v1/reviews/"+url.PathEscape(id), nil, &out)
}

// Claim claims a review for the caller, or renews their claim.
func (c *Client) Claim(ctx context.Context, reviewID string) (*countersign.Review, error) {
	var out wire.ClaimResponse
	return &out.Review, c.do(ctx, http.MethodPost, "/v1/reviews/"+url.PathEscape(reviewID)+"/claim", nil, &out)
}

// Release releases a claim on a review: the caller's, or, for an
// approver, anyone's.
func (c *Client) Release(ctx context.Context, reviewID string) (*countersign.Review, error) {
	var out wire.ClaimResponse
	return &out.Review, c.do(ctx, http.MethodDelete, "/v1/reviews/"+url.PathEscape(reviewID)+"/claim", nil, &out)
}

// Assign assigns a review to the person to (approver, admin).
func (c *Client) Assign(ctx context.Context, reviewID, to string) (*countersign.Review, error) {
	var out wire.ClaimResponse
	return &out.Review, c.do(ctx, http.MethodPost, "/v1/reviews/"+url.PathEscape(reviewID)+"/assign", wire.AssignRequest{To: to}, &out)
}

// Next claims the best review the caller may take, of taskType and kind
// when set, and returns it; nil when none is left for them.
func (c *Client) Next(ctx context.Context, taskType string, kind countersign.ReviewKind) (*countersign.Review, error) {
	v := url.Values{}
	if taskType != "" {
		v.Set("task_type", taskType)
	}
	if kind != "" {
		v.Set("kind", string(kind))
	}
	var out wire.NextResponse
	return out.Review, c.do(ctx, http.MethodPost, "/v1/reviews/next?"+v.Encode(), nil, &out)
}

// Decide sends a decision on a review.
func (c *Client) Decide(ctx context.Context, reviewID string, d wire.DecisionRequest) (*wire.DecisionResponse, error) {
	return c.DecideOnce(ctx, reviewID, "", d)
}

// DecideOnce sends a decision with an Idempotency-Key: sending it again with
// the same key (after a timeout, say) answers the decision already recorded.
func (c *Client) DecideOnce(ctx context.Context, reviewID, key string, d wire.DecisionRequest) (*wire.DecisionResponse, error) {
	var out wire.DecisionResponse
	var header http.Header
	if key != "" {
		header = http.Header{"Idempotency-Key": {key}}
	}
	return &out, c.doWith(ctx, http.MethodPost, "/v1/reviews/"+url.PathEscape(reviewID)+"/decision", header, d, &out)
}

// Audit returns a document's audit events.
func (c *Client) Audit(ctx context.Context, documentID string) ([]countersign.AuditEvent, error) {
	var out wire.AuditEvents
	return out.Events, c.do(ctx, http.MethodGet, "/v1/documents/"+url.PathEscape(documentID)+"/audit", nil, &out)
}

// VerifyAudit recomputes the whole audit chain on the server, held to the
// given checkpoints (whose signatures the caller checks).
func (c *Client) VerifyAudit(ctx context.Context, checkpoints ...countersign.ChainPoint) (*countersign.ChainReport, error) {
	q := url.Values{}
	for _, p := range checkpoints {
		q.Add("checkpoint", audit.FormatPoint(p))
	}
	path := "/v1/audit/verify"
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	var out countersign.ChainReport
	if err := c.do(ctx, http.MethodGet, path, nil, &out); err != nil {
		return nil, err
	}
	// A server from before checkpoints ignores them and would answer "ok".
	if len(out.Checkpoints) != len(checkpoints) {
		return nil, fmt.Errorf("the server at %s did not hold the chain to the checkpoints: it predates them", c.BaseURL)
	}
	return &out, nil
}

// CreateToken creates an API token (admin only). expiresIn 0 means never.
func (c *Client) CreateToken(ctx context.Context, user string, role countersign.Role, expiresIn time.Duration, groups ...string) (*wire.TokenResponse, error) {
	body := wire.TokenRequest{User: user, Role: role, Groups: groups}
	if expiresIn > 0 {
		body.ExpiresIn = expiresIn.String()
	}
	var out wire.TokenResponse
	return &out, c.do(ctx, http.MethodPost, "/v1/tokens", body, &out)
}

// Tokens lists every API token, revoked ones included (admin only).
func (c *Client) Tokens(ctx context.Context) ([]countersign.Token, error) {
	var out wire.TokenList
	return out.Tokens, c.do(ctx, http.MethodGet, "/v1/tokens", nil, &out)
}

// RevokeToken revokes an API token for good (admin only) and returns it.
func (c *Client) RevokeToken(ctx context.Context, id, reason string) (*countersign.Token, error) {
	var out countersign.Token
	return &out, c.do(ctx, http.MethodPost, "/v1/tokens/"+url.PathEscape(id)+"/revoke", wire.RevokeRequest{Reason: reason}, &out)
}

// Calibrate learns and stores a calibration of a task type from its human
// outcomes; the answer says whether it became active, and why not.
func (c *Client) Calibrate(ctx context.Context, req wire.CalibrateRequest) (*countersign.Calibration, error) {
	var out countersign.Calibration
	return &out, c.do(ctx, http.MethodPost, "/v1/calibrations", req, &out)
}

// Calibration returns the newest calibration of a task type.
func (c *Client) Calibration(ctx context.Context, taskType string) (*countersign.Calibration, error) {
	var out countersign.Calibration
	return &out, c.do(ctx, http.MethodGet, "/v1/calibrations/"+url.PathEscape(taskType), nil, &out)
}

// SimulatePolicy replays a task type's held-out scores and outcomes
// through its policy at the default thresholds and the given ones, with
// upper bounds at level (0: the server's default, 0.95).
func (c *Client) SimulatePolicy(ctx context.Context, taskType string, level float64, thresholds ...float64) (*simulate.Result, error) {
	q := url.Values{"task_type": {taskType}}
	if level != 0 {
		q.Set("level", strconv.FormatFloat(level, 'f', -1, 64))
	}
	for _, t := range thresholds {
		q.Add("threshold", strconv.FormatFloat(t, 'f', -1, 64))
	}
	var out simulate.Result
	return &out, c.do(ctx, http.MethodGet, "/v1/policy/simulate?"+q.Encode(), nil, &out)
}

// Veto overrides an auto-accepted document within its veto window.
func (c *Client) Veto(ctx context.Context, documentID string, v wire.VetoRequest) (*wire.DecisionResponse, error) {
	var out wire.DecisionResponse
	return &out, c.do(ctx, http.MethodPost, "/v1/documents/"+url.PathEscape(documentID)+"/veto", v, &out)
}

// Escalate escalates a document (an alert) to an incident, recorded and
// sent to the configured incident target; key, when set, is the
// Idempotency-Key that makes a retry record it once.
func (c *Client) Escalate(ctx context.Context, documentID, key string, e wire.EscalateRequest) (*wire.EscalateResponse, error) {
	var out wire.EscalateResponse
	var header http.Header
	if key != "" {
		header = http.Header{"Idempotency-Key": {key}}
	}
	return &out, c.doWith(ctx, http.MethodPost, "/v1/documents/"+url.PathEscape(documentID)+"/escalate", header, e, &out)
}

// ResetPolicy lifts a supervisor's tightening of a task type's policy.
func (c *Client) ResetPolicy(ctx context.Context, taskType, reason string) (*countersign.PolicyOverride, error) {
	var out struct {
		Override countersign.PolicyOverride `json:"override"`
	}
	return &out.Override, c.do(ctx, http.MethodPost, "/v1/policy/reset", wire.ResetRequest{TaskType: taskType, Reason: reason}, &out)
}

// Stats returns a task type's supervision state and quality figures.
func (c *Client) Stats(ctx context.Context, taskType string) (*wire.Stats, error) {
	return c.StatsBy(ctx, taskType, "")
}

// StatsBy is Stats with the figures broken down by: "rule" adds the
// figures per detection rule; "" none.
func (c *Client) StatsBy(ctx context.Context, taskType, by string) (*wire.Stats, error) {
	var out wire.Stats
	path := "/v1/stats?task_type=" + url.QueryEscape(taskType)
	if by != "" {
		path += "&by=" + url.QueryEscape(by)
	}
	return &out, c.do(ctx, http.MethodGet, path, nil, &out)
}

// Reviewers reports how each person of a task type decides, over documents
// submitted at or after since and before until (dates or RFC 3339 times;
// empty leaves that end open).
func (c *Client) Reviewers(ctx context.Context, taskType, since, until string) (*report.Reviewers, error) {
	q := url.Values{"task_type": {taskType}}
	for name, value := range map[string]string{"since": since, "until": until} {
		if value != "" {
			q.Set(name, value)
		}
	}
	var out report.Reviewers
	return &out, c.do(ctx, http.MethodGet, "/v1/reviewers?"+q.Encode(), nil, &out)
}

// Batch returns where a batch stands.
func (c *Client) Batch(ctx context.Context, name string) (*countersign.BatchProgress, error) {
	var out countersign.BatchProgress
	return &out, c.do(ctx, http.MethodGet, "/v1/batches/"+url.PathEscape(name), nil, &out)
}

// Batches returns a page of batches, the most recently begun first; limit
// 0 is the server's default, cursor the next_cursor of the page before.
func (c *Client) Batches(ctx context.Context, limit int, cursor string) (*wire.BatchList, error) {
	q := url.Values{}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	if cursor != "" {
		q.Set("cursor", cursor)
	}
	var out wire.BatchList
	return &out, c.do(ctx, http.MethodGet, "/v1/batches?"+q.Encode(), nil, &out)
}

// Export streams an export into w, calling progress (if set) with the
// number of lines copied so far every 1,000 lines and at the end. It
// returns the number of lines. An export may run for hours; it is given up
// only when the server sends nothing for the client's IdleTimeout.
func (c *Client) Export(ctx context.Context, q url.Values, w io.Writer, progress func(lines int)) (int, error) {
	idle := orDefault(c.IdleTimeout, DefaultIdleTimeout)
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	stalled := fmt.Errorf("the server sent nothing for %s", idle)
	timer := time.AfterFunc(idle, func() { cancel(stalled) })
	defer timer.Stop()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.BaseURL+"/v1/export?"+q.Encode(), nil)
	if err != nil {
		return 0, err
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		if cause := context.Cause(ctx); cause == stalled {
			err = cause
		}
		return 0, fmt.Errorf("cannot reach the countersign API at %s: %w", c.BaseURL, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		var e struct {
			Error Error `json:"error"`
		}
		if json.Unmarshal(raw, &e) != nil || e.Error.Message == "" {
			return 0, &Error{Status: resp.StatusCode, Code: countersign.CodeInternal, Message: "GET /v1/export: " + strings.TrimSpace(string(raw))}
		}
		e.Error.Status, e.Error.Body = resp.StatusCode, raw
		return 0, &e.Error
	}
	lines := 0
	buf := make([]byte, 64<<10)
	for {
		timer.Reset(idle)
		n, readErr := resp.Body.Read(buf)
		if n > 0 {
			if _, err := w.Write(buf[:n]); err != nil {
				return lines, err
			}
			before := lines
			lines += bytes.Count(buf[:n], []byte("\n"))
			if progress != nil && lines/1000 != before/1000 {
				progress(lines)
			}
		}
		if readErr == io.EOF {
			break
		}
		if readErr != nil {
			if cause := context.Cause(ctx); cause == stalled {
				readErr = cause
			}
			return lines, fmt.Errorf("export cut short after %d lines: %w", lines, readErr)
		}
	}
	if progress != nil {
		progress(lines)
	}
	if msg := resp.Trailer.Get(ExportErrorTrailer); msg != "" {
		return lines, fmt.Errorf("the server stopped the export after %d lines: %s", lines, msg)
	}
	return lines, nil
}

// ExportErrorTrailer is the HTTP trailer by which the server says an
// export that had started streaming failed part way.
const ExportErrorTrailer = "X-Countersign-Export-Error"
