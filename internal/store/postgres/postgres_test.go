package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/audit"
	"github.com/countersign/countersign/internal/store/postgres"
	"github.com/countersign/countersign/internal/store/postgres/pgtest"
	"github.com/countersign/countersign/internal/store/storetest"
)

func open(t *testing.T) countersign.Store {
	s, err := postgres.Open(context.Background(), pgtest.Database(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, storetest.Harness{
		New: open,
		Exec: func(t *testing.T, s countersign.Store, statement string) {
			tamper(t, s.(*postgres.Store).Pool(), statement)
		},
	})
}

func TestMigrationsAreIdempotent(t *testing.T) {
	url := pgtest.Database(t)
	for range 2 {
		s, err := postgres.Open(context.Background(), url)
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
	}
}

// TestRefusedDataIsNotRetried: data Postgres cannot keep (a NUL character in
// text) is an invalid error, so activities give up instead of retrying
// forever.
func TestRefusedDataIsNotRetried(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	doc := &countersign.Document{ID: "d1", TaskType: "t", TaskTypeVersion: "v", Content: "body", Status: countersign.StatusProcessing}
	if _, _, err := s.CreateDocument(ctx, doc); err != nil {
		t.Fatal(err)
	}
	if err := s.OpenReview(ctx, &countersign.Review{ID: "d1-r1", DocumentID: "d1", TaskType: "t"}); err != nil {
		t.Fatal(err)
	}
	err := s.RecordDecision(ctx, &countersign.Decision{ID: "d1-r1/1", ReviewID: "d1-r1", DocumentID: "d1", Action: countersign.ActionReject, Reason: "bad\x00byte"}, true)
	if !errors.Is(err, countersign.ErrInvalid) {
		t.Fatalf("NUL in a reason: %v, want an invalid error", err)
	}
	nul := &countersign.Document{ID: "d2", TaskType: "t", TaskTypeVersion: "v", Content: "a\x00b", Status: countersign.StatusProcessing}
	if _, _, err := s.CreateDocument(ctx, nul); !errors.Is(err, countersign.ErrInvalid) {
		t.Fatalf("NUL in content: %v, want an invalid error", err)
	}
}

// TestAuditGroupsFromTwoReplicas appends from two stores on one database,
// as two replicas would, 16 writers each, every event twice (as a retried
// activity would), and every tenth event with data Postgres refuses (a NUL
// character): appends that commit in groups keep one unbroken chain with
// each event once, and a refused event fails its own append only.
func TestAuditGroupsFromTwoReplicas(t *testing.T) {
	ctx := context.Background()
	url := pgtest.Database(t)
	var replicas [2]*postgres.Store
	for i := range replicas {
		s, err := postgres.Open(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		replicas[i] = s
	}
	const writers, each = 16, 20
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		problems []string
		good     atomic.Int64
	)
	at := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	for r, s := range replicas {
		for w := range writers {
			wg.Go(func() {
				for i := range each {
					id := fmt.Sprintf("review/r%d-w%d/%d", r, w, i)
					data := fmt.Sprintf(`{"i":%d}`, i)
					refused := i%10 == 9
					if refused {
						data = "{\"i\":\"\x00\"}"
					}
					e := countersign.AuditEvent{ID: id, DocumentID: fmt.Sprintf("r%d-w%d", r, w), Type: countersign.EventDraftCreated,
						Actor: countersign.SystemActor, Channel: countersign.ChannelWorkflow, At: at, Data: []byte(data)}
					var first countersign.AuditEvent
					for attempt := range 2 {
						stored, err := s.AppendAudit(ctx, e)
						switch {
						case refused && !errors.Is(err, countersign.ErrInvalid):
							mu.Lock()
							problems = append(problems, fmt.Sprintf("%s (NUL in its data): %v, want an invalid error", id, err))
							mu.Unlock()
						case !refused && err != nil:
							mu.Lock()
							problems = append(problems, fmt.Sprintf("%s: %v", id, err))
							mu.Unlock()
						case !refused && attempt == 0:
							first = stored
							good.Add(1)
						case !refused && (stored.Seq != first.Seq || stored.Hash != first.Hash):
							mu.Lock()
							problems = append(problems, fmt.Sprintf("%s appended again: seq %d, first seq %d", id, stored.Seq, first.Seq))
							mu.Unlock()
						}
					}
				}
			})
		}
	}
	wg.Wait()
	if len(problems) > 0 {
		t.Fatalf("%d problems, first: %s", len(problems), strings.Join(problems[:min(5, len(problems))], "; "))
	}
	report, err := audit.Verify(ctx, replicas[0])
	if err != nil {
		t.Fatal(err)
	}
	if !report.OK || report.Events != good.Load() {
		t.Fatalf("after grouped appends: %+v, want %d events in one unbroken chain", report, good.Load())
	}
}
