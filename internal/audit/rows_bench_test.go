package audit_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/activities"
	"github.com/countersign/countersign/internal/audit"
)

// BenchmarkVerifyStore measures a whole verification (the chain, then every
// document and decision held to it) of COUNTERSIGN_BENCH_DOCUMENTS documents
// (default 2000) written as the activities write them: about eight events
// each, two in three decided by a person, every one delivered.
//
//	COUNTERSIGN_BENCH_DOCUMENTS=5000 go test -run '^$' -bench VerifyStore -benchtime 3x ./internal/audit
func BenchmarkVerifyStore(b *testing.B) {
	n := 2000
	if v, err := strconv.Atoi(os.Getenv("COUNTERSIGN_BENCH_DOCUMENTS")); err == nil && v > 0 {
		n = v
	}
	for _, dia := range dialects {
		b.Run(fmt.Sprintf("%s/%d", dia.name, n), func(b *testing.B) {
			s, _ := dia.open(b)
			populate(b, s, n)
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				report, err := audit.VerifyStore(context.Background(), s)
				if err != nil || !report.OK || report.Rows.Documents != int64(n) {
					b.Fatalf("verify = %+v, %v", report, err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*n), "µs/document")
		})
	}
}

func populate(b *testing.B, s countersign.Store, n int) {
	ctx := context.Background()
	clock := t0
	a := &activities.Activities{Store: s, TaskTypes: taskTypes{}, Logger: slog.New(slog.DiscardHandler),
		Now: func() time.Time { clock = clock.Add(time.Millisecond); return clock }}
	draft := &countersign.Draft{Fields: countersign.Fields{"party_a": "Northwind Analytics, Inc.", "party_b": "Harbor Freight Logistics", "term_months": 24.0,
		"governing_law": "Delaware", "effective_date": "2025-03-01"}, Extractor: "rules"}
	must := func(err error) {
		if err != nil {
			b.Fatal(err)
		}
	}
	for i := range n {
		doc := fmt.Sprintf("doc-%06d", i)
		k := 0
		step := func() activities.Step {
			k++
			return activities.Step{EventID: fmt.Sprintf("review/%s/%d", doc, k), DocumentID: doc, TaskTypeVersion: "tt1", PolicyVersion: "p1"}
		}
		_, _, err := s.CreateDocument(ctx, &countersign.Document{ID: doc, TaskType: "contract-review", TaskTypeVersion: "tt1",
			Content: "MASTER SERVICES AGREEMENT " + doc, Status: countersign.StatusProcessing, SubmittedBy: "sam", CreatedAt: clock})
		must(err)
		must(a.Receive(ctx, activities.ReceiveInput{Step: step(), SubmittedBy: "sam", Channel: countersign.ChannelAPI, TaskType: "contract-review"}))
		for _, typ := range []string{countersign.EventDraftCreated, countersign.EventConfidenceScored, countersign.EventRouteDecided} {
			data, _ := audit.Canonical(map[string]any{"fields": draft.Fields, "extractor": draft.Extractor})
			_, err := s.AppendAudit(ctx, countersign.AuditEvent{ID: step().EventID, DocumentID: doc, Type: typ, Actor: countersign.SystemActor,
				Channel: countersign.ChannelWorkflow, At: clock, Data: data})
			must(err)
		}
		in := activities.FinalizeInput{Step: activities.Step{}, Draft: draft, Outcome: countersign.OutcomeAutoAccept, At: clock}
		if i%3 != 0 {
			r := &countersign.Review{ID: doc + "-r1", DocumentID: doc, TaskType: "contract-review", Status: countersign.ReviewPending,
				CreatedAt: clock, DueAt: clock.Add(time.Hour), Confidence: 0.6, Reasons: []string{"low confidence"}}
			must(a.OpenReview(ctx, activities.OpenReviewInput{Step: step(), Review: r}))
			d := &countersign.Decision{ID: r.ID + "/1", ReviewID: r.ID, DocumentID: doc, Action: countersign.ActionApprove,
				Actor: "rita", Role: countersign.RoleReviewer, Channel: countersign.ChannelWeb, At: clock}
			if i%3 == 2 {
				d.Action, d.Fields = countersign.ActionCorrect, countersign.Fields{"term_months": 36.0}
			}
			must(a.RecordDecision(ctx, activities.DecisionInput{Step: step(), Decision: d}))
			in.Outcome, in.Decision = countersign.OutcomeHumanReview, d
		}
		in.Step = step()
		_, err = a.Finalize(ctx, in)
		must(err)
		must(a.Deliver(ctx, activities.DeliverInput{Step: step(), Event: activities.WebhookFinalized, At: clock}))
	}
}
