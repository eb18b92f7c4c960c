package workflows_test

import (
	"context"
	"testing"
	"time"

	"github.com/countersign/countersign"
)

// TestBlindReview: under blind_review, the gate review is stored blind,
// each approval approves the draft without naming a correction (naming
// one is refused), two independent corrections to the same fields agree,
// and an approval against a correction goes to adjudication, which is
// not blind.
func TestBlindReview(t *testing.T) {
	blind := func(p *countersign.Policy) { p.ApprovalsRequired, p.BlindReview = 2, true }

	t.Run("two identical corrections agree", func(t *testing.T) {
		f, _ := gateFixture(t)
		in := f.contract(blind)
		review := countersign.ReviewID(in.DocumentID, 1)
		f.at(30*time.Minute, func() {
			r, err := f.store.GetReview(context.Background(), review)
			if err != nil || !r.Blind {
				t.Errorf("the gate review of a blind policy = %+v, %v: it should be stored blind", r, err)
			}
		})
		f.decideAfter(time.Hour, correct(review, reviewer("rita"), countersign.Fields{"term_months": 24}))
		named := f.decideAfter(90*time.Minute, approveCorrection(review, approver("anna"), review+"/1"))
		second := f.decideAfter(2*time.Hour, correct(review, approver("anna"), countersign.Fields{"term_months": 24}))
		f.run(in)
		refused(t, "an approval naming a correction", named, countersign.CodeInvalid, "review "+review+" is a blind review")
		if second.result == nil || second.result.Status != countersign.StatusAccepted {
			t.Fatalf("second, identical correction = %+v (%v %v)", second.result, second.rejected, second.failed)
		}
		if doc := f.stored(in.DocumentID); doc.Final.Fields["term_months"] != float64(24) {
			t.Fatalf("final = %+v", doc.Final)
		}
	})

	t.Run("an approval after a correction disagrees", func(t *testing.T) {
		f, _ := gateFixture(t)
		in := f.contract(blind)
		first := countersign.ReviewID(in.DocumentID, 1)
		adjudication := countersign.ReviewID(in.DocumentID, 2)
		f.decideAfter(time.Hour, correct(first, reviewer("rita"), countersign.Fields{"term_months": 24}))
		// Without blind review this approval would be refused for not
		// naming rita's correction; blind, it approves the draft.
		disputing := f.decideAfter(2*time.Hour, approve(first, approver("anna")))
		f.at(3*time.Hour, func() {
			r, err := f.store.GetReview(context.Background(), adjudication)
			if err != nil || r.Status != countersign.ReviewPending || r.Blind {
				t.Errorf("adjudication review = %+v, %v: it opens, and one decision settles it, so it is not blind", r, err)
			}
		})
		settled := f.decideAfter(4*time.Hour, correct(adjudication, approver("ada"), countersign.Fields{"term_months": 24}))
		f.run(in)
		if disputing.result == nil || disputing.result.Status != countersign.StatusAwaitingReview {
			t.Fatalf("the blind approval = %+v (%v %v): recorded, and the review disputed", disputing.result, disputing.rejected, disputing.failed)
		}
		if settled.result == nil || settled.result.Status != countersign.StatusAccepted {
			t.Fatalf("adjudication = %+v (%v %v)", settled.result, settled.rejected, settled.failed)
		}
	})

	t.Run("an approval is checked against the draft, whatever was corrected", func(t *testing.T) {
		// Were it taken as approving the correction once there is one,
		// its refusal before and acceptance after would tell the second
		// person that someone corrected.
		f := newFixture(t, map[string]countersign.Extractor{countersign.ExtractorRules: failingExtractor{}})
		in := f.document("pii-extraction", "email-maria-gonzalez.txt")
		blind(&in.Policy)
		review := countersign.ReviewID(in.DocumentID, 1)
		before := f.decideAfter(30*time.Minute, approve(review, approver("anna")))
		f.decideAfter(time.Hour, correct(review, reviewer("rita"), countersign.Fields{"full_name": "Maria Gonzalez", "email": "maria.gonzalez@example.com"}))
		after := f.decideAfter(2*time.Hour, approve(review, approver("anna")))
		f.decideAfter(3*time.Hour, correct(review, approver("anna"), countersign.Fields{"full_name": "Maria Gonzalez", "email": "maria.gonzalez@example.com"}))
		f.run(in)
		refused(t, "approving no draft before a correction", before, countersign.CodeInvalid, "no draft to approve")
		refused(t, "approving no draft after a correction", after, countersign.CodeInvalid, "no draft to approve")
	})

	t.Run("two approvals accept the draft", func(t *testing.T) {
		f, _ := gateFixture(t)
		in := f.contract(blind)
		review := countersign.ReviewID(in.DocumentID, 1)
		f.decideAfter(time.Hour, approve(review, reviewer("rita")))
		second := f.decideAfter(2*time.Hour, approve(review, approver("anna")))
		f.run(in)
		if second.result == nil || second.result.Status != countersign.StatusAccepted {
			t.Fatalf("second approval = %+v (%v %v)", second.result, second.rejected, second.failed)
		}
	})
}
