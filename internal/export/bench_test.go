package export_test

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/export"
)

// generatedStore makes n documents up as it scans them, so that neither it
// nor the benchmark holds any: whatever memory an export keeps is the
// export's own.
type generatedStore struct {
	countersign.DocumentStore
	n int
}

func (s generatedStore) ScanDocuments(ctx context.Context, _ countersign.DocumentFilter, fn func(*countersign.Document) error) error {
	for i := range s.n {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := fn(generatedDocument(i)); err != nil {
			return err
		}
	}
	return nil
}

const generatedContent = `SERVICE AGREEMENT No. %d

This agreement is made between Acme Holdings %d ("the Client") & Northwind Services Ltd ("the Provider").
1. Services. The Provider shall deliver the services described in Annex A <"the Services"> from the effective date.
2. Fees. The Client shall pay EUR %d per month, invoiced monthly in arrears and payable within 30 days.
3. Term. This agreement runs for 12 months and renews for successive periods of 12 months unless terminated.
4. Termination. Either party may terminate with 90 days' written notice; fees accrued remain due.
5. Liability. Neither party's aggregate liability shall exceed the fees paid in the preceding 12 months.
6. Governing law. This agreement is governed by the laws of England and Wales.
Signed for and on behalf of the parties on the date written above.`

// generatedDocument is a corrected contract every third time and an approved
// one otherwise, under one of three task type versions, like a real export.
func generatedDocument(i int) *countersign.Document {
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Second)
	amount := float64(1000 + i%500)
	party := "Acme Holdings " + strconv.Itoa(i%97)
	draft := countersign.Fields{"amount": amount, "currency": "EUR", "party": party, "term_months": 12.0}
	final := countersign.Correct(draft, nil)
	action := countersign.ActionApprove
	if i%3 == 0 {
		final["amount"] = amount + 1
		action = countersign.ActionCorrect
	}
	version := "tt" + strconv.Itoa(i%3)
	return &countersign.Document{
		ID: "doc-" + strconv.Itoa(i), TaskType: "contract", TaskTypeVersion: version, Status: countersign.StatusAccepted,
		Content:   fmt.Sprintf(generatedContent, i, i%97, int(amount)),
		CreatedAt: at,
		Draft:     &countersign.Draft{Fields: draft, Extractor: "openai", Model: "gpt-x", Prompt: "p1"},
		Confidence: &countersign.Confidence{Overall: 0.8, Fields: map[string]countersign.FieldScore{
			"amount": {Score: 0.8}, "currency": {Score: 0.99}, "party": {Score: 0.9}, "term_months": {Score: 0.95},
		}},
		Route: &countersign.Route{Outcome: countersign.OutcomeHumanReview, PolicyVersion: "pol1"},
		Final: &countersign.Final{
			Fields: final, Outcome: countersign.OutcomeHumanReview, Action: action, DecidedBy: "rita", DecidedAt: at.Add(time.Minute),
			Diff:    countersign.Diff(draft, final),
			Lineage: &countersign.Lineage{TaskTypeVersion: version, PolicyVersion: "pol1", Extractor: "openai", Model: "gpt-x", Prompt: "p1", Reviewers: []string{"rita"}, AuditEvents: []string{"ev-" + strconv.Itoa(i)}},
		},
	}
}

func benchGuidelines(_ context.Context, version string) (*countersign.TaskType, error) {
	return &countersign.TaskType{Guideline: "Extract the parties, the monthly fee and the term of the agreement (" + version + ")."}, nil
}

// BenchmarkExport exports b.N generated documents as SFT. The time and
// allocations per document include generating it; BenchmarkGenerate measures
// that part alone.
func BenchmarkExport(b *testing.B) {
	b.ReportAllocs()
	counts, err := export.Run(b.Context(), generatedStore{n: b.N}, benchGuidelines, export.Filter{}, export.SFT, io.Discard, nil)
	if err != nil {
		b.Fatal(err)
	}
	if counts.Lines != b.N {
		b.Fatalf("wrote %d lines, want %d", counts.Lines, b.N)
	}
}

// BenchmarkGenerate is the cost of making the documents BenchmarkExport
// exports, to subtract from its figures.
func BenchmarkGenerate(b *testing.B) {
	b.ReportAllocs()
	err := generatedStore{n: b.N}.ScanDocuments(b.Context(), countersign.DocumentFilter{}, func(*countersign.Document) error { return nil })
	if err != nil {
		b.Fatal(err)
	}
}

// BenchmarkExportMemory exports 10,000 and then 200,000 documents and reports
// the peak heap in use during each: an export in constant memory has a ratio
// near 1, one that keeps documents a ratio near 20.
func BenchmarkExportMemory(b *testing.B) {
	var small, large float64
	for b.Loop() {
		small = peakHeap(b, export.SFT, 10_000)
		large = peakHeap(b, export.SFT, 200_000)
	}
	b.ReportMetric(small, "peak-heap-10k-bytes")
	b.ReportMetric(large, "peak-heap-200k-bytes")
	b.ReportMetric(large/small, "peak-heap-ratio")
}

// peakHeap exports n documents in format and returns the most heap in use
// seen, sampled every 1,000 documents.
func peakHeap(b testing.TB, format export.Format, n int) float64 {
	runtime.GC()
	var peak uint64
	var stats runtime.MemStats
	progress := func(c export.Counts) {
		if c.Scanned%1000 == 0 {
			runtime.ReadMemStats(&stats)
			peak = max(peak, stats.HeapInuse)
		}
	}
	counts, err := export.Run(b.Context(), generatedStore{n: n}, benchGuidelines, export.Filter{}, format, io.Discard, progress)
	if err != nil {
		b.Fatal(err)
	}
	if counts.Lines != n {
		b.Fatalf("wrote %d lines, want %d", counts.Lines, n)
	}
	return float64(peak)
}
