package workflows

import (
	"go.temporal.io/sdk/workflow"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/provenance"
)

// Workflows are countersign's workflows with what their update validators
// need from the worker that runs them. Register them with Register.
type Workflows struct {
	// Provenance verifies the signed envelope that every update a person
	// sends (a decision, an audit, a veto, a policy reset) must carry; with
	// none, every such update is refused.
	Provenance *provenance.Verifier
}

// Registry is where workflows are registered: a worker, a replayer or the
// SDK's test environment.
type Registry interface {
	RegisterWorkflowWithOptions(w any, options workflow.RegisterOptions)
}

// Register registers the workflows on r under their type names.
func (wf *Workflows) Register(r Registry) {
	r.RegisterWorkflowWithOptions(wf.ReviewWorkflow, workflow.RegisterOptions{Name: ReviewWorkflowType})
	r.RegisterWorkflowWithOptions(wf.SupervisorWorkflow, workflow.RegisterOptions{Name: SupervisorWorkflowType})
}

// Claims are what the envelope of a decision on the review of documentID,
// sent in the update with the given ID, must claim. Signer and validator
// both build them here, so they digest the same content.
//
// workflowcheck reports the JSON encoding of the digest; it has one answer
// for one request, and only validators and the API call it.
//
//workflowcheck:ignore
func (req DecisionRequest) Claims(documentID, updateID string) (provenance.Claims, error) {
	digest, err := provenance.Digest(struct {
		ReviewID string             `json:"review_id"`
		Action   countersign.Action `json:"action"`
		Fields   countersign.Fields `json:"fields"`
		Reason   string             `json:"reason"`
		Approves string             `json:"approves"`
	}{req.ReviewID, req.Action, req.Fields, req.Reason, req.Approves})
	return provenance.Claims{
		Update: DecisionUpdate, UpdateID: updateID, WorkflowID: ReviewWorkflowID(documentID),
		Subject: req.ReviewID, Action: string(req.Action), Digest: digest, Actor: req.Actor, Channel: req.Channel,
	}, err
}

// Claims are what the envelope of a veto of documentID, sent in the update
// with the given ID, must claim.
//
// workflowcheck reports the JSON encoding of the digest; it has one answer
// for one request, and only validators and the API call it.
//
//workflowcheck:ignore
func (req VetoRequest) Claims(documentID, updateID string) (provenance.Claims, error) {
	digest, err := provenance.Digest(struct {
		Action countersign.Action `json:"action"`
		Fields countersign.Fields `json:"fields"`
		Reason string             `json:"reason"`
	}{req.Action, req.Fields, req.Reason})
	return provenance.Claims{
		Update: VetoUpdate, UpdateID: updateID, WorkflowID: ReviewWorkflowID(documentID),
		Subject: documentID, Action: string(req.Action), Digest: digest, Actor: req.Actor, Channel: req.Channel,
	}, err
}

// Claims are what the envelope of a reset of taskType's policy, sent in the
// update with the given ID, must claim.
//
// workflowcheck reports the JSON encoding of the digest; it has one answer
// for one request, and only validators and the API call it.
//
//workflowcheck:ignore
func (req ResetRequest) Claims(taskType, updateID string) (provenance.Claims, error) {
	digest, err := provenance.Digest(struct {
		Reason string `json:"reason"`
	}{req.Reason})
	return provenance.Claims{
		Update: ResetUpdate, UpdateID: updateID, WorkflowID: SupervisorWorkflowID(taskType),
		Subject: taskType, Action: "reset", Digest: digest, Actor: req.Actor, Channel: req.Channel,
	}, err
}

// checkProvenance refuses, with 403, an update a person sent unless its
// envelope verifies with the worker's keys and claims exactly what the
// update carries (see package provenance), and unless it names a user and
// a known role. Only validators call it: they do not run on replay, so the
// keys, which are configuration and not history, never change what a
// replayed workflow does.
//
// workflowcheck reports the JSON decoding of the claims (it allocates, which
// it traces to the garbage collector's goroutines). Verification has one
// answer for one envelope, one set of keys and one workflow time, and its
// refusal never enters history.
//
//workflowcheck:ignore
func checkProvenance(ctx workflow.Context, keys *provenance.Verifier, env *provenance.Envelope, want provenance.Claims, claimsErr error) error {
	what := want.Update + " by " + orNone(want.Actor.User)
	switch {
	case claimsErr != nil:
		return refuse(countersign.CodeInvalid, "%s cannot be verified: %v", what, claimsErr)
	case keys == nil:
		return refuse(countersign.CodeForbidden, "%s is refused: this worker has no keys to verify who sent it (set its decision verification keys)", what)
	case want.Actor.User == "":
		return refuse(countersign.CodeForbidden, "%s is refused: it names no user", want.Update)
	case !want.Actor.Role.Valid():
		return refuse(countersign.CodeForbidden, "%s is refused: %q is not a role", what, want.Actor.Role)
	}
	// The envelope is for this very workflow, not one that was started
	// with the same input under another ID.
	want.WorkflowID = workflow.GetInfo(ctx).WorkflowExecution.ID
	if err := keys.Verify(env, want, workflow.Now(ctx)); err != nil {
		return refuse(countersign.CodeForbidden, "%s is refused: %v", what, err)
	}
	return nil
}

// updateID is the ID of the update whose validator or handler runs in ctx.
func updateID(ctx workflow.Context) string {
	if info := workflow.GetCurrentUpdateInfo(ctx); info != nil {
		return info.ID
	}
	return ""
}
