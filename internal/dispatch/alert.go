package dispatch

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/jsonptr"
	"github.com/countersign/countersign/internal/schema"
)

// readJSONInput reads a submission to a task type whose documents are JSON
// objects (alerts): the content must be one JSON object within the task
// type's size limit; the alert's own ID (input.id) becomes the external ID,
// so a resubmitted alert joins its document rather than making another;
// it must fit input.schema when the task type gives one;
// and the values input.map points at become metadata (metadata.rule_name,
// metadata.src_ip), for rules and the prompt. A mapped value the alert does
// not have is left out, even when the submitter's metadata gives one. It
// returns the submission as it is to be stored.
func readJSONInput(in *countersign.InputSpec, sub Submission) (Submission, error) {
	if in.MaxBytes > 0 && len(sub.Content) > in.MaxBytes {
		return sub, countersign.Errorf(countersign.CodeTooLarge, "the alert is %d bytes; task type %s takes at most %d (input.max_bytes)", len(sub.Content), sub.TaskType, in.MaxBytes)
	}
	doc, err := jsonptr.Decode([]byte(sub.Content))
	if err != nil {
		return sub, countersign.Errorf(countersign.CodeBadRequest, "task type %s takes JSON: content is not one JSON value read one way: %v", sub.TaskType, err)
	}
	object, ok := doc.(map[string]any)
	if !ok {
		return sub, countersign.Errorf(countersign.CodeInvalid, "task type %s takes a JSON object: content is a JSON %s", sub.TaskType, jsonKind(doc))
	}
	if in.ID != "" {
		v, found := jsonptr.Resolve(doc, in.ID)
		id := jsonptr.Text(v)
		switch v.(type) {
		case string, json.Number:
		default:
			found = false
		}
		switch {
		case !found || id == "":
			return sub, countersign.Errorf(countersign.CodeInvalid, "the alert has no ID at %s (input.id of task type %s): a string or a number", in.ID, sub.TaskType)
		case sub.ExternalID != "" && sub.ExternalID != id:
			return sub, countersign.Errorf(countersign.CodeInvalid, "external_id %q is not the alert's ID %q at %s: leave external_id out, or give the alert's", sub.ExternalID, id, in.ID)
		}
		sub.ExternalID = id
	}
	if len(in.Schema) > 0 {
		compiled, err := schema.Compile(in.Schema)
		if err != nil {
			return sub, fmt.Errorf("input.schema of task type %s: %w", sub.TaskType, err)
		}
		if err := compiled.Validate(countersign.Fields(object)); err != nil {
			return sub, countersign.Errorf(countersign.CodeInvalid, "the alert does not fit input.schema of task type %s: %v", sub.TaskType, err)
		}
	}
	if len(in.Map) == 0 {
		return sub, nil
	}
	meta := maps.Clone(sub.Metadata)
	if meta == nil {
		meta = map[string]string{}
	}
	for _, key := range slices.Sorted(maps.Keys(in.Map)) {
		v, found := jsonptr.Resolve(doc, in.Map[key])
		if !found || v == nil {
			// A mapped key speaks for the alert alone: the submitter
			// does not fill in what the alert lacks.
			delete(meta, key)
			continue
		}
		value := jsonptr.Text(v)
		if given, ok := meta[key]; ok && given != value {
			return sub, countersign.Errorf(countersign.CodeInvalid, "metadata %s is %q, but the alert has %q at %s (input.map.%s): leave it out of metadata", key, given, value, in.Map[key], key)
		}
		meta[key] = value
	}
	sub.Metadata = meta
	return sub, nil
}

func jsonKind(v any) string {
	switch v.(type) {
	case []any:
		return "array"
	case string:
		return "string"
	case json.Number:
		return "number"
	case bool:
		return "boolean"
	case nil:
		return "null"
	}
	return "value"
}
