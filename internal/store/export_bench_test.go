package store_test

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/export"
	"github.com/countersign/countersign/internal/store/postgres"
	"github.com/countersign/countersign/internal/store/postgres/pgtest"
	"github.com/countersign/countersign/internal/store/sqlite"
)

// exportDocsEnv sets how many documents BenchmarkExportAtScale exports
// (default 1,000,000).
const exportDocsEnv = "COUNTERSIGN_EXPORT_DOCS"

// BenchmarkExportAtScale exports every accepted document of a store, as
// SFT, to nothing, through export.Run, the code behind GET /v1/export: a
// million by default, synthetic rows (one real document's row copied with
// new IDs and creation times, by SQL). It reports the time per line over
// the first 10,000 lines and over the last 10,000, whose ratio is near 1
// when the scan takes time in proportion to the documents (each batch
// starts from an index, not from the start), and the process's peak
// resident memory during the export. Run by make bench-export.
func BenchmarkExportAtScale(b *testing.B) {
	n := 1_000_000
	if v := os.Getenv(exportDocsEnv); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 30_000 {
			b.Fatalf("%s=%q: want a number of documents, at least 30000", exportDocsEnv, v)
		}
	}
	b.Run("sqlite", func(b *testing.B) {
		s, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "export.db"))
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		seedDocument(b, s)
		fill := `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
INSERT INTO documents (id, task_type, task_type_version, external_id, content, content_sha256, metadata, status, submitted_by, created_at, updated_at, draft, confidence, route, final)
SELECT printf('%032d', i), task_type, task_type_version, '', content || ' ' || i, printf('%064d', i), metadata, status, submitted_by,
    strftime('%Y-%m-%dT%H:%M:%S', '2026-02-01', '+' || i || ' seconds') || '.000000Z', updated_at, draft, confidence, route, final
FROM documents, n WHERE documents.id = 'seed'`
		start := time.Now()
		if _, err := s.DB().ExecContext(b.Context(), fill, n-1); err != nil {
			b.Fatal(err)
		}
		b.Logf("%d documents filled in %s", n, time.Since(start).Round(time.Second))
		benchExport(b, s, n)
	})
	b.Run("postgres", func(b *testing.B) {
		s, err := postgres.Open(context.Background(), pgtest.Database(b))
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		seedDocument(b, s)
		fill := `INSERT INTO documents (id, task_type, task_type_version, external_id, content, content_sha256, metadata, status, submitted_by, created_at, updated_at, draft, confidence, route, final)
SELECT lpad(i::text, 32, '0'), task_type, task_type_version, '', content || ' ' || i, lpad(i::text, 64, '0'), metadata, status, submitted_by,
    timestamptz '2026-02-01 00:00:00+00' + i * interval '1 second', updated_at, draft, confidence, route, final
FROM documents, generate_series(1, $1::int) AS i WHERE documents.id = 'seed'`
		start := time.Now()
		if _, err := s.Pool().Exec(b.Context(), fill, n-1); err != nil {
			b.Fatal(err)
		}
		if _, err := s.Pool().Exec(b.Context(), "ANALYZE documents"); err != nil {
			b.Fatal(err)
		}
		b.Logf("%d documents filled in %s", n, time.Since(start).Round(time.Second))
		benchExport(b, s, n)
	})
}

// seedDocument stores the accepted document whose row the fill copies.
func seedDocument(b *testing.B, s countersign.Store) {
	ctx := context.Background()
	at := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	draft := countersign.Fields{"amount": 1250.0, "currency": "EUR", "party": "Acme Holdings 7", "term_months": 12.0}
	final := countersign.Correct(draft, countersign.Fields{"amount": 1251.0})
	doc := &countersign.Document{
		ID: "seed", TaskType: "contract", TaskTypeVersion: "tt1", Status: countersign.StatusProcessing, SubmittedBy: "sam", ContentSHA256: "seed", CreatedAt: at,
		Content: "SERVICE AGREEMENT between Acme Holdings 7 (the Client) and Northwind Services Ltd (the Provider). " +
			"Fees: the Client shall pay EUR 1,250 per month, invoiced monthly in arrears and payable within 30 days. " +
			"Term: this agreement runs for 12 months and renews for successive periods of 12 months unless terminated. " +
			"Either party may terminate with 90 days' written notice. Governed by the laws of England and Wales.",
		Draft: &countersign.Draft{Fields: draft, Extractor: "openai", Model: "gpt-x", Prompt: "p1"},
		Confidence: &countersign.Confidence{Overall: 0.8, Fields: map[string]countersign.FieldScore{
			"amount": {Score: 0.8}, "currency": {Score: 0.99}, "party": {Score: 0.9}, "term_months": {Score: 0.95},
		}},
		Route: &countersign.Route{Outcome: countersign.OutcomeHumanReview, PolicyVersion: "pol1"},
		Final: &countersign.Final{
			Fields: final, Outcome: countersign.OutcomeHumanReview, Action: countersign.ActionCorrect, DecidedBy: "rita", DecidedAt: at.Add(time.Minute),
			Diff:    countersign.Diff(draft, final),
			Lineage: &countersign.Lineage{TaskTypeVersion: "tt1", PolicyVersion: "pol1", Extractor: "openai", Model: "gpt-x", Prompt: "p1", Reviewers: []string{"rita"}, AuditEvents: []string{"ev-1"}},
		},
	}
	if _, _, err := s.CreateDocument(ctx, doc); err != nil {
		b.Fatal(err)
	}
	accepted := countersign.StatusAccepted
	if err := s.UpdateDocument(ctx, doc.ID, countersign.DocumentUpdate{Status: &accepted, Draft: doc.Draft, Confidence: doc.Confidence, Route: doc.Route, Final: doc.Final}); err != nil {
		b.Fatal(err)
	}
}

func benchExport(b *testing.B, s countersign.Store, n int) {
	const edge = 10_000
	guidelines := func(context.Context, string) (*countersign.TaskType, error) {
		return &countersign.TaskType{Guideline: "Extract the parties, the monthly fee and the term of the agreement."}, nil
	}
	for b.Loop() {
		resetPeakRSS()
		var firstEnd, lastStart time.Time
		start := time.Now()
		counts, err := export.Run(b.Context(), s, guidelines, export.Filter{}, export.SFT, io.Discard, func(c export.Counts) {
			switch c.Lines {
			case edge:
				firstEnd = time.Now()
			case n - edge:
				lastStart = time.Now()
			}
		})
		end := time.Now()
		if err != nil {
			b.Fatal(err)
		}
		if counts.Lines != n {
			b.Fatalf("exported %d lines, want %d", counts.Lines, n)
		}
		first := firstEnd.Sub(start) / edge
		last := end.Sub(lastStart) / edge
		peak := peakRSS()
		b.ReportMetric(float64(first.Nanoseconds())/1000, "first-10k-µs/line")
		b.ReportMetric(float64(last.Nanoseconds())/1000, "last-10k-µs/line")
		b.ReportMetric(float64(last)/float64(first), "last/first")
		b.ReportMetric(float64(peak)/(1<<20), "peak-rss-MiB")
		b.Logf("%d lines in %s: %.1f µs a line over the first 10,000, %.1f over the last (ratio %.2f); peak RSS %.0f MiB",
			n, end.Sub(start).Round(time.Second), float64(first.Nanoseconds())/1000, float64(last.Nanoseconds())/1000, float64(last)/float64(first), float64(peak)/(1<<20))
	}
}

// resetPeakRSS starts the process's peak resident memory (VmHWM) afresh,
// where Linux allows it.
func resetPeakRSS() {
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
}

// peakRSS is the process's peak resident memory in bytes (VmHWM), or 0
// where /proc does not say.
func peakRSS() int64 {
	raw, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for sc.Scan() {
		if rest, ok := bytes.CutPrefix(sc.Bytes(), []byte("VmHWM:")); ok {
			fields := bytes.Fields(rest)
			if len(fields) > 0 {
				kb, _ := strconv.ParseInt(string(fields[0]), 10, 64)
				return kb << 10
			}
		}
	}
	return 0
}
