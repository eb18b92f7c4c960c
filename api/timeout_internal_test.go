package api

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestReadWithinLetsSlowHandlersFinish: the read deadline holds the body
// only; a handler that takes longer than the read timeout once it has read
// the body keeps its request's context and its answer.
func TestReadWithinLetsSlowHandlersFinish(t *testing.T) {
	const timeout = 100 * time.Millisecond
	ts := httptest.NewServer(readWithin(timeout, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		select {
		case <-r.Context().Done():
			http.Error(w, "cancelled", http.StatusServiceUnavailable)
		case <-time.After(5 * timeout):
			io.WriteString(w, string(body))
		}
	})))
	defer ts.Close()
	resp, err := http.Post(ts.URL, "text/plain", strings.NewReader("the whole body"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || string(got) != "the whole body" {
		t.Fatalf("a handler busy past the read timeout after reading its body: %d %q", resp.StatusCode, got)
	}
}
