// Package assign picks the person a review is assigned to, by a task
// type's assignment (countersign.Assignment), among the people who could
// decide it, and says why someone could not. The activity that opens a
// review assigns it; the dispatcher checks claims and reassignments with
// the same refusals.
package assign

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/expr"
)

// Case is what decides who may take a review: the review, its document
// and its decisions so far, the task type's review groups, and for an
// adjudication the role the policy leaves it to.
type Case struct {
	Review    *countersign.Review
	Document  *countersign.Document
	Decisions []countersign.Decision
	Groups    []string
	// Adjudicator is the role that settles the disagreement review
	// settles; "" when it settles none.
	Adjudicator countersign.Role
}

// Refusal is why p may not decide c's review, or nil: a role that may
// not decide, a reviewer outside the groups, the submitter, someone who
// decided the review already, and, on an adjudication, someone without
// the adjudicator's role or who decided the document before.
func Refusal(p countersign.Principal, c Case) error {
	if !p.Role.CanDecide() {
		return countersign.Errorf(countersign.CodeForbidden, "%s (role %s) may not take reviews: the reviewer, approver or admin role is needed", p.User, p.Role)
	}
	if !p.MayReviewIn(c.Groups) {
		return countersign.Errorf(countersign.CodeForbidden, "%s may not review %s documents: they are for the review groups %v", p.User, c.Review.TaskType, c.Groups)
	}
	if c.Document.SubmittedBy != "" && c.Document.SubmittedBy == p.User {
		return countersign.Errorf(countersign.CodeForbidden, "%s submitted document %s, so may not review it: separation of duties needs someone else", p.User, c.Document.ID)
	}
	for _, x := range c.Decisions {
		if x.ReviewID == c.Review.ID && x.Actor == p.User {
			// Not what they decided: the refusal may reach someone else
			// (a reassignment), and on a blind review that stays hidden.
			return countersign.Errorf(countersign.CodeForbidden, "%s decided review %s already, and nobody counts twice", p.User, c.Review.ID)
		}
	}
	if c.Adjudicator == "" {
		return nil
	}
	if p.Role != c.Adjudicator && p.Role != countersign.RoleAdmin {
		return countersign.Errorf(countersign.CodeForbidden, "review %s settles a disagreement, which the policy leaves to the %s role; %s has the %s role", c.Review.ID, c.Adjudicator, p.User, p.Role)
	}
	for _, x := range c.Decisions {
		if x.Actor == p.User && x.ReviewID != c.Review.ID {
			return countersign.Errorf(countersign.CodeForbidden, "%s decided review %s (%s), so may not settle the disagreement over document %s: the adjudicator must be someone else", p.User, x.ReviewID, x.Action, c.Review.DocumentID)
		}
	}
	return nil
}

// Store is what picking reads and counts.
type Store interface {
	ListTokens(ctx context.Context) ([]countersign.Token, error)
	AssignmentTurn(ctx context.Context, key string) (int64, error)
	AssignedLoad(ctx context.Context, people []string) (map[string]int, error)
}

// People are the people countersign can assign to: the users of live API
// tokens (neither revoked nor expired), each with the principals of their
// tokens.
type People map[string][]countersign.Principal

// Directory reads the people from the store's tokens at now.
func Directory(ctx context.Context, s Store, now time.Time) (People, error) {
	tokens, err := s.ListTokens(ctx)
	if err != nil {
		return nil, fmt.Errorf("the people to assign reviews to: %w", err)
	}
	out := People{}
	for _, t := range tokens {
		if t.RevokedAt != nil || (t.ExpiresAt != nil && !t.ExpiresAt.After(now)) {
			continue
		}
		out[t.User] = append(out[t.User], t.Principal())
	}
	return out, nil
}

// Refusal is why user may not decide c's review under any of their
// tokens (the first token's reason), or nil; a user without a live token
// is refused.
func (ps People) Refusal(user string, c Case) error {
	principals := ps[user]
	if len(principals) == 0 {
		return countersign.Errorf(countersign.CodeForbidden, "%s has no live API token, so countersign does not know their role: they could not take review %s", user, c.Review.ID)
	}
	var first error
	for _, p := range principals {
		err := Refusal(p, c)
		if err == nil {
			return nil
		}
		if first == nil {
			first = err
		}
	}
	return first
}

// Expand lists the people of an assignment's list, in its order, each
// once: a user as named, a group ("group:contracts") as its members by
// name.
func (ps People) Expand(to []string) []string {
	var out []string
	add := func(user string) {
		if !slices.Contains(out, user) {
			out = append(out, user)
		}
	}
	for _, name := range to {
		group, isGroup := strings.CutPrefix(name, countersign.GroupPrefix)
		if !isGroup {
			add(name)
			continue
		}
		var members []string
		for user, principals := range ps {
			for _, p := range principals {
				if slices.Contains(p.Groups, group) {
					members = append(members, user)
					break
				}
			}
		}
		sort.Strings(members)
		for _, m := range members {
			add(m)
		}
	}
	return out
}

// Choice is whom a review is assigned to, and how they were picked.
type Choice struct {
	To       string                     `json:"to"`
	Strategy countersign.AssignStrategy `json:"strategy"`
	// Rule is the index of the rule that matched (rule strategy); nil
	// when the task type's own list was used.
	Rule *int `json:"rule,omitempty"`
	// Turn is the round-robin turn taken.
	Turn *int64 `json:"turn,omitempty"`
	// Load is how many pending reviews were assigned to them before
	// (least loaded and rule).
	Load *int `json:"load,omitempty"`
}

// Pick chooses whom c's review is assigned to by a, of the people who
// could decide it and decided no review of the document (four eyes: a
// second approval goes to someone else). ok is false when nobody is
// eligible or no rule matched and a lists nobody else: the review stays
// unassigned, open to every reviewer.
func Pick(ctx context.Context, s Store, ps People, taskType string, a *countersign.Assignment, c Case) (choice Choice, ok bool, err error) {
	choice.Strategy = a.Strategy
	to := a.To
	if a.Strategy == countersign.AssignRule {
		for i, r := range a.Rules {
			if matches(r.When, c.Document) {
				to = r.To
				choice.Rule = &i
				break
			}
		}
	}
	eligible := ps.eligible(ps.Expand(to), c)
	if len(eligible) == 0 {
		return choice, false, nil
	}
	if a.Strategy == countersign.AssignRoundRobin {
		turn, err := s.AssignmentTurn(ctx, taskType)
		if err != nil {
			return choice, false, err
		}
		choice.To, choice.Turn = eligible[turn%int64(len(eligible))], &turn
		return choice, true, nil
	}
	load, err := s.AssignedLoad(ctx, eligible)
	if err != nil {
		return choice, false, err
	}
	least := eligible[0]
	for _, p := range eligible[1:] {
		if load[p] < load[least] {
			least = p
		}
	}
	n := load[least]
	choice.To, choice.Load = least, &n
	return choice, true, nil
}

// eligible keeps of people those who could decide c's review and decided
// no review of its document.
func (ps People) eligible(people []string, c Case) []string {
	var out []string
	for _, user := range people {
		if decidedDocument(c.Decisions, user) || ps.Refusal(user, c) != nil {
			continue
		}
		out = append(out, user)
	}
	return out
}

func decidedDocument(decisions []countersign.Decision, user string) bool {
	for _, x := range decisions {
		if x.Actor == user {
			return true
		}
	}
	return false
}

// matches evaluates a rule over the document as the policy's rules see
// it; a rule that cannot be evaluated (a missing field, a type
// mismatch) does not match.
func matches(when string, doc *countersign.Document) bool {
	prg, err := expr.Compile(when)
	if err != nil {
		return false
	}
	var v expr.Vars
	v.Metadata = doc.Metadata
	if doc.Draft != nil {
		v.Fields = doc.Draft.Fields
	}
	if doc.Confidence != nil {
		v.Confidence = doc.Confidence.Overall
	}
	ok, err := prg.Eval(v)
	return err == nil && ok
}
