package api

import (
	"context"
	"strings"

	"github.com/countersign/countersign"
)

// mayReview refuses a reviewer the documents of a task type whose review
// groups they are in none of (see dispatch.Dispatcher.MayReview), the rule
// a decision is held to.
func (h *handlers) mayReview(p countersign.Principal, taskType string) error {
	if h.Dispatch == nil {
		return nil
	}
	return h.Dispatch.MayReview(p, taskType)
}

// knownTaskType refuses (400) a task type this server does not know and
// no review was ever opened under, naming the task types p may review.
func (h *handlers) knownTaskType(ctx context.Context, name string, p countersign.Principal) error {
	if h.Dispatch == nil || h.Dispatch.TaskTypes == nil {
		return nil
	}
	if _, err := h.Dispatch.TaskTypes.Get(name); err == nil {
		return nil
	}
	some, err := h.Store.ListReviews(ctx, countersign.ReviewFilter{TaskType: name, Limit: 1})
	if err != nil {
		return err
	}
	if len(some.Reviews) > 0 {
		return nil
	}
	known := h.reviewableBy(p)
	if known == nil {
		for _, tt := range h.Dispatch.TaskTypes.All() {
			known = append(known, tt.Name)
		}
	}
	return countersign.Errorf(countersign.CodeBadRequest, "unknown task type %q (known: %s)", name, strings.Join(known, ", "))
}

// reviewableBy lists the task types reviewer p may review when some are
// closed to them; see reviewable.
func (h *handlers) reviewableBy(p countersign.Principal) []string {
	if h.Dispatch == nil || h.Dispatch.TaskTypes == nil {
		return nil
	}
	return reviewable(h.Dispatch.TaskTypes.All(), p)
}

// reviewable lists the task types a reviewer may review when some are
// closed to them; nil when they may review all, as every other role may.
func reviewable(types []*countersign.TaskType, p countersign.Principal) []string {
	if p.Role != countersign.RoleReviewer {
		return nil
	}
	open := []string{}
	for _, tt := range types {
		if p.MayReview(tt) {
			open = append(open, tt.Name)
		}
	}
	if len(open) == len(types) {
		return nil
	}
	return open
}
