package activities

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/countersign/countersign"
)

// ErrUntrustedStart is the type of the error with which Receive refuses a
// review whose input the store does not vouch for. The review workflow ends
// with it at once, recording and changing nothing: the document may be
// another review's, or final.
const ErrUntrustedStart = "untrusted_start"

// checkStart holds a review's input to what the store says: anyone who can
// reach the Temporal frontend can start a review workflow with any input,
// so none of it is taken on trust. The workflow must be the document's
// review (its ID is the one every step's event ID is made from); the
// document must not be final; the task type, its version, the submitter,
// the schema and the review groups must be the stored document's and its
// task type version's; and the policy must be the one its version names,
// rebuilt from the store: the task type version's own, then a policy
// version of the task type, then a supervisor's override of it, then the
// gold policy when, and only when, the document is a gold item.
func (a *Activities) checkStart(ctx context.Context, in ReceiveInput, doc *countersign.Document) error {
	if activity.IsActivity(ctx) {
		id := activity.GetInfo(ctx).WorkflowExecution.ID
		if n, ok := strings.CutPrefix(in.Step.EventID, id+"/"); !ok || n == "" || strings.Trim(n, "0123456789") != "" {
			return untrusted(doc.ID, "workflow %s is not the review of document %s", id, doc.ID)
		}
	}
	if doc.Status.Final() {
		return untrusted(doc.ID, "document %s is already %s", doc.ID, doc.Status)
	}
	if in.Step.TaskTypeVersion != doc.TaskTypeVersion || in.TaskType != doc.TaskType {
		return untrusted(doc.ID, "document %s is of task type %s version %s, not %s version %s", doc.ID, doc.TaskType, doc.TaskTypeVersion, in.TaskType, in.Step.TaskTypeVersion)
	}
	tt, err := a.TaskTypes.Version(ctx, doc.TaskTypeVersion)
	if err != nil {
		return retryable(err)
	}
	switch {
	case tt.Name != doc.TaskType:
		return untrusted(doc.ID, "task type version %s is of %s, not of document %s's task type %s", tt.Version, tt.Name, doc.ID, doc.TaskType)
	case in.SubmittedBy != doc.SubmittedBy:
		return untrusted(doc.ID, "document %s was submitted by %q, not %q", doc.ID, doc.SubmittedBy, in.SubmittedBy)
	case !sameJSON(in.Schema, tt.Schema):
		return untrusted(doc.ID, "the schema is not that of task type %s version %s", tt.Name, tt.Version)
	case !slices.Equal(in.ReviewGroups, tt.ReviewGroups):
		return untrusted(doc.ID, "review groups %v are not task type %s's %v", in.ReviewGroups, tt.Name, tt.ReviewGroups)
	}
	_, err = a.Store.GetGold(ctx, doc.ID)
	switch {
	case errors.Is(err, countersign.ErrNotFound):
		if in.Gold {
			return untrusted(doc.ID, "document %s is not a gold item", doc.ID)
		}
	case err != nil:
		return retryable(err)
	case !in.Gold:
		return untrusted(doc.ID, "document %s is a gold item, to be reviewed under the gold policy", doc.ID)
	}
	want, err := a.pinnedPolicy(ctx, tt, in.Policy.Version, in.Gold)
	if err != nil {
		return err
	}
	if !sameJSON(mustJSON(in.Policy), mustJSON(want)) {
		return untrusted(doc.ID, "policy %s is not what version %s of task type %s says", in.Policy.Version, in.Policy.Version, tt.Name)
	}
	return nil
}

// pinnedPolicy rebuilds the policy a review of tt pins under version: tt's
// own policy version, then "+" and each of, in order and at most once, a
// policy version of the task type, a supervisor's override of it, and
// "gold" (which gold says there must be).
func (a *Activities) pinnedPolicy(ctx context.Context, tt *countersign.TaskType, version string, gold bool) (countersign.Policy, error) {
	unknown := func(format string, args ...any) error {
		return untrusted("", "policy version %q is not one task type %s knows: %s", version, tt.Name, fmt.Sprintf(format, args...))
	}
	rest, ok := strings.CutPrefix(version, tt.Policy.Version)
	if !ok || rest != "" && rest[0] != '+' {
		return countersign.Policy{}, unknown("its own policy version is %s", tt.Policy.Version)
	}
	p := tt.Policy
	const (
		own = iota
		versioned
		overridden
		golden
	)
	stage := own
	for _, part := range strings.Split(rest, "+")[1:] {
		switch {
		case part == "gold" && stage < golden:
			p, stage = countersign.GoldPolicy(p), golden
		case countersign.IsPolicyVersionID(tt.Name, part) && stage < versioned:
			v, err := a.Store.PolicyVersion(ctx, part)
			if errors.Is(err, countersign.ErrNotFound) {
				return p, unknown("no policy version %s", part)
			}
			if err != nil {
				return p, retryable(err)
			}
			p, stage = v.Apply(p), versioned
		case stage < overridden:
			overrides, err := a.Store.Overrides(ctx, tt.Name)
			if err != nil {
				return p, retryable(err)
			}
			i := slices.IndexFunc(overrides, func(o countersign.PolicyOverride) bool { return o.ID == part })
			if i < 0 {
				return p, unknown("no policy version or supervisor's override %s", part)
			}
			p, stage = overrides[i].Apply(p), overridden
		default:
			return p, unknown("%s is out of place", part)
		}
	}
	if gold != (stage == golden) {
		return p, unknown("a gold item's review, and only one, runs under the gold policy")
	}
	return p, nil
}

// untrusted is Receive's refusal of a review's input.
func untrusted(documentID, format string, args ...any) error {
	msg := "review input refused: " + fmt.Sprintf(format, args...)
	return temporal.NewNonRetryableApplicationError(msg, ErrUntrustedStart, countersign.Errorf(countersign.CodeForbidden, "%s", msg), documentID)
}

// sameJSON reports whether two JSON texts say the same, white space aside.
func sameJSON(x, y []byte) bool {
	var bx, by bytes.Buffer
	if json.Compact(&bx, x) != nil || json.Compact(&by, y) != nil {
		return bytes.Equal(x, y)
	}
	return bytes.Equal(bx.Bytes(), by.Bytes())
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}
