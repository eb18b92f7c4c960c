package llm

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"

	openai "github.com/sashabaranov/go-openai"

	"github.com/countersign/countersign"
)

// AnswerSchema is the JSON Schema of the answer the model is asked for: an
// object with every field of the task type, each either null (not in the
// document) or {"value": ..., "quote": "..."}, and for a JSON document (an
// alert) "pointer" too: the JSON Pointer of the field the quote is from. It follows the rules of strict
// structured output: every property required, no additional properties,
// optional values nullable. Keywords strict mode may not support (formats,
// lengths, patterns, bounds) are left out; the answer is checked against the
// task type's full schema when it arrives. There is no place in it for the
// model to state its own confidence.
func AnswerSchema(tt *countersign.TaskType) (json.RawMessage, error) {
	var doc struct {
		Properties map[string]map[string]any `json:"properties"`
	}
	if err := json.Unmarshal(tt.Schema, &doc); err != nil {
		return nil, fmt.Errorf("fields: %w", err)
	}
	properties := map[string]any{}
	for _, name := range tt.FieldOrder {
		value := strictSchema(doc.Properties[name], true)
		pair := map[string]any{
			"value": value,
			"quote": map[string]any{"type": "string", "description": "The passage of the document the value comes from, copied verbatim."},
		}
		required := []string{"value", "quote"}
		if tt.Input.JSON() {
			// In an alert, evidence names the field it is the value of.
			pair["pointer"] = map[string]any{"type": "string", "description": "JSON Pointer to the alert field the quote is the value of, such as /src_endpoint/ip."}
			pair["quote"] = map[string]any{"type": "string", "description": "The value of that alert field, copied verbatim."}
			required = append(required, "pointer")
		}
		properties[name] = map[string]any{
			"anyOf": []any{
				map[string]any{
					"type":                 "object",
					"additionalProperties": false,
					"required":             required,
					"properties":           pair,
				},
				map[string]any{"type": "null"},
			},
		}
	}
	return json.Marshal(map[string]any{
		"type":                 "object",
		"additionalProperties": false,
		"required":             tt.FieldOrder,
		"properties":           properties,
	})
}

// strictKeywords are the schema keywords kept in the answer schema.
var strictKeywords = map[string]bool{"type": true, "enum": true, "const": true, "description": true, "items": true, "properties": true, "required": true, "anyOf": true}

// strictSchema rewrites one (sub)schema for strict structured output.
// required says whether the value must be present; an optional one becomes
// nullable.
func strictSchema(s map[string]any, required bool) map[string]any {
	out := map[string]any{}
	for key, v := range s {
		if strictKeywords[key] {
			out[key] = v
		}
	}
	if items, ok := s["items"].(map[string]any); ok {
		out["items"] = strictSchema(items, true)
	}
	if anyOf, ok := s["anyOf"].([]any); ok {
		var branches []any
		for _, b := range anyOf {
			if m, ok := b.(map[string]any); ok {
				branches = append(branches, strictSchema(m, true))
			}
		}
		out["anyOf"] = branches
	}
	if props, ok := s["properties"].(map[string]any); ok {
		requiredSet := map[string]bool{}
		if list, ok := s["required"].([]any); ok {
			for _, r := range list {
				if name, ok := r.(string); ok {
					requiredSet[name] = true
				}
			}
		}
		names := slices.Sorted(maps.Keys(props))
		rewritten := map[string]any{}
		for _, name := range names {
			if m, ok := props[name].(map[string]any); ok {
				rewritten[name] = strictSchema(m, requiredSet[name])
			}
		}
		out["properties"] = rewritten
		out["required"] = names
		out["additionalProperties"] = false
	}
	if !required {
		switch t := out["type"].(type) {
		case string:
			out["type"] = []any{t, "null"}
		case []any:
			if !slices.Contains(t, any("null")) {
				out["type"] = append(slices.Clone(t), "null")
			}
		default:
			return map[string]any{"anyOf": []any{out, map[string]any{"type": "null"}}}
		}
	}
	return out
}

// answerTokens is an answer's tokens aligned with its text: where each
// token starts, and the byte span of each field's value.
type answerTokens struct {
	tokens []openai.LogProb
	// starts holds each token's byte offset in the answer, and the answer's
	// length last.
	starts []int
	spans  map[string][2]int
}

// alignTokens aligns the tokens with the answer text and finds the span of
// each field's value. When they do not spell the answer exactly, or no
// value is found, it returns nil: no figure rather than a wrong one.
func alignTokens(content string, tokens []openai.LogProb, fields []string) *answerTokens {
	a := spellTokens(content, tokens)
	if a == nil {
		return nil
	}
	a.spans = valueSpans([]byte(content), fields)
	if len(a.spans) == 0 {
		return nil
	}
	return a
}

// spellTokens aligns the tokens with the answer text, with no spans yet;
// nil when they do not spell it exactly.
func spellTokens(content string, tokens []openai.LogProb) *answerTokens {
	if len(tokens) == 0 {
		return nil
	}
	starts := make([]int, len(tokens)+1)
	var spelled strings.Builder
	for i, t := range tokens {
		starts[i] = spelled.Len()
		spelled.WriteString(tokenText(t.Token, t.Bytes))
	}
	starts[len(tokens)] = spelled.Len()
	if spelled.String() != content {
		return nil
	}
	return &answerTokens{tokens: tokens, starts: starts}
}

// tokenText is a token as it spells the answer: its bytes when the endpoint
// sent them (a token may be part of a character), else its text.
func tokenText(token string, bytes []byte) string {
	if len(bytes) > 0 {
		return string(bytes)
	}
	return token
}

// overlapping returns the indexes of the tokens that overlap span.
func (a *answerTokens) overlapping(span [2]int) []int {
	var out []int
	for i := range a.tokens {
		if a.starts[i+1] > span[0] && a.starts[i] < span[1] {
			out = append(out, i)
		}
	}
	return out
}

// probabilities returns, per field, the probability the model gave the
// tokens that spell the field's value in its answer: the product of their
// probabilities (the exponent of the summed logprobs).
func (a *answerTokens) probabilities() map[string]float64 {
	out := map[string]float64{}
	for name, span := range a.spans {
		var logprob float64
		for _, i := range a.overlapping(span) {
			logprob += a.tokens[i].LogProb
		}
		out[name] = math.Round(math.Exp(logprob)*1e4) / 1e4
	}
	return out
}

// valueSpans finds, in an answer object, the byte span of each field's
// "value", or of the null the model wrote for a field it says the document
// does not state: its probability is the model's in the field being empty.
// A null inside {"value": null, ...} is skipped (no answer has that shape
// when it follows the answer schema).
func valueSpans(content []byte, fields []string) map[string][2]int {
	wanted := map[string]bool{}
	for _, f := range fields {
		wanted[f] = true
	}
	dec := json.NewDecoder(bytes.NewReader(content))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil
	}
	spans := map[string][2]int{}
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return spans
		}
		name, _ := key.(string)
		tok, err := dec.Token()
		if err != nil {
			return spans
		}
		if tok == nil && wanted[name] {
			end := int(dec.InputOffset())
			spans[name] = [2]int{end - len("null"), end}
			continue
		}
		if tok != json.Delim('{') {
			if d, ok := tok.(json.Delim); ok && (d == '[') {
				return spans // not an answer shape; stop rather than misalign
			}
			continue
		}
		for dec.More() {
			inner, err := dec.Token()
			if err != nil {
				return spans
			}
			after := int(dec.InputOffset())
			var raw json.RawMessage
			if err := dec.Decode(&raw); err != nil {
				return spans
			}
			end := int(dec.InputOffset())
			if inner == "value" && wanted[name] && string(raw) != "null" {
				start := after
				for start < end && (content[start] == ':' || content[start] == ' ' || content[start] == '\t' || content[start] == '\n' || content[start] == '\r') {
					start++
				}
				spans[name] = [2]int{start, end}
			}
		}
		if _, err := dec.Token(); err != nil { // the closing brace
			return spans
		}
	}
	return spans
}
