package workflows

// Change IDs for workflow.GetVersion: one per change in the commands a
// workflow issues. A run records the version it took where its code first
// asks (that place is part of its history) and replays it from there ever
// after, so a run recorded before a change replays without it.
const (
	// hotlChange is what issue 5 added to the review workflow: the
	// stratified audit draw, delivery, the veto window and the audit
	// review. Asked when the route is decided.
	hotlChange = "hotl-supervision"
	// gateChange is what issue 4 added to the human gate: notices, the
	// SLA's timers, several approvals and adjudication. Asked when the gate
	// opens.
	gateChange = "human-gate"
	// approvesChange is approvals that name the correction they approve:
	// before it, an approval after a correction stood for the correction.
	// Asked right after gateChange, in runs that have it.
	approvesChange = "approval-names-correction"
	// goldChange is the gold draw after a review opens. Asked when a gate
	// review of a policy with a gold rate has opened (slipGold).
	goldChange = "gold-items"
	// verifiedAudits is what issue 15 changed in the supervisor: reports
	// counted only once the store confirms them (ConfirmAudits, in
	// batches), a window that starts from the certificate of the policy in
	// force (PolicyBasis, also after a reset) and the policy signal. Runs
	// recorded before it count the reports as they come and judge the
	// audits alone.
	verifiedAudits = "supervisor-verified-audits"
	// drawOrderChange is what issue 15 changed next in the supervisor: it
	// counts the audits in the order they were drawn, each once decided or
	// due, reading them from the store (CountAudits), with a timer for the
	// next one due (or, with none waiting, within review_due); reports
	// only wake it. Asked right after
	// verifiedAudits, in runs that have it. Runs without it count
	// confirmed reports in the order the audits were decided.
	drawOrderChange = "supervisor-draw-order"
	// trustedStartChange is the supervisor refusing a start whose input it
	// cannot vouch for (trustedStart): a workflow ID that is not its task
	// type's, or a carried state in a run it did not continue as new.
	// Asked only when it refuses, so runs it lets through record nothing;
	// a run a worker without it began replays as it ran.
	trustedStartChange = "supervisor-trusted-start"
	// localStepsChange is what issue 22 changed in the review workflow:
	// the steps before the route that only read and write the store run
	// as local activities (storeStep). Asked first thing in the run.
	localStepsChange = "local-store-steps"
	// readBackChange is what issue 22 changed next: Score and Finalize,
	// which answer a second run with what their first stored, run as
	// local activities (readBackStep). Asked before the draft is scored.
	readBackChange = "local-score-finalize"
	// localDeliverChange is what issue 22 changed last: Deliver is tried
	// first as a bounded local activity, and scheduled as an activity only
	// when that attempt fails (deliver). Asked at each delivery.
	localDeliverChange = "local-deliver"
	// blindChange is blind review (issue 18): under a policy with
	// blind_review, an approval stands for the draft and each person
	// decides without the others' decisions. Asked when the gate opens, in
	// runs whose policy asks for blind review only, so other runs' histories
	// do not change; a run a worker without it began (which ignored the
	// policy's blind_review) replays without it.
	blindChange = "blind-review"
)

// The versions of localDeliverChange.
const (
	// localDeliverFirst: the local attempt, then the activity after any
	// failure of it.
	localDeliverFirst = 1
	// localDeliverPermanent: a failure the local attempt marks permanent
	// fails the delivery; only a timeout or a failure worth retrying is
	// left to the activity.
	localDeliverPermanent = 2
	// localDeliverNotAfterPerson: a delivery that follows a person's
	// update (the final document a decision at the gate settled or a veto
	// amended, the correction an audit made) is scheduled as the activity
	// at once, with no local attempt, after the person is answered: their
	// answer leaves with the workflow task, and does not wait for the
	// receiver.
	localDeliverNotAfterPerson = 3
)

// versions says which behaviours a review run has, one field per change,
// each named for what it guards. A field is set where the run asks for its
// version (decideRoute, humanGate); until then it is false, and what it
// guards has not begun.
type versions struct {
	// deliveryAndAudits (hotlChange, asked in decideRoute): the audit draw
	// is the DrawAudit activity's, stratified by band, not Route's; and the
	// final document is delivered (after its veto window, when it was
	// auto-accepted) and audited when drawn. Runs without it end when the
	// document is final.
	deliveryAndAudits bool
	// gateNoticesSLAApprovals (gateChange, asked in humanGate): the gate
	// sends notices, runs the SLA's reminder, escalation and timeout, needs
	// the policy's number of approvals under four-eyes duties, and sends a
	// disagreement to adjudication. Runs without it close the gate on its
	// first decision.
	gateNoticesSLAApprovals bool
	// approvalsNameCorrections (approvesChange, asked in humanGate): an
	// approval stands for the correction it names, and one that names none
	// approves the draft. Runs without it take an approval after a
	// correction as approving it.
	approvalsNameCorrections bool
	// localStoreSteps (localStepsChange, asked when the run starts): the
	// steps before the route that only read and write the store and whose
	// input history holds already (Receive, DrawAudit, RecordRoute) run as
	// local activities (storeStep says why only those). Runs without it
	// schedule them as activities.
	localStoreSteps bool
	// readBackSteps (readBackChange, asked in score): Score and Finalize
	// run as local activities (readBackStep). Runs without it, among them
	// runs that had scored before the change, schedule them as
	// activities.
	readBackSteps bool
	// localDeliver (localDeliverChange, asked at each delivery): a
	// delivery is tried once as a local activity, bounded, before the
	// activity. Runs without it schedule the activity alone.
	localDeliver bool
	// permanentLocalDeliveryFails (localDeliverChange at version
	// localDeliverPermanent): a non-retryable failure of the local attempt
	// fails the delivery, as the activity's would. Runs without it
	// schedule the activity after any failure of the attempt, which took
	// a conflict under the delivery's event ID for a delivery made.
	permanentLocalDeliveryFails bool
	// deliverAfterPersonAsActivity (localDeliverChange at version
	// localDeliverNotAfterPerson): a final document a person's decision
	// settled or a veto amended, and an audit's correction, are delivered
	// by the activity alone, the correction by the pipeline once the
	// audit's handler has answered. Runs without it try the local attempt
	// first, in the workflow task that answers the decision or the veto,
	// whose answer then waited for the receiver (up to the attempt's 3
	// seconds); and the audit's handler delivered the correction itself,
	// so its answer waited for the delivery, the activity's retries
	// included.
	deliverAfterPersonAsActivity bool
	// blindReview (blindChange, asked in humanGate when the policy asks
	// for blind review of more than one person): the gate review opens
	// blind, an approval stands for the draft whatever was corrected, and
	// names no correction. Runs without it decide as if not blind.
	blindReview bool
}
