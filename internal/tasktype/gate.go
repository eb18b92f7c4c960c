package tasktype

import (
	"strings"
	"time"

	"github.com/countersign/countersign"
)

// MaxApprovals bounds approvals_required: more people than this on one
// document is a committee, not a review.
const MaxApprovals = 10

// parseGate reads the human gate's part of the policy: how many people must
// agree, who settles a disagreement, the SLA and whom to notify.
func parseGate(in policyFile, out *countersign.Policy, p *problems) {
	if node := in.ApprovalsRequired; node.Kind != 0 {
		var n int
		switch err := node.Decode(&n); {
		case err != nil:
			p.add("policy.approvals_required", "must be a whole number of people such as 2 (got %q)", node.Value)
		case n < 1 || n > MaxApprovals:
			p.add("policy.approvals_required", "must be between 1 and %d different people (got %d)", MaxApprovals, n)
		default:
			out.ApprovalsRequired = n
		}
	}
	if in.Adjudicator != "" {
		out.Adjudicator = in.Adjudicator
		switch {
		case !in.Adjudicator.CanDecide():
			p.add("policy.adjudicator", "must be a role that decides reviews: %s, %s or %s (got %q)", countersign.RoleReviewer, countersign.RoleApprover, countersign.RoleAdmin, in.Adjudicator)
		case out.Approvals() < 2:
			p.add("policy.adjudicator", "settles disagreements between reviewers, which need approvals_required of 2 or more")
		}
	}
	if in.BlindReview {
		out.BlindReview = true
		if out.Approvals() < 2 {
			p.add("policy.blind_review", "keeps reviewers from seeing each other's decisions, which needs approvals_required of 2 or more")
		}
	}
	if in.SLA != nil {
		out.SLA = parseSLA(*in.SLA, p)
	}
	if in.Notify != nil {
		out.Notify = parseAudience(*in.Notify, "policy.notify", p)
	}
}

func parseSLA(in slaFile, p *problems) *countersign.SLA {
	out := &countersign.SLA{}
	duration := func(field, value string) time.Duration {
		if value == "" {
			return 0
		}
		d, err := time.ParseDuration(value)
		if err != nil || d <= 0 {
			p.add("policy.sla."+field, "must be a positive duration such as 4h, 90m or 2s (got %q)", value)
			return 0
		}
		return d
	}
	out.RemindAfter = duration("remind_after", in.RemindAfter)
	out.EscalateAfter = duration("escalate_after", in.EscalateAfter)
	out.TimeoutAfter = duration("timeout_after", in.TimeoutAfter)
	if in.RemindAfter == "" && in.EscalateAfter == "" && in.TimeoutAfter == "" {
		p.add("policy.sla", "sets no interval: give remind_after, escalate_after, timeout_after, or several")
	}
	// Each step comes after the one before it that is set.
	steps := []struct {
		name  string
		after time.Duration
	}{{"remind_after", out.RemindAfter}, {"escalate_after", out.EscalateAfter}, {"timeout_after", out.TimeoutAfter}}
	var last struct {
		name  string
		after time.Duration
	}
	for _, s := range steps {
		if s.after <= 0 {
			continue
		}
		if last.after > 0 && s.after <= last.after {
			p.add("policy.sla."+s.name, "must be longer than %s (%s): a review is reminded, then escalated, then timed out (got %s)",
				last.name, countersign.FormatDuration(last.after), countersign.FormatDuration(s.after))
		}
		last = s
	}
	switch {
	case in.EscalateTo != nil:
		out.EscalateTo = parseAudience(*in.EscalateTo, "policy.sla.escalate_to", p)
		if in.EscalateAfter == "" {
			p.add("policy.sla.escalate_to", "needs escalate_after: when to tell them")
		}
	case in.EscalateAfter != "":
		p.add("policy.sla.escalate_to", "is missing: whom escalate_after tells, as {channel: \"#leads\", groups: [leads]}")
	}
	switch action := countersign.TimeoutAction(in.TimeoutAction); action {
	case countersign.TimeoutReject, countersign.TimeoutHold:
		out.TimeoutAction = action
		if in.TimeoutAfter == "" {
			p.add("policy.sla.timeout_action", "needs timeout_after: when to take it")
		}
	case "":
		if in.TimeoutAfter != "" {
			p.add("policy.sla.timeout_action", "is missing: what timeout_after does, %s or %s", countersign.TimeoutReject, countersign.TimeoutHold)
		}
	case "approve", "accept", "auto_accept":
		p.add("policy.sla.timeout_action", "cannot be %s: a document no person decided never counts; use %s or %s", in.TimeoutAction, countersign.TimeoutReject, countersign.TimeoutHold)
	default:
		p.add("policy.sla.timeout_action", "unknown action %q (known: %s, %s)", in.TimeoutAction, countersign.TimeoutReject, countersign.TimeoutHold)
	}
	return out
}

func parseAudience(in audienceFile, field string, p *problems) *countersign.Audience {
	if strings.TrimSpace(in.Channel) == "" && len(in.Groups) == 0 {
		p.add(field, "names no one: give a channel, groups, or both")
	}
	if in.Channel != "" && (strings.TrimSpace(in.Channel) != in.Channel || strings.ContainsAny(in.Channel, " \t\n,")) {
		p.add(field+".channel", "must be one channel name or ID, such as \"#contracts\" or C024BE91L (got %q)", in.Channel)
	}
	if err := countersign.CheckGroups(in.Groups); err != nil {
		p.add(field+".groups", "%v", err)
	}
	return &countersign.Audience{Channel: in.Channel, Groups: in.Groups}
}
