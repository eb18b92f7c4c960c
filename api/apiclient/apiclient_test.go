package apiclient_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

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
