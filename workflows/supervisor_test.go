package workflows_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/testsuite"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/quality"
	"github.com/countersign/countersign/workflows"
)

// TestSupervisorTightensAndOnlyAPersonResets drives the supervisor with a
// synthetic stream of audits: 200 clean ones at confidence 0.97, then one in
// three wrong, all wrong ones at confidence 0.91. The escaped-error bound
// first sits under the 5% budget, then crosses it; the supervisor must
// tighten exactly at the first audit where the Wilson bound exceeds the
// budget, to the smallest threshold above which the audits met it (0.92),
// hold it, and let only an approver reset it.
func TestSupervisorTightensAndOnlyAPersonResets(t *testing.T) {
	f := newFixture(t, nil)
	tt, err := f.types.Get("pii-extraction")
	if err != nil {
		t.Fatal(err)
	}
	sup := tt.Policy.Supervision
	if sup == nil || sup.Bound != countersign.BoundWilson || sup.ErrorBudget != 0.05 || tt.Policy.AutoAcceptThreshold != 0.9 {
		t.Fatalf("the test assumes pii-extraction supervises with Wilson, a 5%% budget and threshold 0.9: %+v %+v", tt.Policy, sup)
	}
	const clean, total = 200, 320
	escaped := func(i int) bool { return i >= clean && (i-clean)%3 == 0 }
	// Where the bound should first exceed the budget, computed from the
	// cumulative tally (quality.UpperBound has its own hand-checked tests).
	trip, k := -1, 0
	minAudits, _ := quality.MinAudits(sup.Bound, sup.ErrorBudget, sup.Level)
	for i := 0; i < total && trip < 0; i++ {
		if escaped(i) {
			k++
		}
		bound, _ := quality.UpperBound(sup.Bound, k, i+1, sup.Level)
		if i+1 >= minAudits && bound > sup.ErrorBudget {
			trip = i
		}
	}
	if trip <= clean {
		t.Fatalf("the stream should trip after the clean audits, trips at %d", trip)
	}

	var states []workflows.Supervision
	query := func() workflows.Supervision {
		v, err := f.env.QueryWorkflow(workflows.SupervisionQuery)
		if err != nil {
			t.Fatal(err)
		}
		var s workflows.Supervision
		if err := v.Get(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	for i := range total {
		o := countersign.AuditOutcome{DocumentID: fmt.Sprintf("doc-%03d", i), TaskType: tt.Name, Confidence: 0.97, Auditor: "ana"}
		if escaped(i) {
			o.Escaped, o.Confidence = true, 0.91
		}
		f.env.RegisterDelayedCallback(func() {
			f.env.SignalWorkflow(workflows.AuditSignal, o)
			if i == 0 {
				// A retried report of the same audit counts once.
				f.env.SignalWorkflow(workflows.AuditSignal, o)
			}
		}, time.Duration(i+1)*time.Minute)
		if i == trip-1 || i == trip {
			f.env.RegisterDelayedCallback(func() { states = append(states, query()) }, time.Duration(i+1)*time.Minute+30*time.Second)
		}
	}
	reset := func(at time.Duration, p countersign.Principal, reason string) *error {
		var got error
		done := &got
		f.env.RegisterDelayedCallback(func() {
			f.updates++
			id := fmt.Sprintf("reset-%d", f.updates)
			req := f.sign(workflows.SupervisorWorkflowID(tt.Name), id, workflows.ResetRequest{Reason: reason, Actor: p, Channel: countersign.ChannelCLI})
			f.env.UpdateWorkflow(workflows.ResetUpdate, id, &testsuite.TestUpdateCallback{
				OnReject:   func(err error) { *done = err },
				OnAccept:   func() {},
				OnComplete: func(_ any, err error) { *done = errors.Join(*done, err) },
			}, req)
		}, at)
		return done
	}
	end := time.Duration(total+10) * time.Minute
	byReviewer := reset(end, reviewer("rita"), "looks fine")
	noReason := reset(end+time.Minute, approver("sue"), " ")
	byApprover := reset(end+2*time.Minute, approver("sue"), "prompt fixed; re-audited")
	again := reset(end+3*time.Minute, approver("sue"), "again")
	var after workflows.Supervision
	f.env.RegisterDelayedCallback(func() { after = query(); f.env.CancelWorkflow() }, end+4*time.Minute)

	f.env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: workflows.SupervisorWorkflowID(tt.Name)})
	f.env.ExecuteWorkflow(workflows.SupervisorWorkflowType, workflows.SupervisorInput{TaskType: tt.Name})

	if len(states) != 2 {
		t.Fatalf("queried %d states", len(states))
	}
	before, at := states[0], states[1]
	if before.Override != nil || before.Estimate == nil || before.Estimate.Breached {
		t.Fatalf("one audit before the trip point the policy is already tightened: %+v", before)
	}
	o := at.Override
	if o == nil || o.Mode != countersign.ModeHOTL || o.Threshold != 0.92 || o.Audits != trip+1 || !at.Estimate.Breached {
		t.Fatalf("at the trip point (audit %d): override %+v, estimate %+v", trip+1, o, at.Estimate)
	}
	if at.All.Audits != trip+1 {
		t.Fatalf("the repeated report was counted twice: %d audits", at.All.Audits)
	}
	if !strings.Contains(o.Reason, "raised from 0.90 to 0.92") {
		t.Fatalf("override reason = %q", o.Reason)
	}
	if *byReviewer == nil || !strings.Contains((*byReviewer).Error(), "approver or admin") {
		t.Fatalf("a reviewer's reset = %v", *byReviewer)
	}
	if *noReason == nil || !strings.Contains((*noReason).Error(), "needs a reason") {
		t.Fatalf("a reset without a reason = %v", *noReason)
	}
	if *byApprover != nil {
		t.Fatalf("the approver's reset failed: %v", *byApprover)
	}
	if *again == nil || !strings.Contains((*again).Error(), "not tightened") {
		t.Fatalf("a second reset = %v", *again)
	}
	if after.Override != nil || after.Window.Total().Audits != 0 || after.All.Audits != total {
		t.Fatalf("after the reset: %+v", after)
	}
	if active, _ := f.store.ActiveOverride(context.Background(), tt.Name); active != nil {
		t.Fatalf("override still in force after reset: %+v", active)
	}
	overrides, _ := f.store.Overrides(context.Background(), tt.Name)
	if len(overrides) != 1 || overrides[0].ID != o.ID || overrides[0].Threshold != 0.92 || overrides[0].ResetBy != "sue" || overrides[0].ResetReason != "prompt fixed; re-audited" {
		t.Fatalf("overrides = %+v", overrides)
	}
	var types []string
	if err := f.store.ScanAudit(context.Background(), 0, func(e countersign.AuditEvent) error {
		types = append(types, e.Type)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(types, " "); got != "policy.tightened policy.reset" {
		t.Fatalf("audit events = %s", got)
	}
}
