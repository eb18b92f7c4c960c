package store_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/audit"
	"github.com/countersign/countersign/internal/store/postgres"
	"github.com/countersign/countersign/internal/store/postgres/pgtest"
	"github.com/countersign/countersign/internal/store/sqlite"
)

// plainTable is a copy of audit_events' shape and indexes that rows are
// inserted into directly: the same bytes, without the chain (no lock, no
// head lookup, no hashing, no idempotency check).
var plainTable = []string{
	`CREATE TABLE audit_plain (
	seq bigint NOT NULL PRIMARY KEY, id text NOT NULL UNIQUE, document_id text NOT NULL, type text NOT NULL,
	actor text NOT NULL, channel text NOT NULL, at text NOT NULL, data text NOT NULL,
	prev_hash text NOT NULL, hash text NOT NULL, trace_id text NOT NULL)`,
	`CREATE INDEX audit_plain_document_idx ON audit_plain (document_id, seq)`,
}

type benchStore struct {
	store countersign.Store
	exec  func(ctx context.Context, query string, args ...any) error
	// param writes the i-th placeholder in the store's dialect.
	param func(i int) string
}

// BenchmarkAuditAppend measures chained, idempotent audit appends per second
// against plain inserts of the same rows into an identically indexed table
// of the same database, in the same run, on each store, with one writer and
// with 16 at once: the chain serializes appends, which plain inserts need
// not be.
func BenchmarkAuditAppend(b *testing.B) {
	for _, writers := range []int{1, 16} {
		b.Run(fmt.Sprintf("sqlite/writers-%d", writers), func(b *testing.B) {
			s, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"))
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			benchAppend(b, writers, benchStore{
				store: s,
				exec: func(ctx context.Context, q string, args ...any) error {
					_, err := s.DB().ExecContext(ctx, q, args...)
					return err
				},
				param: func(int) string { return "?" },
			})
		})
		b.Run(fmt.Sprintf("postgres/writers-%d", writers), func(b *testing.B) {
			s, err := postgres.Open(context.Background(), pgtest.Database(b))
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			benchAppend(b, writers, benchStore{
				store: s,
				exec: func(ctx context.Context, q string, args ...any) error {
					_, err := s.Pool().Exec(ctx, q, args...)
					return err
				},
				param: func(i int) string { return fmt.Sprintf("$%d", i) },
			})
		})
	}
}

// inParallel calls fn(i) for every i below n, from the given number of
// goroutines, and returns how long it took.
func inParallel(b *testing.B, writers, n int, fn func(i int) error) time.Duration {
	var (
		next atomic.Int64
		wg   sync.WaitGroup
		errs = make(chan error, writers)
	)
	start := time.Now()
	for range writers {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := fn(i); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	took := time.Since(start)
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	return took
}

func benchAppend(b *testing.B, writers int, bs benchStore) {
	ctx := context.Background()
	for _, q := range plainTable {
		if err := bs.exec(ctx, q); err != nil {
			b.Fatal(err)
		}
	}
	events := make([]countersign.AuditEvent, b.N)
	for i := range events {
		data, err := audit.Canonical(map[string]any{"action": "approve", "fields": map[string]any{"party_a": "Northwind Analytics, Inc.", "term_months": 36}, "i": i})
		if err != nil {
			b.Fatal(err)
		}
		doc := fmt.Sprintf("bench-%d", i%64)
		events[i] = countersign.AuditEvent{
			ID: fmt.Sprintf("review/%s/%d", doc, i), DocumentID: doc, Type: countersign.EventDecisionRecorded,
			Actor: "rita", Channel: countersign.ChannelAPI, At: time.Now(), Data: data,
		}
	}
	insert := "INSERT INTO audit_plain (seq, id, document_id, type, actor, channel, at, data, prev_hash, hash, trace_id) VALUES ("
	for i := 1; i <= 11; i++ {
		if i > 1 {
			insert += ", "
		}
		insert += bs.param(i)
	}
	insert += ")"

	b.ResetTimer()
	stored := make([]countersign.AuditEvent, b.N)
	appendTime := inParallel(b, writers, b.N, func(i int) error {
		var err error
		stored[i], err = bs.store.AppendAudit(ctx, events[i])
		return err
	})
	plainTime := inParallel(b, writers, b.N, func(i int) error {
		e := stored[i]
		return bs.exec(ctx, insert, e.Seq, e.ID, e.DocumentID, e.Type, e.Actor, string(e.Channel),
			e.At.Format(audit.TimeLayout), string(e.Data), e.PrevHash, e.Hash, e.TraceID)
	})
	b.StopTimer()

	appends := float64(b.N) / appendTime.Seconds()
	inserts := float64(b.N) / plainTime.Seconds()
	b.ReportMetric(appends, "appends/s")
	b.ReportMetric(inserts, "inserts/s")
	b.ReportMetric(appends/inserts, "ratio")
	b.Logf("%d events, %d writers: chained appends %.0f/s, plain inserts %.0f/s, ratio %.2f", b.N, writers, appends, inserts, appends/inserts)
}
