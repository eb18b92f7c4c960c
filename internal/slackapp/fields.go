package slackapp

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/fieldview"
)

// parseValue reads what a person typed into a field of the given JSON type:
// integers, numbers and booleans as such, objects and arrays as JSON,
// strings as they are. A field whose schema names no type takes JSON when
// the text is JSON, and the text otherwise. Empty text is no value.
func parseValue(kind, text string) (value any, present bool, problem string) {
	text = strings.TrimSpace(text)
	if text == "" {
		return nil, false, ""
	}
	switch kind {
	case "integer":
		if n, err := strconv.ParseInt(text, 10, 64); err == nil {
			return n, true, ""
		}
		if x, err := strconv.ParseFloat(text, 64); err == nil && x == math.Trunc(x) && !math.IsInf(x, 0) {
			return x, true, ""
		}
		return nil, false, "must be a whole number"
	case "number":
		if x, err := strconv.ParseFloat(text, 64); err == nil && !math.IsInf(x, 0) && !math.IsNaN(x) {
			return x, true, ""
		}
		return nil, false, "must be a number"
	case "boolean":
		if b, err := strconv.ParseBool(text); err == nil {
			return b, true, ""
		}
		return nil, false, "must be true or false"
	case "object", "array":
		var v any
		if err := json.Unmarshal([]byte(text), &v); err != nil {
			return nil, false, "must be JSON: " + err.Error()
		}
		return v, true, ""
	case "":
		var v any
		if json.Unmarshal([]byte(text), &v) == nil {
			return v, true, ""
		}
	}
	return text, true, ""
}

// correction reads a correction modal's inputs, by field name, into the
// patch a decision carries: the fields whose value differs from the draft,
// with nil for a field emptied. It also returns, by field name, what could
// not be read.
func correction(fields []fieldview.Field, inputs map[string]string) (countersign.Fields, map[string]string) {
	patch := countersign.Fields{}
	problems := map[string]string{}
	for _, f := range fields {
		text, sent := inputs[f.Name]
		if !sent {
			continue
		}
		value, present, problem := parseValue(f.Kind(), text)
		switch {
		case problem != "":
			problems[f.Name] = problem
		case !present && f.Present && f.Value != nil:
			patch[f.Name] = nil
		case present && (!f.Present || !countersign.SameValue(value, f.Value)):
			patch[f.Name] = value
		}
	}
	return patch, problems
}
