package workflows

import (
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/workflow"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/activities"
)

// slipGold may slip one of the task type's gold items into the queue after
// review r opened: the SlipGold activity draws systematically at the
// policy's gold rate and, when an item is due, stores it as a document; this
// workflow then starts that document's review as a child that outlives it.
// Gold is a measurement, not part of the document's review, so a failure
// here is logged and the review goes on.
func (w *review) slipGold(ctx workflow.Context, r *countersign.Review) {
	if w.in.Gold || w.in.Policy.GoldRate <= 0 || (r.Kind != "" && r.Kind != countersign.ReviewGate) {
		return
	}
	// A run recorded before goldChange slips none.
	if workflow.GetVersion(ctx, goldChange, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return
	}
	logger := workflow.GetLogger(ctx)
	gold := ReviewInput{
		DocumentID:      countersign.GoldDocumentID(w.in.TaskType, r.ID),
		TaskType:        w.in.TaskType,
		TaskTypeVersion: w.in.TaskTypeVersion,
		Policy:          countersign.GoldPolicy(w.in.Policy),
		Schema:          w.in.Schema,
		SubmittedBy:     countersign.SystemActor,
		Channel:         countersign.ChannelWorkflow,
		Gold:            true,
		ReviewGroups:    w.in.ReviewGroups,
	}
	step := w.step()
	step.DocumentID, step.PolicyVersion = gold.DocumentID, gold.Policy.Version
	in := activities.SlipGoldInput{Step: step, TaskType: w.in.TaskType, ReviewID: r.ID, Rate: w.in.Policy.GoldRate}
	var slip *activities.GoldSlip
	if err := workflow.ExecuteActivity(ctx, a.SlipGold, in).Get(ctx, &slip); err != nil {
		logger.Warn("no gold item slipped in", "review", r.ID, "error", err)
		return
	}
	if slip == nil {
		return
	}
	ctx = workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
		WorkflowID:            ReviewWorkflowID(gold.DocumentID),
		ParentClosePolicy:     enumspb.PARENT_CLOSE_POLICY_ABANDON,
		WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
	})
	child := workflow.ExecuteChildWorkflow(ctx, ReviewWorkflowType, gold)
	if err := child.GetChildWorkflowExecution().Get(ctx, nil); err != nil {
		logger.Warn("gold document's review did not start", "document", gold.DocumentID, "error", err)
	}
}
