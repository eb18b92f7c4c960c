package webhook_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/countersign/countersign/internal/webhook"
)

// The signature of a known body, computed independently with Python:
// hmac.new(b"s3cret", b'1767225600.{"a":1}', hashlib.sha256).hexdigest()
func TestSignKnownVector(t *testing.T) {
	got := webhook.Sign("s3cret", "1767225600", []byte(`{"a":1}`))
	const want = "sha256=7d4120fcebf444efab10ba7cd6c651bf463cefb039db5fad37ff9f7231ac8a4a"
	if got != want {
		t.Fatalf("Sign = %q, want %q", got, want)
	}
}

func TestSendSignsAndClassifies(t *testing.T) {
	now := time.Unix(1767225600, 0)
	var status int
	var seen *http.Request
	var body []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = r
		body, _ = io.ReadAll(r.Body)
		w.WriteHeader(status)
	}))
	defer srv.Close()
	c := &webhook.Client{URL: srv.URL, Secret: "s3cret", Now: func() time.Time { return now }}
	e := webhook.Event{ID: "review/d1/7", Type: "document.finalized", At: now, Data: map[string]any{"document_id": "d1"}}

	status = http.StatusNoContent
	if code, err := c.Send(context.Background(), e); err != nil || code != http.StatusNoContent {
		t.Fatalf("Send = %d, %v", code, err)
	}
	if seen.Header.Get("X-Countersign-Delivery") != e.ID || seen.Header.Get("X-Countersign-Event") != e.Type || seen.Header.Get("X-Countersign-Timestamp") != "1767225600" {
		t.Fatalf("headers = %v", seen.Header)
	}
	if !webhook.Claims(seen) {
		t.Fatalf("a delivery does not claim to be one: %s %v", seen.Method, seen.Header)
	}
	for _, other := range []*http.Request{
		httptest.NewRequest(http.MethodGet, "/healthz", nil),
		httptest.NewRequest(http.MethodPost, "/", nil),
	} {
		if webhook.Claims(other) {
			t.Fatalf("%s %s with %v claims to be a delivery", other.Method, other.URL, other.Header)
		}
	}
	sig := seen.Header.Get("X-Countersign-Signature")
	if err := webhook.Verify("s3cret", "1767225600", sig, body, now.Add(time.Minute), 5*time.Minute); err != nil {
		t.Fatalf("own signature does not verify: %v", err)
	}
	if err := webhook.Verify("other", "1767225600", sig, body, now, 5*time.Minute); err == nil {
		t.Fatal("a signature verified with the wrong secret")
	}
	if err := webhook.Verify("s3cret", "1767225600", sig, append(body, ' '), now, 5*time.Minute); err == nil {
		t.Fatal("a changed body verified")
	}
	if err := webhook.Verify("s3cret", "1767225600", sig, body, now.Add(10*time.Minute), 5*time.Minute); err == nil {
		t.Fatal("a stale timestamp verified")
	}

	for _, tc := range []struct {
		status    int
		temporary bool
	}{{500, true}, {503, true}, {429, true}, {408, true}, {400, false}, {401, false}, {404, false}} {
		status = tc.status
		_, err := c.Send(context.Background(), e)
		var werr *webhook.Error
		if !errors.As(err, &werr) || werr.Status != tc.status || werr.Temporary != tc.temporary {
			t.Errorf("answer %d: %v (%+v), want temporary=%v", tc.status, err, werr, tc.temporary)
		}
	}
	srv.Close()
	_, err := c.Send(context.Background(), e)
	var werr *webhook.Error
	if !errors.As(err, &werr) || !werr.Temporary || werr.Status != 0 {
		t.Fatalf("unreachable receiver: %v", err)
	}
}
