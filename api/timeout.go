package api

import (
	"errors"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/countersign/countersign"
)

// DefaultReadTimeout bounds how long a request's body may take to arrive,
// unless Services configures otherwise.
const DefaultReadTimeout = 30 * time.Second

// readWithin gives each request's body d to arrive, counted from the end
// of its headers (http.Server's ReadHeaderTimeout bounds those). Past it,
// reading the body fails with a 400 that says so, and the connection is
// closed; also when the handler answered without reading the body, which
// the server would otherwise go on reading, to reuse the connection, for as
// long as a client trickles it. Everything the router serves gets it, the
// unauthenticated Slack endpoints and the web page's sign-in included.
// net/http lifts the deadline once the body has been read, so a handler
// that then takes long (a decision waiting on its workflow, an export) is
// not cut short.
func readWithin(d time.Duration, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body != nil && r.Body != http.NoBody {
			// A ResponseWriter without deadlines (a test's recorder) is
			// served as it is.
			if err := http.NewResponseController(w).SetReadDeadline(time.Now().Add(d)); err == nil {
				r.Body = deadlineBody{ReadCloser: r.Body, within: d}
			}
		}
		next.ServeHTTP(w, r)
	})
}

// deadlineBody is a request body read under readWithin's deadline, whose
// read past the deadline fails saying so.
type deadlineBody struct {
	io.ReadCloser
	within time.Duration
}

func (b deadlineBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		err = countersign.Errorf(countersign.CodeBadRequest, "the request body did not arrive within %s", b.within)
	}
	return n, err
}
