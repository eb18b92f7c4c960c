package sqlite

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/countersign/countersign"
)

// TestKeptStatements checks what the store keeps prepared: the queries of a
// transaction once it has ended, the reads on first use, and not a slice
// query expanded for its length; and that a kept statement reads what was
// written after its first use.
func TestKeptStatements(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "countersign.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, id := range []string{"d1", "d2"} {
		if _, _, err := s.CreateDocument(ctx, &countersign.Document{ID: id, TaskType: "t", TaskTypeVersion: "v", Content: id, Status: countersign.StatusProcessing}); err != nil {
			t.Fatal(err)
		}
	}
	kept := func(st *statements) int {
		st.mu.Lock()
		defer st.mu.Unlock()
		return len(st.kept)
	}
	writes := kept(s.writes)
	if writes == 0 {
		t.Fatal("CreateDocument kept no statement")
	}

	// AppendAudit's queries run in a transaction, on the one write
	// connection: they are prepared once it ends, and used after.
	for i, id := range []string{"e1", "e2"} {
		e := countersign.AuditEvent{ID: id, DocumentID: "d1", Type: "t", Actor: "a", Channel: countersign.ChannelAPI, At: time.Unix(int64(i), 0).UTC(), Data: []byte(`{}`)}
		if _, err := s.AppendAudit(ctx, e); err != nil {
			t.Fatal(err)
		}
		if i == 0 && kept(s.writes) <= writes {
			t.Fatalf("after the first append, %d statements kept, as many as before it", kept(s.writes))
		}
	}
	afterAppends := kept(s.writes)
	if _, err := s.AppendAudit(ctx, countersign.AuditEvent{ID: "e3", DocumentID: "d2", Type: "t", Actor: "a", Channel: countersign.ChannelAPI, At: time.Unix(3, 0).UTC(), Data: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	if got := kept(s.writes); got != afterAppends {
		t.Fatalf("a third append kept %d statements, the second %d", got, afterAppends)
	}

	// Both documents' events: the slice expands to "?,?", not kept.
	reads := kept(s.reads)
	events, err := s.AuditOfDocuments(ctx, []string{"d1", "d2"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 3 || events[2].PrevHash != events[1].Hash {
		t.Fatalf("events of both documents: %+v", events)
	}
	if got := kept(s.reads); got != reads {
		t.Fatalf("a slice query of two values kept: %d statements, %d before", got, reads)
	}

	// A kept read sees a write made after its first use.
	for _, want := range []countersign.Status{countersign.StatusProcessing, countersign.StatusAccepted} {
		if want != countersign.StatusProcessing {
			if err := s.UpdateDocument(ctx, "d1", countersign.DocumentUpdate{Status: &want}); err != nil {
				t.Fatal(err)
			}
		}
		doc, err := s.GetDocument(ctx, "d1")
		if err != nil {
			t.Fatal(err)
		}
		if doc.Status != want {
			t.Fatalf("document d1 is %s, want %s", doc.Status, want)
		}
	}
}
