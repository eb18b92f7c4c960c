package api

import "github.com/countersign/countersign"

// mayReview refuses a reviewer the documents of a task type whose review
// groups they are in none of (see dispatch.Dispatcher.MayReview), the rule
// a decision is held to.
func (h *handlers) mayReview(p countersign.Principal, taskType string) error {
	if h.Dispatch == nil {
		return nil
	}
	return h.Dispatch.MayReview(p, taskType)
}

// knownTaskType refuses, with the names of those configured, a task type
// this server does not know (400).
func (h *handlers) knownTaskType(name string) error {
	if h.Dispatch == nil || h.Dispatch.TaskTypes == nil {
		return nil
	}
	if _, err := h.Dispatch.TaskTypes.Get(name); err != nil {
		return countersign.Errorf(countersign.CodeBadRequest, "%s", err.Error())
	}
	return nil
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
