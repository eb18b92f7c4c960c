package apiclient_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/countersign/countersign/api"
	"github.com/countersign/countersign/api/apiclient"
)

// TestExportOutlivesTheCallTimeout: an export that streams for longer
// than the timeout of a call, and than its idle timeout, with no gap as
// long as the idle timeout, arrives whole; one that stalls is given up
// with a message saying so. A call whose answer comes whole keeps its
// total timeout.
func TestExportOutlivesTheCallTimeout(t *testing.T) {
	const lines = 12
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/export", func(w http.ResponseWriter, r *http.Request) {
		flusher := w.(http.Flusher)
		for i := range lines {
			fmt.Fprintf(w, "{\"line\":%d}\n", i)
			flusher.Flush()
			if r.URL.Query().Get("stall") != "" && i == 2 {
				<-r.Context().Done()
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
	mux.HandleFunc("GET /v1/documents/{id}", func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	c := apiclient.New(srv.URL, "token")
	c.Timeout, c.IdleTimeout = 200*time.Millisecond, time.Second

	var out strings.Builder
	n, err := c.Export(context.Background(), nil, &out, nil)
	if err != nil || n != lines || strings.Count(out.String(), "\n") != lines {
		t.Fatalf("export streamed over about 1.2 s = %d lines, %v; want all %d", n, err, lines)
	}

	out.Reset()
	n, err = c.Export(context.Background(), map[string][]string{"stall": {"1"}}, &out, nil)
	if err == nil || !strings.Contains(err.Error(), "export cut short after 3 lines: the server sent nothing for 1s") {
		t.Fatalf("stalled export = %d lines, %v; want it given up after 3 lines, saying the server sent nothing", n, err)
	}

	if _, err := c.Document(context.Background(), "d1"); err == nil || !strings.Contains(err.Error(), "deadline exceeded") {
		t.Fatalf("a call that never answers = %v, want its timeout", err)
	}
}

// TestRateLimitedCallsWaitAndRetry: a call the API refuses with 429 is
// sent again after the Retry-After it answered, as often as the client
// allows; a client that allows none gets the 429 with its Retry-After.
func TestRateLimitedCallsWaitAndRetry(t *testing.T) {
	var calls atomic.Int64
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/documents", func(w http.ResponseWriter, r *http.Request) {
		if body, _ := io.ReadAll(r.Body); !strings.Contains(string(body), "contract-review") {
			t.Errorf("call %d carried %q, want the request each time", calls.Load()+1, body)
		}
		if calls.Add(1) <= 2 {
			w.Header().Set("Retry-After", "1")
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusTooManyRequests)
			fmt.Fprint(w, `{"error":{"code":"rate_limited","message":"too many requests; retry in 1 s"}}`)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusAccepted)
		fmt.Fprint(w, `{"id":"d1","status":"processing"}`)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	ctx := context.Background()
	req := api.SubmitRequest{TaskType: "contract-review", Content: "x"}

	c := apiclient.New(srv.URL, "token")
	_, err := c.Submit(ctx, req)
	var apiErr *apiclient.Error
	if !errors.As(err, &apiErr) || apiErr.Status != http.StatusTooManyRequests || apiErr.RetryAfter != time.Second || calls.Load() != 1 {
		t.Fatalf("a client that retries nothing: %v after %d calls, want the 429 with Retry-After 1 s after one", err, calls.Load())
	}

	calls.Store(0)
	c.RateLimitRetries = 2
	start := time.Now()
	res, err := c.Submit(ctx, req)
	if err != nil || res.ID != "d1" || calls.Load() != 3 {
		t.Fatalf("a client that retries twice: %+v, %v after %d calls; want d1 on the third", res, err, calls.Load())
	}
	if waited := time.Since(start); waited < 2*time.Second {
		t.Fatalf("retried after %s in all, want at least the 2 s the API asked for", waited)
	}

	calls.Store(-10)
	c.RateLimitRetries = 1
	if _, err := c.Submit(ctx, req); !errors.As(err, &apiErr) || apiErr.Status != http.StatusTooManyRequests || calls.Load() != -8 {
		t.Fatalf("retries used up: %v after %d calls, want the 429 after two", err, calls.Load()+10)
	}
}
