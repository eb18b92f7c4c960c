package countersign

import "encoding/json"

// Ceilings on what a person sends with a decision, a veto or a policy
// reset. Temporal refuses a payload over 2 MiB (TMPRL1103, after retrying
// for some seconds while the review waits) and a gRPC message over 4 MiB;
// these keep every update, and the activity inputs that carry its fields on
// beside the draft, well below both. Every workflow validator enforces them,
// whoever sent the update; the API refuses sooner, at its own limits
// (--max-reason, --max-field-value), which may not be higher.
const (
	// MaxReasonBytes bounds the reason of a decision, veto or policy reset.
	MaxReasonBytes = 64 << 10
	// MaxFieldValueBytes bounds one field value of a decision or veto, as
	// JSON.
	MaxFieldValueBytes = 256 << 10
	// MaxDecisionBytes bounds the fields of a decision or veto (names and
	// values as JSON) and its reason together.
	MaxDecisionBytes = 512 << 10
)

// DecisionLimits bound the reason and each field value of a decision, veto
// or policy reset, in bytes.
type DecisionLimits struct {
	ReasonBytes     int
	FieldValueBytes int
}

// DecisionCeilings are the ceilings, as the workflow validators apply them.
var DecisionCeilings = DecisionLimits{ReasonBytes: MaxReasonBytes, FieldValueBytes: MaxFieldValueBytes}

// Check refuses (CodeTooLarge) a reason or a field value over l, or fields
// and reason together over MaxDecisionBytes, saying how large it is and
// what the limit is. Fields are checked in name order, so the refusal is
// the same every time.
func (l DecisionLimits) Check(fields Fields, reason string) error {
	if len(reason) > l.ReasonBytes {
		return Errorf(CodeTooLarge, "reason is %d bytes; the limit is %d", len(reason), l.ReasonBytes)
	}
	total := len(reason)
	for _, name := range fields.Names() {
		raw, err := json.Marshal(fields[name])
		if err != nil {
			return Errorf(CodeInvalid, "field %.64q: %v", name, err)
		}
		if len(raw) > l.FieldValueBytes {
			return Errorf(CodeTooLarge, "field %.64q is %d bytes as JSON; the limit is %d", name, len(raw), l.FieldValueBytes)
		}
		total += len(name) + len(raw)
	}
	if total > MaxDecisionBytes {
		return Errorf(CodeTooLarge, "the fields and reason together are %d bytes; the limit is %d", total, MaxDecisionBytes)
	}
	return nil
}
