package countersign

// AssignStrategy is how a task type picks the person a review is assigned
// to when it opens.
type AssignStrategy string

// Assignment strategies.
const (
	// AssignRoundRobin takes the people of the list in turn, one turn per
	// review opened, with a turn counter per task type that every worker
	// shares (the store's), so two workers never give the same turn twice.
	AssignRoundRobin AssignStrategy = "round_robin"
	// AssignLeastLoaded takes the person with the fewest pending reviews
	// assigned to them (ties: the first in the list).
	AssignLeastLoaded AssignStrategy = "least_loaded"
	// AssignRule takes the people of the first rule whose expression the
	// document matches, the least loaded of them; when none matches, the
	// task type's own list, if any, least loaded too.
	AssignRule AssignStrategy = "rule"
)

// AssignStrategies lists the strategies, in the order help texts show them.
var AssignStrategies = []AssignStrategy{AssignRoundRobin, AssignLeastLoaded, AssignRule}

// Assignment is how a task type assigns its reviews to people when they
// open. To lists users and groups ("group:contracts" names the members
// of a reviewer group, as their API tokens say); only people who could
// decide the review are picked: never the document's submitter, never
// someone who decided any review of the document (four eyes), always of
// the task type's review groups. A review with nobody eligible opens
// unassigned.
type Assignment struct {
	Strategy AssignStrategy `json:"strategy"`
	To       []string       `json:"to,omitempty"`
	// Rules, for the rule strategy, route by the document: the first whose
	// When (CEL over fields, metadata and confidence, as the policy's rules
	// see them) is true gives the people.
	Rules []AssignRuleSpec `json:"rules,omitempty"`
}

// AssignRuleSpec is one rule of the rule strategy.
type AssignRuleSpec struct {
	When string   `json:"when"`
	To   []string `json:"to"`
}

// GroupPrefix marks a group in an assignment's list: "group:contracts".
const GroupPrefix = "group:"

// EventReviewAssigned records that a review was assigned to a person: when
// it opened (by the task type's strategy), when its assignee decided a
// review that waits for more people (four eyes), or by an approver
// (reassigned, naming the previous assignee).
const EventReviewAssigned = "review.assigned"

// Assign asks the store to assign a pending review to To, provided it is
// still assigned to Previous ("" for nobody), so that of two callers one
// assigns it.
type Assign struct {
	ReviewID string
	To       string
	Previous string
}
