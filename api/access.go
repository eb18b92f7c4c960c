package api

import (
	"strings"

	"github.com/countersign/countersign"
)

// TaskTypeLookup finds the task type of a name, as configured now.
type TaskTypeLookup interface {
	Get(name string) (*countersign.TaskType, error)
}

// mayReview refuses a reviewer the documents of a task type whose review
// groups they are in none of (see Principal.MayReview); other roles pass.
// The groups are the task type's as configured now, not as when a document
// was submitted: access follows today's rules. A task type no longer
// configured names no groups.
func mayReview(types TaskTypeLookup, p countersign.Principal, taskType string) error {
	if p.Role != countersign.RoleReviewer || types == nil {
		return nil
	}
	tt, err := types.Get(taskType)
	if err != nil || p.MayReview(tt) {
		return nil
	}
	return countersign.Errorf(countersign.CodeForbidden, "%s may not review %s documents: they are for the review groups %s",
		p.User, taskType, strings.Join(tt.ReviewGroups, ", "))
}

// taskTypes is the configured task types, or nil for a router without
// intake (some tests), where no review groups apply.
func (h *handlers) taskTypes() TaskTypeLookup {
	if h.Starter == nil || h.Starter.TaskTypes == nil {
		return nil
	}
	return h.Starter.TaskTypes
}

// reviewableBy lists the task types reviewer p may review when some are
// closed to them; see reviewable.
func (h *handlers) reviewableBy(p countersign.Principal) []string {
	if h.Starter == nil || h.Starter.TaskTypes == nil {
		return nil
	}
	return reviewable(h.Starter.TaskTypes.All(), p)
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
