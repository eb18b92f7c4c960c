package e2e

import (
	"fmt"
	"net/http"
	"os"
	"sync"
	"testing"

	"github.com/countersign/countersign/internal/app"
	"github.com/countersign/countersign/internal/openapicheck"
)

// TestMain holds every answer the API gives in these tests, in the apps
// they start in this process, to the OpenAPI description (api/openapi.yaml
// and the wire types): a status it does not list, or a body its schema
// refuses, fails the run.
func TestMain(m *testing.M) {
	spec, err := openapicheck.Load()
	if err != nil {
		fmt.Fprintln(os.Stderr, "the OpenAPI description:", err)
		os.Exit(1)
	}
	var (
		mu       sync.Mutex
		failures []error
	)
	app.WrapHTTP = func(next http.Handler) http.Handler {
		return spec.Handler(next, func(err error) {
			mu.Lock()
			failures = append(failures, err)
			mu.Unlock()
		})
	}
	code := m.Run()
	mu.Lock()
	defer mu.Unlock()
	for i, err := range failures {
		if i == 20 {
			fmt.Fprintf(os.Stderr, "… and %d more\n", len(failures)-20)
			break
		}
		fmt.Fprintln(os.Stderr, "OpenAPI:", err)
	}
	if len(failures) > 0 && code == 0 {
		fmt.Fprintf(os.Stderr, "FAIL: %d answers of the API do not hold to its OpenAPI description (%d held)\n", len(failures), spec.Checked.Load())
		code = 1
	}
	os.Exit(code)
}
