package dispatch

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/schema"
	"github.com/countersign/countersign/workflows"
)

// DefaultMaxDocumentBytes bounds a document body unless configured otherwise.
const DefaultMaxDocumentBytes = 5 << 20

// Submission is one document to review.
type Submission struct {
	TaskType    string
	ExternalID  string
	Content     string
	Metadata    map[string]string
	SubmittedBy string
	Channel     countersign.Channel
	// Batch, when set, names the batch the document belongs to
	// (countersign.CheckBatchName).
	Batch string
	// Prelabel, when set, is the document's draft, made elsewhere
	// (countersign.Prelabel): checked against the task type, stored with
	// the document, and reviewed by a person.
	Prelabel *countersign.Prelabel
	// Original, when set, is the file submitted in place of Content, of
	// ContentType: a PDF (countersign.ContentTypePDF), whose text layer
	// becomes the content, its scanned pages read by OCR; or a PNG, JPEG or
	// TIFF image, read by OCR. The file and its layout are stored.
	Original    []byte
	ContentType string
}

// Submit is intake: it stores the document and makes sure its review runs,
// idempotently. It returns the document as stored and whether this call
// created it. A resubmission of the same content (or the same external ID
// with the same content) returns the existing document and joins its
// review rather than starting a second one; the same external ID with
// other content is a conflict. A document stays in the batch it was first
// submitted in: a resubmission naming another batch returns it as stored.
func (d *Dispatcher) Submit(ctx context.Context, sub Submission) (*countersign.Document, bool, error) {
	if err := d.checkSubmission(sub); err != nil {
		return nil, false, err
	}
	tt, err := d.TaskTypes.Get(sub.TaskType)
	if err != nil {
		return nil, false, err
	}
	var original *countersign.Original
	if sub.Original != nil {
		if tt.Input.JSON() {
			return nil, false, countersign.Errorf(countersign.CodeInvalid, "task type %s takes JSON input, not a %s file", tt.Name, sub.ContentType)
		}
		if sub, original, err = d.readOriginal(ctx, sub); err != nil {
			return nil, false, err
		}
		if err := d.checkSubmission(sub); err != nil {
			return nil, false, err
		}
	}
	if tt.Input.JSON() {
		if sub, err = readJSONInput(tt.Input, sub); err != nil {
			return nil, false, err
		}
		if err := d.checkSubmission(sub); err != nil {
			return nil, false, err
		}
	}
	if tt.Comparison != nil {
		if err := readComparison(tt, sub); err != nil {
			return nil, false, err
		}
	}
	if err := checkPrelabel(tt, sub.Content, sub.Prelabel); err != nil {
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
		Batch:           sub.Batch,
		CreatedAt:       d.now(),
	}
	if sub.Prelabel != nil {
		doc.Draft = sub.Prelabel.Draft()
	}
	if original != nil {
		// Stored before the document that names it, so a stored document
		// never names a missing original.
		if err := d.Store.PutOriginal(ctx, original); err != nil {
			return nil, false, err
		}
		doc.OriginalSHA256 = original.SHA256
	}
	if _, stored := d.snapshots.Load(tt.Version); !stored {
		if err := d.Store.PutTaskType(ctx, countersign.TaskTypeSnapshot{Name: tt.Name, Version: tt.Version, Source: tt.Source, CreatedAt: doc.CreatedAt}); err != nil {
			return nil, false, err
		}
		d.snapshots.Store(tt.Version, true)
	}
	stored, created, err := d.Store.CreateDocument(ctx, doc)
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
		if err := d.checkUnfinished(ctx, stored); err != nil {
			return nil, false, err
		}
	}
	if err := d.start(ctx, stored, sub.Channel); err != nil {
		return nil, false, err
	}
	return stored, created, nil
}

// Resume starts the review workflow of a stored document whose intake
// stopped before starting it, with the input Submit would have given it: the
// task type version the document was stored with, the policy version and
// the supervisor's override in force now, and the channel it was submitted
// through. Starting is idempotent by workflow ID, as in Submit: a review
// that runs is joined, and one that ended is not started again. It is for
// the reconciler, which first makes sure the workflow does not exist and
// records why it starts it.
func (d *Dispatcher) Resume(ctx context.Context, doc *countersign.Document) error {
	return d.start(ctx, doc, doc.Channel)
}

// checkUnfinished looks at the review of a resubmitted document that is not
// final. Running, or never started (intake stopped between storing the
// document and starting its workflow), it may be joined or started. But a
// review that ended without finishing the document (an operator terminated
// it) cannot run again under the same ID without clashing with its own audit
// trail: that is a conflict for a person to look at.
func (d *Dispatcher) checkUnfinished(ctx context.Context, doc *countersign.Document) error {
	run, err := d.ReviewRun(ctx, doc.ID)
	switch {
	case err != nil:
		return unavailable(fmt.Errorf("describe the review of %s: %w", doc.ID, err))
	case run == nil:
		events, err := d.Store.DocumentAudit(ctx, doc.ID)
		if err != nil {
			return err
		}
		if !received(events) {
			return nil
		}
		return countersign.Errorf(countersign.CodeConflict,
			"document %s is %s, but its review workflow no longer exists (its history outlived retention); it cannot be restarted under the same ID", doc.ID, doc.Status)
	case !run.Running():
		return countersign.Errorf(countersign.CodeConflict,
			"document %s is %s, but its review workflow ended as %s without finishing it; look at the workflow before resubmitting", doc.ID, doc.Status, run.Status)
	}
	return nil
}

// received reports whether a document's trail shows its review workflow
// ran: any event but the reconciler's record that it started a workflow
// intake never started, which comes before the workflow's first step.
func received(events []countersign.AuditEvent) bool {
	for _, e := range events {
		if e.Type != countersign.EventDocumentRecovered {
			return true
		}
	}
	return false
}

func (d *Dispatcher) checkSubmission(sub Submission) error {
	limit := d.MaxDocumentBytes
	if limit <= 0 {
		limit = DefaultMaxDocumentBytes
	}
	switch {
	case sub.TaskType == "":
		return countersign.Errorf(countersign.CodeInvalid, "task_type is required")
	case strings.TrimSpace(sub.Content) == "" && sub.Original == nil:
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
	if sub.Batch != "" {
		if err := countersign.CheckBatchName(sub.Batch); err != nil {
			return err
		}
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
func (d *Dispatcher) start(ctx context.Context, doc *countersign.Document, ch countersign.Channel) error {
	tt, err := d.Resolver.Version(ctx, doc.TaskTypeVersion)
	if err != nil {
		return err
	}
	// The policy version and a supervisor's tightening in force when the
	// review starts apply to it for good.
	inForce, err := PolicyInForce(ctx, d.Store, tt)
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
		Channel:         ch,
		ReviewGroups:    tt.ReviewGroups,
	}
	// A running review is joined (USE_EXISTING); a closed one is not
	// started again (REJECT_DUPLICATE), and the SDK answers that case with
	// the closed run rather than an error, which checkUnfinished looked at.
	_, err = d.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
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

// Supervised reports whether a supervisor watches the policy: it has an
// error budget and runs in hotl, or a tightening sent it to people (and
// it returns to hotl when the tightening is lifted).
func (in *InForce) Supervised() bool {
	return in.Policy.Supervision != nil && (in.Policy.Mode == countersign.ModeHOTL || in.Override != nil)
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

// checkPrelabel refuses a pre-label that does not fit the task type: a
// field it does not have, a value its schema refuses, evidence for a field
// the pre-label does not give, or a quote not where its offsets (in
// characters of the content) say. Fields the pre-label leaves out are
// missing from the draft, as a model's would be.
func checkPrelabel(tt *countersign.TaskType, content string, p *countersign.Prelabel) error {
	if p == nil {
		return nil
	}
	invalid := func(format string, args ...any) error {
		return countersign.Errorf(countersign.CodeInvalid, "prelabel: "+format, args...)
	}
	if len(p.Fields) == 0 {
		return invalid("fields is empty: a pre-label gives at least one field of %s", tt.Name)
	}
	if len(p.Source) > 256 || strings.IndexFunc(p.Source, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0 {
		// It is shown in the route's reason and the lineage.
		return invalid("source must be at most 256 printable characters on one line")
	}
	known := tt.FieldOrder
	for name := range p.Fields {
		if !slices.Contains(known, name) {
			return invalid("%s has no field %q (its fields: %s)", tt.Name, name, strings.Join(known, ", "))
		}
	}
	compiled, err := schema.Compile(tt.Schema)
	if err != nil {
		return fmt.Errorf("schema of %s: %w", tt.Name, err)
	}
	var errs schema.Errors
	if errors.As(compiled.Validate(p.Fields), &errs) {
		for _, fe := range errs {
			// A required field left out is a missing field, scored as
			// such; what the pre-label does give must fit.
			if _, given := p.Fields[fe.Field]; given {
				return invalid("%s: %s", fe.Field, fe.Message)
			}
		}
	}
	runes := []rune(content)
	for name, ev := range p.Evidence {
		if _, given := p.Fields[name]; !given {
			return invalid("evidence for %s, which the pre-label gives no value", name)
		}
		if ev.Start < 0 || ev.Start > ev.End || ev.End > len(runes) || string(runes[ev.Start:ev.End]) != ev.Quote {
			return invalid("evidence for %s: characters %d to %d of the content are not %q", name, ev.Start, ev.End, ev.Quote)
		}
	}
	return nil
}
