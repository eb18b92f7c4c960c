package report_test

import (
	"context"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/report"
)

// TestBuildByRuleKnownFigures builds the per-rule figures of ten
// hand-made alerts and checks each against the values worked out by hand
// in the comments.
func TestBuildByRuleKnownFigures(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	t0 := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	verdict := func(label string, severity float64) countersign.Fields {
		return countersign.Fields{"label": label, "severity": severity, "reason_codes": []any{}}
	}
	n := 0
	put := func(rule string, drafted countersign.Fields, final *countersign.Final, took time.Duration) {
		n++
		id := string(rune('a'+n)) + "-alert"
		meta := map[string]string{}
		if rule != "" {
			meta["rule_name"] = rule
		}
		doc := &countersign.Document{ID: id, TaskType: "alerts", TaskTypeVersion: "v1", Content: "{}", ContentSHA256: id, Metadata: meta, Status: countersign.StatusProcessing, SubmittedBy: "siem", CreatedAt: t0}
		if _, _, err := s.CreateDocument(ctx, doc); err != nil {
			t.Fatal(err)
		}
		status := countersign.StatusAwaitingReview
		u := countersign.DocumentUpdate{Status: &status, Draft: &countersign.Draft{Fields: drafted, Extractor: countersign.ExtractorOpenAI}}
		if final != nil {
			status = countersign.StatusAccepted
			final.DecidedAt = t0.Add(took)
			u.Final = final
		}
		if err := s.UpdateDocument(ctx, id, u); err != nil {
			t.Fatal(err)
		}
	}
	fp, tp := verdict("false_positive", 1), verdict("true_positive", 4)
	auto := func(fields countersign.Fields) *countersign.Final {
		return &countersign.Final{Fields: fields, Outcome: countersign.OutcomeAutoAccept, DecidedBy: countersign.SystemActor}
	}
	audited := func(fields countersign.Fields, corrected bool) *countersign.Final {
		return &countersign.Final{Fields: fields, Outcome: countersign.OutcomeAutoAcceptWithAudit, DecidedBy: countersign.SystemActor, AuditedBy: "ana", CorrectedAfterAudit: corrected}
	}
	analyst := func(fields countersign.Fields) *countersign.Final {
		return &countersign.Final{Fields: fields, Outcome: countersign.OutcomeHumanReview, Action: countersign.ActionCorrect, DecidedBy: "ana"}
	}

	// Brute force: 5 alerts, 4 decided.
	put("Brute force", fp, auto(fp), 10*time.Second)                         // automatic FP, 10 s
	put("Brute force", fp, audited(fp, false), 20*time.Second)               // automatic FP, audited and confirmed, 20 s
	put("Brute force", fp, audited(tp, true), 30*time.Second)                // automatic, the audit found a true positive, 30 s
	put("Brute force", tp, analyst(verdict("false_positive", 1)), time.Hour) // an analyst's FP, 3600 s
	put("Brute force", tp, nil, 0)                                           // waiting for an analyst
	// FP 3 of 4 = 0.75 (the escaped one is true_positive now); automatic
	// 3 of 4 = 0.75; audited 2, changed 1, escaped true positives 1; mean
	// (10+20+30+3600)/4 = 915 s.

	// Impossible travel: 2 alerts, both decided by an analyst as true
	// positives in 100 s and 300 s: FP 0, automatic 0, mean 200 s.
	put("Impossible travel", tp, analyst(tp), 100*time.Second)
	put("Impossible travel", tp, analyst(tp), 300*time.Second)

	// No rule named: one automatic FP, 60 s; one that is not a verdict
	// (a final without a label) is counted but not decided.
	put("", fp, auto(fp), time.Minute)
	put("", fp, &countersign.Final{Outcome: countersign.OutcomeReject, DecidedBy: countersign.SystemActor}, time.Minute)

	// Impossible travel also has one automatic FP a supervisor vetoed to
	// a true positive in 500 s: decided (FP 0 of 3), vetoed 1, not
	// automatic, not audited; mean (100+300+500)/3 = 300 s.
	put("Impossible travel", fp, &countersign.Final{Fields: tp, Outcome: countersign.OutcomeAutoAccept, Action: countersign.ActionCorrect, DecidedBy: "sue", Vetoed: true}, 500*time.Second)

	got, err := report.BuildByRule(ctx, s, "alerts")
	if err != nil {
		t.Fatal(err)
	}
	f := func(v float64) *float64 { return &v }
	want := []report.RuleFigures{
		{Rule: "Brute force", Documents: 5, Decided: 4, FalsePositives: 3, FalsePositiveRate: f(0.75), Automatic: 3, AutomaticRate: f(0.75), Audited: 2, AuditChanged: 1, EscapedTruePositives: 1, MeanSecondsToVerdict: f(915),
			// 1 escaped of 2 audits: P(X <= 1) = 1 - p^2 = 0.05 at p = sqrt(0.95).
			EscapedBound: f(math.Sqrt(0.95))},
		{Rule: "Impossible travel", Documents: 3, Decided: 3, FalsePositiveRate: f(0), AutomaticRate: f(0), Vetoed: 1, MeanSecondsToVerdict: f(300)},
		{Rule: "", Documents: 2, Decided: 1, FalsePositives: 1, FalsePositiveRate: f(1), Automatic: 1, AutomaticRate: f(1), MeanSecondsToVerdict: f(60)},
	}
	if len(got) != len(want) {
		t.Fatalf("%d rules, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		if !sameFigures(got[i], want[i]) {
			t.Errorf("rule %q:\n got %s\nwant %s", want[i].Rule, show(got[i]), show(want[i]))
		}
	}
}

func sameFigures(a, b report.RuleFigures) bool {
	eq := func(x, y *float64) bool { return (x == nil) == (y == nil) && (x == nil || math.Abs(*x-*y) < 1e-9) }
	return a.Rule == b.Rule && a.Documents == b.Documents && a.Decided == b.Decided && a.FalsePositives == b.FalsePositives &&
		a.Automatic == b.Automatic && a.Vetoed == b.Vetoed && a.Audited == b.Audited && a.AuditChanged == b.AuditChanged && a.EscapedTruePositives == b.EscapedTruePositives &&
		eq(a.FalsePositiveRate, b.FalsePositiveRate) && eq(a.AutomaticRate, b.AutomaticRate) && eq(a.MeanSecondsToVerdict, b.MeanSecondsToVerdict) &&
		eq(a.EscapedBound, b.EscapedBound)
}

func show(r report.RuleFigures) string {
	v := func(x *float64) any {
		if x == nil {
			return nil
		}
		return *x
	}
	return fmt.Sprint(r.Documents, r.Decided, r.FalsePositives, v(r.FalsePositiveRate), r.Automatic, v(r.AutomaticRate), r.Vetoed, r.Audited, r.AuditChanged, r.EscapedTruePositives, v(r.EscapedBound), v(r.MeanSecondsToVerdict))
}
