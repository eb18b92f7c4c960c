package workflows_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/audit"
	"github.com/countersign/countersign/internal/provenance"
	"github.com/countersign/countersign/workflows"
)

// TestValidatorRefusesWhatItCannotVerify sends decisions as anyone who can
// reach the Temporal frontend could: without the API's envelope, with a
// forged or altered one, one made for another review, update or time, and
// from a reviewer outside the review groups. Each is refused before it
// enters history; then a decision the API signed closes the review, and
// the trail holds that decision only.
func TestValidatorRefusesWhatItCannotVerify(t *testing.T) {
	f := newFixture(t, nil)
	in := f.document("contract-review", "msa-northwind-harbor.txt")
	in.ReviewGroups = []string{"legal"}
	review := countersign.ReviewID(in.DocumentID, 1)
	rita := countersign.Principal{User: "rita", Role: countersign.RoleReviewer, Groups: []string{"legal"}}
	approve := workflows.DecisionRequest{ReviewID: review, Action: countersign.ActionApprove, Actor: rita, Channel: countersign.ChannelAPI}
	otherKey, err := audit.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	mallory := provenance.NewSigner(otherKey)

	// signed builds a request whose envelope is made by signer from claims
	// that change may alter, and which alter may change after signing.
	signed := func(signer *provenance.Signer, req workflows.DecisionRequest, change func(*provenance.Claims), alter func(*workflows.DecisionRequest)) func(string, string) any {
		return func(workflowID, updateID string) any {
			claims, err := req.Claims(in.DocumentID, updateID)
			if err != nil {
				t.Fatal(err)
			}
			claims.IssuedAt = f.env.Now()
			if change != nil {
				change(&claims)
			}
			if req.Provenance, err = signer.Sign(claims); err != nil {
				t.Fatal(err)
			}
			if alter != nil {
				alter(&req)
			}
			return req
		}
	}
	unsigned := func(req workflows.DecisionRequest) func(string, string) any {
		return func(string, string) any { return req }
	}
	cases := []struct {
		name  string
		build func(workflowID, updateID string) any
		text  string
	}{
		{"no envelope, no user", unsigned(workflows.DecisionRequest{ReviewID: review, Action: countersign.ActionApprove, Actor: countersign.Principal{Role: countersign.RoleReviewer}}), "names no user"},
		{"no envelope, made-up admin", unsigned(workflows.DecisionRequest{ReviewID: review, Action: countersign.ActionApprove, Actor: countersign.Principal{User: "mallory-not-a-user", Role: countersign.RoleAdmin}}), "carries no signed envelope"},
		{"another key", signed(mallory, workflows.DecisionRequest{ReviewID: review, Action: countersign.ActionApprove, Actor: countersign.Principal{User: "mallory", Role: countersign.RoleAdmin}}, nil, nil), "does not trust"},
		{"signature altered", signed(testSigner, approve, nil, func(r *workflows.DecisionRequest) { r.Provenance.Signature[0] ^= 1 }), "does not verify"},
		{"claims altered", signed(testSigner, approve, nil, func(r *workflows.DecisionRequest) {
			r.Provenance.Claims = []byte(strings.Replace(string(r.Provenance.Claims), `"reviewer"`, `"admin"`, 1))
		}), "does not verify"},
		{"actor changed after signing", signed(testSigner, approve, nil, func(r *workflows.DecisionRequest) { r.Actor.Role = countersign.RoleAdmin }), `signed for the role "reviewer"`},
		{"groups changed after signing", signed(testSigner, approve, nil, func(r *workflows.DecisionRequest) { r.Actor.Groups = []string{"legal", "risk"} }), "signed for the groups"},
		{"channel changed after signing", signed(testSigner, approve, nil, func(r *workflows.DecisionRequest) { r.Channel = countersign.ChannelSlack }), "signed for the channel"},
		{"fields changed after signing", signed(testSigner, workflows.DecisionRequest{ReviewID: review, Action: countersign.ActionCorrect, Fields: countersign.Fields{"term_months": 12}, Actor: rita}, nil, func(r *workflows.DecisionRequest) {
			r.Fields = countersign.Fields{"term_months": 120}
		}), "content (fields, reason) differs"},
		{"action changed after signing", signed(testSigner, approve, nil, func(r *workflows.DecisionRequest) { r.Action, r.Reason = countersign.ActionReject, "no" }), `signed for the action "approve"`},
		{"another review", signed(testSigner, approve, func(c *provenance.Claims) { c.Subject = review + "x" }, nil), "signed for the subject"},
		{"another update", signed(testSigner, approve, func(c *provenance.Claims) { c.UpdateID = "decision-earlier" }, nil), "signed for the update ID"},
		{"another workflow", signed(testSigner, approve, func(c *provenance.Claims) { c.WorkflowID = "review/other" }, nil), "signed for the workflow"},
		{"stale", signed(testSigner, approve, func(c *provenance.Claims) { c.IssuedAt = c.IssuedAt.Add(-provenance.Lifetime - time.Second) }, nil), "stale"},
		{"from the future", signed(testSigner, approve, func(c *provenance.Claims) { c.IssuedAt = c.IssuedAt.Add(provenance.Skew + time.Minute) }, nil), "in the future"},
		{"outside the review groups", signed(testSigner, workflows.DecisionRequest{ReviewID: review, Action: countersign.ActionApprove, Actor: reviewer("ravi"), Channel: countersign.ChannelAPI}, nil, nil), "not in the review groups"},
	}
	outcomes := make([]*outcome, len(cases))
	for i, tc := range cases {
		outcomes[i] = f.sendAfter(time.Duration(i+1)*time.Minute, "", workflows.DecisionUpdate, tc.build)
	}
	veto := f.sendAfter(time.Duration(len(cases)+1)*time.Minute, "", workflows.VetoUpdate, func(string, string) any {
		return workflows.VetoRequest{Action: countersign.ActionReject, Reason: "no", Actor: approver("sue"), Channel: countersign.ChannelAPI}
	})
	good := f.decideAfter(time.Hour, approve)
	result := f.run(in)

	for i, tc := range cases {
		o := outcomes[i]
		var appErr *temporal.ApplicationError
		if o.rejected == nil || !errors.As(o.rejected, &appErr) || appErr.Type() != string(countersign.CodeForbidden) || !strings.Contains(appErr.Error(), tc.text) {
			t.Errorf("%s: refused with %v (result %+v, failure %v), want forbidden containing %q", tc.name, o.rejected, o.result, o.failed, tc.text)
		}
	}
	if veto.rejected == nil || !strings.Contains(veto.rejected.Error(), "carries no signed envelope") {
		t.Errorf("unsigned veto: refused with %v", veto.rejected)
	}
	if result.Status != countersign.StatusAccepted || good.result == nil || good.result.Decision.Actor != "rita" {
		t.Fatalf("result %+v, signed decision %+v (%v %v)", result, good.result, good.rejected, good.failed)
	}
	if got, want := f.eventTypes(in.DocumentID), reviewedEvents; got != want {
		t.Fatalf("audit events:\n got %s\nwant %s", got, want)
	}
}

// TestWorkerWithoutKeysRefusesEveryDecision: a worker that was given no
// verification keys fails closed.
func TestWorkerWithoutKeysRefusesEveryDecision(t *testing.T) {
	f := newFixture(t, nil)
	f.env = nil
	f.renewWith(&workflows.Workflows{})
	in := f.document("contract-review", "msa-northwind-harbor.txt")
	review := countersign.ReviewID(in.DocumentID, 1)
	o := f.decideAfter(time.Minute, workflows.DecisionRequest{ReviewID: review, Action: countersign.ActionApprove, Actor: reviewer("rita"), Channel: countersign.ChannelAPI})
	f.at(time.Hour, func() { f.env.CancelWorkflow() })
	f.execute(in)
	if o.rejected == nil || !strings.Contains(o.rejected.Error(), "no keys to verify") {
		t.Fatalf("decision on a worker without keys: refused with %v, result %+v", o.rejected, o.result)
	}
}
