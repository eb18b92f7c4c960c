package oversightbench

import (
	"errors"

	"github.com/countersign/countersign"
)

// Decision is what the oracle decides on a review: the body of a decision
// request to the REST API.
type Decision struct {
	Action countersign.Action
	Fields countersign.Fields
	Reason string
}

// Right reports whether fields are what the notice's truth says: the same
// fields, each with an equivalent value. Nothing is right for a document a
// person would reject.
func Right(n *Notice, fields countersign.Fields) bool {
	if n.Reject != "" {
		return false
	}
	for name, want := range n.Truth {
		got, ok := fields[name]
		if !ok || !countersign.Equivalent(got, want) {
			return false
		}
	}
	for name := range fields {
		if _, ok := n.Truth[name]; !ok {
			return false
		}
	}
	return true
}

// WrongFields lists the fields of a draft that differ from the truth: a
// wrong, missing or extra value, in the task type's order.
func WrongFields(n *Notice, fields countersign.Fields) []string {
	var out []string
	for _, name := range Fields {
		want, inTruth := n.Truth[name]
		got, inDraft := fields[name]
		if inTruth != inDraft || inTruth && !countersign.Equivalent(got, want) {
			out = append(out, name)
		}
	}
	return out
}

// ErrCannotAudit is the oracle's answer to an audit of an auto-accepted
// document that should have been rejected: an audit may approve or
// correct, and neither says so.
var ErrCannotAudit = errors.New("the document is not a claim notice, and an audit cannot reject it")

// Decide is the oracle reviewer: the decision a careful person who knows
// the truth makes on a review of n, whose fields stand as shown (the draft
// in a review, the accepted fields in an audit). It approves what is right,
// corrects what is not to the truth (a patch: each wrong field its true
// value, each field the truth does not have removed), and rejects a
// document that is not a claim notice.
func Decide(n *Notice, fields countersign.Fields, kind countersign.ReviewKind) (Decision, error) {
	if n.Reject != "" {
		if kind == countersign.ReviewAudit {
			return Decision{}, ErrCannotAudit
		}
		return Decision{Action: countersign.ActionReject, Reason: n.Reject}, nil
	}
	wrong := WrongFields(n, fields)
	if len(wrong) == 0 {
		return Decision{Action: countersign.ActionApprove}, nil
	}
	patch := countersign.Fields{}
	for _, name := range wrong {
		patch[name] = n.Truth[name] // nil, which removes it, when the truth has none
	}
	return Decision{Action: countersign.ActionCorrect, Fields: patch}, nil
}
