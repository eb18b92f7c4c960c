// Package starter is intake: it stores a submitted document and starts its
// review workflow, idempotently. Submitting the same document again returns
// the same document and joins its workflow instead of starting a second one.
package starter

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/tasktype"
	"github.com/countersign/countersign/workflows"
)

// DefaultMaxDocumentBytes bounds a document body unless configured otherwise.
const DefaultMaxDocumentBytes = 5 << 20

// Starter stores documents and starts their reviews.
type Starter struct {
	Client    client.Client
	Store     countersign.Store
	TaskTypes *tasktype.Registry
	Resolver  *tasktype.Resolver
	// MaxDocumentBytes bounds a document body (default DefaultMaxDocumentBytes).
	MaxDocumentBytes int
	Now              func() time.Time

	// snapshots holds the task type versions this process has stored, so
	// that each is written once rather than with every document.
	snapshots sync.Map
}

// Submission is one document to review.
type Submission struct {
	TaskType    string
	ExternalID  string
	Content     string
	Metadata    map[string]string
	SubmittedBy string
	Channel     countersign.Channel
}

// Submit stores the document and makes sure its review runs. It returns the
// document as stored and whether this call created it. A resubmission of the
// same content (or the same external ID with the same content) returns the
// existing document; the same external ID with other content is a conflict.
func (s *Starter) Submit(ctx context.Context, sub Submission) (*countersign.Document, bool, error) {
	if err := s.check(sub); err != nil {
		return nil, false, err
	}
	tt, err := s.TaskTypes.Get(sub.TaskType)
	if err != nil {
		return nil, false, err
	}
	doc := &countersign.Document{
		ID:              countersign.DocumentID(tt.Name, sub.ExternalID, sub.Content),
		TaskType:        tt.Name,
		TaskTypeVersion: tt.Version,
		ExternalID:      sub.ExternalID,
		Content:         sub.Content,
		ContentSHA256:   countersign.ContentSHA256(sub.Content),
		Metadata:        sub.Metadata,
		Status:          countersign.StatusProcessing,
		SubmittedBy:     sub.SubmittedBy,
		Channel:         sub.Channel,
		CreatedAt:       s.now(),
	}
	if _, stored := s.snapshots.Load(tt.Version); !stored {
		if err := s.Store.PutTaskType(ctx, countersign.TaskTypeSnapshot{Name: tt.Name, Version: tt.Version, Source: tt.Source, CreatedAt: doc.CreatedAt}); err != nil {
			return nil, false, err
		}
		s.snapshots.Store(tt.Version, true)
	}
	stored, created, err := s.Store.CreateDocument(ctx, doc)
	if err != nil {
		return nil, false, err
	}
	if !created && stored.ContentSHA256 != doc.ContentSHA256 {
		return nil, false, countersign.Errorf(countersign.CodeConflict,
			"document %q of task type %s was already submitted with different content (document %s)", sub.ExternalID, tt.Name, stored.ID)
	}
	if stored.Status.Final() {
		return stored, false, nil
	}
	if !created {
		if err := s.checkUnfinished(ctx, stored); err != nil {
			return nil, false, err
		}
	}
	if err := s.start(ctx, stored, sub); err != nil {
		return nil, false, err
	}
	return stored, created, nil
}

// checkUnfinished looks at the review of a resubmitted document that is not
// final. Running, or never started (intake stopped between storing the
// document and starting its workflow), it may be joined or started. But a
// review that ended without finishing the document (an operator terminated
// it) cannot run again under the same ID without clashing with its own audit
// trail: that is a conflict for a person to look at.
func (s *Starter) checkUnfinished(ctx context.Context, doc *countersign.Document) error {
	desc, err := s.Client.DescribeWorkflowExecution(ctx, workflows.ReviewWorkflowID(doc.ID), "")
	var notFound *serviceerror.NotFound
	switch {
	case errors.As(err, &notFound):
		events, err := s.Store.DocumentAudit(ctx, doc.ID)
		if err != nil {
			return err
		}
		if !received(events) {
			return nil
		}
		return countersign.Errorf(countersign.CodeConflict,
			"document %s is %s, but its review workflow no longer exists (its history outlived retention); it cannot be restarted under the same ID", doc.ID, doc.Status)
	case err != nil:
		return unavailable(fmt.Errorf("describe the review of %s: %w", doc.ID, err))
	}
	if status := desc.GetWorkflowExecutionInfo().GetStatus(); status != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		return countersign.Errorf(countersign.CodeConflict,
			"document %s is %s, but its review workflow ended as %s without finishing it; look at the workflow before resubmitting", doc.ID, doc.Status,
			strings.ToLower(strings.TrimPrefix(status.String(), "WORKFLOW_EXECUTION_STATUS_")))
	}
	return nil
}

func (s *Starter) check(sub Submission) error {
	limit := s.MaxDocumentBytes
	if limit <= 0 {
		limit = DefaultMaxDocumentBytes
	}
	switch {
	case sub.TaskType == "":
		return countersign.Errorf(countersign.CodeInvalid, "task_type is required")
	case strings.TrimSpace(sub.Content) == "":
		return countersign.Errorf(countersign.CodeInvalid, "content is empty")
	case len(sub.Content) > limit:
		return countersign.Errorf(countersign.CodeTooLarge, "document is %d bytes; the limit is %d", len(sub.Content), limit)
	case !utf8.ValidString(sub.Content):
		return countersign.Errorf(countersign.CodeInvalid, "content is not valid UTF-8 text")
	case strings.ContainsRune(sub.Content, 0) || strings.ContainsRune(sub.ExternalID, 0):
		return countersign.Errorf(countersign.CodeInvalid, "content or external_id contains a NUL character")
	case len(sub.ExternalID) > 256:
		return countersign.Errorf(countersign.CodeInvalid, "external_id is longer than 256 characters")
	}
	for k, v := range sub.Metadata {
		if strings.ContainsRune(k, 0) || strings.ContainsRune(v, 0) {
			return countersign.Errorf(countersign.CodeInvalid, "metadata %q contains a NUL character", k)
		}
	}
	return nil
}

// start starts the document's review workflow, or joins the one that runs.
// The workflow runs under the task type version the document was first
// stored with, even if the task type has changed since.
func (s *Starter) start(ctx context.Context, doc *countersign.Document, sub Submission) error {
	tt, err := s.Resolver.Version(ctx, doc.TaskTypeVersion)
	if err != nil {
		return err
	}
	// The policy version and a supervisor's tightening in force when the
	// review starts apply to it for good.
	inForce, err := PolicyInForce(ctx, s.Store, tt)
	if err != nil {
		return err
	}
	in := workflows.ReviewInput{
		DocumentID:      doc.ID,
		TaskType:        tt.Name,
		TaskTypeVersion: tt.Version,
		Policy:          inForce.Policy,
		Schema:          tt.Schema,
		SubmittedBy:     doc.SubmittedBy,
		Channel:         sub.Channel,
		ReviewGroups:    tt.ReviewGroups,
	}
	// A running review is joined (USE_EXISTING); a closed one is not
	// started again (REJECT_DUPLICATE), and the SDK answers that case with
	// the closed run rather than an error, which checkUnfinished looked at.
	_, err = s.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                       workflows.ReviewWorkflowID(doc.ID),
		TaskQueue:                workflows.TaskQueue,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
	}, workflows.ReviewWorkflowType, in)
	if err != nil {
		return unavailable(fmt.Errorf("start review of %s: %w", doc.ID, err))
	}
	return nil
}

// unavailable says Temporal cannot be reached, keeping the cause for the
// server log only.
func unavailable(cause error) error {
	return countersign.Conceal(countersign.CodeUnavailable, "Temporal is unavailable; the document is stored: submit it again to start its review", cause)
}

func (s *Starter) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}
