package rest

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/countersign/countersign"
)

func TestBearer(t *testing.T) {
	for header, want := range map[string]string{
		"Bearer cs_abc":   "cs_abc",
		"bearer cs_abc":   "cs_abc",
		"BEARER  cs_abc ": "cs_abc",
		"Bearer ":         "",
		"Basic cs_abc":    "",
		"cs_abc":          "",
		"":                "",
	} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		if header != "" {
			r.Header.Set("Authorization", header)
		}
		got, ok := Bearer(r)
		if got != want || ok != (want != "") {
			t.Errorf("Bearer(%q) = %q, %v; want %q", header, got, ok, want)
		}
	}
}

// TestWriteErrorConcealsInternalErrors: a coded error is answered with its
// status and message, one without a code as internal, without its text.
func TestWriteErrorConcealsInternalErrors(t *testing.T) {
	cases := []struct {
		err     error
		status  int
		code    countersign.Code
		message string
	}{
		{countersign.Errorf(countersign.CodeConflict, "review r1 is closed"), http.StatusConflict, countersign.CodeConflict, "review r1 is closed"},
		{countersign.Errorf(countersign.CodeRateLimited, "slow down"), http.StatusTooManyRequests, countersign.CodeRateLimited, "slow down"},
		{errors.New("dial tcp db-primary:5432: refused"), http.StatusInternalServerError, countersign.CodeInternal, "internal error; the server log has the details"},
	}
	for _, c := range cases {
		w := httptest.NewRecorder()
		WriteError(w, c.err)
		var body ErrorBody
		if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
			t.Fatal(err)
		}
		if w.Code != c.status || body.Error.Code != c.code || body.Error.Message != c.message || w.Header().Get("Content-Type") != "application/json" {
			t.Errorf("WriteError(%q) = %d %+v, want %d %s %q", c.err, w.Code, body, c.status, c.code, c.message)
		}
	}
}
