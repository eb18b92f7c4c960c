package export

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/countersign/countersign"
)

// message is one turn of a chat, as chat-template tools read it.
type message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// sftLine is a supervised fine-tuning example.
type sftLine struct {
	Messages []message `json:"messages"`
	Metadata *metadata `json:"metadata"`
}

// preferenceLine is a preference pair in TRL's conversational format.
type preferenceLine struct {
	Prompt   []message `json:"prompt"`
	Chosen   []message `json:"chosen"`
	Rejected []message `json:"rejected"`
	Metadata *metadata `json:"metadata"`
}

// evalLine is an evaluation case.
type evalLine struct {
	ID       string             `json:"id"`
	TaskType string             `json:"task_type"`
	Input    string             `json:"input"`
	Expected countersign.Fields `json:"expected"`
	Metadata *metadata          `json:"metadata"`
}

// jsonl writes one JSON line per record.
type jsonl struct {
	out *bufio.Writer
	enc *json.Encoder
	// line builds the line of a record; nil when the record has none.
	line       func(ctx context.Context, r *record) (any, error)
	fields     *compactJSON
	guidelines TaskTypes
	// guideline caches the guideline of every task type version met.
	guideline map[string]string
}

func newJSONL(format Format, w io.Writer, guidelines TaskTypes) *jsonl {
	s := &jsonl{out: bufio.NewWriter(w), fields: newCompactJSON(), guidelines: guidelines, guideline: map[string]string{}}
	s.enc = json.NewEncoder(s.out)
	s.enc.SetEscapeHTML(false)
	switch format {
	case SFT:
		s.line = s.sft
	case Preference:
		s.line = s.preference
	default:
		s.line = s.eval
	}
	return s
}

func (s *jsonl) write(ctx context.Context, r *record) (int, error) {
	line, err := s.line(ctx, r)
	if err != nil || line == nil {
		return 0, err
	}
	if err := s.enc.Encode(line); err != nil {
		return 0, fmt.Errorf("write record: %w", err)
	}
	return 1, nil
}

func (s *jsonl) flush() error { return s.out.Flush() }

func (s *jsonl) sft(ctx context.Context, r *record) (any, error) {
	prompt, err := s.prompt(ctx, r)
	if err != nil {
		return nil, err
	}
	answer, err := s.answer(r.doc.Final.Fields)
	if err != nil {
		return nil, err
	}
	return &sftLine{Messages: append(prompt, answer), Metadata: &r.meta}, nil
}

// preference pairs the final (chosen) with the draft (rejected). A document
// whose draft failed has no rejected answer, and one nobody changed has no
// preference to learn: neither gives a line.
func (s *jsonl) preference(ctx context.Context, r *record) (any, error) {
	if !r.drafted || !r.changed() {
		return nil, nil
	}
	prompt, err := s.prompt(ctx, r)
	if err != nil {
		return nil, err
	}
	chosen, err := s.answer(r.doc.Final.Fields)
	if err != nil {
		return nil, err
	}
	rejected, err := s.answer(r.draft)
	if err != nil {
		return nil, err
	}
	return &preferenceLine{Prompt: prompt, Chosen: []message{chosen}, Rejected: []message{rejected}, Metadata: &r.meta}, nil
}

func (s *jsonl) eval(_ context.Context, r *record) (any, error) {
	return &evalLine{ID: r.doc.ID, TaskType: r.doc.TaskType, Input: r.doc.Content, Expected: r.doc.Final.Fields, Metadata: &r.meta}, nil
}

// prompt is the system message (the guideline) and the user message (the
// document text) of a record.
func (s *jsonl) prompt(ctx context.Context, r *record) ([]message, error) {
	version := r.doc.TaskTypeVersion
	guideline, ok := s.guideline[version]
	if !ok {
		tt, err := s.guidelines(ctx, version)
		if err != nil {
			return nil, fmt.Errorf("guidelines of task type version %s: %w", version, err)
		}
		guideline = tt.Guideline
		s.guideline[version] = guideline
	}
	return []message{{Role: "system", Content: guideline}, {Role: "user", Content: r.doc.Content}}, nil
}

// answer is the assistant message that gives fields.
func (s *jsonl) answer(fields countersign.Fields) (message, error) {
	content, err := s.fields.String(fields)
	if err != nil {
		return message{}, fmt.Errorf("encode fields: %w", err)
	}
	return message{Role: "assistant", Content: content}, nil
}
