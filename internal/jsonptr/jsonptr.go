// Package jsonptr reads JSON Pointers (RFC 6901): the path of one value in
// a JSON document, such as /src_endpoint/ip or /observables/0/value. Task
// types use them to name an alert's fields, and models to point at the
// fields their verdict rests on.
package jsonptr

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Check reports what is wrong with a pointer's syntax: it is empty (the
// whole document, which names no field) or does not start with "/", or
// holds a "~" not followed by 0 or 1.
func Check(pointer string) error {
	_, err := tokens(pointer)
	return err
}

func tokens(pointer string) ([]string, error) {
	if pointer == "" {
		return nil, errors.New("is empty: a pointer names one value, such as /finding_info/uid")
	}
	if !strings.HasPrefix(pointer, "/") {
		return nil, fmt.Errorf("must start with / (got %q)", pointer)
	}
	parts := strings.Split(pointer[1:], "/")
	for i, p := range parts {
		for j := 0; j < len(p); j++ {
			if p[j] == '~' && (j+1 == len(p) || (p[j+1] != '0' && p[j+1] != '1')) {
				return nil, fmt.Errorf("has a ~ that is not ~0 or ~1 (got %q)", pointer)
			}
		}
		parts[i] = strings.ReplaceAll(strings.ReplaceAll(p, "~1", "/"), "~0", "~")
	}
	return parts, nil
}

// Resolve returns the value pointer names in doc (a document decoded by
// Decode), and whether it is there.
func Resolve(doc any, pointer string) (any, bool) {
	parts, err := tokens(pointer)
	if err != nil {
		return nil, false
	}
	cur := doc
	for _, p := range parts {
		switch node := cur.(type) {
		case map[string]any:
			v, ok := node[p]
			if !ok {
				return nil, false
			}
			cur = v
		case []any:
			i, err := strconv.Atoi(p)
			if err != nil || i < 0 || i >= len(node) || (len(p) > 1 && p[0] == '0') {
				return nil, false
			}
			cur = node[i]
		default:
			return nil, false
		}
	}
	return cur, true
}

// Decode reads one JSON value, numbers kept as json.Number so that they
// read back as written (an ID of 20 digits stays exact).
func Decode(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, errors.New("more than one JSON value")
	}
	return v, nil
}

// Text is a resolved value as a person or a rule reads it: a string as it
// is, a number as written, true, false or null, and an object or array as
// compact JSON.
func Text(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return x
	case json.Number:
		return x.String()
	case bool:
		return strconv.FormatBool(x)
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(raw)
}
