package dispatch

import (
	"context"
	"fmt"
	"strings"

	"github.com/countersign/countersign"
)

// readComparison checks a comparison item at intake: a prompt, between 2
// and the task type's maximum candidates (exactly 2 in pairs mode), each
// with its own ID and a response within the size limit (422 naming what is
// wrong).
func readComparison(tt *countersign.TaskType, sub Submission) error {
	item, err := countersign.ReadSubmittedItem([]byte(sub.Content), tt.Comparison)
	if err != nil {
		return countersign.Errorf(countersign.CodeInvalid, "task type %s compares candidates: %v", tt.Name, err)
	}
	if len(item.Candidates) == 0 && sub.Prelabel != nil {
		// A prelabel is the draft: the generators would never run, and
		// the prelabel would rank candidates the item does not have.
		return countersign.Errorf(countersign.CodeInvalid, "task type %s: an item without candidates gets them from comparison.generators, so it cannot come with a prelabel: submit the candidates with it, or leave the prelabel out", tt.Name)
	}
	return nil
}

// checkComparison refuses, before it reaches the workflow, a decision on
// a comparison (a review's, or a veto's) whose outcome would not be a
// ranking of this item: the fields a correction leaves (the draft's, with
// the correction applied), or the draft an approval approves, must pass
// countersign.CheckComparison against the item's candidates (a permutation
// of their IDs, the tie policy kept, every rubric criterion answered). The
// workflow's validator holds fields to the task type's schema; this is the
// part that depends on the item, which only the store holds. An approval
// that names a correction approves fields checked when they were sent.
// Whether the document is a comparison is the task type version it is
// pinned to that says, not the task type of that name now (which may have
// changed kind since): so every such decision reads the document (doc
// when the caller has it, else from the store), and the version through
// the Resolver (cached).
func (d *Dispatcher) checkComparison(ctx context.Context, doc *countersign.Document, documentID string, action countersign.Action, fields countersign.Fields, approves string) error {
	switch {
	case action == countersign.ActionCorrect && len(fields) > 0:
	case action == countersign.ActionApprove && approves == "" && len(fields) == 0:
	default:
		return nil
	}
	if doc == nil {
		var err error
		if doc, err = d.Store.GetDocument(ctx, documentID); err != nil {
			return fmt.Errorf("decision on document %s: %w", documentID, err)
		}
	}
	tt, err := d.Resolver.Version(ctx, doc.TaskTypeVersion)
	if err != nil {
		return fmt.Errorf("decision on document %s: task type version %s: %w", doc.ID, doc.TaskTypeVersion, err)
	}
	if tt.Comparison == nil {
		return nil
	}
	item, err := countersign.ReadDocumentItem(doc.Content, doc.Draft, tt.Comparison)
	if err != nil {
		return countersign.Errorf(countersign.CodeInvalid, "document %s is not a comparison item of task type %s: %v", doc.ID, tt.Name, err)
	}
	var draft countersign.Fields
	if !doc.Draft.Failed() {
		draft = doc.Draft.Fields
	}
	if action == countersign.ActionApprove {
		if draft == nil {
			return nil // the workflow refuses: there is no draft to approve
		}
		if err := countersign.CheckComparison(tt.Comparison, item.IDs(), draft); err != nil {
			return countersign.Errorf(countersign.CodeInvalid, "the judge's draft cannot be approved as it is (%v): correct it", err)
		}
		return nil
	}
	if err := countersign.CheckComparison(tt.Comparison, item.IDs(), countersign.Correct(draft, fields)); err != nil {
		return countersign.Errorf(countersign.CodeInvalid, "the decision does not rank item %s's candidates (%s): %v", item.ID, strings.Join(item.IDs(), ", "), err)
	}
	return nil
}
