package store_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/audit"
	"github.com/countersign/countersign/internal/store/postgres"
	"github.com/countersign/countersign/internal/store/postgres/pgtest"
	"github.com/countersign/countersign/internal/store/sqlite"
)

// plainTable is a copy of audit_events' shape that rows are inserted into
// directly: the same bytes, without the chain (no lock, no head lookup, no
// hashing, no idempotency check).
const plainTable = `CREATE TABLE audit_plain (
	seq bigint NOT NULL PRIMARY KEY, id text NOT NULL UNIQUE, document_id text NOT NULL, type text NOT NULL,
	actor text NOT NULL, channel text NOT NULL, at text NOT NULL, data text NOT NULL,
	prev_hash text NOT NULL, hash text NOT NULL, trace_id text NOT NULL)`

type benchStore struct {
	store countersign.Store
	exec  func(ctx context.Context, query string, args ...any) error
	// param writes the i-th placeholder in the store's dialect.
	param func(i int) string
}

// BenchmarkAuditAppend measures chained, idempotent audit appends per second
// against plain inserts of the same rows into the same database, in the
// same run, on each store.
func BenchmarkAuditAppend(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) {
		s, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"))
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		benchAppend(b, benchStore{
			store: s,
			exec: func(ctx context.Context, q string, args ...any) error {
				_, err := s.DB().ExecContext(ctx, q, args...)
				return err
			},
			param: func(int) string { return "?" },
		})
	})
	b.Run("postgres", func(b *testing.B) {
		s, err := postgres.Open(context.Background(), pgtest.Database(b))
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		benchAppend(b, benchStore{
			store: s,
			exec: func(ctx context.Context, q string, args ...any) error {
				_, err := s.Pool().Exec(ctx, q, args...)
				return err
			},
			param: func(i int) string { return fmt.Sprintf("$%d", i) },
		})
	})
}

func benchAppend(b *testing.B, bs benchStore) {
	ctx := context.Background()
	if err := bs.exec(ctx, plainTable); err != nil {
		b.Fatal(err)
	}
	events := make([]countersign.AuditEvent, b.N)
	for i := range events {
		data, err := audit.Canonical(map[string]any{"action": "approve", "fields": map[string]any{"party_a": "Northwind Analytics, Inc.", "term_months": 36}, "i": i})
		if err != nil {
			b.Fatal(err)
		}
		events[i] = countersign.AuditEvent{
			ID: fmt.Sprintf("review/bench/%d", i), DocumentID: "bench", Type: countersign.EventDecisionRecorded,
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
	start := time.Now()
	stored := make([]countersign.AuditEvent, b.N)
	for i, e := range events {
		var err error
		if stored[i], err = bs.store.AppendAudit(ctx, e); err != nil {
			b.Fatal(err)
		}
	}
	appendTime := time.Since(start)
	start = time.Now()
	for _, e := range stored {
		if err := bs.exec(ctx, insert, e.Seq, e.ID, e.DocumentID, e.Type, e.Actor, string(e.Channel),
			e.At.Format(audit.TimeLayout), string(e.Data), e.PrevHash, e.Hash, e.TraceID); err != nil {
			b.Fatal(err)
		}
	}
	plainTime := time.Since(start)
	b.StopTimer()

	appends := float64(b.N) / appendTime.Seconds()
	inserts := float64(b.N) / plainTime.Seconds()
	b.ReportMetric(appends, "appends/s")
	b.ReportMetric(inserts, "inserts/s")
	b.ReportMetric(appends/inserts, "ratio")
	b.Logf("%d events: chained appends %.0f/s, plain inserts %.0f/s, ratio %.2f", b.N, appends, inserts, appends/inserts)
}
