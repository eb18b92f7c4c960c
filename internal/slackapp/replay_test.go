package slackapp

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/store/postgres"
	"github.com/countersign/countersign/internal/store/postgres/pgtest"
)

// TestReplayRefusedAcrossProcesses: a signed request received by one API
// process is refused when replayed to another on the same store, as to a
// second replica or to the same one after a restart, for as long as its
// timestamp could pass; on SQLite and on Postgres.
func TestReplayRefusedAcrossProcesses(t *testing.T) {
	stores := map[string]func(t *testing.T, e *endpoint) countersign.SlackStore{
		"sqlite": func(t *testing.T, e *endpoint) countersign.SlackStore { return e.fx.store },
		"postgres": func(t *testing.T, _ *endpoint) countersign.SlackStore {
			s, err := postgres.Open(context.Background(), pgtest.Database(t))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		},
	}
	for name, open := range stores {
		t.Run(name, func(t *testing.T) {
			e := newEndpoint(t)
			replays := open(t, e)
			sent := time.Now().Truncate(time.Second)
			clock := func(d time.Duration) func() time.Time { return func() time.Time { return sent.Add(d) } }
			first := e.serveSlack(t, replays, clock(0))
			approve := interaction(click("URITA", ActionApprove, "doc1-r1"))
			approve.stamp = sent
			if status, body := first.send(t, approve); status != http.StatusOK {
				t.Fatalf("the genuine request: %d %v", status, body)
			}
			// Another process, its clock anywhere the timestamp still
			// passes, even a window behind the first's: the request is
			// remembered.
			for _, d := range []time.Duration{time.Second, SignatureWindow, -SignatureWindow + time.Second} {
				replica := e.serveSlack(t, replays, clock(d))
				status, body := replica.send(t, approve)
				if e, _ := body["error"].(map[string]any); status != http.StatusUnauthorized || e["message"] != "this request was already received: a replay is refused" {
					t.Errorf("replayed to another process at %s: %d %v, want 401 for a replay", d, status, body)
				}
			}
			if n := len(e.decider.received()); n != 1 {
				t.Fatalf("%d decisions, want the genuine one only", n)
			}
		})
	}
}
