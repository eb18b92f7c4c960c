package certify_test

import (
	"cmp"
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/certify"
	"github.com/countersign/countersign/internal/simulate"
	"github.com/countersign/countersign/internal/store/sqlite"
	"github.com/countersign/countersign/internal/tasktype"
)

// TestCollectTakesTheUniformSample: a period in hitl counts whole, a review
// that timed out as wrong; from a period in hotl (audit sample rate 1/2 on
// the route) only the audited documents, a drawn document's veto, a drawn
// document whose audit is overdue (as wrong), and the documents sent to a
// person whose own draw falls below the rate. The other decided documents
// there are counted apart, and an audit not due yet is left out.
func TestCollectTakesTheUniformSample(t *testing.T) {
	ctx := context.Background()
	s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	tt, err := tasktype.Parse([]byte("name: notes\nfields: {type: object, required: [a], properties: {a: {type: string}}}\npolicy: {mode: hitl, review_due: 1h}\n"), "notes.yaml")
	if err != nil {
		t.Fatal(err)
	}
	const rate = 0.5
	sys := countersign.SystemActor
	unchanged := []countersign.FieldChange{{Field: "a", Change: countersign.ChangeUnchanged}}
	corrected := []countersign.FieldChange{{Field: "a", Change: countersign.ChangeCorrected}}
	hotl := func(o countersign.Outcome) *countersign.Route {
		return &countersign.Route{Mode: countersign.ModeHOTL, Threshold: 0.9, AuditSampleRate: rate, Outcome: o}
	}
	// Documents sent to a person in hotl: which IDs the draw takes at rate
	// 1/2 is fixed by the ID; find one it takes and one it does not.
	// The draw reads the ID and the time received: each probe has the time
	// its document gets below (its place in cases, 8 and 9).
	created := func(i int) time.Time { return time.Date(2026, 1, 1, 0, i, 0, 0, time.UTC) }
	var drawn, notDrawn string
	for i := 0; drawn == "" || notDrawn == ""; i++ {
		id := fmt.Sprintf("review-%d", i)
		if simulate.Sampled(&countersign.Document{ID: id, Route: hotl(countersign.OutcomeHumanReview), CreatedAt: created(8)}) {
			drawn = cmp.Or(drawn, id)
		}
		if !simulate.Sampled(&countersign.Document{ID: id, Route: hotl(countersign.OutcomeHumanReview), CreatedAt: created(9)}) {
			notDrawn = cmp.Or(notDrawn, id)
		}
	}
	type want struct {
		in, wrong bool
	}
	cases := []struct {
		id    string
		conf  float64
		route *countersign.Route
		final countersign.Final
		want  want
	}{
		{"hitl-right", 0.5, &countersign.Route{Mode: countersign.ModeHITL, Outcome: countersign.OutcomeHumanReview}, countersign.Final{DecidedBy: "rita", Action: countersign.ActionApprove, Diff: unchanged}, want{true, false}},
		{"hitl-wrong", 0.6, &countersign.Route{Mode: countersign.ModeHITL, Outcome: countersign.OutcomeHumanReview}, countersign.Final{DecidedBy: "rita", Action: countersign.ActionCorrect, Diff: corrected}, want{true, true}},
		{"hitl-timed-out", 0.4, &countersign.Route{Mode: countersign.ModeHITL, Outcome: countersign.OutcomeHumanReview}, countersign.Final{DecidedBy: sys, Action: countersign.ActionReject}, want{true, true}},
		{"audited-wrong", 0.95, hotl(countersign.OutcomeAutoAcceptWithAudit), countersign.Final{DecidedBy: sys, AuditedBy: "ana", CorrectedAfterAudit: true, Diff: corrected}, want{true, true}},
		// Collected at 00:30 with review_due 1h: an audit open since the
		// day before is overdue (wrong), one open since 00:20 not due yet
		// (left out).
		{"audit-overdue", 0.96, hotl(countersign.OutcomeAutoAcceptWithAudit), countersign.Final{DecidedBy: sys, DecidedAt: created(-60 * 24), Diff: unchanged}, want{true, true}},
		{"drawn-vetoed", 0.97, hotl(countersign.OutcomeAutoAcceptWithAudit), countersign.Final{DecidedBy: "vera", Vetoed: true, Action: countersign.ActionCorrect, Diff: corrected}, want{true, true}},
		{"not-drawn-vetoed", 0.98, hotl(countersign.OutcomeAutoAccept), countersign.Final{DecidedBy: "vera", Vetoed: true, Action: countersign.ActionCorrect, Diff: corrected}, want{false, false}},
		{"not-drawn", 0.99, hotl(countersign.OutcomeAutoAccept), countersign.Final{DecidedBy: sys, Diff: unchanged}, want{false, false}},
		{drawn, 0.7, hotl(countersign.OutcomeHumanReview), countersign.Final{DecidedBy: "rita", Action: countersign.ActionApprove, Diff: unchanged}, want{true, false}},
		{notDrawn, 0.8, hotl(countersign.OutcomeHumanReview), countersign.Final{DecidedBy: "rita", Action: countersign.ActionCorrect, Diff: corrected}, want{false, false}},
		{"hotl-rule-rejected", 0.93, hotl(countersign.OutcomeReject), countersign.Final{DecidedBy: sys, Action: countersign.ActionReject}, want{false, false}},
		{"audit-not-due", 0.94, hotl(countersign.OutcomeAutoAcceptWithAudit), countersign.Final{DecidedBy: sys, DecidedAt: created(20), Diff: unchanged}, want{false, false}},
	}
	var wantSamples []certify.Sample
	for i, c := range cases {
		final := c.final
		d := &countersign.Document{
			ID: c.id, TaskType: "notes", TaskTypeVersion: "v", Content: "x", ContentSHA256: "x",
			Status: countersign.StatusAccepted, SubmittedBy: "sam", CreatedAt: created(i),
			Draft:      &countersign.Draft{Fields: countersign.Fields{"a": "x"}},
			Confidence: &countersign.Confidence{Overall: c.conf, Fields: map[string]countersign.FieldScore{"a": {Score: c.conf, Raw: c.conf, Required: true}}},
			Route:      c.route,
			Final:      &final,
		}
		if _, _, err := s.CreateDocument(ctx, d); err != nil {
			t.Fatal(err)
		}
		status := d.Status
		if err := s.UpdateDocument(ctx, d.ID, countersign.DocumentUpdate{Status: &status, Draft: d.Draft, Confidence: d.Confidence, Route: d.Route, Final: d.Final}); err != nil {
			t.Fatal(err)
		}
		if c.want.in {
			wantSamples = append(wantSamples, certify.Sample{Confidence: c.conf, Route: "eligible", Wrong: c.want.wrong})
		}
	}
	data, err := certify.Collect(ctx, s, tt, nil, created(30))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(data.Samples, wantSamples) {
		t.Errorf("samples:\n got %+v\nwant %+v", data.Samples, wantSamples)
	}
	// Unsampled: the undrawn review. An undrawn veto is no verdict at all
	// (a veto picks by hand), and an undrawn auto-accepted document nobody
	// saw is not a decided one.
	// The newest document collected was routed in hotl at rate 1/2.
	if data.Unsampled != 1 || data.NoVerdict != 2 || data.PendingAudits != 1 || data.TrainedOn != 0 || data.SampleRate != rate {
		t.Errorf("unsampled %d, no verdict %d, pending audits %d, trained on %d, sample rate %v; want 1, 2, 1, 0, %v", data.Unsampled, data.NoVerdict, data.PendingAudits, data.TrainedOn, data.SampleRate, rate)
	}
}
