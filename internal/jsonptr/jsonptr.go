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
	"io"
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
// It refuses what a reader could take two ways: a key twice in one object
// (which value would a rule, a pointer and a person each see?) and
// anything after the value.
func Decode(data []byte) (any, error) {
	check := json.NewDecoder(bytes.NewReader(data))
	if err := oneValue(check, 0); err != nil {
		return nil, err
	}
	if _, err := check.Token(); err != io.EOF {
		return nil, errors.New("more than one JSON value")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

// maxDepth bounds how deep Decode follows nested objects and arrays.
const maxDepth = 1000

// oneValue reads one JSON value's tokens, refusing a key that appears
// twice in one object.
func oneValue(dec *json.Decoder, depth int) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	delim, ok := tok.(json.Delim)
	if !ok {
		return nil
	}
	if depth >= maxDepth {
		return fmt.Errorf("nested more than %d deep", maxDepth)
	}
	seen := map[string]bool{}
	for dec.More() {
		if delim == '{' {
			key, err := dec.Token()
			if err != nil {
				return err
			}
			name, _ := key.(string)
			if seen[name] {
				return fmt.Errorf("key %q appears twice in one object", name)
			}
			seen[name] = true
		}
		if err := oneValue(dec, depth+1); err != nil {
			return err
		}
	}
	_, err = dec.Token()
	return err
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
