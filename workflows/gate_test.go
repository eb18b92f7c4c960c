package workflows_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/activities"
	"github.com/countersign/countersign/workflows"
)

// notifier records the notices it is given, as a Slack notifier would
// post them, or fails every one while down is set.
type notifier struct {
	mu    sync.Mutex
	down  bool
	tries int
	got   []countersign.Notice
}

func (n *notifier) Notify(_ context.Context, notice countersign.Notice) (*countersign.NoticeRef, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.tries++
	if n.down {
		return nil, errors.New("slack answered 503")
	}
	n.got = append(n.got, notice)
	if notice.Kind == countersign.NoticeOpened {
		return &countersign.NoticeRef{Channel: "C-contracts", ID: fmt.Sprintf("ts-%d", len(n.got))}, nil
	}
	return nil, nil
}

// sent lists the notices as "kind@offset review" from start, in order.
func (n *notifier) sent(start time.Time) []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []string
	for _, x := range n.got {
		out = append(out, fmt.Sprintf("%s@%s %s", x.Kind, x.At.Sub(start).Round(time.Second), x.Review.ID))
	}
	return out
}

func (n *notifier) notices() []countersign.Notice {
	n.mu.Lock()
	defer n.mu.Unlock()
	return slices.Clone(n.got)
}

// gateFixture runs reviews with a recording notifier.
func gateFixture(t *testing.T) (*fixture, *notifier) {
	n := &notifier{}
	f := newFixtureActs(t, nil, nil, func(a *activities.Activities) {
		a.Notifier = n
		a.ReviewURL = func(id string) string { return "https://countersign.example/ui/reviews/" + id }
	})
	return f, n
}

// contract is a contract-review document whose policy is changed by tune.
func (f *fixture) contract(tune func(*countersign.Policy)) workflows.ReviewInput {
	in := f.document("contract-review", "msa-northwind-harbor.txt")
	tune(&in.Policy)
	return in
}

func approve(review string, who countersign.Principal) workflows.DecisionRequest {
	return workflows.DecisionRequest{ReviewID: review, Action: countersign.ActionApprove, Actor: who, Channel: countersign.ChannelAPI}
}

// approveCorrection approves the correction recorded as decision id.
func approveCorrection(review string, who countersign.Principal, id string) workflows.DecisionRequest {
	req := approve(review, who)
	req.Approves = id
	return req
}

func correct(review string, who countersign.Principal, fields countersign.Fields) workflows.DecisionRequest {
	return workflows.DecisionRequest{ReviewID: review, Action: countersign.ActionCorrect, Fields: fields, Actor: who, Channel: countersign.ChannelWeb}
}

// refused checks that o was refused with code, saying text.
func refused(t *testing.T, name string, o *outcome, code countersign.Code, text string) {
	t.Helper()
	err := o.rejected
	if err == nil {
		err = o.failed
	}
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) || appErr.Type() != string(code) || !strings.Contains(appErr.Error(), text) {
		t.Errorf("%s: got result %+v, error %v; want %s containing %q", name, o.result, err, code, text)
	}
}

func (f *fixture) state() workflows.ReviewState {
	f.t.Helper()
	v, err := f.env.QueryWorkflow(workflows.StateQuery)
	if err != nil {
		f.t.Fatal(err)
	}
	var s workflows.ReviewState
	if err := v.Get(&s); err != nil {
		f.t.Fatal(err)
	}
	return s
}

// steps returns the document's audit event types in order, as eventTypes,
// without the opening and closing notices, which go out beside the
// review's steps and may land between any two of them; and how many of
// those notices were recorded.
func (f *fixture) steps(docID string) (string, int) {
	f.t.Helper()
	var kept []string
	notices := 0
	for _, e := range strings.Fields(f.eventTypes(docID)) {
		if e == countersign.EventReviewNotified {
			notices++
			continue
		}
		kept = append(kept, e)
	}
	return strings.Join(kept, " "), notices
}

// auditData returns the data of the document's audit events of one type.
func (f *fixture) auditData(docID, eventType string) []map[string]any {
	f.t.Helper()
	events, err := f.store.DocumentAudit(context.Background(), docID)
	if err != nil {
		f.t.Fatal(err)
	}
	var out []map[string]any
	for _, e := range events {
		if e.Type != eventType {
			continue
		}
		var data map[string]any
		if err := json.Unmarshal(e.Data, &data); err != nil {
			f.t.Fatal(err)
		}
		out = append(out, data)
	}
	return out
}

func TestTwoApprovals(t *testing.T) {
	f, n := gateFixture(t)
	in := f.contract(func(p *countersign.Policy) { p.ApprovalsRequired = 2 })
	review := countersign.ReviewID(in.DocumentID, 1)
	start := f.env.Now()
	first := f.decideAfter(time.Hour, approve(review, reviewer("rita")))
	f.at(2*time.Hour, func() {
		s := f.state()
		if s.Status != countersign.StatusAwaitingReview || s.OpenReview == nil || len(s.Votes) != 1 || s.Votes[0].Actor != "rita" {
			t.Errorf("after one approval of two the state is %+v", s)
		}
		r, err := f.store.GetReview(context.Background(), review)
		if err != nil || r.Status != countersign.ReviewPending {
			t.Errorf("after one approval of two the review is %+v, %v: it should wait in the queue", r, err)
		}
	})
	second := f.decideAfter(3*time.Hour, approve(review, approver("anna")))
	result := f.run(in)

	if first.result == nil || first.result.Status != countersign.StatusAwaitingReview || first.result.Decision.ID != review+"/1" {
		t.Fatalf("first approval = %+v (%v %v): it counts, and the document waits", first.result, first.rejected, first.failed)
	}
	if second.result == nil || second.result.Status != countersign.StatusAccepted || second.result.Decision.ID != review+"/2" {
		t.Fatalf("second approval = %+v (%v %v)", second.result, second.rejected, second.failed)
	}
	doc := f.stored(in.DocumentID)
	if result.Status != countersign.StatusAccepted || doc.Final.DecidedBy != "anna" || doc.Final.Action != countersign.ActionApprove ||
		!slices.Equal(doc.Final.Lineage.Reviewers, []string{"rita", "anna"}) || doc.Final.Fields["party_a"] != "Northwind Analytics, Inc." {
		t.Fatalf("final = %+v, lineage %+v", doc.Final, doc.Final.Lineage)
	}
	r, _ := f.store.GetReview(context.Background(), review)
	if r.Status != countersign.ReviewClosed || r.ClosedBy != "anna" {
		t.Fatalf("review = %+v", r)
	}
	if got, notices := f.steps(in.DocumentID); got != "document.received draft.created confidence.scored route.decided review.opened decision.recorded decision.recorded document.finalized document.delivered" || notices != 2 {
		t.Fatalf("audit events: %s, and %d notices", got, notices)
	}
	tallies := f.auditData(in.DocumentID, countersign.EventDecisionRecorded)
	if fmt.Sprint(tallies[0]["approvals"]) != "map[agreed:1 required:2]" || fmt.Sprint(tallies[1]["approvals"]) != "map[agreed:2 required:2]" {
		t.Fatalf("decision events count the approvals: %v, %v", tallies[0]["approvals"], tallies[1]["approvals"])
	}
	if got := n.sent(start); !slices.Equal(got, []string{"opened@0s " + review, "closed@3h0m0s " + review}) {
		t.Fatalf("notices = %v", got)
	}
	closed := n.notices()[1]
	if closed.Outcome != "approved by rita, approved by anna" || len(closed.Decisions) != 2 || closed.Ref == nil || closed.Ref.ID != "ts-1" ||
		closed.Link != "https://countersign.example/ui/reviews/"+review || closed.Title != "Contract review" || closed.Document.ID != in.DocumentID {
		t.Fatalf("closing notice = %+v", closed)
	}
}

// TestCorrectionApprovedBySomeoneElse: maker and checker. One person
// corrects, a second approves the correction; the document is final with
// the corrected fields.
func TestCorrectionApprovedBySomeoneElse(t *testing.T) {
	f, _ := gateFixture(t)
	in := f.contract(func(p *countersign.Policy) { p.ApprovalsRequired = 2 })
	review := countersign.ReviewID(in.DocumentID, 1)
	f.decideAfter(time.Hour, correct(review, reviewer("rita"), countersign.Fields{"term_months": 24}))
	unnamed := f.decideAfter(90*time.Minute, approve(review, approver("anna")))
	wrong := f.decideAfter(100*time.Minute, approveCorrection(review, approver("anna"), review+"/7"))
	checked := f.decideAfter(2*time.Hour, approveCorrection(review, approver("anna"), review+"/1"))
	f.run(in)
	refused(t, "an approval that does not name the correction", unnamed, countersign.CodeConflict, "review "+review+" was corrected (decision "+review+"/1) since the draft")
	refused(t, "an approval naming another decision", wrong, countersign.CodeConflict, "was corrected (decision "+review+"/1)")
	if checked.result == nil || checked.result.Status != countersign.StatusAccepted {
		t.Fatalf("approval of the correction = %+v (%v %v)", checked.result, checked.rejected, checked.failed)
	}
	doc := f.stored(in.DocumentID)
	if doc.Final.Action != countersign.ActionCorrect || doc.Final.Fields["term_months"] != float64(24) || doc.Final.DecidedBy != "anna" {
		t.Fatalf("final = %+v", doc.Final)
	}
}

func TestFourEyesRefusals(t *testing.T) {
	f, _ := gateFixture(t)
	in := f.contract(func(p *countersign.Policy) { p.ApprovalsRequired = 3 })
	review := countersign.ReviewID(in.DocumentID, 1)
	submitter := f.decideAfter(time.Minute, approve(review, countersign.Principal{User: "sam", Role: countersign.RoleApprover}))
	f.decideAfter(time.Hour, correct(review, reviewer("rita"), countersign.Fields{"term_months": 24}))
	again := f.decideAfter(2*time.Hour, correct(review, reviewer("rita"), countersign.Fields{"term_months": 24}))
	ownCorrection := f.decideAfter(3*time.Hour, approve(review, reviewer("rita")))
	f.decideAfter(4*time.Hour, approveCorrection(review, approver("anna"), review+"/1"))
	twice := f.decideAfter(5*time.Hour, approveCorrection(review, approver("anna"), review+"/1"))
	last := f.decideAfter(6*time.Hour, approveCorrection(review, approver("otto"), review+"/1"))
	f.run(in)

	refused(t, "the submitter", submitter, countersign.CodeForbidden, "sam submitted document")
	refused(t, "the same person twice", again, countersign.CodeForbidden, "rita already decided review "+review+" (correct), and nobody counts twice: it needs 3 different people")
	refused(t, "the corrector approving", ownCorrection, countersign.CodeForbidden, "rita corrected review "+review+", so may not approve it too")
	refused(t, "an approver twice", twice, countersign.CodeForbidden, "anna already decided")
	if last.result == nil || last.result.Status != countersign.StatusAccepted {
		t.Fatalf("third person = %+v (%v %v)", last.result, last.rejected, last.failed)
	}
	decisions, _ := f.store.Decisions(context.Background(), in.DocumentID)
	var who []string
	for _, d := range decisions {
		who = append(who, d.Actor)
	}
	if !slices.Equal(who, []string{"rita", "anna", "otto"}) {
		t.Fatalf("recorded decisions by %v: refused decisions must not be recorded", who)
	}
	if doc := f.stored(in.DocumentID); doc.Final.Fields["term_months"] != float64(24) || !slices.Equal(doc.Final.Lineage.Reviewers, who) {
		t.Fatalf("final = %+v", doc.Final)
	}
}

// TestSubmitterMayNotDecide: even with one approval, and even as admin,
// whoever submitted a document may not decide it.
func TestSubmitterMayNotDecide(t *testing.T) {
	f := newFixture(t, nil)
	in := f.document("contract-review", "msa-northwind-harbor.txt")
	review := countersign.ReviewID(in.DocumentID, 1)
	own := f.decideAfter(time.Minute, approve(review, countersign.Principal{User: "sam", Role: countersign.RoleAdmin}))
	f.decideAfter(time.Hour, approve(review, reviewer("rita")))
	f.run(in)
	refused(t, "the submitter as admin", own, countersign.CodeForbidden, "sam submitted document "+in.DocumentID+", so may not decide it")
}

func TestDisagreementGoesToAdjudication(t *testing.T) {
	f, n := gateFixture(t)
	in := f.contract(func(p *countersign.Policy) { p.ApprovalsRequired = 2 })
	first := countersign.ReviewID(in.DocumentID, 1)
	adjudication := countersign.ReviewID(in.DocumentID, 2)
	start := f.env.Now()
	f.decideAfter(time.Hour, approve(first, reviewer("rita")))
	disputing := f.decideAfter(2*time.Hour, correct(first, approver("anna"), countersign.Fields{"term_months": 24}))
	f.at(3*time.Hour, func() {
		r, err := f.store.GetReview(context.Background(), adjudication)
		if err != nil || r.Status != countersign.ReviewPending || !strings.HasPrefix(r.Reasons[0], "adjudication of review "+first+", whose decisions disagree (rita approved, anna corrected term_months)") {
			t.Errorf("adjudication review = %+v, %v", r, err)
		}
		if s := f.state(); s.Status != countersign.StatusAwaitingReview || s.OpenReview == nil || s.OpenReview.ID != adjudication {
			t.Errorf("state while adjudicating = %+v", s)
		}
	})
	late := f.decideAfter(4*time.Hour, approve(first, approver("otto")))
	byReviewer := f.decideAfter(5*time.Hour, approve(adjudication, reviewer("ravi")))
	byParty := f.decideAfter(6*time.Hour, approve(adjudication, approver("anna")))
	settled := f.decideAfter(7*time.Hour, correct(adjudication, approver("ada"), countersign.Fields{"term_months": 36}))
	result := f.run(in)

	if disputing.result == nil || disputing.result.Status != countersign.StatusAwaitingReview {
		t.Fatalf("the disputing decision = %+v (%v %v): it is recorded, and the document waits", disputing.result, disputing.rejected, disputing.failed)
	}
	refused(t, "a decision on the disputed review", late, countersign.CodeConflict, "its decisions disagreed, and the document went to adjudication (review "+adjudication+")")
	refused(t, "a reviewer adjudicating", byReviewer, countersign.CodeForbidden, "which the policy leaves to the approver role; ravi has the reviewer role")
	refused(t, "a party adjudicating", byParty, countersign.CodeForbidden, "anna decided review "+first+" (correct), so may not settle the disagreement")
	if settled.result == nil || settled.result.Status != countersign.StatusAccepted {
		t.Fatalf("adjudication = %+v (%v %v)", settled.result, settled.rejected, settled.failed)
	}
	doc := f.stored(in.DocumentID)
	if result.Status != countersign.StatusAccepted || doc.Final.DecidedBy != "ada" || doc.Final.Fields["term_months"] != float64(36) ||
		!slices.Equal(doc.Final.Lineage.Reviewers, []string{"rita", "anna", "ada"}) {
		t.Fatalf("final = %+v, lineage %+v", doc.Final, doc.Final.Lineage)
	}
	reviews, _ := f.store.ReviewsForDocument(context.Background(), in.DocumentID)
	if len(reviews) != 2 || reviews[0].Status != countersign.ReviewClosed || reviews[0].ClosedBy != countersign.SystemActor || reviews[1].ClosedBy != "ada" {
		t.Fatalf("reviews = %+v", reviews)
	}
	if got, notices := f.steps(in.DocumentID); got != "document.received draft.created confidence.scored route.decided review.opened decision.recorded decision.recorded review.disputed review.opened decision.recorded document.finalized document.delivered" || notices != 4 {
		t.Fatalf("audit events: %s, and %d notices", got, notices)
	}
	disputed := f.auditData(in.DocumentID, countersign.EventReviewDisputed)[0]
	if disputed["adjudication"] != adjudication || disputed["adjudicator"] != "approver" || fmt.Sprint(disputed["decisions"]) != "["+first+"/1 "+first+"/2]" {
		t.Fatalf("review.disputed = %v", disputed)
	}
	if opened := f.auditData(in.DocumentID, countersign.EventReviewOpened)[1]; opened["adjudicates"] != first {
		t.Fatalf("the adjudication's review.opened = %v", opened)
	}
	want := []string{"opened@0s " + first, "closed@2h0m0s " + first, "opened@2h0m0s " + adjudication, "closed@7h0m0s " + adjudication}
	if got := n.sent(start); !slices.Equal(got, want) {
		t.Fatalf("notices:\n got %v\nwant %v", got, want)
	}
	notices := n.notices()
	if !strings.Contains(notices[1].Outcome, "sent to adjudication in review "+adjudication) || notices[3].Outcome != "adjudicated by ada: corrected" || notices[3].Ref == nil || notices[3].Ref.ID != "ts-3" {
		t.Fatalf("closing notices = %+v / %+v", notices[1], notices[3])
	}
}

// TestRejectionAgainstApprovalIsADisagreement, and the adjudicator's
// rejection is final.
func TestRejectionAgainstApprovalIsADisagreement(t *testing.T) {
	f, _ := gateFixture(t)
	in := f.contract(func(p *countersign.Policy) {
		p.ApprovalsRequired = 2
		p.Adjudicator = countersign.RoleReviewer
	})
	first := countersign.ReviewID(in.DocumentID, 1)
	f.decideAfter(time.Hour, approve(first, reviewer("rita")))
	f.decideAfter(2*time.Hour, workflows.DecisionRequest{ReviewID: first, Action: countersign.ActionReject, Reason: "unsigned", Actor: reviewer("ravi")})
	final := f.decideAfter(3*time.Hour, workflows.DecisionRequest{ReviewID: countersign.ReviewID(in.DocumentID, 2), Action: countersign.ActionReject, Reason: "not the executed copy", Actor: reviewer("ada")})
	result := f.run(in)
	if final.result == nil || result.Status != countersign.StatusRejected {
		t.Fatalf("adjudication = %+v (%v %v), result %+v", final.result, final.rejected, final.failed, result)
	}
	if doc := f.stored(in.DocumentID); doc.Final.Reason != "not the executed copy" || doc.Final.DecidedBy != "ada" {
		t.Fatalf("final = %+v", doc.Final)
	}
}

// slaPolicy reminds after 4h, escalates to the leads after 24h and takes
// action after 72h.
func slaPolicy(action countersign.TimeoutAction) func(*countersign.Policy) {
	return func(p *countersign.Policy) {
		p.Notify = &countersign.Audience{Channel: "#contracts", Groups: []string{"contracts"}}
		p.SLA = &countersign.SLA{
			RemindAfter:   4 * time.Hour,
			EscalateAfter: 24 * time.Hour,
			EscalateTo:    &countersign.Audience{Channel: "#leads", Groups: []string{"leads"}},
			TimeoutAfter:  72 * time.Hour,
			TimeoutAction: action,
		}
	}
}

func TestTimeoutRejects(t *testing.T) {
	f, n := gateFixture(t)
	in := f.contract(slaPolicy(countersign.TimeoutReject))
	review := countersign.ReviewID(in.DocumentID, 1)
	start := f.env.Now()
	f.at(71*time.Hour, func() {
		if s := f.state(); s.Status != countersign.StatusAwaitingReview || s.OpenReview == nil {
			t.Errorf("an hour before the timeout the state is %+v", s)
		}
	})
	result := f.run(in)

	if result.Status != countersign.StatusRejected {
		t.Fatalf("result = %+v", result)
	}
	doc := f.stored(in.DocumentID)
	if doc.Final.Reason != "timed out after 72h with no decision" || doc.Final.DecidedBy != countersign.SystemActor || doc.Final.Action != "" || doc.Final.Fields != nil {
		t.Fatalf("final = %+v", doc.Final)
	}
	if got := doc.Final.DecidedAt.Sub(start).Round(time.Second); got != 72*time.Hour {
		t.Fatalf("rejected %s after submission, want 72h", got)
	}
	if r, _ := f.store.GetReview(context.Background(), review); r.Status != countersign.ReviewClosed || r.ClosedBy != countersign.SystemActor {
		t.Fatalf("review = %+v", r)
	}
	if got, notices := f.steps(in.DocumentID); got != "document.received draft.created confidence.scored route.decided review.opened review.reminded review.escalated review.timed_out document.finalized document.delivered" || notices != 2 {
		t.Fatalf("audit events: %s, and %d notices", got, notices)
	}
	if timedOut := f.auditData(in.DocumentID, countersign.EventReviewTimedOut)[0]; timedOut["after"] != "72h" || timedOut["action"] != "reject" {
		t.Fatalf("review.timed_out = %v", timedOut)
	}
	want := []string{"opened@0s " + review, "reminder@4h0m0s " + review, "escalation@24h0m0s " + review, "closed@72h0m0s " + review}
	if got := n.sent(start); !slices.Equal(got, want) {
		t.Fatalf("notices:\n got %v\nwant %v", got, want)
	}
	notices := n.notices()
	if notices[0].To.Channel != "#contracts" || notices[1].To.Channel != "#contracts" || notices[2].To.Channel != "#leads" || notices[2].To.Groups[0] != "leads" {
		t.Fatalf("audiences: %+v %+v %+v", notices[0].To, notices[1].To, notices[2].To)
	}
	for _, x := range notices[1:] {
		if x.Ref == nil || x.Ref.ID != "ts-1" {
			t.Fatalf("%s notice has ref %+v, want the opening message's", x.Kind, x.Ref)
		}
	}
	if notices[3].Outcome != "timed out after 72h: rejected" {
		t.Fatalf("closing notice outcome = %q", notices[3].Outcome)
	}
	if reminded := f.auditData(in.DocumentID, countersign.EventReviewReminded)[0]; reminded["notified"] != true {
		t.Fatalf("review.reminded = %v", reminded)
	}
}

func TestTimeoutHolds(t *testing.T) {
	f, n := gateFixture(t)
	in := f.contract(slaPolicy(countersign.TimeoutHold))
	review := countersign.ReviewID(in.DocumentID, 1)
	start := f.env.Now()
	f.at(80*time.Hour, func() {
		s := f.state()
		if s.Status != countersign.StatusAwaitingReview || s.OpenReview == nil || s.HeldSince == nil || s.HeldSince.Sub(start).Round(time.Second) != 72*time.Hour {
			t.Errorf("after the timeout the state is %+v: the document should be held with its review open", s)
		}
		if r, err := f.store.GetReview(context.Background(), review); err != nil || r.Status != countersign.ReviewPending {
			t.Errorf("a held review = %+v, %v: it should stay in the queue", r, err)
		}
		if doc := f.stored(in.DocumentID); doc.Status != countersign.StatusAwaitingReview {
			t.Errorf("a held document is %s", doc.Status)
		}
	})
	decision := f.decideAfter(100*time.Hour, approve(review, reviewer("rita")))
	result := f.run(in)

	if decision.result == nil || result.Status != countersign.StatusAccepted {
		t.Fatalf("a decision on a held review = %+v (%v %v), result %+v", decision.result, decision.rejected, decision.failed, result)
	}
	if got, notices := f.steps(in.DocumentID); got != "document.received draft.created confidence.scored route.decided review.opened review.reminded review.escalated review.timed_out review.escalated decision.recorded document.finalized document.delivered" || notices != 2 {
		t.Fatalf("audit events: %s, and %d notices", got, notices)
	}
	if timedOut := f.auditData(in.DocumentID, countersign.EventReviewTimedOut)[0]; timedOut["action"] != "hold" {
		t.Fatalf("review.timed_out = %v", timedOut)
	}
	want := []string{"opened@0s " + review, "reminder@4h0m0s " + review, "escalation@24h0m0s " + review, "escalation@72h0m0s " + review, "closed@100h0m0s " + review}
	if got := n.sent(start); !slices.Equal(got, want) {
		t.Fatalf("notices:\n got %v\nwant %v", got, want)
	}
	notices := n.notices()
	if notices[3].To.Channel != "#leads" || notices[3].Outcome != "timed out after 72h: held until a person decides" {
		t.Fatalf("hold notice = %+v", notices[3])
	}
	if notices[4].Outcome != "approved by rita, after the timeout held it" {
		t.Fatalf("closing notice outcome = %q", notices[4].Outcome)
	}
}

// TestDecisionRacingTheTimeout sends a decision at the very moment the
// timeout fires: exactly one of them wins, and the trail says which.
func TestDecisionRacingTheTimeout(t *testing.T) {
	for _, approvals := range []int{1, 2} {
		t.Run(fmt.Sprintf("approvals=%d", approvals), func(t *testing.T) {
			f, _ := gateFixture(t)
			in := f.contract(func(p *countersign.Policy) {
				slaPolicy(countersign.TimeoutReject)(p)
				p.ApprovalsRequired = approvals
			})
			review := countersign.ReviewID(in.DocumentID, 1)
			if approvals == 2 {
				f.decideAfter(time.Hour, approve(review, reviewer("ravi")))
			}
			racing := f.decideAfter(72*time.Hour, approve(review, reviewer("rita")))
			result := f.run(in)

			events := f.eventTypes(in.DocumentID)
			decisions, _ := f.store.Decisions(context.Background(), in.DocumentID)
			switch {
			case racing.result != nil:
				t.Log("the decision won")
				if result.Status != countersign.StatusAccepted || strings.Contains(events, "review.timed_out") || len(decisions) != approvals {
					t.Fatalf("the decision won, but the document is %s, decisions %d, events %s", result.Status, len(decisions), events)
				}
			default:
				t.Log("the timeout won")
				refused(t, "the losing decision", racing, countersign.CodeConflict, "timed out after 72h")
				if result.Status != countersign.StatusRejected || !strings.Contains(events, "review.timed_out") || len(decisions) != approvals-1 {
					t.Fatalf("the timeout won, but the document is %s, decisions %d, events %s", result.Status, len(decisions), events)
				}
				if approvals == 2 && f.stored(in.DocumentID).Final.Reason != "timed out after 72h with 1 of 2 approvals" {
					t.Fatalf("final = %+v", f.stored(in.DocumentID).Final)
				}
			}
		})
	}
}

// TestDecisionJustBeforeTheTimeoutWins: a decision accepted a moment
// before the timeout is recorded and the timeout never happens.
func TestDecisionJustBeforeTheTimeoutWins(t *testing.T) {
	f, _ := gateFixture(t)
	in := f.contract(slaPolicy(countersign.TimeoutReject))
	review := countersign.ReviewID(in.DocumentID, 1)
	decision := f.decideAfter(72*time.Hour-time.Millisecond, approve(review, reviewer("rita")))
	result := f.run(in)
	if decision.result == nil || result.Status != countersign.StatusAccepted {
		t.Fatalf("decision = %+v (%v %v), result %+v", decision.result, decision.rejected, decision.failed, result)
	}
	if events := f.eventTypes(in.DocumentID); strings.Contains(events, "review.timed_out") {
		t.Fatalf("a decided review timed out too: %s", events)
	}
}

// slowDecisions is a store that takes its time to record a decision.
type slowDecisions struct{ countersign.Store }

func (s slowDecisions) RecordDecision(ctx context.Context, d *countersign.Decision, close bool) error {
	time.Sleep(300 * time.Millisecond)
	return s.Store.RecordDecision(ctx, d, close)
}

// TestDecisionUnderWayWhenTheTimeoutFires: the validator accepted the
// decision a moment before the timeout, and the timer fires while the
// decision is being recorded. The decision wins; no timeout is recorded.
func TestDecisionUnderWayWhenTheTimeoutFires(t *testing.T) {
	f := newFixtureWith(t, nil, func(s countersign.Store) countersign.Store { return slowDecisions{s} })
	in := f.document("contract-review", "msa-northwind-harbor.txt")
	slaPolicy(countersign.TimeoutReject)(&in.Policy)
	review := countersign.ReviewID(in.DocumentID, 1)
	start := f.env.Now()
	decision := f.decideAfter(72*time.Hour-50*time.Millisecond, approve(review, reviewer("rita")))
	result := f.run(in)
	if decision.result == nil || result.Status != countersign.StatusAccepted {
		t.Fatalf("decision = %+v (%v %v), result %+v", decision.result, decision.rejected, decision.failed, result)
	}
	doc := f.stored(in.DocumentID)
	if doc.Final.DecidedAt.Sub(start) >= 72*time.Hour || f.env.Now().Sub(start) < 72*time.Hour {
		t.Fatalf("decided at %s, workflow ended at %s: the timer should have fired while the decision was recorded",
			doc.Final.DecidedAt.Sub(start), f.env.Now().Sub(start))
	}
	if events := f.eventTypes(in.DocumentID); strings.Contains(events, "review.timed_out") {
		t.Fatalf("a decided review timed out too: %s", events)
	}
}

// TestQueuedDecisionWinsOverTheTimeout: two approvals needed; both are
// accepted before the timeout, the second waiting its turn while the first
// is recorded (a slow store) as the timer fires. Both count, and no timeout
// is recorded.
func TestQueuedDecisionWinsOverTheTimeout(t *testing.T) {
	f := newFixtureWith(t, nil, func(s countersign.Store) countersign.Store { return slowDecisions{s} })
	in := f.document("contract-review", "msa-northwind-harbor.txt")
	slaPolicy(countersign.TimeoutReject)(&in.Policy)
	in.Policy.ApprovalsRequired = 2
	review := countersign.ReviewID(in.DocumentID, 1)
	first := f.decideAfter(72*time.Hour-50*time.Millisecond, approve(review, reviewer("rita")))
	second := f.decideAfter(72*time.Hour-40*time.Millisecond, approve(review, approver("anna")))
	result := f.run(in)
	if first.result == nil || second.result == nil || result.Status != countersign.StatusAccepted {
		t.Fatalf("first = %+v (%v %v), second = %+v (%v %v), result %+v",
			first.result, first.rejected, first.failed, second.result, second.rejected, second.failed, result)
	}
	if events := f.eventTypes(in.DocumentID); strings.Contains(events, "review.timed_out") {
		t.Fatalf("a review settled in time timed out too: %s", events)
	}
}

// TestApprovalRacingACorrection: an approval accepted while a correction
// was still being recorded stands for the draft its author saw, not for the
// correction: the two disagree, and the review goes to adjudication.
func TestApprovalRacingACorrection(t *testing.T) {
	f := newFixtureWith(t, nil, func(s countersign.Store) countersign.Store { return slowDecisions{s} })
	in := f.document("contract-review", "msa-northwind-harbor.txt")
	in.Policy.ApprovalsRequired = 2
	review := countersign.ReviewID(in.DocumentID, 1)
	f.decideAfter(time.Hour, correct(review, reviewer("rita"), countersign.Fields{"term_months": 24}))
	raced := f.decideAfter(time.Hour+10*time.Millisecond, approve(review, approver("anna")))
	f.decideAfter(2*time.Hour, approve(countersign.ReviewID(in.DocumentID, 2), approver("otto")))
	f.run(in)
	if raced.result == nil {
		t.Fatalf("the approval accepted before the correction was recorded: %v %v", raced.rejected, raced.failed)
	}
	if events := f.eventTypes(in.DocumentID); !strings.Contains(events, "review.disputed") {
		t.Fatalf("an approval of the draft counted as approving a correction made meanwhile: %s", events)
	}
}

// TestNotifierDownNeverBlocksADecision: with Slack down, every notice is
// tried a few times and recorded as failed; decisions and SLA steps go on.
func TestNotifierDownNeverBlocksADecision(t *testing.T) {
	f, n := gateFixture(t)
	n.down = true
	in := f.contract(slaPolicy(countersign.TimeoutReject))
	review := countersign.ReviewID(in.DocumentID, 1)
	decision := f.decideAfter(5*time.Hour, approve(review, reviewer("rita")))
	result := f.run(in)
	if decision.result == nil || decision.result.Status != countersign.StatusAccepted || result.Status != countersign.StatusAccepted {
		t.Fatalf("decision = %+v (%v %v), result %+v", decision.result, decision.rejected, decision.failed, result)
	}
	if got, notices := f.steps(in.DocumentID); got != "document.received draft.created confidence.scored route.decided review.opened review.reminded decision.recorded document.finalized document.delivered" || notices != 2 {
		t.Fatalf("audit events: %s, and %d notices", got, notices)
	}
	for _, kind := range []string{countersign.EventReviewNotified, countersign.EventReviewReminded} {
		for _, data := range f.auditData(in.DocumentID, kind) {
			if data["notified"] != false || data["error"] != "slack answered 503" {
				t.Fatalf("%s = %v, want the failure recorded", kind, data)
			}
		}
	}
	if n.tries != 3*activities.NotifyAttempts {
		t.Fatalf("the notifier was tried %d times for 3 notices, want %d each", n.tries, activities.NotifyAttempts)
	}
}

// TestNoNotifierStillRecordsTheSLA: without a notifier, opening and
// closing notices record nothing, but reminders and escalations are SLA
// steps and are recorded as not notified.
func TestNoNotifierStillRecordsTheSLA(t *testing.T) {
	f := newFixture(t, nil)
	in := f.document("contract-review", "msa-northwind-harbor.txt")
	slaPolicy(countersign.TimeoutHold)(&in.Policy)
	f.decideAfter(30*time.Hour, approve(countersign.ReviewID(in.DocumentID, 1), reviewer("rita")))
	f.run(in)
	if got, want := f.eventTypes(in.DocumentID), "document.received draft.created confidence.scored route.decided review.opened review.reminded review.escalated decision.recorded document.finalized document.delivered"; got != want {
		t.Fatalf("audit events:\n got %s\nwant %s", got, want)
	}
	if escalated := f.auditData(in.DocumentID, countersign.EventReviewEscalated)[0]; escalated["notified"] != false || fmt.Sprint(escalated["to"]) != "map[channel:#leads groups:[leads]]" {
		t.Fatalf("review.escalated = %v", escalated)
	}
}

// TestCancelledReviewStillSaysItClosed: a review workflow cancelled while
// its review waits fails the document, and the review's closing notice
// still goes out; the run ends.
func TestCancelledReviewStillSaysItClosed(t *testing.T) {
	f, n := gateFixture(t)
	in := f.contract(slaPolicy(countersign.TimeoutHold))
	review := countersign.ReviewID(in.DocumentID, 1)
	start := f.env.Now()
	f.at(5*time.Hour, func() { f.env.CancelWorkflow() })
	f.execute(in)
	if !f.env.IsWorkflowCompleted() || f.env.GetWorkflowError() == nil {
		t.Fatalf("completed %v, error %v: a cancelled review fails", f.env.IsWorkflowCompleted(), f.env.GetWorkflowError())
	}
	if doc := f.stored(in.DocumentID); doc.Status != countersign.StatusFailed {
		t.Fatalf("document is %s, want failed", doc.Status)
	}
	want := []string{"opened@0s " + review, "reminder@4h0m0s " + review, "closed@5h0m0s " + review}
	if got := n.sent(start); !slices.Equal(got, want) {
		t.Fatalf("notices:\n got %v\nwant %v", got, want)
	}
	if closed := n.notices()[2]; !strings.HasPrefix(closed.Outcome, "the document failed: ") {
		t.Fatalf("closing notice outcome = %q", closed.Outcome)
	}
}

// TestMailBesideSlackDownIsSentOnce: with Slack down and e-mail up, each
// notice is mailed once however often Slack is retried (the heartbeat
// keeps what went out), and each is recorded as notified, with which
// channel failed and why.
func TestMailBesideSlackDownIsSentOnce(t *testing.T) {
	slack, mail := &notifier{down: true}, &notifier{}
	f := newFixtureActs(t, nil, nil, func(a *activities.Activities) {
		a.Notifier, a.Mail = slack, mail
	})
	in := f.contract(slaPolicy(countersign.TimeoutReject))
	review := countersign.ReviewID(in.DocumentID, 1)
	decision := f.decideAfter(5*time.Hour, approve(review, reviewer("rita")))
	if result := f.run(in); decision.result == nil || result.Status != countersign.StatusAccepted {
		t.Fatalf("decision = %+v (%v %v), result %+v", decision.result, decision.rejected, decision.failed, result)
	}
	var kinds []string
	for _, n := range mail.notices() {
		kinds = append(kinds, string(n.Kind))
	}
	if strings.Join(kinds, " ") != "opened reminder closed" {
		t.Fatalf("mailed %v, want each notice once", kinds)
	}
	if slack.tries != 3*activities.NotifyAttempts {
		t.Fatalf("Slack was tried %d times for 3 notices, want %d each", slack.tries, activities.NotifyAttempts)
	}
	for _, kind := range []string{countersign.EventReviewNotified, countersign.EventReviewReminded} {
		for _, data := range f.auditData(in.DocumentID, kind) {
			channels, _ := data["channels"].(map[string]any)
			if data["notified"] != true || data["error"] != "slack: slack answered 503" || channels["slack"] != "failed" || channels["email"] != "delivered" {
				t.Fatalf("%s = %v, want notified by e-mail, Slack's failure recorded", kind, data)
			}
		}
	}
}
