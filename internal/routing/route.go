// Package routing decides where a document goes (auto-accept, review,
// reject) from its policy, draft, confidence and matched rules. The review
// workflow routes with it (package workflows keeps its names), and the
// policy simulation replays it; it imports only the root package, so a
// client that simulates or certifies does not link Temporal.
package routing

import (
	"fmt"

	"github.com/countersign/countersign"
)

// RouteInput is what routing decides on: the policy pinned at the
// workflow's start, the document, its draft and confidence, and the policy
// rules that matched the draft (checked by the Score activity).
type RouteInput struct {
	Policy     countersign.Policy
	DocumentID string
	Draft      *countersign.Draft
	Confidence *countersign.Confidence
	Rules      []countersign.RuleHit
}

// Route applies a policy to a scored draft. It is deterministic and uses only
// its input, so a replay routes the same way whatever the task type file says
// today. In order:
//   - no draft: a person fills the fields;
//   - a draft submitted with the document (a pre-label): a person looks;
//   - a risk rule matched, or a rule could not be evaluated: a person looks;
//   - a reject rule matched: rejected (in hitl, a person confirms);
//   - hitl: a person reviews;
//   - confidence at or above the threshold: accepted, and a share of those,
//     drawn by document ID, queued for audit;
//   - otherwise: a person reviews.
func Route(in RouteInput) *countersign.Route {
	p, c := in.Policy, in.Confidence
	r := &countersign.Route{Mode: p.Mode, Threshold: p.AutoAcceptThreshold, PolicyVersion: p.Version, Rules: in.Rules}
	overall := 0.0
	if c != nil {
		overall = c.Overall
		r.Calibration = c.Calibration
	}
	risks, rejects := ruleReasons(in.Rules)
	switch {
	case in.Draft.Failed():
		r.Outcome = countersign.OutcomeHumanReview
		r.Reasons = append(r.Reasons, "no draft: extraction failed ("+DraftError(in.Draft)+"); a person must fill the fields")
	case in.Draft.Extractor == countersign.ExtractorPrelabel:
		// Whoever submitted the document wrote its draft: it counts only
		// once a person has looked. (Data no run before pre-labels
		// carries, so no version is needed.)
		r.Outcome = countersign.OutcomeHumanReview
		r.Reasons = append(r.Reasons, prelabelReason(in.Draft))
		r.Reasons = append(r.Reasons, risks...)
	case len(risks) > 0:
		r.Outcome = countersign.OutcomeHumanReview
		if p.Mode == countersign.ModeHITL {
			r.Reasons = append(r.Reasons, hitlReason)
		}
		r.Reasons = append(r.Reasons, risks...)
	case len(rejects) > 0 && p.Mode == countersign.ModeHITL:
		// hitl means a person sees every document: the rule proposes, a
		// person rejects.
		r.Outcome = countersign.OutcomeHumanReview
		r.Reasons = append(r.Reasons, hitlReason)
		r.Reasons = append(r.Reasons, rejects...)
	case len(rejects) > 0:
		r.Outcome = countersign.OutcomeReject
		r.Reasons = append(r.Reasons, rejects...)
	case p.Mode == countersign.ModeHITL:
		r.Outcome = countersign.OutcomeHumanReview
		r.Reasons = append(r.Reasons, hitlReason)
	case overall >= p.AutoAcceptThreshold:
		r.Outcome = countersign.OutcomeAutoAccept
		score, threshold := countersign.ScorePair(overall, p.AutoAcceptThreshold)
		r.Reasons = append(r.Reasons, fmt.Sprintf("confidence %s is at or above the auto-accept threshold %s", score, threshold))
		if AuditSampled(in.DocumentID, p.AuditSampleRate) {
			r.Outcome = countersign.OutcomeAutoAcceptWithAudit
			r.Reasons = append(r.Reasons, fmt.Sprintf("drawn for a post-hoc audit (audit sample rate %g)", p.AuditSampleRate))
		}
	default:
		r.Outcome = countersign.OutcomeHumanReview
		score, threshold := countersign.ScorePair(overall, p.AutoAcceptThreshold)
		r.Reasons = append(r.Reasons, fmt.Sprintf("confidence %s is below the auto-accept threshold %s", score, threshold))
	}
	if r.Outcome == countersign.OutcomeHumanReview && c != nil {
		r.Reasons = append(r.Reasons, weakness(c)...)
	}
	return r
}

const hitlReason = "policy mode hitl: every document is reviewed by a person"

// prelabelReason says why a pre-labelled draft goes to a person.
func prelabelReason(d *countersign.Draft) string {
	from := "outside countersign"
	if d.Model != "" {
		from = "by " + d.Model
	}
	return "pre-labelled " + from + ", submitted with the document: a person checks every pre-label"
}

// ruleReasons explains the matched rules. A reject rule that could not be
// evaluated sends the document to a person, as a risk rule does.
func ruleReasons(hits []countersign.RuleHit) (risks, rejects []string) {
	for _, h := range hits {
		switch {
		case h.Error != "":
			risks = append(risks, fmt.Sprintf("%s rule %q could not be evaluated (%s); a person must check", h.Kind, h.Name, h.Error))
		case h.Kind == countersign.RuleRisk:
			risks = append(risks, fmt.Sprintf("risk rule %q matched: %s", h.Name, h.When))
		case h.Kind == countersign.RuleReject:
			rejects = append(rejects, fmt.Sprintf("reject rule %q matched: %s", h.Name, h.When))
		}
	}
	return risks, rejects
}

// AuditSampled draws whether an auto-accepted document is audited: the
// first 8 bytes of SHA-256("audit-sample:" + document ID), read as a
// fraction of 2^64, fall below the rate. The draw depends on nothing but the
// ID, so a replay, a retry or a resubmission draws the same.
func AuditSampled(documentID string, rate float64) bool {
	if rate <= 0 {
		return false
	}
	return countersign.Draw([]byte("audit-sample:"+documentID)) < rate
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

// DraftError says why a draft failed, for the reasons a person reads.
func DraftError(d *countersign.Draft) string {
	if d == nil || d.Error == "" {
		return "no draft was made"
	}
	return d.Error
}
