// Package webhook tells the submitting system what happened to its
// documents: an HTTP POST of a JSON event, signed with HMAC-SHA256 so the
// receiver can tell it came from countersign and was not replayed late.
//
// The signature is over the timestamp, a dot and the body:
//
//	X-Countersign-Timestamp: 1767225600
//	X-Countersign-Signature: sha256=hex(HMAC-SHA256(secret, "1767225600." + body))
//
// Receivers should refuse a timestamp more than five minutes old, and treat
// X-Countersign-Delivery (the event ID, stable across retries) as an
// idempotency key.
package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
)

// userAgent names every request the client sends.
const userAgent = "countersign-webhook"

// Event is one notification.
type Event struct {
	// ID is unique per event and the same on every retry of it.
	ID   string    `json:"id"`
	Type string    `json:"type"`
	At   time.Time `json:"at"`
	Data any       `json:"data"`
}

// Client posts events to one URL.
type Client struct {
	URL    string
	Secret string
	// HTTP defaults to a client with a 30-second timeout.
	HTTP *http.Client
	// Now defaults to time.Now; it stamps the signature.
	Now func() time.Time
}

// Error is a delivery that failed; Temporary says whether trying again may
// help (the receiver is down, overloaded or unreachable).
type Error struct {
	Status    int
	Temporary bool
	Err       error
}

func (e *Error) Error() string {
	if e.Status != 0 {
		return fmt.Sprintf("webhook answered %d: %v", e.Status, e.Err)
	}
	return fmt.Sprintf("webhook unreachable: %v", e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// Send posts e and returns the receiver's status code. A 2xx answer is a
// delivery; 408, 429 and 5xx answers and transport errors are temporary
// errors; any other answer is a permanent one.
func (c *Client) Send(ctx context.Context, e Event) (int, error) {
	body, err := json.Marshal(e)
	if err != nil {
		return 0, &Error{Err: err}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.URL, bytes.NewReader(body))
	if err != nil {
		return 0, &Error{Err: err}
	}
	ts := strconv.FormatInt(c.now().Unix(), 10)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", userAgent)
	req.Header.Set("X-Countersign-Event", e.Type)
	req.Header.Set("X-Countersign-Delivery", e.ID)
	req.Header.Set("X-Countersign-Timestamp", ts)
	req.Header.Set("X-Countersign-Signature", Sign(c.Secret, ts, body))
	resp, err := c.httpClient().Do(req)
	if err != nil {
		return 0, &Error{Temporary: true, Err: err}
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode/100 == 2 {
		return resp.StatusCode, nil
	}
	temporary := resp.StatusCode == http.StatusRequestTimeout || resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500
	return resp.StatusCode, &Error{Status: resp.StatusCode, Temporary: temporary, Err: fmt.Errorf("%q", bytes.TrimSpace(snippet))}
}

// Sign is the X-Countersign-Signature value of a body sent at timestamp ts.
func Sign(secret, ts string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts))
	mac.Write([]byte("."))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// Verify checks a signature as a receiver would: the right secret, and a
// timestamp no further than maxAge from now.
func Verify(secret, ts, signature string, body []byte, now time.Time, maxAge time.Duration) error {
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("bad timestamp %q", ts)
	}
	if age := now.Sub(time.Unix(sec, 0)); age > maxAge || age < -maxAge {
		return fmt.Errorf("timestamp is %s away from now; at most %s is accepted", age.Round(time.Second), maxAge)
	}
	if !hmac.Equal([]byte(Sign(secret, ts, body)), []byte(signature)) {
		return fmt.Errorf("signature does not match")
	}
	return nil
}

// Claims reports whether r says it is a countersign delivery: a POST from
// this client, carrying the event and delivery headers. A receiver that
// shares its address with other traffic (a health check, a scanner, a
// process whose port it took over) can answer anything else 404 and leave
// it out of its alarms. A request that claims to be a delivery must still
// pass Verify; the claim proves nothing.
func Claims(r *http.Request) bool {
	return r.Method == http.MethodPost && r.Header.Get("User-Agent") == userAgent &&
		r.Header.Get("X-Countersign-Event") != "" && r.Header.Get("X-Countersign-Delivery") != ""
}

func (c *Client) httpClient() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return &http.Client{Timeout: 30 * time.Second}
}

func (c *Client) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}
