package workflows_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/workflows"
)

// tooLarge checks that err refuses, as too large, saying text.
func tooLarge(t *testing.T, name string, err error, text string) {
	t.Helper()
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) || appErr.Type() != string(countersign.CodeTooLarge) || !strings.Contains(appErr.Error(), text) {
		t.Errorf("%s: refused with %v; want too_large saying %q", name, err, text)
	}
}

// TestDecisionsOverTheCeilingsAreRefused: a decision whose reason, one
// field value, or fields and reason together are over the ceilings is
// refused by the validator, whoever sent it (an update can reach the
// workflow without the API), before it enters history; the review stays
// open for a decision that fits.
func TestDecisionsOverTheCeilingsAreRefused(t *testing.T) {
	f := newFixture(t, nil)
	in := f.document("contract-review", "msa-northwind-harbor.txt")
	review := countersign.ReviewID(in.DocumentID, 1)
	big := func(n int) string { return strings.Repeat("x", n) }
	reason := f.decideAfter(time.Minute, workflows.DecisionRequest{ReviewID: review, Action: countersign.ActionReject,
		Reason: big(countersign.MaxReasonBytes + 1), Actor: reviewer("rita")})
	value := f.decideAfter(2*time.Minute, correct(review, reviewer("rita"), countersign.Fields{"governing_law": big(countersign.MaxFieldValueBytes)}))
	third := countersign.MaxDecisionBytes / 3
	total := f.decideAfter(3*time.Minute, correct(review, reviewer("rita"), countersign.Fields{"party_a": big(third), "party_b": big(third), "governing_law": big(third)}))
	fits := f.decideAfter(4*time.Minute, workflows.DecisionRequest{ReviewID: review, Action: countersign.ActionReject,
		Reason: big(countersign.MaxReasonBytes), Actor: reviewer("rita")})
	result := f.run(in)

	tooLarge(t, "a long reason", reason.rejected, fmt.Sprintf("reason is %d bytes; the limit is %d", countersign.MaxReasonBytes+1, countersign.MaxReasonBytes))
	tooLarge(t, "a long field value", value.rejected, fmt.Sprintf(`field "governing_law" is %d bytes as JSON; the limit is %d`, countersign.MaxFieldValueBytes+2, countersign.MaxFieldValueBytes))
	tooLarge(t, "long fields together", total.rejected, fmt.Sprintf("the limit is %d", countersign.MaxDecisionBytes))
	if fits.rejected != nil || fits.failed != nil || result.Status != countersign.StatusRejected {
		t.Fatalf("a reason at the ceiling: %+v; result %+v", fits, result)
	}
}

// TestVetoOverTheCeilingsIsRefused: a veto with a reason over the ceiling
// is refused by the validator, and the window stays open for one that fits.
func TestVetoOverTheCeilingsIsRefused(t *testing.T) {
	f, _, _ := hotlFixture(t)
	in := f.document("pii-extraction", "email-maria-gonzalez.txt")
	in.Policy.VetoWindow = 2 * time.Hour
	long := f.vetoAfter(time.Hour, workflows.VetoRequest{Action: countersign.ActionReject, Reason: strings.Repeat("x", 3<<20), Actor: approver("sue")})
	value := f.vetoAfter(time.Hour, workflows.VetoRequest{Action: countersign.ActionCorrect, Fields: countersign.Fields{"full_name": strings.Repeat("x", countersign.MaxFieldValueBytes)}, Actor: approver("sue")})
	veto := f.vetoAfter(time.Hour+time.Minute, workflows.VetoRequest{Action: countersign.ActionReject, Reason: "sender is a known fraud case", Actor: approver("sue")})
	f.run(in)
	tooLarge(t, "a 3 MiB reason", long.rejected, fmt.Sprintf("reason is %d bytes; the limit is %d", 3<<20, countersign.MaxReasonBytes))
	tooLarge(t, "a long field value", value.rejected, `field "full_name" is`)
	if veto.result == nil || veto.result.Status != countersign.StatusRejected {
		t.Fatalf("the veto that fits = %+v", veto)
	}
}

// TestResetOverTheCeilingIsRefused: a policy reset with a reason over the
// ceiling is refused by the validator as too large, before anything else
// is judged.
func TestResetOverTheCeilingIsRefused(t *testing.T) {
	f := newFixture(t, nil)
	taskType := "pii-extraction"
	reset := func(at time.Duration, reason string) *error {
		var got error
		done := &got
		f.env.RegisterDelayedCallback(func() {
			f.updates++
			id := fmt.Sprintf("reset-%d", f.updates)
			req := f.sign(workflows.SupervisorWorkflowID(taskType), id, workflows.ResetRequest{Reason: reason, Actor: approver("sue"), Channel: countersign.ChannelCLI})
			f.env.UpdateWorkflow(workflows.ResetUpdate, id, &testsuite.TestUpdateCallback{
				OnReject:   func(err error) { *done = err },
				OnAccept:   func() {},
				OnComplete: func(_ any, err error) { *done = errors.Join(*done, err) },
			}, req)
		}, at)
		return done
	}
	long := reset(time.Minute, strings.Repeat("x", countersign.MaxReasonBytes+1))
	short := reset(2*time.Minute, "prompt fixed")
	f.env.RegisterDelayedCallback(f.env.CancelWorkflow, 3*time.Minute)
	f.env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: workflows.SupervisorWorkflowID(taskType)})
	f.env.ExecuteWorkflow(workflows.SupervisorWorkflowType, workflows.SupervisorInput{TaskType: taskType})
	tooLarge(t, "a long reason", *long, fmt.Sprintf("reason is %d bytes; the limit is %d", countersign.MaxReasonBytes+1, countersign.MaxReasonBytes))
	if *short == nil || !strings.Contains((*short).Error(), "not tightened") {
		t.Fatalf("a reset that fits, with nothing tightened = %v", *short)
	}
}
