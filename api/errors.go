package api

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"reflect"
	"strings"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/rest"
)

// fail writes err as the response, logging first what the caller is not
// shown: the whole of an internal error, the cause of a concealed one.
func (h *handlers) fail(w http.ResponseWriter, r *http.Request, err error) {
	if countersign.ErrorCode(err) == countersign.CodeInternal {
		h.Logger.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "error", err)
	} else if cause := countersign.Cause(err); cause != nil {
		h.Logger.WarnContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "error", err, "cause", cause)
	}
	rest.WriteError(w, err)
}

// decodeBody reads a JSON body into v: 413 past the size limit, 400 when it
// is not JSON of the expected shape (unknown fields included).
func (h *handlers) decodeBody(w http.ResponseWriter, r *http.Request, v any) error {
	return decodeJSON(http.MaxBytesReader(w, r.Body, h.MaxBodyBytes), v)
}

// decodeJSON reads one JSON object from body into v, refusing unknown
// fields and anything after the object; see decodeBody.
func decodeJSON(body io.Reader, v any) error {
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var tooLarge *http.MaxBytesError
		var syntax *json.SyntaxError
		var typeErr *json.UnmarshalTypeError
		switch {
		case errors.As(err, &tooLarge):
			return countersign.Errorf(countersign.CodeTooLarge, "request body is larger than %d bytes", tooLarge.Limit)
		case errors.Is(err, io.EOF):
			return countersign.Errorf(countersign.CodeBadRequest, "request body is empty; send a JSON object")
		case errors.Is(err, io.ErrUnexpectedEOF):
			return countersign.Errorf(countersign.CodeBadRequest, "request body is not valid JSON: it ends too early")
		case errors.As(err, &syntax):
			return countersign.Errorf(countersign.CodeBadRequest, "request body is not valid JSON (at byte %d): %v", syntax.Offset, err)
		case errors.As(err, &typeErr) && strings.HasPrefix(typeErr.Value, "number") && isInteger(typeErr):
			// A number where a whole one goes: 1.5, 4e2, or one too
			// large for it.
			return countersign.Errorf(countersign.CodeBadRequest, "field %q must be a whole number written without a fraction or an exponent, and in range, not %s", typeErr.Field, strings.TrimPrefix(typeErr.Value, "number "))
		case errors.As(err, &typeErr):
			return countersign.Errorf(countersign.CodeBadRequest, "field %q must be a JSON %s, not %s", typeErr.Field, typeName(typeErr), typeErr.Value)
		case strings.HasPrefix(err.Error(), "json: unknown field"):
			return countersign.Errorf(countersign.CodeBadRequest, "request body has an %s", strings.TrimPrefix(err.Error(), "json: "))
		case countersign.ErrorCode(err) != countersign.CodeInternal:
			// The body said why it stopped (readWithin).
			return err
		default:
			return countersign.Errorf(countersign.CodeBadRequest, "request body: %v", err)
		}
	}
	if dec.More() {
		return countersign.Errorf(countersign.CodeBadRequest, "request body has data after the JSON object")
	}
	return nil
}

// isInteger reports whether the field e is about holds a whole number.
func isInteger(e *json.UnmarshalTypeError) bool {
	switch e.Type.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return true
	}
	return false
}

func typeName(e *json.UnmarshalTypeError) string {
	switch e.Type.Kind().String() {
	case "map", "struct":
		return "object"
	case "slice":
		return "array"
	case "float64", "int", "int64":
		return "number"
	}
	return e.Type.Kind().String()
}
