package export

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// csvHeader names the columns of a CSV export.
var csvHeader = []string{
	"document_id", "task_type", "task_type_version", "field", "change", "draft_value", "final_value",
	"confidence", "action", "decided_by", "decided_at", "corrected_after_audit", "disposition", "model",
	"prompt_version", "policy_version", "reviewers", "audit_events",
}

// csvSink writes a row per field of every record. csv.Writer buffers its
// output itself (through bufio), so no second buffer is needed.
type csvSink struct {
	out    *csv.Writer
	values *compactJSON
	row    []string
}

func newCSV(w io.Writer) (*csvSink, error) {
	s := &csvSink{out: csv.NewWriter(w), values: newCompactJSON(), row: make([]string, len(csvHeader))}
	if err := s.out.Write(csvHeader); err != nil {
		return nil, fmt.Errorf("write export: %w", err)
	}
	return s, nil
}

func (s *csvSink) write(_ context.Context, r *record) (int, error) {
	d, f, m := r.doc, r.doc.Final, &r.meta
	decidedAt := ""
	if !f.DecidedAt.IsZero() {
		decidedAt = f.DecidedAt.UTC().Format(time.RFC3339Nano)
	}
	for _, c := range r.diff {
		draft, err := s.value(c.Draft)
		if err != nil {
			return 0, fmt.Errorf("encode draft value of %s: %w", c.Field, err)
		}
		final, err := s.value(c.Final)
		if err != nil {
			return 0, fmt.Errorf("encode final value of %s: %w", c.Field, err)
		}
		confidence := ""
		if d.Confidence != nil {
			if fs, ok := d.Confidence.Fields[c.Field]; ok {
				confidence = strconv.FormatFloat(fs.Score, 'f', -1, 64)
			}
		}
		s.row = append(s.row[:0],
			d.ID, d.TaskType, m.TaskTypeVersion, c.Field, string(c.Change), draft, final,
			confidence, string(f.Action), f.DecidedBy, decidedAt, strconv.FormatBool(f.CorrectedAfterAudit), string(m.Disposition), m.Model,
			m.PromptVersion, m.PolicyVersion, strings.Join(m.Reviewers, ";"), strings.Join(m.AuditEvents, ";"),
		)
		if err := s.out.Write(s.row); err != nil {
			return 0, fmt.Errorf("write row: %w", err)
		}
	}
	return len(r.diff), nil
}

// value is a field value as compact JSON, or an empty cell when the field is
// absent.
func (s *csvSink) value(v any) (string, error) {
	if v == nil {
		return "", nil
	}
	return s.values.String(v)
}

func (s *csvSink) flush() error {
	s.out.Flush()
	return s.out.Error()
}
