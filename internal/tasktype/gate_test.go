package tasktype_test

import (
	"strings"
	"testing"
	"time"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/tasktype"
)

const gateBase = "name: x\nfields:\n  type: object\n  properties: {a: {type: string}}\npolicy:\n  mode: hitl\n"

func TestHumanGatePolicy(t *testing.T) {
	good, err := tasktype.Parse([]byte(gateBase+`  approvals_required: 2
  blind_review: true
  adjudicator: admin
  notify: {channel: "#contracts", groups: [contracts]}
  sla:
    remind_after: 4h
    escalate_after: 24h
    escalate_to: {channel: "#leads", groups: [leads]}
    timeout_after: 72h
    timeout_action: hold
`), "good.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p := good.Policy
	if p.Approvals() != 2 || !p.BlindReview || p.AdjudicatorRole() != countersign.RoleAdmin || p.Notify.Channel != "#contracts" || p.Notify.Groups[0] != "contracts" {
		t.Fatalf("policy = %+v", p)
	}
	s := p.SLA
	if s.RemindAfter != 4*time.Hour || s.EscalateAfter != 24*time.Hour || s.TimeoutAfter != 72*time.Hour || s.TimeoutAction != countersign.TimeoutHold ||
		s.EscalateTo.Channel != "#leads" || s.EscalateTo.Groups[0] != "leads" {
		t.Fatalf("sla = %+v", s)
	}
	// Seconds parse, for tests that wait for a timeout; any one step alone
	// is an SLA.
	short, err := tasktype.Parse([]byte(gateBase+"  sla: {timeout_after: 2s, timeout_action: reject}\n"), "short.yaml")
	if err != nil || short.Policy.SLA.TimeoutAfter != 2*time.Second || short.Policy.SLA.TimeoutAction != countersign.TimeoutReject {
		t.Fatalf("short sla = %+v, %v", short, err)
	}
}

func TestHumanGateDefaultsKeepThePolicyVersion(t *testing.T) {
	plain, err := tasktype.Parse([]byte(gateBase), "plain.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if plain.Policy.Approvals() != 1 || plain.Policy.AdjudicatorRole() != countersign.RoleApprover || plain.Policy.SLA != nil || plain.Policy.Notify != nil {
		t.Fatalf("defaults = %+v", plain.Policy)
	}
	// The version of a policy without the new keys is what it was before
	// they existed (computed with the code before them).
	if plain.Policy.Version != "55213ccf7f5c" {
		t.Fatalf("policy version = %s: a policy that sets none of the human gate's keys must keep its version", plain.Policy.Version)
	}
	two, _ := tasktype.Parse([]byte(gateBase+"  approvals_required: 2\n"), "two.yaml")
	notified, _ := tasktype.Parse([]byte(gateBase+"  notify: {channel: \"#c\"}\n"), "notify.yaml")
	if two.Policy.Version == plain.Policy.Version || notified.Policy.Version == plain.Policy.Version || two.Policy.Version == notified.Policy.Version {
		t.Fatalf("versions %s %s %s: each key set must change the policy version", plain.Policy.Version, two.Policy.Version, notified.Policy.Version)
	}
}

func TestHumanGatePolicyErrors(t *testing.T) {
	cases := []struct {
		name, policy string
		want         []string
	}{
		{"approvals", "  approvals_required: 0\n", []string{"bad.yaml: policy.approvals_required: must be between 1 and 10 different people (got 0)"}},
		{"too many approvals", "  approvals_required: 11\n", []string{"policy.approvals_required: must be between 1 and 10"}},
		{"approvals not a number", "  approvals_required: two\n", []string{`bad.yaml: policy.approvals_required: must be a whole number of people such as 2 (got "two")`}},
		{"adjudicator role", "  approvals_required: 2\n  adjudicator: auditor\n", []string{`policy.adjudicator: must be a role that decides reviews: reviewer, approver or admin (got "auditor")`}},
		{"adjudicator without disagreements", "  adjudicator: approver\n", []string{"policy.adjudicator: settles disagreements between reviewers, which need approvals_required of 2 or more"}},
		{"blind without a second person", "  blind_review: true\n", []string{"policy.blind_review: keeps reviewers from seeing each other's decisions, which needs approvals_required of 2 or more"}},
		{"empty sla", "  sla: {}\n", []string{"policy.sla: sets no interval"}},
		{"bad duration", "  sla: {remind_after: soon}\n", []string{`policy.sla.remind_after: must be a positive duration such as 4h, 90m or 2s (got "soon")`}},
		{"negative duration", "  sla: {remind_after: -1h}\n", []string{`policy.sla.remind_after: must be a positive duration`}},
		{"order", "  sla: {remind_after: 24h, escalate_after: 4h, escalate_to: {channel: \"#l\"}, timeout_after: 2h, timeout_action: reject}\n", []string{
			"policy.sla.escalate_after: must be longer than remind_after (24h): a review is reminded, then escalated, then timed out (got 4h)",
			"policy.sla.timeout_after: must be longer than escalate_after (4h)",
		}},
		{"equal steps", "  sla: {remind_after: 4h, timeout_after: 4h, timeout_action: hold}\n", []string{"policy.sla.timeout_after: must be longer than remind_after (4h)"}},
		{"escalation without audience", "  sla: {escalate_after: 24h}\n", []string{"policy.sla.escalate_to: is missing: whom escalate_after tells"}},
		{"audience without escalation", "  sla: {remind_after: 4h, escalate_to: {channel: \"#l\"}}\n", []string{"policy.sla.escalate_to: needs escalate_after"}},
		{"empty audience", "  sla: {escalate_after: 24h, escalate_to: {}}\n", []string{"policy.sla.escalate_to: names no one"}},
		{"timeout without action", "  sla: {timeout_after: 72h}\n", []string{"policy.sla.timeout_action: is missing: what timeout_after does, reject or hold"}},
		{"action without timeout", "  sla: {remind_after: 4h, timeout_action: reject}\n", []string{"policy.sla.timeout_action: needs timeout_after"}},
		{"timeout approving", "  sla: {timeout_after: 72h, timeout_action: approve}\n", []string{"policy.sla.timeout_action: cannot be approve: a document no person decided never counts"}},
		{"unknown action", "  sla: {timeout_after: 72h, timeout_action: escalate}\n", []string{`policy.sla.timeout_action: unknown action "escalate" (known: reject, hold)`}},
		{"unknown sla key", "  sla: {remind: 4h}\n", []string{"field remind not found"}},
		{"empty notify", "  notify: {}\n", []string{"policy.notify: names no one"}},
		{"notify channel", "  notify: {channel: \"#a, #b\"}\n", []string{`policy.notify.channel: must be one channel name or ID`}},
		{"notify groups", "  notify: {groups: [\"a,b\"]}\n", []string{`policy.notify.groups: group name "a,b"`}},
	}
	for _, tc := range cases {
		_, err := tasktype.Parse([]byte(gateBase+tc.policy), "bad.yaml")
		for _, want := range tc.want {
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("%s: error %v\nlacks %q", tc.name, err, want)
			}
		}
	}
}
