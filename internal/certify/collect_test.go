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

// notes is an empty store and the task type "notes" (one required field,
// hitl, reviews due in an hour).
func notes(t *testing.T) (*sqlite.Store, *countersign.TaskType) {
	t.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	tt, err := tasktype.Parse([]byte("name: notes\nfields: {type: object, required: [a], properties: {a: {type: string}}}\npolicy: {mode: hitl, review_due: 1h}\n"), "notes.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return s, tt
}

// simulateAll runs policy simulate on s at now with threshold 0 among its
// rows (its first: every eligible document accepted), and counts the wrong
// ones among the samples certify collected, which its row must match.
func simulateAll(t *testing.T, s *sqlite.Store, tt *countersign.TaskType, now time.Time, samples []certify.Sample) (*simulate.Result, int) {
	t.Helper()
	res, err := simulate.Run(context.Background(), s, tt, nil, 0, now, 0)
	if err != nil {
		t.Fatal(err)
	}
	wrong := 0
	for _, x := range samples {
		if x.Wrong {
			wrong++
		}
	}
	return res, wrong
}

// TestCollectTakesTheUniformSample: a period in hitl counts whole, a review
// that timed out as wrong; from a period in hotl (audit sample rate 1/2 on
// the route) only the documents drawn for an audit whose audit is due (an
// open one as wrong), a drawn document's veto, and the documents sent to a
// person whose own draw falls below the rate. The other decided documents
// there are counted apart, and drawn documents whose audit is not due (or
// not open) yet are left out, however their audit went.
func TestCollectTakesTheUniformSample(t *testing.T) {
	ctx := context.Background()
	s, tt := notes(t)
	const rate = 0.5
	sys := countersign.SystemActor
	unchanged := []countersign.FieldChange{{Field: "a", Change: countersign.ChangeUnchanged}}
	corrected := []countersign.FieldChange{{Field: "a", Change: countersign.ChangeCorrected}}
	hotl := func(o countersign.Outcome) *countersign.Route {
		return &countersign.Route{Mode: countersign.ModeHOTL, Threshold: 0.9, AuditSampleRate: rate, Outcome: o}
	}
	// Documents sent to a person in hotl: which IDs the draw takes at rate
	// 1/2 is fixed by the ID and the time received; find one it takes and one
	// it does not.
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
	// noAudit: a drawn document whose audit review is not open yet.
	const noAudit = -1 << 20
	cases := []struct {
		id    string
		conf  float64
		route *countersign.Route
		final countersign.Final
		// due is when the document's audit review is due, in minutes as
		// created counts them (0: no audit review).
		due  int
		want want
	}{
		{"hitl-right", 0.5, &countersign.Route{Mode: countersign.ModeHITL, Outcome: countersign.OutcomeHumanReview}, countersign.Final{DecidedBy: "rita", Action: countersign.ActionApprove, Diff: unchanged}, 0, want{true, false}},
		{"hitl-wrong", 0.6, &countersign.Route{Mode: countersign.ModeHITL, Outcome: countersign.OutcomeHumanReview}, countersign.Final{DecidedBy: "rita", Action: countersign.ActionCorrect, Diff: corrected}, 0, want{true, true}},
		{"hitl-timed-out", 0.4, &countersign.Route{Mode: countersign.ModeHITL, Outcome: countersign.OutcomeHumanReview}, countersign.Final{DecidedBy: sys, Action: countersign.ActionReject}, 0, want{true, true}},
		// Collected at 00:30: audits due before count, decided or not (an
		// open one as wrong); audits due after, or not open yet, do not,
		// however they went.
		{"audited-wrong", 0.95, hotl(countersign.OutcomeAutoAcceptWithAudit), countersign.Final{DecidedBy: sys, AuditedBy: "ana", CorrectedAfterAudit: true, Diff: corrected}, 29, want{true, true}},
		{"audit-overdue", 0.96, hotl(countersign.OutcomeAutoAcceptWithAudit), countersign.Final{DecidedBy: sys, Diff: unchanged}, -60, want{true, true}},
		{"drawn-vetoed", 0.97, hotl(countersign.OutcomeAutoAcceptWithAudit), countersign.Final{DecidedBy: "vera", Vetoed: true, Action: countersign.ActionCorrect, Diff: corrected}, noAudit, want{true, true}},
		{"not-drawn-vetoed", 0.98, hotl(countersign.OutcomeAutoAccept), countersign.Final{DecidedBy: "vera", Vetoed: true, Action: countersign.ActionCorrect, Diff: corrected}, 0, want{false, false}},
		{"not-drawn", 0.99, hotl(countersign.OutcomeAutoAccept), countersign.Final{DecidedBy: sys, Diff: unchanged}, 0, want{false, false}},
		{drawn, 0.7, hotl(countersign.OutcomeHumanReview), countersign.Final{DecidedBy: "rita", Action: countersign.ActionApprove, Diff: unchanged}, 0, want{true, false}},
		{notDrawn, 0.8, hotl(countersign.OutcomeHumanReview), countersign.Final{DecidedBy: "rita", Action: countersign.ActionCorrect, Diff: corrected}, 0, want{false, false}},
		{"hotl-rule-rejected", 0.93, hotl(countersign.OutcomeReject), countersign.Final{DecidedBy: sys, Action: countersign.ActionReject}, 0, want{false, false}},
		{"audit-not-due", 0.94, hotl(countersign.OutcomeAutoAcceptWithAudit), countersign.Final{DecidedBy: sys, Diff: unchanged}, 31, want{false, false}},
		{"audit-confirmed-not-due", 0.92, hotl(countersign.OutcomeAutoAcceptWithAudit), countersign.Final{DecidedBy: sys, AuditedBy: "ana", Diff: unchanged}, 90, want{false, false}},
		{"audit-not-open", 0.91, hotl(countersign.OutcomeAutoAcceptWithAudit), countersign.Final{DecidedBy: sys, Diff: unchanged}, noAudit, want{false, false}},
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
		if final.Action == countersign.ActionReject {
			d.Status = countersign.StatusRejected
		}
		if _, _, err := s.CreateDocument(ctx, d); err != nil {
			t.Fatal(err)
		}
		status := d.Status
		if err := s.UpdateDocument(ctx, d.ID, countersign.DocumentUpdate{Status: &status, Draft: d.Draft, Confidence: d.Confidence, Route: d.Route, Final: d.Final}); err != nil {
			t.Fatal(err)
		}
		if c.due != 0 && c.due != noAudit {
			r := &countersign.Review{ID: countersign.ReviewID(d.ID, 1), DocumentID: d.ID, TaskType: "notes", Kind: countersign.ReviewAudit, Status: countersign.ReviewPending, CreatedAt: created(c.due - 60), DueAt: created(c.due), Confidence: c.conf}
			if err := s.OpenReview(ctx, r); err != nil {
				t.Fatal(err)
			}
		}
		if c.want.in {
			wantSamples = append(wantSamples, certify.Sample{Confidence: c.conf, Route: "eligible", Wrong: c.want.wrong})
		}
	}
	data, err := certify.Collect(ctx, s, tt, nil, created(30))
	if err != nil {
		t.Fatal(err)
	}
	byConfidence := func(a, b certify.Sample) int { return cmp.Compare(a.Confidence, b.Confidence) }
	slices.SortFunc(data.Samples, byConfidence)
	slices.SortFunc(wantSamples, byConfidence)
	if !slices.Equal(data.Samples, wantSamples) {
		t.Errorf("samples:\n got %+v\nwant %+v", data.Samples, wantSamples)
	}
	// Unsampled: the undrawn review. An undrawn veto is no verdict at all
	// (a veto picks by hand), and an undrawn auto-accepted document nobody
	// saw is not a decided one.
	// No verdict: the timed-out review and the overdue audit. Pending: the
	// three audits not due or not open. The newest document collected was
	// routed in hotl at rate 1/2.
	if data.Unsampled != 1 || data.NoVerdict != 2 || data.PendingAudits != 3 || data.TrainedOn != 0 || data.SampleRate != rate {
		t.Errorf("unsampled %d, no verdict %d, pending audits %d, trained on %d, sample rate %v; want 1, 2, 3, 0, %v", data.Unsampled, data.NoVerdict, data.PendingAudits, data.TrainedOn, data.SampleRate, rate)
	}
	// policy simulate's error rates count the same evidence (before, an
	// audit counted as soon as it was decided, and an overdue one was
	// unchecked rather than wrong).
	res, wrong := simulateAll(t, s, tt, created(30), wantSamples)
	if row := res.Rows[0]; row.Known != len(wantSamples) || row.Wrong != wrong || res.NoVerdict != 2 || res.PendingAudits != 3 || res.Unsampled != 1 {
		t.Errorf("simulate at 0: known %d wrong %d, no verdict %d, pending audits %d, unsampled %d; want %d, %d, 2, 3, 1", row.Known, row.Wrong, res.NoVerdict, res.PendingAudits, res.Unsampled, len(wantSamples), wrong)
	}
}

// TestCollectCountsAReviewOnceDue: a document sent to a person counts once
// its gate review is due, however far the review went: decided, with its
// verdict; still held at the gate, as wrong. Before that it is left out,
// decided or not, so that quick approvals do not come in ahead of slow
// corrections. A decided document with no gate review in the store counts
// as it is; one held at the gate with no review yet waits.
func TestCollectCountsAReviewOnceDue(t *testing.T) {
	ctx := context.Background()
	s, tt := notes(t)
	created := func(i int) time.Time { return time.Date(2026, 1, 1, 0, i, 0, 0, time.UTC) }
	approve := &countersign.Final{DecidedBy: "rita", Action: countersign.ActionApprove, Diff: []countersign.FieldChange{{Field: "a", Change: countersign.ChangeUnchanged}}}
	correct := &countersign.Final{DecidedBy: "rita", Action: countersign.ActionCorrect, Diff: []countersign.FieldChange{{Field: "a", Change: countersign.ChangeCorrected}}}
	const noReview = -1 << 20
	cases := []struct {
		id    string
		conf  float64
		final *countersign.Final // nil: held at the gate
		due   int                // the gate review's due time, in minutes as created counts them
		in    bool
		wrong bool
	}{
		{"approved-due", 0.5, approve, 29, true, false},
		{"corrected-not-due", 0.6, correct, 31, false, false},
		{"approved-not-due", 0.7, approve, 90, false, false},
		{"open-overdue", 0.8, nil, -60, true, true},
		{"open-not-due", 0.9, nil, 45, false, false},
		{"open-no-review", 0.91, nil, noReview, false, false},
		{"decided-no-review", 0.92, correct, noReview, true, true},
	}
	var want []certify.Sample
	for i, c := range cases {
		d := &countersign.Document{
			ID: c.id, TaskType: "notes", TaskTypeVersion: "v", Content: "x", ContentSHA256: "x",
			Status: countersign.StatusAwaitingReview, SubmittedBy: "sam", CreatedAt: created(i),
			Draft:      &countersign.Draft{Fields: countersign.Fields{"a": "x"}},
			Confidence: &countersign.Confidence{Overall: c.conf, Fields: map[string]countersign.FieldScore{"a": {Score: c.conf, Raw: c.conf, Required: true}}},
			Route:      &countersign.Route{Mode: countersign.ModeHITL, Outcome: countersign.OutcomeHumanReview},
			Final:      c.final,
		}
		if c.final != nil {
			d.Status = countersign.StatusAccepted
		}
		if _, _, err := s.CreateDocument(ctx, d); err != nil {
			t.Fatal(err)
		}
		status := d.Status
		if err := s.UpdateDocument(ctx, d.ID, countersign.DocumentUpdate{Status: &status, Draft: d.Draft, Confidence: d.Confidence, Route: d.Route, Final: d.Final}); err != nil {
			t.Fatal(err)
		}
		if c.due != noReview {
			r := &countersign.Review{ID: countersign.ReviewID(d.ID, 1), DocumentID: d.ID, TaskType: "notes", Status: countersign.ReviewPending, CreatedAt: created(c.due - 60), DueAt: created(c.due), Confidence: c.conf}
			if err := s.OpenReview(ctx, r); err != nil {
				t.Fatal(err)
			}
		}
		if c.in {
			want = append(want, certify.Sample{Confidence: c.conf, Route: "eligible", Wrong: c.wrong})
		}
	}
	data, err := certify.Collect(ctx, s, tt, nil, created(30))
	if err != nil {
		t.Fatal(err)
	}
	byConfidence := func(a, b certify.Sample) int { return cmp.Compare(a.Confidence, b.Confidence) }
	slices.SortFunc(data.Samples, byConfidence)
	if !slices.Equal(data.Samples, want) {
		t.Errorf("samples:\n got %+v\nwant %+v", data.Samples, want)
	}
	if data.PendingReviews != 4 || data.NoVerdict != 1 {
		t.Errorf("pending reviews %d, no verdict %d; want 4, 1", data.PendingReviews, data.NoVerdict)
	}
	// policy simulate's error rates count the same evidence: at threshold
	// 0 every document is accepted, so its n and k are the samples'.
	res, wrong := simulateAll(t, s, tt, created(30), want)
	if row := res.Rows[0]; row.Threshold != 0 || row.Known != len(want) || row.Wrong != wrong || res.Checked != len(want) || res.NoVerdict != 1 || res.OverdueReviews != 1 || res.PendingReviews != 4 {
		t.Errorf("simulate at 0: known %d wrong %d, checked %d, no verdict %d, overdue %d, pending reviews %d; want %d, %d, %d, 1, 1, 4", row.Known, row.Wrong, res.Checked, res.NoVerdict, res.OverdueReviews, res.PendingReviews, len(want), wrong, len(want))
	}
	// The four finished documents and the one held at the gate past its
	// review's due time, which the evidence counts: every known document
	// is among those accepted, and the two decided whose review is not
	// due yet are unchecked.
	if row := res.Rows[0]; res.Documents != 5 || row.AutoAccepted != 5 || row.Known+row.Unknown != row.AutoAccepted || row.Unknown != 2 {
		t.Errorf("simulate at 0: documents %d, accepted %d, known %d, unknown %d; want 5, 5, 3, 2", res.Documents, row.AutoAccepted, row.Known, row.Unknown)
	}
}
