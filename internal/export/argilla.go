package export

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"

	"github.com/google/uuid"
)

// The Argilla export is a record per line as Argilla 2's Record.to_dict
// writes it and Record.from_dict reads it back (the "Record model" of
// https://docs.argilla.io/latest/how_to_guides/record/ and the rg.Record,
// rg.Suggestion and rg.Response references): id, fields, metadata,
// suggestions by question ({value, score, agent}), responses by question
// (a list of {value, user_id, status}) and vectors. Each field of the task
// type is a TextQuestion named after it, on the TextField "text"; the draft
// is the suggestion, the final decision the response, with status
// "submitted". Load a file with
// [rg.Record.from_dict(json.loads(line)) for line in open(path)].

// argillaLine is one Argilla record.
type argillaLine struct {
	ID          string                       `json:"id"`
	Status      string                       `json:"status"`
	Fields      argillaFields                `json:"fields"`
	Metadata    map[string]any               `json:"metadata"`
	Suggestions map[string]argillaSuggestion `json:"suggestions"`
	Responses   map[string][]argillaResponse `json:"responses"`
	Vectors     map[string][]float64         `json:"vectors"`
}

type argillaFields struct {
	Text string `json:"text"`
}

type argillaSuggestion struct {
	Value string   `json:"value"`
	Score *float64 `json:"score"`
	Agent string   `json:"agent"`
}

type argillaResponse struct {
	Value  string `json:"value"`
	UserID string `json:"user_id"`
	Status string `json:"status"`
}

// ArgillaUserID is the user_id the Argilla export gives a countersign user.
// Argilla identifies users by UUID, so each name gets a name-based (version
// 5) UUID: the same name always maps to the same ID, and the name itself is
// in the record's metadata (decided_by, reviewers).
func ArgillaUserID(name string) string {
	return uuid.NewSHA1(uuid.NameSpaceURL, []byte("urn:countersign:user:"+name)).String()
}

// argilla writes a record per line.
type argilla struct {
	out    *bufio.Writer
	enc    *json.Encoder
	values *compactJSON
}

func newArgilla(w io.Writer) *argilla {
	s := &argilla{out: bufio.NewWriter(w), values: newCompactJSON()}
	s.enc = json.NewEncoder(s.out)
	s.enc.SetEscapeHTML(false)
	return s
}

func (s *argilla) write(_ context.Context, r *record) (int, error) {
	d, f := r.doc, r.doc.Final
	line := &argillaLine{
		ID:          d.ID,
		Status:      "completed",
		Fields:      argillaFields{Text: d.Content},
		Metadata:    argillaMetadata(&r.meta, d.ExternalID),
		Suggestions: map[string]argillaSuggestion{},
		Responses:   map[string][]argillaResponse{},
		Vectors:     map[string][]float64{},
	}
	if r.drafted {
		agent := r.meta.Model
		if agent == "" {
			agent = r.meta.Extractor
		}
		for name, v := range r.draft {
			value, err := s.values.text(v)
			if err != nil {
				return 0, fmt.Errorf("encode draft %s: %w", name, err)
			}
			var score *float64
			if d.Confidence != nil {
				if fs, ok := d.Confidence.Fields[name]; ok {
					score = &fs.Score
				}
			}
			line.Suggestions[name] = argillaSuggestion{Value: value, Score: score, Agent: agent}
		}
	}
	user := ArgillaUserID(f.DecidedBy)
	for name, v := range f.Fields {
		value, err := s.values.text(v)
		if err != nil {
			return 0, fmt.Errorf("encode final %s: %w", name, err)
		}
		line.Responses[name] = []argillaResponse{{Value: value, UserID: user, Status: "submitted"}}
	}
	if err := s.enc.Encode(line); err != nil {
		return 0, fmt.Errorf("write record: %w", err)
	}
	return 1, nil
}

func (s *argilla) flush() error { return s.out.Flush() }

// argillaMetadata is the lineage as Argilla metadata, whose values are
// terms (strings or lists of strings), integers or floats: the boolean
// becomes "true" or "false".
func argillaMetadata(m *metadata, externalID string) map[string]any {
	return map[string]any{
		"document_id":           m.DocumentID,
		"external_id":           externalID,
		"task_type":             m.TaskType,
		"task_type_version":     m.TaskTypeVersion,
		"policy_version":        m.PolicyVersion,
		"model":                 m.Model,
		"prompt_version":        m.PromptVersion,
		"extractor":             m.Extractor,
		"decided_by":            m.DecidedBy,
		"action":                string(m.Action),
		"outcome":               string(m.Outcome),
		"corrected_after_audit": strconv.FormatBool(m.CorrectedAfterAudit),
		"audited_by":            m.AuditedBy,
		"reviewers":             m.Reviewers,
		"audit_events":          m.AuditEvents,
		"changed_fields":        m.ChangedFields,
	}
}
