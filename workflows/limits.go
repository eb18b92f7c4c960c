package workflows

import "github.com/countersign/countersign"

// checkSize refuses (too_large, 413 through the API) a decision, veto or
// reset whose reason or fields are over the ceilings, whoever sent it: an
// update can reach a workflow without the API, and one over Temporal's own
// payload limits would block the review until Temporal gave up on it. Only
// the validators call it: handlers run again on replay, and histories from
// before the ceilings may hold larger requests.
//
// workflowcheck reports the check because it ranges over the fields and
// encodes each value as JSON. It takes the names in sorted order, and the
// values came as JSON: one request has one answer, and a refusal never
// enters history.
//
//workflowcheck:ignore
func checkSize(fields countersign.Fields, reason string) error {
	if err := countersign.DecisionCeilings.Check(fields, reason); err != nil {
		return refuse(countersign.ErrorCode(err), "%v", err)
	}
	return nil
}
