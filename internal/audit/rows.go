package audit

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/countersign/countersign"
)

// Rows is what VerifyStore reads: the chain, and the documents and
// decisions that the API, the web page and exports serve.
type Rows interface {
	countersign.AuditLog
	GetDocument(ctx context.Context, id string) (*countersign.Document, error)
	ScanDocuments(ctx context.Context, f countersign.DocumentFilter, fn func(*countersign.Document) error) error
	DecisionsOfDocuments(ctx context.Context, documentIDs []string) ([]countersign.Decision, error)
}

// VerifyStore verifies the chain as Verify does and, when it holds, holds
// the stored rows to it: each document's status and final record, and each
// decision, must be what the events that recorded them say (see
// rowColumns and decisionColumns). It names the first row that is not in
// Mismatch, with OK false.
//
// Memory stays flat: documents are read a batch at a time, with the events
// and decisions of that batch only. A row whose step is between its store
// write and its event (a step in flight, or one whose worker died before
// recording it) is looked at again a few times before it counts as a
// mismatch.
func VerifyStore(ctx context.Context, s Rows, checkpoints ...countersign.ChainPoint) (countersign.ChainReport, error) {
	v := NewVerifier(checkpoints...)
	var received int64
	err := s.ScanAudit(ctx, 0, func(e countersign.AuditEvent) error {
		if !v.Add(e) {
			return errStop
		}
		if e.Type == countersign.EventDocumentReceived {
			received++
		}
		return nil
	})
	if err != nil && !errors.Is(err, errStop) {
		return countersign.ChainReport{}, fmt.Errorf("verify audit chain: %w", err)
	}
	report := v.Finish()
	if !report.OK {
		return report, nil
	}
	c := &rowChecker{s: s, head: report.Events, received: received}
	mismatch, err := c.run(ctx)
	if err != nil {
		return countersign.ChainReport{}, fmt.Errorf("verify stored rows against the audit chain: %w", err)
	}
	report.Rows = &c.rows
	if mismatch != nil {
		report.OK, report.Mismatch = false, mismatch
	}
	return report, nil
}

// rowBatch is how many documents are checked at a time.
const rowBatch = 100

// recheckAfter are the pauses before a mismatching document is looked at
// again: a step writes its row first and records its event right after.
var recheckAfter = []time.Duration{50 * time.Millisecond, 200 * time.Millisecond, 750 * time.Millisecond}

// boundTypes are the event types that set what rows hold.
var boundTypes = []string{
	countersign.EventDocumentReceived,
	countersign.EventReviewOpened,
	countersign.EventDecisionRecorded,
	countersign.EventDocumentFinalized,
	countersign.EventDocumentFailed,
	countersign.EventAuditConfirmed,
	countersign.EventCorrectedAfterAudit,
	countersign.EventDocumentVetoed,
	countersign.EventDocumentDelivered,
}

type rowChecker struct {
	s    Rows
	head int64
	// received counts the chain's document.received events; seen counts
	// those (up to head) of the rows checked. Fewer seen means rows were
	// removed.
	received, seen int64
	rows           countersign.RowsChecked
}

func (c *rowChecker) run(ctx context.Context) (*countersign.RowMismatch, error) {
	var (
		batch []*countersign.Document
		found *countersign.RowMismatch
	)
	flush := func() error {
		m, err := c.checkBatch(ctx, batch)
		batch = batch[:0]
		if err != nil {
			return err
		}
		if m != nil {
			found = m
			return errStop
		}
		return nil
	}
	for _, gold := range []bool{false, true} {
		err := c.s.ScanDocuments(ctx, countersign.DocumentFilter{Gold: gold}, func(d *countersign.Document) error {
			d.Content = "" // not checked here, and a batch need not hold the bodies
			batch = append(batch, d)
			if len(batch) == rowBatch {
				return flush()
			}
			return nil
		})
		if err == nil && len(batch) > 0 {
			err = flush()
		}
		if errors.Is(err, errStop) {
			return found, nil
		}
		if err != nil {
			return nil, err
		}
	}
	if c.seen < c.received {
		return c.missingDocument(ctx)
	}
	return nil, nil
}

func (c *rowChecker) checkBatch(ctx context.Context, docs []*countersign.Document) (*countersign.RowMismatch, error) {
	ids := make([]string, len(docs))
	for i, d := range docs {
		ids[i] = d.ID
	}
	events, decisions, err := c.read(ctx, ids)
	if err != nil {
		return nil, err
	}
	for _, d := range docs {
		chain := c.fold(events[d.ID])
		c.rows.Documents++
		c.rows.Decisions += int64(len(decisions[d.ID]))
		c.seen += chain.received
		if chain.partial() {
			c.rows.PartialDocuments++
		}
		for _, row := range decisions[d.ID] {
			if dc := chain.decisions[row.ID]; dc != nil && dc.partial() {
				c.rows.PartialDecisions++
			}
		}
		if compare(d, decisions[d.ID], chain) == nil {
			continue
		}
		if m, err := c.recheck(ctx, d.ID); m != nil || err != nil {
			return m, err
		}
	}
	return nil, nil
}

// read returns the bound events and the decisions of documents, by document.
func (c *rowChecker) read(ctx context.Context, ids []string) (map[string][]countersign.AuditEvent, map[string][]countersign.Decision, error) {
	events, err := c.s.AuditOfDocuments(ctx, ids, boundTypes)
	if err != nil {
		return nil, nil, err
	}
	decisions, err := c.s.DecisionsOfDocuments(ctx, ids)
	if err != nil {
		return nil, nil, err
	}
	byDoc := make(map[string][]countersign.AuditEvent, len(ids))
	for _, e := range events {
		byDoc[e.DocumentID] = append(byDoc[e.DocumentID], e)
	}
	decided := make(map[string][]countersign.Decision, len(ids))
	for _, d := range decisions {
		decided[d.DocumentID] = append(decided[d.DocumentID], d)
	}
	return byDoc, decided, nil
}

// recheck looks at one document again, its events first and its rows
// after, so that every event seen has its row write behind it: a row that
// is only ahead of the chain settles once its event is recorded.
func (c *rowChecker) recheck(ctx context.Context, id string) (*countersign.RowMismatch, error) {
	var m *countersign.RowMismatch
	for _, pause := range recheckAfter {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(pause):
		}
		events, decisions, err := c.read(ctx, []string{id})
		if err != nil {
			return nil, err
		}
		doc, err := c.s.GetDocument(ctx, id)
		if errors.Is(err, countersign.ErrNotFound) {
			return &countersign.RowMismatch{Table: "documents", ID: id, DocumentID: id, Chain: null, Row: null,
				Reason: fmt.Sprintf("document %s was removed while it was checked", id)}, nil
		}
		if err != nil {
			return nil, err
		}
		doc.Content = ""
		if m = compare(doc, decisions[id], c.fold(events[id])); m == nil {
			return nil, nil
		}
	}
	return m, nil
}

// missingDocument names a document the chain received that has no row.
func (c *rowChecker) missingDocument(ctx context.Context) (*countersign.RowMismatch, error) {
	var found *countersign.RowMismatch
	err := c.s.ScanAudit(ctx, 0, func(e countersign.AuditEvent) error {
		if e.Seq > c.head {
			return errStop
		}
		if e.Type != countersign.EventDocumentReceived {
			return nil
		}
		_, err := c.s.GetDocument(ctx, e.DocumentID)
		if errors.Is(err, countersign.ErrNotFound) {
			found = &countersign.RowMismatch{Table: "documents", ID: e.DocumentID, DocumentID: e.DocumentID, Chain: null, Row: null, Event: ref(e),
				Reason: fmt.Sprintf("document %s, received by event %d, has no row", e.DocumentID, e.Seq)}
			return errStop
		}
		return err
	})
	if err != nil && !errors.Is(err, errStop) {
		return nil, err
	}
	if found == nil {
		// The rows were there on a second look: one was being written.
		return nil, nil
	}
	return found, nil
}

func ref(e countersign.AuditEvent) *countersign.EventRef {
	return &countersign.EventRef{Seq: e.Seq, ID: e.ID, Type: e.Type}
}
