package workflows_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/activities"
	"github.com/countersign/countersign/workflows"
)

// newCheckedFixture is a fixture whose Receive checks review inputs, as
// countersign's always does.
func newCheckedFixture(t *testing.T) *fixture {
	f := newFixture(t, nil)
	f.acts.TrustStartInput = false
	return f
}

// refusedStart checks that the review of in, started under workflowID,
// ended with Receive's refusal saying want, and that nothing was recorded
// or changed: the document keeps its status and has no event.
func (f *fixture) refusedStart(in workflows.ReviewInput, workflowID, want string) {
	f.t.Helper()
	before := f.stored(in.DocumentID).Status
	f.env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: workflowID})
	f.env.ExecuteWorkflow(workflows.ReviewWorkflowType, in)
	var appErr *temporal.ApplicationError
	err := f.env.GetWorkflowError()
	if !errors.As(err, &appErr) || appErr.Type() != activities.ErrUntrustedStart || !strings.Contains(err.Error(), want) {
		f.t.Fatalf("workflow error = %v, want %s saying %q", err, activities.ErrUntrustedStart, want)
	}
	if doc := f.stored(in.DocumentID); doc.Status != before {
		f.t.Errorf("document is %s after a refused start, was %s", doc.Status, before)
	}
	if got := f.eventTypes(in.DocumentID); got != "" {
		f.t.Errorf("events after a refused start: %s, want none", got)
	}
}

// TestReceiveRefusesForgedInput starts reviews with inputs the store does
// not vouch for, as anyone who can reach the Temporal frontend can.
func TestReceiveRefusesForgedInput(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name  string
		forge func(f *fixture, in *workflows.ReviewInput) (workflowID string)
		want  string
	}{
		{"a threshold the policy version does not say", func(f *fixture, in *workflows.ReviewInput) string {
			in.Policy.AutoAcceptThreshold = 0
			return ""
		}, "is not what version"},
		{"supervision dropped", func(f *fixture, in *workflows.ReviewInput) string {
			in.Policy.AuditSampleRate, in.Policy.Supervision = 0, nil
			return ""
		}, "is not what version"},
		{"a policy version nobody applied", func(f *fixture, in *workflows.ReviewInput) string {
			in.Policy.Version += "+pii-extraction/v9"
			return ""
		}, "no policy version pii-extraction/v9"},
		{"an override nobody put in force", func(f *fixture, in *workflows.ReviewInput) string {
			in.Policy.Version += "+pii-extraction/1-deadbeef"
			return ""
		}, "no policy version or supervisor's override pii-extraction/1-deadbeef"},
		{"another version's policy", func(f *fixture, in *workflows.ReviewInput) string {
			in.Policy.Version = "0123456789ab"
			return ""
		}, "its own policy version is"},
		{"an applied version, tampered with", func(f *fixture, in *workflows.ReviewInput) string {
			threshold := 0.97
			v := &countersign.PolicyVersion{TaskType: "pii-extraction", Threshold: &threshold, Reason: "x", CreatedBy: "anna", CreatedAt: time.Now()}
			if err := f.store.PutPolicyVersion(ctx, v); err != nil {
				t.Fatal(err)
			}
			in.Policy = v.Apply(in.Policy)
			in.Policy.AutoAcceptThreshold = 0.5
			return ""
		}, "is not what version"},
		{"the gold policy for a real document", func(f *fixture, in *workflows.ReviewInput) string {
			in.Policy, in.Gold = countersign.GoldPolicy(in.Policy), true
			return ""
		}, "is not a gold item"},
		{"a final document", func(f *fixture, in *workflows.ReviewInput) string {
			status := countersign.StatusAccepted
			if err := f.store.UpdateDocument(ctx, in.DocumentID, countersign.DocumentUpdate{Status: &status}); err != nil {
				t.Fatal(err)
			}
			return ""
		}, "is already accepted"},
		{"another workflow", func(f *fixture, in *workflows.ReviewInput) string {
			return "review/" + in.DocumentID + "-again"
		}, "is not the review of document"},
		{"another submitter", func(f *fixture, in *workflows.ReviewInput) string {
			in.SubmittedBy = "rita"
			return ""
		}, `submitted by "sam", not "rita"`},
		{"no review groups", func(f *fixture, in *workflows.ReviewInput) string {
			in.ReviewGroups = []string{"legal"}
			return ""
		}, "review groups [legal] are not"},
		{"another task type", func(f *fixture, in *workflows.ReviewInput) string {
			in.TaskType = "contract-review"
			return ""
		}, "is of task type pii-extraction"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newCheckedFixture(t)
			in := f.document("pii-extraction", "email-maria-gonzalez.txt")
			id := tc.forge(f, &in)
			if id == "" {
				id = workflows.ReviewWorkflowID(in.DocumentID)
			}
			f.refusedStart(in, id, tc.want)
		})
	}
}

// TestReceiveAcceptsWhatTheStoreSays: the inputs the starter gives, under
// the task type's own policy, an applied policy version and a supervisor's
// override on top, run.
func TestReceiveAcceptsWhatTheStoreSays(t *testing.T) {
	ctx := context.Background()
	f := newCheckedFixture(t)
	in := f.document("pii-extraction", "email-maria-gonzalez.txt")
	if result := f.run(in); result.Status != countersign.StatusAccepted {
		t.Fatalf("the task type's own policy: %+v", result)
	}

	f = newCheckedFixture(t)
	in = f.document("pii-extraction", "email-maria-gonzalez.txt")
	threshold, rate := 0.5, 0.2
	v := &countersign.PolicyVersion{TaskType: "pii-extraction", Threshold: &threshold, AuditSampleRate: &rate, Reason: "x", CreatedBy: "anna", CreatedAt: time.Now()}
	if err := f.store.PutPolicyVersion(ctx, v); err != nil {
		t.Fatal(err)
	}
	o := &countersign.PolicyOverride{ID: "pii-extraction/1-abcdef12", TaskType: "pii-extraction", Mode: countersign.ModeHOTL, Threshold: 0.6, Reason: "audits", At: time.Now()}
	if err := f.store.PutOverride(ctx, o); err != nil {
		t.Fatal(err)
	}
	in.Policy = o.Apply(v.Apply(in.Policy))
	if result := f.run(in); result.Status != countersign.StatusAccepted {
		t.Fatalf("under %s: %+v", in.Policy.Version, result)
	}
	if doc := f.stored(in.DocumentID); doc.Route.PolicyVersion != in.Policy.Version || doc.Route.Threshold != 0.6 {
		t.Fatalf("route under %s at %v, want %s at 0.6", doc.Route.PolicyVersion, doc.Route.Threshold, in.Policy.Version)
	}
}
