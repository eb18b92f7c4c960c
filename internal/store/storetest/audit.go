package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/audit"
	"github.com/countersign/countersign/internal/store"
)

func event(id, doc string, data any) countersign.AuditEvent {
	raw, err := audit.Canonical(data)
	if err != nil {
		panic(err)
	}
	return countersign.AuditEvent{
		ID: id, DocumentID: doc, Type: countersign.EventDraftCreated, Actor: countersign.SystemActor,
		Channel: countersign.ChannelWorkflow, At: t0, Data: raw, TraceID: "4bf92f3577b34da6a3ce929d0e0e4736",
	}
}

func appendN(t *testing.T, s countersign.Store, n int) []countersign.AuditEvent {
	t.Helper()
	var out []countersign.AuditEvent
	for i := 1; i <= n; i++ {
		e, err := s.AppendAudit(context.Background(), event(fmt.Sprintf("review/d/%d", i), "d", map[string]any{"n": i}))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
	}
	return out
}

func testAuditChain(t *testing.T, s countersign.Store) {
	ctx := context.Background()
	events := appendN(t, s, 3)
	if events[0].Seq != 1 || events[0].PrevHash != audit.Genesis || events[2].Seq != 3 || events[2].PrevHash != events[1].Hash {
		t.Fatalf("chain not linked: %+v", events)
	}
	other, err := s.AppendAudit(ctx, event("review/e/1", "e", map[string]any{"html": "<b>&</b>", "z": 1, "a": []int{1}}))
	if err != nil {
		t.Fatal(err)
	}
	docEvents, err := s.DocumentAudit(ctx, "d")
	if err != nil || len(docEvents) != 3 {
		t.Fatalf("DocumentAudit = %d events, %v", len(docEvents), err)
	}
	for i, e := range docEvents {
		if e.Hash != events[i].Hash || string(e.Data) != string(events[i].Data) || !e.At.Equal(events[i].At) || e.TraceID != events[i].TraceID {
			t.Fatalf("event %d read back differs:\n got %+v\nwant %+v", i, e, events[i])
		}
	}
	if got := string(other.Data); got != `{"a":[1],"html":"<b>&</b>","z":1}` {
		t.Fatalf("canonical data = %s", got)
	}
	report, err := audit.Verify(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	if !report.OK || report.Events != 4 || report.Head != other.Hash {
		t.Fatalf("verify = %+v", report)
	}
}

func testAuditIdempotent(t *testing.T, s countersign.Store) {
	ctx := context.Background()
	first := appendN(t, s, 2)
	retry := event("review/d/2", "d", map[string]any{"n": "a retry may carry other data"})
	retry.At = t0.Add(time.Minute)
	got, err := s.AppendAudit(ctx, retry)
	if err != nil {
		t.Fatal(err)
	}
	if got.Seq != 2 || got.Hash != first[1].Hash {
		t.Fatalf("retried append = seq %d hash %s, want the stored event (seq 2, %s)", got.Seq, got.Hash, first[1].Hash)
	}
	report, _ := audit.Verify(ctx, s)
	if !report.OK || report.Events != 2 {
		t.Fatalf("after a retried append: %+v", report)
	}
}

func testAuditConcurrent(t *testing.T, s countersign.Store) {
	ctx := context.Background()
	const writers, each = 8, 10
	var wg sync.WaitGroup
	errs := make(chan error, writers*each*2)
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				// Every event is appended twice, as a retried activity would.
				e := event(fmt.Sprintf("review/w%d/%d", w, i), fmt.Sprintf("w%d", w), map[string]int{"i": i})
				for range 2 {
					if _, err := s.AppendAudit(ctx, e); err != nil {
						errs <- err
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	report, err := audit.Verify(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	if !report.OK || report.Events != writers*each {
		t.Fatalf("concurrent appends: %+v, want %d events in one unbroken chain", report, writers*each)
	}
}

func testAuditScanBatches(t *testing.T, s countersign.Store) {
	n := store.ScanBatch + 3
	appendN(t, s, n)
	var seqs []int64
	err := s.ScanAudit(context.Background(), 2, func(e countersign.AuditEvent) error {
		seqs = append(seqs, e.Seq)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(seqs) != n-2 || seqs[0] != 3 || seqs[len(seqs)-1] != int64(n) {
		t.Fatalf("scan after 2 read %d events (%d..%d), want %d", len(seqs), seqs[0], seqs[len(seqs)-1], n-2)
	}
}

// testAuditTamper changes the audit table behind the store's back and checks
// that verification names the right event.
func testAuditTamper(t *testing.T, h Harness) {
	cases := []struct {
		name    string
		tamper  func(t *testing.T, s countersign.Store, events []countersign.AuditEvent) []string
		wantSeq int64
		reason  string
		// verified is how many events verify before the break.
		verified int64
	}{
		{
			name: "changed byte",
			tamper: func(t *testing.T, s countersign.Store, _ []countersign.AuditEvent) []string {
				return []string{`UPDATE audit_events SET data = '{"n":9}' WHERE seq = 3`}
			},
			wantSeq: 3, reason: "does not match its hash", verified: 2,
		},
		{
			name: "changed actor",
			tamper: func(t *testing.T, s countersign.Store, _ []countersign.AuditEvent) []string {
				return []string{`UPDATE audit_events SET actor = 'mallory' WHERE seq = 4`}
			},
			wantSeq: 4, reason: "does not match its hash", verified: 3,
		},
		{
			name: "deleted event",
			tamper: func(t *testing.T, s countersign.Store, _ []countersign.AuditEvent) []string {
				return []string{`DELETE FROM audit_events WHERE seq = 3`}
			},
			wantSeq: 4, reason: "events 3 to 3 are missing", verified: 2,
		},
		{
			name: "reordered events",
			tamper: func(t *testing.T, s countersign.Store, _ []countersign.AuditEvent) []string {
				return []string{
					`UPDATE audit_events SET seq = 1003 WHERE seq = 3`,
					`UPDATE audit_events SET seq = 3 WHERE seq = 4`,
					`UPDATE audit_events SET seq = 4 WHERE seq = 1003`,
				}
			},
			wantSeq: 3, reason: "reordered", verified: 2,
		},
		{
			name: "rewritten event with its hash recomputed",
			tamper: func(t *testing.T, s countersign.Store, events []countersign.AuditEvent) []string {
				forged := events[2]
				forged.Data = json.RawMessage(`{"n":33}`)
				forged.Hash = audit.Hash(forged)
				return []string{fmt.Sprintf(`UPDATE audit_events SET data = '%s', hash = '%s' WHERE seq = 3`, forged.Data, forged.Hash)}
			},
			wantSeq: 4, reason: "prev_hash", verified: 3,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := h.New(t)
			events := appendN(t, s, 5)
			if report, _ := audit.Verify(context.Background(), s); !report.OK {
				t.Fatalf("untouched chain does not verify: %+v", report)
			}
			for _, stmt := range tc.tamper(t, s, events) {
				h.Exec(t, s, stmt)
			}
			report, err := audit.Verify(context.Background(), s)
			if err != nil {
				t.Fatal(err)
			}
			if report.OK || report.Broken == nil {
				t.Fatalf("tampering not detected: %+v", report)
			}
			if report.Broken.Seq != tc.wantSeq || !strings.Contains(report.Broken.Reason, tc.reason) {
				t.Fatalf("broken at seq %d (%s), want seq %d with %q", report.Broken.Seq, report.Broken.Reason, tc.wantSeq, tc.reason)
			}
			if report.Events != tc.verified {
				t.Fatalf("verified %d events before the break, want %d", report.Events, tc.verified)
			}
		})
	}
}
