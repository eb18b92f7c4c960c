package export

import (
	"bytes"
	"cmp"
	"encoding/json"
	"slices"

	"github.com/countersign/countersign"
)

// record is one exported document with what every format derives from it.
type record struct {
	doc *countersign.Document
	// draft is the draft's fields; drafted is false when extraction failed
	// and a person filled in every field.
	draft   countersign.Fields
	drafted bool
	// diff is the change of every field from draft to final.
	diff []countersign.FieldChange
	meta metadata
}

// metadata ties a record to where it came from, so that a training set can
// be filtered, audited or traced back after the fact. Every key is always
// present, so that tools that infer a schema from the first line see them all.
type metadata struct {
	DocumentID          string              `json:"document_id"`
	TaskType            string              `json:"task_type"`
	TaskTypeVersion     string              `json:"task_type_version"`
	PolicyVersion       string              `json:"policy_version"`
	Model               string              `json:"model"`
	PromptVersion       string              `json:"prompt_version"`
	Extractor           string              `json:"extractor"`
	DecidedBy           string              `json:"decided_by"`
	Action              countersign.Action  `json:"action"`
	Outcome             countersign.Outcome `json:"outcome"`
	CorrectedAfterAudit bool                `json:"corrected_after_audit"`
	// Disposition is automatic when no person settled the outcome that
	// stands, analyst when one did (countersign.Final.Disposition).
	Disposition countersign.Disposition `json:"disposition"`
	AuditedBy   string                  `json:"audited_by"`
	Reviewers   []string                `json:"reviewers"`
	AuditEvents []string                `json:"audit_events"`
	// ChangedFields are the fields the final changed, added or removed,
	// sorted.
	ChangedFields []string `json:"changed_fields"`
}

// newRecord reads a kept document: one with a draft (perhaps failed) and
// final fields.
func newRecord(d *countersign.Document) *record {
	r := &record{doc: d, drafted: !d.Draft.Failed()}
	if r.drafted {
		r.draft = d.Draft.Fields
		if r.draft == nil {
			r.draft = countersign.Fields{}
		}
	}
	// Finalize stores the diff; documents finalized before it did get it
	// computed the same way.
	r.diff = d.Final.Diff
	if len(r.diff) == 0 {
		r.diff = countersign.Diff(r.draft, d.Final.Fields)
	}
	r.meta = lineage(d)
	r.meta.ChangedFields = []string{}
	for _, c := range r.diff {
		if c.Change != countersign.ChangeUnchanged {
			r.meta.ChangedFields = append(r.meta.ChangedFields, c.Field)
		}
	}
	slices.Sort(r.meta.ChangedFields)
	return r
}

// changed reports whether the final differs from the draft.
func (r *record) changed() bool { return len(r.meta.ChangedFields) > 0 }

// lineage is the metadata of d: from the final's lineage where it was
// recorded, from the document, its draft, route and final otherwise.
func lineage(d *countersign.Document) metadata {
	f := d.Final
	m := metadata{
		DocumentID:          d.ID,
		TaskType:            d.TaskType,
		TaskTypeVersion:     d.TaskTypeVersion,
		DecidedBy:           f.DecidedBy,
		Action:              f.Action,
		Outcome:             f.Outcome,
		CorrectedAfterAudit: f.CorrectedAfterAudit,
		Disposition:         f.Disposition(),
		AuditedBy:           f.AuditedBy,
		Reviewers:           people(f),
		AuditEvents:         []string{},
	}
	if d.Route != nil {
		m.PolicyVersion = d.Route.PolicyVersion
	}
	if d.Draft != nil {
		m.Extractor, m.Model, m.PromptVersion = d.Draft.Extractor, d.Draft.Model, d.Draft.Prompt
	}
	if l := f.Lineage; l != nil {
		m.TaskTypeVersion = cmp.Or(l.TaskTypeVersion, m.TaskTypeVersion)
		m.PolicyVersion = cmp.Or(l.PolicyVersion, m.PolicyVersion)
		m.Extractor = cmp.Or(l.Extractor, m.Extractor)
		m.Model = cmp.Or(l.Model, m.Model)
		m.PromptVersion = cmp.Or(l.Prompt, m.PromptVersion)
		if len(l.Reviewers) > 0 {
			m.Reviewers = l.Reviewers
		}
		if l.AuditEvents != nil {
			m.AuditEvents = l.AuditEvents
		}
	}
	return m
}

// people are the persons a final without lineage names: who decided it,
// unless the engine did, and who audited it.
func people(f *countersign.Final) []string {
	out := []string{}
	if f.DecidedBy != "" && f.DecidedBy != countersign.SystemActor {
		out = append(out, f.DecidedBy)
	}
	if f.AuditedBy != "" && !slices.Contains(out, f.AuditedBy) {
		out = append(out, f.AuditedBy)
	}
	return out
}

// compactJSON encodes values as compact JSON with map keys sorted and
// without escaping HTML, so that "<" and "&" in contract text stay as they
// are. It reuses one buffer.
type compactJSON struct {
	buf bytes.Buffer
	enc *json.Encoder
}

func newCompactJSON() *compactJSON {
	c := &compactJSON{}
	c.enc = json.NewEncoder(&c.buf)
	c.enc.SetEscapeHTML(false)
	return c
}

// String returns the encoding of v.
func (c *compactJSON) String(v any) (string, error) {
	c.buf.Reset()
	if err := c.enc.Encode(v); err != nil {
		return "", err
	}
	return string(bytes.TrimSuffix(c.buf.Bytes(), []byte("\n"))), nil
}
