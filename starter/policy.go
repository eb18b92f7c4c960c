package starter

import (
	"context"

	"github.com/countersign/countersign"
)

// InForce is the policy a review of a task type version starts under now,
// and what made it so.
type InForce struct {
	// Policy is the task type version's own policy, then the policy version
	// in force, then the supervisor's override in force (tightening only);
	// its Version names each that applied.
	Policy   countersign.Policy
	Version  *countersign.PolicyVersion
	Override *countersign.PolicyOverride
}

// PolicyInForce reads what is in force for tt's task type and applies it
// to tt's policy, in the order a review pins it.
func PolicyInForce(ctx context.Context, store countersign.Store, tt *countersign.TaskType) (*InForce, error) {
	v, err := store.PolicyInForce(ctx, tt.Name)
	if err != nil {
		return nil, err
	}
	o, err := store.ActiveOverride(ctx, tt.Name)
	if err != nil {
		return nil, err
	}
	return &InForce{Policy: o.Apply(v.Apply(tt.Policy)), Version: v, Override: o}, nil
}
