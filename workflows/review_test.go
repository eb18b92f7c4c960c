package workflows_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/activities"
	"github.com/countersign/countersign/internal/audit"
	"github.com/countersign/countersign/internal/llm"
	"github.com/countersign/countersign/internal/provenance"
	"github.com/countersign/countersign/internal/store/sqlite"
	"github.com/countersign/countersign/internal/tasktype"
	"github.com/countersign/countersign/workflows"
)

// fixture runs ReviewWorkflow in the SDK's time-skipping test environment
// with the real activities, a real SQLite store and the shipped task types.
type fixture struct {
	t     *testing.T
	env   *testsuite.TestWorkflowEnvironment
	store *sqlite.Store
	types *tasktype.Registry
	acts  *activities.Activities
	// workflowID is the ID of the workflow under test; updates numbers the
	// updates sent to it.
	workflowID string
	updates    int
}

func newFixture(t *testing.T, extractors map[string]countersign.Extractor) *fixture {
	return newFixtureWith(t, extractors, nil)
}

// newFixtureWith lets the activities see the store through wrap, to make a
// store call fail.
func newFixtureWith(t *testing.T, extractors map[string]countersign.Extractor, wrap func(countersign.Store) countersign.Store) *fixture {
	return newFixtureActs(t, extractors, wrap, nil)
}

// newFixtureActs lets a test set more of the activities (a webhook, the
// supervisors) with tune.
func newFixtureActs(t *testing.T, extractors map[string]countersign.Extractor, wrap func(countersign.Store) countersign.Store, tune func(*activities.Activities)) *fixture {
	t.Helper()
	store, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "countersign.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	var activityStore countersign.Store = store
	if wrap != nil {
		activityStore = wrap(store)
	}
	types, err := tasktype.LoadDir("../examples")
	if err != nil {
		t.Fatal(err)
	}
	if extractors == nil {
		extractors = map[string]countersign.Extractor{countersign.ExtractorRules: llm.NewRules()}
	}
	// The tests tune review inputs by hand (approvals, groups, versions),
	// which Receive would refuse; trust_test.go checks that it does.
	acts := &activities.Activities{
		Store:           activityStore,
		TaskTypes:       tasktype.NewResolver(types, store),
		Extractors:      extractors,
		TrustStartInput: true,
		// The supervisor's tests draw audits a minute apart.
		AuditSettle: 10 * time.Second,
	}
	if tune != nil {
		tune(acts)
	}
	f := &fixture{t: t, store: store, types: types, acts: acts}
	f.renew()
	return f
}

// renew gives the fixture a new test environment, with the same store and
// activities, to run another workflow in.
func (f *fixture) renew() {
	f.renewWith(&workflows.Workflows{Provenance: provenance.NewVerifier(testSigner.Public())})
}

// renewWith is renew with the workflows registered as wfs.
func (f *fixture) renewWith(wfs *workflows.Workflows) {
	var suite testsuite.WorkflowTestSuite
	suite.SetLogger(sdklog.NewStructuredLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))))
	f.env = suite.NewTestWorkflowEnvironment()
	wfs.Register(f.env)
	f.env.RegisterActivity(f.acts)
	f.env.SetTestTimeout(time.Minute)
}

// document stores a sample document and returns the workflow input for it.
func (f *fixture) document(taskType, sample string) workflows.ReviewInput {
	f.t.Helper()
	content, err := os.ReadFile(filepath.Join("..", "examples", taskType, "samples", sample))
	if err != nil {
		f.t.Fatal(err)
	}
	return f.documentText(taskType, string(content))
}

// documentText stores a document with the given content and returns the
// workflow input for it.
func (f *fixture) documentText(taskType, content string) workflows.ReviewInput {
	f.t.Helper()
	tt, err := f.types.Get(taskType)
	if err != nil {
		f.t.Fatal(err)
	}
	doc := &countersign.Document{
		ID:              countersign.DocumentID(taskType, "", content),
		TaskType:        taskType,
		TaskTypeVersion: tt.Version,
		Content:         content,
		ContentSHA256:   countersign.ContentSHA256(content),
		Status:          countersign.StatusProcessing,
		SubmittedBy:     "sam",
		CreatedAt:       time.Now(),
	}
	if _, _, err := f.store.CreateDocument(context.Background(), doc); err != nil {
		f.t.Fatal(err)
	}
	return workflows.ReviewInput{
		DocumentID: doc.ID, TaskType: tt.Name, TaskTypeVersion: tt.Version,
		Policy: tt.Policy, Schema: tt.Schema, SubmittedBy: "sam", Channel: countersign.ChannelAPI,
	}
}

// outcome records what happened to an update.
type outcome struct {
	rejected error
	result   *workflows.DecisionResult
	failed   error
}

// decideAfter sends a decision once the given workflow time has passed.
func (f *fixture) decideAfter(delay time.Duration, req workflows.DecisionRequest) *outcome {
	return f.updateAfter(delay, workflows.DecisionUpdate, req)
}

// updateAfter sends the named update, whose result is a DecisionResult, once
// the given workflow time has passed.
func (f *fixture) updateAfter(delay time.Duration, name string, req any) *outcome {
	return f.updateWorkflowAfter(delay, "", name, req)
}

// testSigner signs the updates of the workflow tests, as the API signs
// people's updates; the fixture's workers trust it.
var testSigner = func() *provenance.Signer {
	key, err := audit.GenerateKey()
	if err != nil {
		panic(err)
	}
	return provenance.NewSigner(key)
}()

// sign gives req, sent to the workflow with the given ID as the update
// with the given ID, the envelope the API would give it, issued at the
// test environment's time. A request that carries an envelope already
// keeps it.
func (f *fixture) sign(workflowID, updateID string, req any) any {
	f.t.Helper()
	docID := strings.TrimPrefix(workflowID, "review/")
	var (
		claims provenance.Claims
		err    error
	)
	switch r := req.(type) {
	case workflows.DecisionRequest:
		if r.Provenance != nil {
			return r
		}
		claims, err = r.Claims(docID, updateID)
		r.Provenance = f.envelope(claims, err)
		return r
	case workflows.VetoRequest:
		if r.Provenance != nil {
			return r
		}
		claims, err = r.Claims(docID, updateID)
		r.Provenance = f.envelope(claims, err)
		return r
	case workflows.ResetRequest:
		if r.Provenance != nil {
			return r
		}
		claims, err = r.Claims(strings.TrimPrefix(workflowID, "supervisor/"), updateID)
		r.Provenance = f.envelope(claims, err)
		return r
	}
	f.t.Fatalf("cannot sign a %T", req)
	return nil
}

func (f *fixture) envelope(claims provenance.Claims, err error) *provenance.Envelope {
	if err != nil {
		f.t.Fatal(err)
	}
	claims.IssuedAt = f.env.Now()
	e, err := testSigner.Sign(claims)
	if err != nil {
		f.t.Fatal(err)
	}
	return e
}

// updateWorkflowAfter sends the named update, signed, to the workflow with
// the given ID (the one under test when empty) once the given workflow
// time has passed.
func (f *fixture) updateWorkflowAfter(delay time.Duration, workflowID, name string, req any) *outcome {
	return f.sendAfter(delay, workflowID, name, func(target, updateID string) any { return f.sign(target, updateID, req) })
}

// sendAfter is updateWorkflowAfter with the request made by build, given
// the workflow's and the update's IDs, when it is sent: as anyone who can
// reach Temporal could make it, signed or not.
func (f *fixture) sendAfter(delay time.Duration, workflowID, name string, build func(workflowID, updateID string) any) *outcome {
	o := &outcome{}
	f.env.RegisterDelayedCallback(func() {
		target := workflowID
		if target == "" {
			target = f.workflowID
		}
		f.updates++
		id := fmt.Sprintf("%s/%s-%d", target, name, f.updates)
		req := build(target, id)
		callbacks := &testsuite.TestUpdateCallback{
			OnReject: func(err error) { o.rejected = err },
			OnAccept: func() {},
			OnComplete: func(v any, err error) {
				if err != nil {
					o.failed = err
					return
				}
				r := v.(workflows.DecisionResult)
				o.result = &r
			},
		}
		if workflowID == "" {
			f.env.UpdateWorkflow(name, id, callbacks, req)
			return
		}
		// The environment tells updates apart by ID across its workflows.
		if err := f.env.UpdateWorkflowByID(workflowID, name, id, callbacks, req); err != nil {
			o.rejected = err
		}
	}, delay)
	return o
}

// execute runs the review of in under its workflow ID, as the starter does.
func (f *fixture) execute(in workflows.ReviewInput) {
	f.workflowID = workflows.ReviewWorkflowID(in.DocumentID)
	f.env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: f.workflowID})
	f.env.ExecuteWorkflow(workflows.ReviewWorkflowType, in)
}

func (f *fixture) run(in workflows.ReviewInput) workflows.ReviewResult {
	f.t.Helper()
	f.execute(in)
	if !f.env.IsWorkflowCompleted() {
		f.t.Fatal("workflow did not complete")
	}
	var result workflows.ReviewResult
	if err := f.env.GetWorkflowResult(&result); err != nil {
		f.t.Fatalf("workflow failed: %v", err)
	}
	return result
}

func (f *fixture) stored(id string) *countersign.Document {
	f.t.Helper()
	doc, err := f.store.GetDocument(context.Background(), id)
	if err != nil {
		f.t.Fatal(err)
	}
	return doc
}

// eventTypes returns the document's audit event types, in order, and checks
// the whole chain verifies.
func (f *fixture) eventTypes(id string) string {
	f.t.Helper()
	events, err := f.store.DocumentAudit(context.Background(), id)
	if err != nil {
		f.t.Fatal(err)
	}
	var types []string
	for _, e := range events {
		types = append(types, e.Type)
	}
	report, err := audit.Verify(context.Background(), f.store)
	if err != nil || !report.OK {
		f.t.Fatalf("audit chain does not verify: %+v %v", report, err)
	}
	return strings.Join(types, " ")
}

func reviewer(user string) countersign.Principal {
	return countersign.Principal{User: user, Role: countersign.RoleReviewer}
}

const reviewedEvents = "document.received draft.created confidence.scored route.decided review.opened decision.recorded document.finalized document.delivered"

func TestAutoAccept(t *testing.T) {
	f := newFixture(t, nil)
	in := f.document("pii-extraction", "email-maria-gonzalez.txt")
	result := f.run(in)
	if result.Status != countersign.StatusAccepted || result.Outcome != countersign.OutcomeAutoAccept {
		t.Fatalf("result = %+v, want accepted by auto_accept", result)
	}
	doc := f.stored(in.DocumentID)
	if doc.Status != countersign.StatusAccepted || doc.Final == nil || doc.Final.DecidedBy != countersign.SystemActor {
		t.Fatalf("stored document = %s, final %+v", doc.Status, doc.Final)
	}
	if doc.Final.Fields["email"] != "maria.gonzalez@example.com" || doc.Route.Outcome != countersign.OutcomeAutoAccept {
		t.Fatalf("final fields %+v, route %+v", doc.Final.Fields, doc.Route)
	}
	for _, c := range doc.Final.Diff {
		if c.Change != countersign.ChangeUnchanged {
			t.Fatalf("auto-accepted document has a correction: %+v", c)
		}
	}
	reviews, _ := f.store.ReviewsForDocument(context.Background(), in.DocumentID)
	if len(reviews) != 0 {
		t.Fatalf("auto-accepted document has reviews: %+v", reviews)
	}
	if got, want := f.eventTypes(in.DocumentID), "document.received draft.created confidence.scored route.decided document.finalized document.delivered"; got != want {
		t.Fatalf("audit events:\n got %s\nwant %s", got, want)
	}
}

func TestHOTLLowConfidenceGoesToAPerson(t *testing.T) {
	f := newFixture(t, nil)
	in := f.document("pii-extraction", "support-ticket-unsigned.txt")
	decision := f.decideAfter(time.Hour, workflows.DecisionRequest{
		ReviewID: countersign.ReviewID(in.DocumentID, 1), Action: countersign.ActionCorrect,
		Fields: countersign.Fields{"full_name": "Jonas Weber"}, Actor: reviewer("rita"), Channel: countersign.ChannelCLI,
	})
	result := f.run(in)
	if result.Status != countersign.StatusAccepted || result.Outcome != countersign.OutcomeHumanReview {
		t.Fatalf("result = %+v, want accepted after human review", result)
	}
	if decision.result == nil || decision.result.Status != countersign.StatusAccepted {
		t.Fatalf("decision = %+v", decision)
	}
	doc := f.stored(in.DocumentID)
	if !strings.Contains(strings.Join(doc.Route.Reasons, "; "), "below the auto-accept threshold") {
		t.Fatalf("route reasons = %v", doc.Route.Reasons)
	}
	added := false
	for _, c := range doc.Final.Diff {
		if c.Field == "full_name" && c.Change == countersign.ChangeAdded && c.Final == "Jonas Weber" {
			added = true
		}
	}
	if !added || doc.Final.DecidedBy != "rita" {
		t.Fatalf("final = %+v", doc.Final)
	}
	if got := f.eventTypes(in.DocumentID); got != reviewedEvents {
		t.Fatalf("audit events:\n got %s\nwant %s", got, reviewedEvents)
	}
}

func TestHITLApprove(t *testing.T) {
	f := newFixture(t, nil)
	in := f.document("contract-review", "msa-northwind-harbor.txt")
	// A person takes three days; the gate waits on a durable timer-free await.
	decision := f.decideAfter(72*time.Hour, workflows.DecisionRequest{
		ReviewID: countersign.ReviewID(in.DocumentID, 1), Action: countersign.ActionApprove,
		Actor: reviewer("rita"), Channel: countersign.ChannelAPI,
	})
	result := f.run(in)
	if result.Status != countersign.StatusAccepted || result.Outcome != countersign.OutcomeHumanReview {
		t.Fatalf("result = %+v", result)
	}
	if decision.rejected != nil || decision.failed != nil || decision.result.Decision.Actor != "rita" {
		t.Fatalf("decision = %+v", decision)
	}
	doc := f.stored(in.DocumentID)
	if doc.Final.Fields["party_a"] != "Northwind Analytics, Inc." || doc.Final.Action != countersign.ActionApprove {
		t.Fatalf("final = %+v", doc.Final)
	}
	if doc.Route.Reasons[0] != "policy mode hitl: every document is reviewed by a person" {
		t.Fatalf("route reasons = %v", doc.Route.Reasons)
	}
	review, err := f.store.GetReview(context.Background(), countersign.ReviewID(in.DocumentID, 1))
	if err != nil || review.Status != countersign.ReviewClosed || review.ClosedBy != "rita" {
		t.Fatalf("review = %+v, %v", review, err)
	}
	// The MSA is worth more than the "high value" rule's bound: the review
	// says a risk rule sent it, for the queue's order.
	if !review.Risk {
		t.Fatalf("review = %+v, route rules %+v: a risk rule matched, so it should be marked risk", review, doc.Route.Rules)
	}
	if got := review.DueAt.Sub(review.CreatedAt); got != 48*time.Hour {
		t.Fatalf("review due after %v, want the policy's 48h", got)
	}
	if got := f.eventTypes(in.DocumentID); got != reviewedEvents {
		t.Fatalf("audit events:\n got %s\nwant %s", got, reviewedEvents)
	}
}

func TestHITLCorrect(t *testing.T) {
	f := newFixture(t, nil)
	in := f.document("contract-review", "msa-northwind-harbor.txt")
	f.decideAfter(time.Minute, workflows.DecisionRequest{
		ReviewID: countersign.ReviewID(in.DocumentID, 1), Action: countersign.ActionCorrect,
		Fields: countersign.Fields{"term_months": 24, "currency": nil}, Actor: reviewer("rita"), Channel: countersign.ChannelWeb,
	})
	f.run(in)
	doc := f.stored(in.DocumentID)
	if doc.Final.Fields["term_months"] != float64(24) || doc.Final.Fields["party_a"] != "Northwind Analytics, Inc." {
		t.Fatalf("final fields = %+v", doc.Final.Fields)
	}
	if _, ok := doc.Final.Fields["currency"]; ok {
		t.Fatal("a null in the correction did not remove the field")
	}
	changes := map[string]countersign.Change{}
	for _, c := range doc.Final.Diff {
		changes[c.Field] = c.Change
	}
	if changes["term_months"] != countersign.ChangeCorrected || changes["currency"] != countersign.ChangeRemoved || changes["party_a"] != countersign.ChangeUnchanged {
		t.Fatalf("diff = %+v", doc.Final.Diff)
	}
	decisions, _ := f.store.Decisions(context.Background(), in.DocumentID)
	if len(decisions) != 1 || decisions[0].Channel != countersign.ChannelWeb {
		t.Fatalf("decisions = %+v", decisions)
	}
}

func TestReject(t *testing.T) {
	f := newFixture(t, nil)
	in := f.document("contract-review", "nda-blueheron-cedarridge.txt")
	f.decideAfter(time.Minute, workflows.DecisionRequest{
		ReviewID: countersign.ReviewID(in.DocumentID, 1), Action: countersign.ActionReject,
		Reason: "  unsigned draft, not the executed version  ", Actor: reviewer("rita"), Channel: countersign.ChannelAPI,
	})
	result := f.run(in)
	if result.Status != countersign.StatusRejected {
		t.Fatalf("result = %+v", result)
	}
	doc := f.stored(in.DocumentID)
	if doc.Status != countersign.StatusRejected || doc.Final.Fields != nil || doc.Final.Reason != "unsigned draft, not the executed version" {
		t.Fatalf("final = %+v", doc.Final)
	}
}

func TestValidatorRefusals(t *testing.T) {
	f := newFixture(t, nil)
	in := f.document("contract-review", "saas-quantumledger-maplestreet.txt")
	review := countersign.ReviewID(in.DocumentID, 1)
	cases := []struct {
		name string
		req  workflows.DecisionRequest
		code countersign.Code
		text string
	}{
		{"submitter", workflows.DecisionRequest{ReviewID: review, Action: countersign.ActionApprove, Actor: countersign.Principal{User: "sam", Role: countersign.RoleSubmitter}}, countersign.CodeForbidden, "may not decide"},
		{"auditor", workflows.DecisionRequest{ReviewID: review, Action: countersign.ActionApprove, Actor: countersign.Principal{User: "ann", Role: countersign.RoleAuditor}}, countersign.CodeForbidden, "reviewer, approver or admin"},
		{"no role", workflows.DecisionRequest{ReviewID: review, Action: countersign.ActionApprove, Actor: countersign.Principal{User: "x"}}, countersign.CodeForbidden, `"" is not a role`},
		{"unknown action", workflows.DecisionRequest{ReviewID: review, Action: "escalate", Actor: reviewer("rita")}, countersign.CodeInvalid, `unknown action "escalate"`},
		{"other review", workflows.DecisionRequest{ReviewID: review + "x", Action: countersign.ActionApprove, Actor: reviewer("rita")}, countersign.CodeConflict, "is not open"},
		{"approve with fields", workflows.DecisionRequest{ReviewID: review, Action: countersign.ActionApprove, Fields: countersign.Fields{"term_months": 3}, Actor: reviewer("rita")}, countersign.CodeInvalid, "use correct"},
		{"correct without fields", workflows.DecisionRequest{ReviewID: review, Action: countersign.ActionCorrect, Actor: reviewer("rita")}, countersign.CodeInvalid, "needs the corrected fields"},
		{"correct breaking the schema", workflows.DecisionRequest{ReviewID: review, Action: countersign.ActionCorrect, Fields: countersign.Fields{"term_months": "twelve"}, Actor: reviewer("rita")}, countersign.CodeInvalid, "term_months"},
		{"correct with an unknown field", workflows.DecisionRequest{ReviewID: review, Action: countersign.ActionCorrect, Fields: countersign.Fields{"colour": "red"}, Actor: reviewer("rita")}, countersign.CodeInvalid, "colour: not a field"},
		{"correct removing a required field", workflows.DecisionRequest{ReviewID: review, Action: countersign.ActionCorrect, Fields: countersign.Fields{"party_a": nil}, Actor: reviewer("rita")}, countersign.CodeInvalid, "party_a: required field is missing"},
		{"reject without reason", workflows.DecisionRequest{ReviewID: review, Action: countersign.ActionReject, Reason: " ", Actor: reviewer("rita")}, countersign.CodeInvalid, "needs a reason"},
		{"NUL in a reason", workflows.DecisionRequest{ReviewID: review, Action: countersign.ActionReject, Reason: "x\x00", Actor: reviewer("rita")}, countersign.CodeInvalid, "NUL character"},
		{"NUL in a field", workflows.DecisionRequest{ReviewID: review, Action: countersign.ActionCorrect, Fields: countersign.Fields{"governing_law": "On\x00tario"}, Actor: reviewer("rita")}, countersign.CodeInvalid, "governing_law: the value contains a NUL character"},
	}
	outcomes := make([]*outcome, len(cases))
	for i, tc := range cases {
		outcomes[i] = f.decideAfter(time.Duration(i+1)*time.Minute, tc.req)
	}
	// Two valid decisions at the same moment: one closes the review, the
	// other is refused as a conflict.
	first := f.decideAfter(time.Hour, workflows.DecisionRequest{ReviewID: review, Action: countersign.ActionApprove, Actor: reviewer("rita")})
	second := f.decideAfter(time.Hour, workflows.DecisionRequest{ReviewID: review, Action: countersign.ActionReject, Reason: "late", Actor: reviewer("ravi")})
	f.run(in)

	for i, tc := range cases {
		o := outcomes[i]
		if o.rejected == nil {
			t.Errorf("%s: not refused (result %+v, failure %v)", tc.name, o.result, o.failed)
			continue
		}
		var appErr *temporal.ApplicationError
		if !errors.As(o.rejected, &appErr) || appErr.Type() != string(tc.code) || !strings.Contains(appErr.Error(), tc.text) {
			t.Errorf("%s: refused with %v, want %s containing %q", tc.name, o.rejected, tc.code, tc.text)
		}
	}
	if first.result == nil || first.result.Status != countersign.StatusAccepted {
		t.Fatalf("first decision = %+v", first)
	}
	refusal := second.rejected
	if refusal == nil {
		refusal = second.failed
	}
	var appErr *temporal.ApplicationError
	if !errors.As(refusal, &appErr) || appErr.Type() != string(countersign.CodeConflict) || !strings.Contains(appErr.Error(), "already being decided: rita chose approve") {
		t.Fatalf("second decision = %+v, want a conflict naming the first", second)
	}
	decisions, _ := f.store.Decisions(context.Background(), in.DocumentID)
	if len(decisions) != 1 || decisions[0].Actor != "rita" {
		t.Fatalf("recorded decisions = %+v: refused decisions must not be recorded", decisions)
	}
	if f.stored(in.DocumentID).Status != countersign.StatusAccepted {
		t.Fatal("document not accepted")
	}
}

func TestReviewWaitsForWeeks(t *testing.T) {
	f := newFixture(t, nil)
	in := f.document("contract-review", "consulting-lindqvist-fjord.txt")
	late := f.decideAfter(30*24*time.Hour, workflows.DecisionRequest{ReviewID: countersign.ReviewID(in.DocumentID, 1), Action: countersign.ActionApprove, Actor: reviewer("rita")})
	f.env.RegisterDelayedCallback(func() {
		v, err := f.env.QueryWorkflow(workflows.StateQuery)
		if err != nil {
			t.Errorf("query: %v", err)
			return
		}
		var state workflows.ReviewState
		if err := v.Get(&state); err != nil || state.Status != countersign.StatusAwaitingReview || state.OpenReview == nil {
			t.Errorf("state after two weeks = %+v, %v", state, err)
		}
	}, 14*24*time.Hour)
	f.run(in)
	if late.result == nil || late.result.Status != countersign.StatusAccepted {
		t.Fatalf("decision after 30 days = %+v", late)
	}
}

// failingExtractor fails every extraction for good.
type failingExtractor struct{}

func (failingExtractor) Extract(context.Context, *countersign.TaskType, *countersign.Document) (*countersign.Draft, error) {
	return nil, errors.New("model answered with invalid JSON twice")
}

func TestExtractionFailureGoesToAPerson(t *testing.T) {
	f := newFixture(t, map[string]countersign.Extractor{countersign.ExtractorRules: failingExtractor{}})
	in := f.document("pii-extraction", "email-maria-gonzalez.txt")
	approve := f.decideAfter(time.Minute, workflows.DecisionRequest{ReviewID: countersign.ReviewID(in.DocumentID, 1), Action: countersign.ActionApprove, Actor: reviewer("rita")})
	correct := f.decideAfter(time.Hour, workflows.DecisionRequest{
		ReviewID: countersign.ReviewID(in.DocumentID, 1), Action: countersign.ActionCorrect, Actor: reviewer("rita"),
		Fields: countersign.Fields{"full_name": "Maria Gonzalez", "email": "maria.gonzalez@example.com"},
	})
	result := f.run(in)
	if result.Outcome != countersign.OutcomeHumanReview || result.Status != countersign.StatusAccepted {
		t.Fatalf("result = %+v: a failed extraction must never be auto-accepted", result)
	}
	if approve.rejected == nil || !strings.Contains(approve.rejected.Error(), "no draft to approve") {
		t.Fatalf("approving a missing draft = %+v", approve)
	}
	if correct.result == nil {
		t.Fatalf("correction = %+v", correct)
	}
	doc := f.stored(in.DocumentID)
	if !doc.Draft.Failed() || !strings.Contains(doc.Route.Reasons[0], "invalid JSON") || doc.Confidence.Overall != 0 {
		t.Fatalf("draft %+v, route %+v, confidence %+v", doc.Draft, doc.Route, doc.Confidence)
	}
	if got, want := f.eventTypes(in.DocumentID), strings.Replace(reviewedEvents, "draft.created", "draft.failed", 1); got != want {
		t.Fatalf("audit events:\n got %s\nwant %s", got, want)
	}
}

func TestUnknownTaskTypeVersionFailsTheDocument(t *testing.T) {
	f := newFixture(t, nil)
	in := f.document("contract-review", "msa-northwind-harbor.txt")
	in.TaskTypeVersion = "000000000000"
	f.execute(in)
	err := f.env.GetWorkflowError()
	if err == nil || !strings.Contains(err.Error(), "task type version 000000000000") {
		t.Fatalf("workflow error = %v", err)
	}
	if doc := f.stored(in.DocumentID); doc.Status != countersign.StatusFailed {
		t.Fatalf("status = %s, want failed", doc.Status)
	}
	if got, want := f.eventTypes(in.DocumentID), "document.received document.failed"; got != want {
		t.Fatalf("audit events = %s, want %s", got, want)
	}
}

func TestInvalidInputIsRefused(t *testing.T) {
	f := newFixture(t, nil)
	f.execute(workflows.ReviewInput{DocumentID: "d", TaskTypeVersion: "v", Policy: countersign.Policy{Mode: "yolo"}})
	if err := f.env.GetWorkflowError(); err == nil || !strings.Contains(err.Error(), `unknown policy mode "yolo"`) {
		t.Fatalf("workflow error = %v", err)
	}
}

// refusingStore is a store that refuses to record decisions, for good.
type refusingStore struct{ countersign.Store }

func (refusingStore) RecordDecision(context.Context, *countersign.Decision, bool) error {
	return countersign.Errorf(countersign.CodeInvalid, "the database refused the data")
}

// TestUnrecordableDecisionFailsTheDocument: a decision that cannot be
// recorded fails the document loudly; the review is not reopened, since the
// store might hold part of the decision, and it leaves the queue.
func TestUnrecordableDecisionFailsTheDocument(t *testing.T) {
	f := newFixtureWith(t, nil, func(s countersign.Store) countersign.Store { return refusingStore{s} })
	in := f.document("contract-review", "msa-northwind-harbor.txt")
	first := f.decideAfter(time.Minute, workflows.DecisionRequest{ReviewID: countersign.ReviewID(in.DocumentID, 1), Action: countersign.ActionApprove, Actor: reviewer("rita")})
	f.execute(in)
	if err := f.env.GetWorkflowError(); err == nil || !strings.Contains(err.Error(), "could not be recorded") {
		t.Fatalf("workflow error = %v", err)
	}
	if first.failed == nil || first.result != nil {
		t.Fatalf("decision = %+v, want it to fail", first)
	}
	if doc := f.stored(in.DocumentID); doc.Status != countersign.StatusFailed {
		t.Fatalf("status = %s, want failed", doc.Status)
	}
	review, err := f.store.GetReview(context.Background(), countersign.ReviewID(in.DocumentID, 1))
	if err != nil || review.Status != countersign.ReviewClosed {
		t.Fatalf("review = %+v, %v: a failed document's review leaves the queue", review, err)
	}
	if got, want := f.eventTypes(in.DocumentID), "document.received draft.created confidence.scored route.decided review.opened document.failed"; got != want {
		t.Fatalf("audit events:\n got %s\nwant %s", got, want)
	}
}

// outageStore fails GetDocument the given number of times, as a store
// that cannot be reached does, then answers.
type outageStore struct {
	countersign.Store
	left *atomic.Int64
}

func (s outageStore) GetDocument(ctx context.Context, id string) (*countersign.Document, error) {
	if s.left.Add(-1) >= 0 {
		return nil, errors.New("dial tcp 127.0.0.1:5432: connect: connection refused")
	}
	return s.Store.GetDocument(ctx, id)
}

// TestStoreOutageDuringLocalSteps: a store that cannot be reached for
// minutes delays the steps run as local activities, retried as activities
// are, without end; the document is not failed. (With the SDK's default
// for a local activity, retries stop after the minute of its
// StartToCloseTimeout.)
func TestStoreOutageDuringLocalSteps(t *testing.T) {
	left := &atomic.Int64{}
	f := newFixtureWith(t, nil, func(s countersign.Store) countersign.Store { return outageStore{s, left} })
	in := f.document("pii-extraction", "email-maria-gonzalez.txt")
	left.Store(10) // with backoff 1, 2, 4, ... 60 s: about five minutes
	result := f.run(in)
	if doc := f.stored(in.DocumentID); result.Status != countersign.StatusAccepted || doc.Status != countersign.StatusAccepted {
		t.Fatalf("after a store outage: result %s, document %s; want accepted", result.Status, doc.Status)
	}
	if left.Load() >= 0 {
		t.Fatalf("the outage was not met: %d failures left", left.Load())
	}
}
