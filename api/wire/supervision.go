package wire

import (
	"github.com/countersign/countersign"
)

// VetoRequest is the body of POST /v1/documents/{id}/veto.
type VetoRequest struct {
	Action countersign.Action `json:"action"`
	Fields countersign.Fields `json:"fields,omitempty"`
	Reason string             `json:"reason,omitempty"`
}

// ResetRequest is the body of POST /v1/policy/reset.
type ResetRequest struct {
	TaskType string `json:"task_type"`
	Reason   string `json:"reason"`
}
