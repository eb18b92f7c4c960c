// Package export turns finished reviews into labeled training data: the
// corrections people made to drafts, written as a stream in the formats that
// fine-tuning and evaluation tools read (SFT and preference JSONL, CSV, and
// evaluation sets) and that labeling tools import (Label Studio tasks,
// Argilla records). It reads one document at a time, so an export of any size
// runs in constant memory.
package export

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/countersign/countersign"
)

// Format is the shape of an export.
type Format string

// Export formats.
const (
	// SFT is JSONL for supervised fine-tuning: per document, the guideline as
	// system message, the document text as user message and the final
	// fields as the assistant's answer, with the document's metadata.
	SFT Format = "sft"
	// Preference is JSONL of preference pairs in the conversational format
	// TRL's DPO trainer reads: the final fields chosen, the draft rejected.
	// Only documents whose final fields differ from a usable draft appear.
	Preference Format = "preference"
	// CSV is one row per field of each document, with the field's change,
	// draft and final values and confidence, header first.
	CSV Format = "csv"
	// Eval is JSONL of evaluation cases: the document text as input and the
	// final fields as the expected output.
	Eval Format = "eval"
	// LabelStudio is a JSON array of Label Studio tasks: the document text
	// and metadata as data, the final fields as an annotation and the draft
	// as a prediction with its confidence (labelstudio.go).
	LabelStudio Format = "label-studio"
	// Argilla is JSONL of Argilla 2 records: the document text as a field,
	// the draft as suggestions with their confidence and the final fields
	// as submitted responses (argilla.go).
	Argilla Format = "argilla"
	// Pairwise is JSONL of the preference pairs comparison items' final
	// rankings imply: prompt, chosen and rejected as text, with the margin,
	// who decided and the lineage (comparison.go). Other documents, and
	// items marked all unacceptable, give no line.
	Pairwise Format = "pairwise"
	// Ranked is JSONL of comparison items with their final ranking, each
	// candidate with its rank, scores and unsafe mark (comparison.go).
	Ranked Format = "ranked"
	// Improved is SFT JSONL of the improved responses people wrote for
	// comparison items: the item's prompt as user message, the improved
	// response as the assistant's (comparison.go).
	Improved Format = "improved"
)

// Formats lists every export format, in the order help texts show them.
var Formats = []Format{SFT, Preference, CSV, Eval, LabelStudio, Argilla, Pairwise, Ranked, Improved}

// ParseFormat returns the format named s, or an error that lists the known
// formats.
func ParseFormat(s string) (Format, error) {
	for _, f := range Formats {
		if string(f) == s {
			return f, nil
		}
	}
	return "", unknownFormat(s)
}

func unknownFormat(s string) error {
	known := make([]string, len(Formats))
	for i, f := range Formats {
		known[i] = string(f)
	}
	return fmt.Errorf("unknown export format %q (known formats: %s)", s, strings.Join(known, ", "))
}

// Filter selects what is exported. Only accepted documents with final fields
// are ever exported: a rejected document has no answer to learn from.
type Filter struct {
	TaskType string
	// Batch, when set, keeps the documents of that batch.
	Batch string
	// Since and Until bound the creation time: Since <= created_at < Until.
	// A zero bound leaves that side open.
	Since, Until time.Time
	// HumanOnly keeps documents a person signed off: approved or corrected
	// in review, audited, or vetoed. Auto-accepted outputs nobody looked at
	// are the model's own answers and would teach it nothing.
	HumanOnly bool
	// ExcludeFlagged drops documents whose output an audit or a veto
	// changed: their first outcome was contested, which some training sets
	// want to leave out.
	ExcludeFlagged bool
}

// Keep reports whether f selects d.
func (f Filter) Keep(d *countersign.Document) bool {
	final := d.Final
	switch {
	case d.Status != countersign.StatusAccepted || final == nil || final.Fields == nil:
		return false
	case f.TaskType != "" && d.TaskType != f.TaskType:
		return false
	case f.Batch != "" && d.Batch != f.Batch:
		return false
	case !f.Since.IsZero() && d.CreatedAt.Before(f.Since):
		return false
	case !f.Until.IsZero() && !d.CreatedAt.Before(f.Until):
		return false
	case f.HumanOnly && !signedOff(final):
		return false
	case f.ExcludeFlagged && (final.CorrectedAfterAudit || final.Vetoed):
		return false
	}
	return true
}

// signedOff reports whether a person approved, corrected, audited or vetoed
// the outcome.
func signedOff(f *countersign.Final) bool {
	return f.Action == countersign.ActionApprove || f.Action == countersign.ActionCorrect || f.AuditedBy != "" || f.Vetoed
}

// scan is the part of f the store can apply itself, so that documents the
// export would skip are not read at all.
func (f Filter) scan() countersign.DocumentFilter {
	return countersign.DocumentFilter{
		TaskType: f.TaskType,
		Batch:    f.Batch,
		Statuses: []countersign.Status{countersign.StatusAccepted},
		Since:    f.Since,
		Until:    f.Until,
	}
}

// TaskTypes returns a task type as pinned at a version: its guideline is
// the system message of SFT and preference records, its comparison's
// rubric scales the score margins of pairwise records. Run calls it once
// per version and format.
type TaskTypes func(ctx context.Context, taskTypeVersion string) (*countersign.TaskType, error)

// Counts is what an export read and wrote.
type Counts struct {
	// Scanned is the documents read from the store.
	Scanned int
	// Exported is the documents that produced at least one record.
	Exported int
	// Lines is the records written: JSONL lines, or CSV rows without the
	// header.
	Lines int
}

// Run streams the documents f selects from docs, oldest first, through the
// writer of format to w, and calls progress (when not nil) after every
// document scanned with the counts so far. It holds one document at a time,
// plus one guideline per task type version for the formats that need them.
// guidelines may be nil for CSV and Eval. Run returns the counts and the first
// error; records completed before an error are flushed to w.
func Run(ctx context.Context, docs countersign.DocumentStore, guidelines TaskTypes, f Filter, format Format, w io.Writer, progress func(Counts)) (Counts, error) {
	s, err := newSink(format, w, guidelines)
	if err != nil {
		return Counts{}, err
	}
	e := &exporter{filter: f, sink: s, progress: progress}
	return e.run(ctx, docs)
}

// exporter is one run of an export.
type exporter struct {
	filter   Filter
	sink     sink
	progress func(Counts)
	counts   Counts
	// err is the error that stopped the scan from inside, kept so that it
	// is returned as it is, however the store wraps it.
	err error
}

func (e *exporter) run(ctx context.Context, docs countersign.DocumentStore) (Counts, error) {
	err := docs.ScanDocuments(ctx, e.filter.scan(), func(d *countersign.Document) error {
		return e.export(ctx, d)
	})
	switch {
	case e.err != nil:
		err = e.err
	case err != nil:
		err = fmt.Errorf("scan documents: %w", err)
	}
	// A format that closes what it opened (a JSON array) does so only when
	// the export is whole.
	if e, ok := e.sink.(ender); ok && err == nil {
		if endErr := e.end(); endErr != nil {
			err = fmt.Errorf("write export: %w", endErr)
		}
	}
	// Flushing after a failure still delivers the whole records written
	// before it; a broken writer just reports its error again.
	if flushErr := e.sink.flush(); err == nil && flushErr != nil {
		err = fmt.Errorf("write export: %w", flushErr)
	}
	return e.counts, err
}

func (e *exporter) export(ctx context.Context, d *countersign.Document) error {
	if err := ctx.Err(); err != nil {
		e.err = err
		return err
	}
	e.counts.Scanned++
	if e.filter.Keep(d) {
		n, err := e.sink.write(ctx, newRecord(d))
		if err != nil {
			e.err = fmt.Errorf("export %s: %w", d.ID, err)
			return e.err
		}
		if n > 0 {
			e.counts.Exported++
			e.counts.Lines += n
		}
	}
	if e.progress != nil {
		e.progress(e.counts)
	}
	return nil
}

// sink writes the records of one format.
type sink interface {
	// write writes the records of r and returns how many it wrote.
	write(ctx context.Context, r *record) (int, error)
	// flush writes out what is buffered.
	flush() error
}

// ender is a sink that writes something after its last record, such as the
// bracket that closes a JSON array.
type ender interface {
	end() error
}

func newSink(format Format, w io.Writer, guidelines TaskTypes) (sink, error) {
	switch format {
	case SFT, Preference:
		if guidelines == nil {
			return nil, fmt.Errorf("export %s: guidelines are needed for the system message", format)
		}
		return newJSONL(format, w, guidelines), nil
	case Eval:
		return newJSONL(format, w, nil), nil
	case CSV:
		return newCSV(w)
	case LabelStudio:
		return newLabelStudio(w), nil
	case Argilla:
		return newArgilla(w), nil
	case Pairwise:
		if guidelines == nil {
			return nil, fmt.Errorf("export %s: task types are needed for the rubric's scales", format)
		}
		return newComparisonSink(format, w, guidelines), nil
	case Ranked, Improved:
		return newComparisonSink(format, w, nil), nil
	}
	return nil, unknownFormat(string(format))
}
