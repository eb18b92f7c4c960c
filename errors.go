package countersign

import (
	"errors"
	"fmt"
)

// Code is the stable, machine-readable kind of an error. The API returns it
// as error.code and maps it to an HTTP status; workflows use it as the type of
// application errors, so a refusal keeps its kind across Temporal.
type Code string

// Error codes.
const (
	CodeBadRequest   Code = "bad_request"  // malformed request
	CodeUnauthorized Code = "unauthorized" // no or bad credentials
	CodeForbidden    Code = "forbidden"    // role or rule forbids
	CodeNotFound     Code = "not_found"    // unknown ID or task type
	CodeConflict     Code = "conflict"     // state forbids: already decided, closed, different content
	CodeTooLarge     Code = "too_large"    // body or document over the limit
	CodeInvalid      Code = "invalid"      // well-formed but invalid
	CodeRateLimited  Code = "rate_limited" // too many requests; retry after a while
	CodeUnavailable  Code = "unavailable"  // a dependency is down; retry later
	CodeInternal     Code = "internal"     // a bug or an unexpected failure
)

// Error is an error with a Code. Compare kinds with errors.Is against the
// sentinels below, or read the code with ErrorCode.
type Error struct {
	Code    Code
	Message string
}

func (e *Error) Error() string { return e.Message }

// Is makes errors.Is(err, ErrNotFound) true for every not-found error.
func (e *Error) Is(target error) bool {
	var other *Error
	return errors.As(target, &other) && other.Code == e.Code
}

// Errorf returns an *Error with the given code and a formatted message.
// A %w verb keeps the wrapped error visible to errors.Is and errors.As.
func Errorf(code Code, format string, args ...any) error {
	err := fmt.Errorf(format, args...)
	return &wrapped{coded: &Error{Code: code, Message: err.Error()}, cause: errors.Unwrap(err)}
}

// wrapped is a coded error that also keeps the error it wraps.
type wrapped struct {
	coded *Error
	cause error
}

func (w *wrapped) Error() string { return w.coded.Message }

func (w *wrapped) Unwrap() []error {
	if w.cause == nil {
		return []error{w.coded}
	}
	return []error{w.coded, w.cause}
}

// Sentinels for errors.Is.
var (
	ErrBadRequest   = &Error{Code: CodeBadRequest, Message: "bad request"}
	ErrUnauthorized = &Error{Code: CodeUnauthorized, Message: "unauthorized"}
	ErrForbidden    = &Error{Code: CodeForbidden, Message: "forbidden"}
	ErrNotFound     = &Error{Code: CodeNotFound, Message: "not found"}
	ErrConflict     = &Error{Code: CodeConflict, Message: "conflict"}
	ErrTooLarge     = &Error{Code: CodeTooLarge, Message: "too large"}
	ErrInvalid      = &Error{Code: CodeInvalid, Message: "invalid"}
	ErrRateLimited  = &Error{Code: CodeRateLimited, Message: "rate limited"}
	ErrUnavailable  = &Error{Code: CodeUnavailable, Message: "unavailable"}
)

// Conceal returns an error that shows message (with code) to callers and
// keeps cause, which may name hosts or users, for the server log: see Cause.
func Conceal(code Code, message string, cause error) error {
	return &concealed{coded: &Error{Code: code, Message: message}, cause: cause}
}

type concealed struct {
	coded *Error
	cause error
}

func (c *concealed) Error() string { return c.coded.Message }

func (c *concealed) Unwrap() []error { return []error{c.coded, c.cause} }

// Cause returns the concealed cause of err, or nil when nothing is concealed.
func Cause(err error) error {
	var c *concealed
	if errors.As(err, &c) {
		return c.cause
	}
	return nil
}

// ErrNoWorker says Temporal answers but no worker polls the review task
// queue: documents would wait. Readiness checks wrap it.
var ErrNoWorker = errors.New("no worker polls the task queue")

// ErrorCode returns the code of the first *Error in err's chain, or
// CodeInternal when there is none.
func ErrorCode(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}
