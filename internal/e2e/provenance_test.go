package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
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
	"github.com/countersign/countersign/internal/audit"
	"github.com/countersign/countersign/internal/provenance"
	"github.com/countersign/countersign/internal/quality"
	"github.com/countersign/countersign/workflows"
)

// TestForgedUpdatesThroughTemporal runs `countersign dev` as a process and
// sends decisions straight to its Temporal frontend with a plain SDK
// client, as anyone who can reach the frontend could: with no envelope, as
// a user nobody made, as an admin, with an envelope of another key, with a
// real envelope carried to another review or altered, and from a reviewer
// outside the task type's review groups. Each is refused with 403 before it
// enters history: the review stays open, the trail holds no decision. A
// supervisor started with a made-up state, or under another task type's
// workflow ID, is refused as an untrusted start. Then a
// reviewer in the groups decides through the API, and the chain verifies.
func TestForgedUpdatesThroughTemporal(t *testing.T) {
	bin := binary(t)
	dataDir := t.TempDir()
	ctx := context.Background()
	types := groupTaskTypes(t)
	dev := startDev(t, bin, dataDir, "--task-types", types)

	sub, err := dev.api.Submit(ctx, api.SubmitRequest{TaskType: "contract-review", Content: sample(t, "contract-review", "msa-northwind-harbor.txt")})
	if err != nil {
		t.Fatal(err)
	}
	review := waitForReview(t, dev.api, sub.ID)

	raw, err := os.ReadFile(filepath.Join(dataDir, app.DevFile))
	if err != nil {
		t.Fatal(err)
	}
	var info app.DevInfo
	if err := json.Unmarshal(raw, &info); err != nil {
		t.Fatal(err)
	}
	tc, err := client.Dial(client.Options{HostPort: info.Temporal, Namespace: "default"})
	if err != nil {
		t.Fatal(err)
	}
	defer tc.Close()
	// The dev stack's own key, as a compromised API would hold it: it
	// still cannot sign for another review, or past the review groups.
	rawKey, err := os.ReadFile(filepath.Join(dataDir, provenance.DevKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	devKey, err := audit.ParsePrivateKey(rawKey)
	if err != nil {
		t.Fatal(err)
	}
	devSigner := provenance.NewSigner(devKey)
	otherKey, _ := audit.GenerateKey()
	mallory := provenance.NewSigner(otherKey)

	inGroup := countersign.Principal{User: "rita", Role: countersign.RoleReviewer, Groups: []string{"legal"}}
	sign := func(s *provenance.Signer, req workflows.DecisionRequest, updateID string) *provenance.Envelope {
		claims, err := req.Claims(sub.ID, updateID)
		if err != nil {
			t.Fatal(err)
		}
		claims.IssuedAt = time.Now().UTC()
		env, err := s.Sign(claims)
		if err != nil {
			t.Fatal(err)
		}
		return env
	}
	forged := []struct {
		name string
		req  func(updateID string) workflows.DecisionRequest
		text string
	}{
		{"no user", func(string) workflows.DecisionRequest {
			return workflows.DecisionRequest{ReviewID: review.ID, Action: countersign.ActionApprove, Actor: countersign.Principal{Role: countersign.RoleReviewer}, Channel: countersign.ChannelAPI}
		}, "names no user"},
		{"a user nobody made, as admin", func(string) workflows.DecisionRequest {
			return workflows.DecisionRequest{ReviewID: review.ID, Action: countersign.ActionApprove, Actor: countersign.Principal{User: "mallory-not-a-user", Role: countersign.RoleAdmin}, Channel: countersign.ChannelAPI}
		}, "carries no signed envelope"},
		{"another key", func(id string) workflows.DecisionRequest {
			r := workflows.DecisionRequest{ReviewID: review.ID, Action: countersign.ActionApprove, Actor: countersign.Principal{User: "mallory", Role: countersign.RoleAdmin}, Channel: countersign.ChannelAPI}
			r.Provenance = sign(mallory, r, id)
			return r
		}, "does not trust"},
		{"an envelope for another review", func(id string) workflows.DecisionRequest {
			other := workflows.DecisionRequest{ReviewID: review.ID + "x", Action: countersign.ActionApprove, Actor: inGroup, Channel: countersign.ChannelAPI}
			r := workflows.DecisionRequest{ReviewID: review.ID, Action: countersign.ActionApprove, Actor: inGroup, Channel: countersign.ChannelAPI}
			r.Provenance = sign(devSigner, other, id)
			return r
		}, "signed for the subject"},
		{"a correction altered after signing", func(id string) workflows.DecisionRequest {
			r := workflows.DecisionRequest{ReviewID: review.ID, Action: countersign.ActionCorrect, Fields: countersign.Fields{"term_months": 12}, Actor: inGroup, Channel: countersign.ChannelAPI}
			r.Provenance = sign(devSigner, r, id)
			r.Fields = countersign.Fields{"term_months": 1}
			return r
		}, "differs from what its envelope was signed for"},
		{"a reviewer outside the review groups", func(id string) workflows.DecisionRequest {
			r := workflows.DecisionRequest{ReviewID: review.ID, Action: countersign.ActionApprove, Actor: countersign.Principal{User: "ravi", Role: countersign.RoleReviewer, Groups: []string{"sales"}}, Channel: countersign.ChannelAPI}
			r.Provenance = sign(devSigner, r, id)
			return r
		}, "not in the review groups"},
	}
	for i, f := range forged {
		id := "forged-" + string(rune('a'+i))
		handle, err := tc.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
			UpdateID:     id,
			WorkflowID:   workflows.ReviewWorkflowID(sub.ID),
			UpdateName:   workflows.DecisionUpdate,
			Args:         []any{f.req(id)},
			WaitForStage: client.WorkflowUpdateStageCompleted,
		})
		if err == nil {
			err = handle.Get(ctx, nil)
		}
		var appErr *temporal.ApplicationError
		if err == nil || !errors.As(err, &appErr) || appErr.Type() != string(countersign.CodeForbidden) || !strings.Contains(err.Error(), f.text) {
			t.Errorf("%s: got %v, want a forbidden refusal containing %q", f.name, err, f.text)
		}
	}

	// A supervisor started straight through Temporal with a made-up window
	// of 10,000 clean audits (which would hide a breach) is refused before
	// it runs anything, as is one under another task type's workflow ID.
	// Whatever supervisor runs is terminated by the start, as an attacker
	// would ask.
	var clean quality.Histogram
	for range 10000 {
		clean.Add(0.95, false)
	}
	forgedState := &workflows.Supervision{TaskType: "contract-review", Since: time.Now().Add(-time.Hour), Window: clean, All: quality.Tally{Audits: 10000}, Loaded: true, Lineage: "mallory"}
	for _, start := range []struct {
		id   string
		in   workflows.SupervisorInput
		text string
	}{
		{workflows.SupervisorWorkflowID("contract-review"), workflows.SupervisorInput{TaskType: "contract-review", State: forgedState}, "was not continued from a run of this supervisor"},
		{workflows.SupervisorWorkflowID("contract-review"), workflows.SupervisorInput{TaskType: "pii-extraction"}, "is not the supervisor of task type"},
	} {
		run, err := tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: start.id, TaskQueue: workflows.TaskQueue,
			WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_TERMINATE_EXISTING,
			RetryPolicy:              &temporal.RetryPolicy{MaximumAttempts: 3}}, workflows.SupervisorWorkflowType, start.in)
		if err == nil {
			// A run that took the input would run on: wait a bounded time.
			waitCtx, cancel := context.WithTimeout(ctx, time.Minute)
			err = run.Get(waitCtx, nil)
			cancel()
		}
		var appErr *temporal.ApplicationError
		if err == nil || !errors.As(err, &appErr) || appErr.Type() != activities.ErrUntrustedStart || !strings.Contains(err.Error(), start.text) {
			t.Errorf("a supervisor started with %+v: got %v, want it refused as %s naming %q", start.in, err, activities.ErrUntrustedStart, start.text)
		}
	}

	doc, err := dev.api.Document(ctx, sub.ID)
	if err != nil {
		t.Fatal(err)
	}
	if doc.Status != countersign.StatusAwaitingReview || len(doc.Decisions) != 0 {
		t.Fatalf("after the forged updates the document is %s with decisions %+v, want awaiting_review with none", doc.Status, doc.Decisions)
	}
	events, err := dev.api.Audit(ctx, sub.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range events {
		if e.Type == countersign.EventDecisionRecorded {
			t.Fatalf("a forged decision entered the trail: %+v", e)
		}
	}

	tok, err := dev.api.CreateToken(ctx, "rita", countersign.RoleReviewer, time.Hour, "legal")
	if err != nil {
		t.Fatal(err)
	}
	decided, err := apiclient.New(dev.api.BaseURL, tok.Secret).Decide(ctx, review.ID, api.DecisionRequest{Action: countersign.ActionApprove})
	if err != nil {
		t.Fatalf("a decision through the API: %v\n%s", err, dev.output)
	}
	if decided.Document.Status != countersign.StatusAccepted || decided.Decision.Actor != "rita" {
		t.Fatalf("decision = %+v", decided)
	}
	report, err := dev.api.VerifyAudit(ctx)
	if err != nil || !report.OK {
		t.Fatalf("audit: %+v, %v", report, err)
	}
}

// groupTaskTypes is the examples' contract-review, reviewed by the legal
// group only, in a fresh folder.
func groupTaskTypes(t *testing.T) string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "examples", "contract-review", "tasktype.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	source := string(raw) + "\nreview_groups: [legal]\n"
	if err := os.WriteFile(filepath.Join(dir, "contract-review.yaml"), []byte(source), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}
