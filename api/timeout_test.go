package api_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/api"
	"github.com/countersign/countersign/internal/auth"
	"github.com/countersign/countersign/internal/slackapp"
	"github.com/countersign/countersign/internal/store/sqlite"
	"github.com/countersign/countersign/internal/web"
)

// TestTrickledBodiesDoNotHoldConnections: a body sent a byte at a time,
// to endpoints anyone may call (Slack's, the web page's sign-in) or to the
// API, does not hold its connection: once the read timeout has passed the
// server answers, or has answered, and closes it, long before the trickle
// would end. Handlers that read the body answer 400, saying why.
func TestTrickledBodiesDoNotHoldConnections(t *testing.T) {
	store, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "api.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	admin, _, err := auth.Issue(context.Background(), store, "test", countersign.ChannelCLI, "root", countersign.RoleAdmin, 0, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	slack := slackapp.NewHTTP(&slackapp.Handler{Store: store}, "signing-secret", store)
	ts := httptest.NewServer(api.Router(api.Services{
		Store:             store,
		Ready:             func(context.Context) error { return nil },
		ReadTimeout:       300 * time.Millisecond,
		SlackInteractions: slack.Interactions(),
		SlackCommands:     slack.Commands(),
		UI:                web.New(web.Services{Store: store}),
	}))
	t.Cleanup(ts.Close)
	// The trickle would last 20 s; the server should be done with it in a
	// fraction of that. The margins are wide: this is about whether the
	// server gives up, not how fast.
	const size, every, within = 200, 100 * time.Millisecond, 8 * time.Second
	cases := []struct {
		name, path string
		header     map[string]string
		status     int
		text       string
	}{
		{"Slack, unsigned", "/slack/interactions", nil, http.StatusUnauthorized, ""},
		{"Slack, read before its signature is checked", "/slack/commands",
			map[string]string{"X-Slack-Request-Timestamp": strconv.FormatInt(time.Now().Unix(), 10), "X-Slack-Signature": "v0=00"},
			http.StatusBadRequest, "the request body did not arrive within 300ms"},
		{"web sign-in", "/ui/login", nil, http.StatusForbidden, ""},
		{"API", "/v1/tokens", map[string]string{"Authorization": "Bearer " + admin}, http.StatusBadRequest, "the request body did not arrive within 300ms"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			status, body, done := trickle(t, ts.Listener.Addr().String(), tc.path, tc.header, size, every)
			if done > within {
				t.Fatalf("the server held the connection for %s of a %s trickle (read timeout 300ms)", done.Round(time.Millisecond), size*every)
			}
			if status != tc.status || !strings.Contains(body, tc.text) {
				t.Fatalf("answered %d %q, want %d containing %q", status, body, tc.status, tc.text)
			}
		})
	}
}

// trickle sends a POST to path whose body of size bytes goes one byte
// every interval, and returns the answer and how long after the start the
// server closed the connection (or the trickle's length and then some, if
// it never did).
func trickle(t *testing.T, addr, path string, header map[string]string, size int, every time.Duration) (int, string, time.Duration) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	start := time.Now()
	head := fmt.Sprintf("POST %s HTTP/1.1\r\nHost: countersign\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n", path, size)
	for k, v := range header {
		head += k + ": " + v + "\r\n"
	}
	if _, err := io.WriteString(conn, head+"\r\n"); err != nil {
		t.Fatal(err)
	}
	go func() {
		for range size {
			// A space: JSON or a form, it is never complete.
			if _, err := conn.Write([]byte(" ")); err != nil {
				return
			}
			time.Sleep(every)
		}
	}()
	if err := conn.SetReadDeadline(start.Add(time.Duration(size)*every + 5*time.Second)); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(conn)
	status, body := 0, ""
	if resp, err := http.ReadResponse(r, nil); err == nil {
		raw, _ := io.ReadAll(resp.Body)
		status, body = resp.StatusCode, string(raw)
	}
	// Closed is an end of file; a connection left open runs into the
	// deadline.
	if _, err := io.Copy(io.Discard, r); err != nil {
		t.Logf("the connection was not closed: %v", err)
	}
	return status, body, time.Since(start)
}
