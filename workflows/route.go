package workflows

import (
	"fmt"

	"github.com/countersign/countersign"
)

// Route applies a policy to a scored draft. It is deterministic and uses only
// the policy pinned at the workflow's start, so a replay routes the same way
// whatever the task type file says today.
func Route(p countersign.Policy, draft *countersign.Draft, c *countersign.Confidence) *countersign.Route {
	r := &countersign.Route{Mode: p.Mode, Threshold: p.AutoAcceptThreshold, PolicyVersion: p.Version}
	overall := 0.0
	if c != nil {
		overall = c.Overall
	}
	switch {
	case draft.Failed():
		r.Outcome = countersign.OutcomeHumanReview
		r.Reasons = append(r.Reasons, "no draft: extraction failed ("+draftError(draft)+"); a person must fill the fields")
	case p.Mode == countersign.ModeHITL:
		r.Outcome = countersign.OutcomeHumanReview
		r.Reasons = append(r.Reasons, "policy mode hitl: every document is reviewed by a person")
	case overall >= p.AutoAcceptThreshold:
		r.Outcome = countersign.OutcomeAutoAccept
		r.Reasons = append(r.Reasons, fmt.Sprintf("confidence %.2f is at or above the auto-accept threshold %.2f", overall, p.AutoAcceptThreshold))
	default:
		r.Outcome = countersign.OutcomeHumanReview
		r.Reasons = append(r.Reasons, fmt.Sprintf("confidence %.2f is below the auto-accept threshold %.2f", overall, p.AutoAcceptThreshold))
	}
	if r.Outcome == countersign.OutcomeHumanReview && c != nil {
		r.Reasons = append(r.Reasons, weakness(c)...)
	}
	return r
}

// weakness explains, for a reviewer, what makes the draft uncertain.
func weakness(c *countersign.Confidence) []string {
	reasons := append([]string(nil), c.Reasons...)
	if c.Weakest == "" {
		return reasons
	}
	fs := c.Fields[c.Weakest]
	if fs.Score >= 1 {
		return reasons
	}
	detail := ""
	if len(fs.Reasons) > 0 {
		detail = ": " + fs.Reasons[0]
	}
	return append(reasons, fmt.Sprintf("weakest field %s (%.2f)%s", c.Weakest, fs.Score, detail))
}

func draftError(d *countersign.Draft) string {
	if d == nil || d.Error == "" {
		return "no draft was made"
	}
	return d.Error
}
