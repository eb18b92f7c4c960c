package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/activities"
	"github.com/countersign/countersign/api"
	"github.com/countersign/countersign/api/apiclient"
	"github.com/countersign/countersign/internal/app"
	"github.com/countersign/countersign/workflows"
)

// waitForFinal polls a document until it is final.
func waitForFinal(t *testing.T, c *apiclient.Client, documentID string) *api.DocumentView {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		doc, err := c.Document(context.Background(), documentID)
		if err != nil {
			t.Fatal(err)
		}
		if doc.Status.Final() {
			return doc
		}
	}
	t.Fatalf("document %s not final after a minute", documentID)
	return nil
}

// policyVersions are the policy versions a document's events name.
func policyVersions(t *testing.T, events []countersign.AuditEvent) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, e := range events {
		var data struct {
			Versions struct {
				Policy string `json:"policy"`
			} `json:"versions"`
		}
		if err := json.Unmarshal(e.Data, &data); err != nil {
			t.Fatal(err)
		}
		out[e.Type] = data.Versions.Policy
	}
	return out
}

// TestPolicyVersionPinnedAtStart, over HTTP on the real stack: a review
// pins the policy in force when it starts. contract-review is hitl in its
// file; a document submitted before an approver sets hotl stays under hitl
// to the end (its decision and finalization, recorded after the change,
// still name the old version), one submitted after runs under the new
// version, and stats shows the version in force. A review started through
// the Temporal frontend with a forged policy, even for a final document, is
// refused and changes nothing.
func TestPolicyVersionPinnedAtStart(t *testing.T) {
	a := startApp(t, "", app.Roles{Embedded: true, Worker: true, API: true})
	u := newUsers(t, a)
	ctx := context.Background()
	tt, err := a.TaskTypes.Get("contract-review")
	if err != nil {
		t.Fatal(err)
	}
	base := tt.Policy.Version

	before := submitAndWait(t, u, "contract-review", "nda-blueheron-cedarridge.txt")
	threshold := 0.0
	set, err := u.approver.SetPolicy(ctx, api.PolicySetRequest{TaskType: "contract-review", Mode: countersign.ModeHOTL, Threshold: &threshold, Reason: "certified elsewhere"})
	if err != nil {
		t.Fatal(err)
	}
	if set.PolicyVersion.ID != "contract-review/v1" || set.Policy.Version != base+"+contract-review/v1" {
		t.Fatalf("policy set: %+v", set)
	}

	if _, err := u.approver.Decide(ctx, before.ID, api.DecisionRequest{Action: countersign.ActionApprove}); err != nil {
		t.Fatal(err)
	}
	old := waitForFinal(t, u.reviewer, before.DocumentID)
	if old.Route.PolicyVersion != base || old.Route.Mode != countersign.ModeHITL {
		t.Fatalf("document started before the change: route under %s (%s), want %s (hitl)", old.Route.PolicyVersion, old.Route.Mode, base)
	}
	waitForEvent(t, u.reviewer, before.DocumentID, countersign.EventDocumentFinalized)
	events, err := u.reviewer.Audit(ctx, before.DocumentID)
	if err != nil {
		t.Fatal(err)
	}
	for _, typ := range []string{countersign.EventDecisionRecorded, countersign.EventDocumentFinalized} {
		if v := policyVersions(t, events)[typ]; v != base {
			t.Errorf("%s of the document started before the change names policy %q, want %q", typ, v, base)
		}
	}

	sub, err := u.submitter.Submit(ctx, api.SubmitRequest{TaskType: "contract-review", Content: sample(t, "contract-review", "consulting-lindqvist-fjord.txt")})
	if err != nil {
		t.Fatal(err)
	}
	var after *api.DocumentView
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if after, err = u.reviewer.Document(ctx, sub.ID); err != nil {
			t.Fatal(err)
		}
		if after.Route != nil {
			break
		}
	}
	if after.Route == nil || after.Route.PolicyVersion != base+"+contract-review/v1" || after.Route.Mode != countersign.ModeHOTL || after.Route.Threshold != 0 {
		t.Fatalf("document started after the change: route %+v, want hotl at 0 under %s+contract-review/v1", after.Route, base)
	}

	stats, err := u.approver.Stats(ctx, "contract-review")
	if err != nil {
		t.Fatal(err)
	}
	if v := stats.Supervision.PolicyVersion; v == nil || v.ID != "contract-review/v1" || stats.Supervision.Policy.Version != base+"+contract-review/v1" {
		t.Fatalf("stats: version in force %+v, policy %s", v, stats.Supervision.Policy.Version)
	}

	// A forged start for the final document: hotl at 0 under the task
	// type's own version string, started with a reuse policy that lets
	// Temporal run the ID again.
	trail, err := u.reviewer.Audit(ctx, before.DocumentID)
	if err != nil {
		t.Fatal(err)
	}
	forged := workflows.ReviewInput{
		DocumentID: before.DocumentID, TaskType: tt.Name, TaskTypeVersion: tt.Version, Policy: tt.Policy,
		Schema: tt.Schema, SubmittedBy: "sam", Channel: countersign.ChannelAPI,
	}
	forged.Policy.Mode, forged.Policy.AutoAcceptThreshold = countersign.ModeHOTL, 0
	run, err := a.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: workflows.ReviewWorkflowID(before.DocumentID), TaskQueue: workflows.TaskQueue,
		WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
	}, workflows.ReviewWorkflowType, forged)
	if err != nil {
		t.Fatal(err)
	}
	err = run.Get(ctx, nil)
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) || appErr.Type() != activities.ErrUntrustedStart || !strings.Contains(err.Error(), "is already accepted") {
		t.Fatalf("forged start: %v, want refused as %s", err, activities.ErrUntrustedStart)
	}
	doc, err := u.reviewer.Document(ctx, before.DocumentID)
	if err != nil {
		t.Fatal(err)
	}
	again, err := u.reviewer.Audit(ctx, before.DocumentID)
	if err != nil {
		t.Fatal(err)
	}
	if doc.Status != countersign.StatusAccepted || len(again) != len(trail) {
		t.Fatalf("after the forged start: %s with %d events, was accepted with %d", doc.Status, len(again), len(trail))
	}
}
