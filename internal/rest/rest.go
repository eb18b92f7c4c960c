// Package rest is what countersign's HTTP endpoints share, so that the API
// (api/) and the codec server (internal/codec) answer alike: the bearer
// token a caller presents, the one JSON error shape with its code→status
// table, and the status a handler wrote, for the request log.
package rest

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/countersign/countersign"
)

// statusOf maps error codes to HTTP statuses; the table is part of the
// public contract.
var statusOf = map[countersign.Code]int{
	countersign.CodeBadRequest:   http.StatusBadRequest,
	countersign.CodeUnauthorized: http.StatusUnauthorized,
	countersign.CodeForbidden:    http.StatusForbidden,
	countersign.CodeNotFound:     http.StatusNotFound,
	countersign.CodeConflict:     http.StatusConflict,
	countersign.CodeTooLarge:     http.StatusRequestEntityTooLarge,
	countersign.CodeInvalid:      http.StatusUnprocessableEntity,
	countersign.CodeRateLimited:  http.StatusTooManyRequests,
	countersign.CodeUnavailable:  http.StatusServiceUnavailable,
	countersign.CodeInternal:     http.StatusInternalServerError,
}

// Status is the HTTP status of an error code; codes the table does not
// know are internal errors.
func Status(code countersign.Code) int {
	if status, ok := statusOf[code]; ok {
		return status
	}
	return http.StatusInternalServerError
}

// ErrorBody is the body of every error answer: {"error": {"code", "message"}}.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail is an error as answered: its code and what the caller reads.
type ErrorDetail struct {
	Code    countersign.Code `json:"code"`
	Message string           `json:"message"`
}

// InternalMessage is what a caller is told of an internal error, whose
// text is for the server's log only.
const InternalMessage = "internal error; the server log has the details"

// WriteError writes err as an ErrorBody with the status of its code.
// Errors without a code are internal: the caller reads InternalMessage.
func WriteError(w http.ResponseWriter, err error) {
	code := countersign.ErrorCode(err)
	message := err.Error()
	if code == countersign.CodeInternal {
		message = InternalMessage
	}
	WriteJSON(w, Status(code), ErrorBody{Error: ErrorDetail{Code: code, Message: message}})
}

// WriteJSON writes v as the JSON body of a status answer, with <, > and &
// as they are.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// Bearer is the token of an "Authorization: Bearer <token>" header, the
// scheme in any case and the token without the spaces around it; false
// when the request carries none.
func Bearer(r *http.Request) (string, bool) {
	const scheme = "Bearer "
	header := r.Header.Get("Authorization")
	if len(header) <= len(scheme) || !strings.EqualFold(header[:len(scheme)], scheme) {
		return "", false
	}
	return strings.TrimSpace(header[len(scheme):]), true
}

// StatusRecorder remembers the status a handler wrote, for the request
// log: 200 when it wrote none.
type StatusRecorder struct {
	http.ResponseWriter
	Status int
}

// NewStatusRecorder records what is written to w.
func NewStatusRecorder(w http.ResponseWriter) *StatusRecorder {
	return &StatusRecorder{ResponseWriter: w, Status: http.StatusOK}
}

// WriteHeader records code and writes it.
func (s *StatusRecorder) WriteHeader(code int) {
	s.Status = code
	s.ResponseWriter.WriteHeader(code)
}
