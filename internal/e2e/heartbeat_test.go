package e2e

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/api"
	"github.com/countersign/countersign/api/apiclient"
	"github.com/countersign/countersign/internal/devserver"
	"github.com/countersign/countersign/internal/store/postgres/pgtest"
)

// TestDeadWorkerReleasesItsModelCall SIGKILLs a worker while its drafting
// activity waits on a model that does not answer, and sees another worker
// call the model again within seconds: the dead worker's heartbeats stop,
// Temporal counts the attempt lost after its HeartbeatTimeout (10 s) and
// retries it, instead of after the 5 minutes an attempt may take. The
// retried call is refused for good (401), so the document goes to a person
// with one draft.failed event.
func TestDeadWorkerReleasesItsModelCall(t *testing.T) {
	ctx := context.Background()
	calls := make(chan time.Time, 10)
	var called atomic.Int32
	model := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/chat/completions" {
			http.NotFound(w, r)
			return
		}
		calls <- time.Now()
		// Read to the body's end, after which the server cancels the
		// request's context when the connection closes.
		io.Copy(io.Discard, r.Body)
		if called.Add(1) == 1 {
			// The first call never gets an answer: its worker dies waiting.
			<-r.Context().Done()
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte(`{"error":{"message":"invalid key","type":"invalid_request_error"}}`))
	}))
	t.Cleanup(model.Close)

	workerEnv, apiEnv := deployEnv(t, "worker"), deployEnv(t, "api")
	namespace := workerEnv["COUNTERSIGN_NAMESPACE"]
	temporal, err := devserver.Start(ctx, devserver.Options{DatabaseFile: filepath.Join(t.TempDir(), "temporal.db"), Namespace: namespace})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(temporal.Stop)
	database := pgtest.Database(t)
	local := decisionKeys(t)
	local["COUNTERSIGN_TEMPORAL_ADDRESS"] = temporal.Address()
	local["COUNTERSIGN_DATABASE_URL"] = database
	local["COUNTERSIGN_ENCRYPTION_KEY_FILE"] = writeKeys(t, "heartbeat")
	local["COUNTERSIGN_HTTP"] = freeAddr(t)
	apiEnv = localized(t, apiEnv, local)
	startWorker := func(name string) *process {
		local["COUNTERSIGN_METRICS"] = freeAddr(t)
		env := plus(t, localized(t, workerEnv, local), map[string]string{
			"OPENAI_BASE_URL":          model.URL + "/v1",
			"COUNTERSIGN_OPENAI_MODEL": "test-model",
		})
		p := startProcess(t, name, env, "worker")
		metrics := "http://" + env["COUNTERSIGN_METRICS"] + "/metrics"
		p.waitFor(t, "the worker's metrics", func() bool { return httpStatus(metrics) == http.StatusOK })
		return p
	}

	apiProc := startProcess(t, "api", apiEnv, "api")
	first := startWorker("worker1")
	apiURL := "http://" + apiEnv["COUNTERSIGN_HTTP"]
	apiProc.waitFor(t, "/readyz 200", func() bool { return httpStatus(apiURL+"/readyz") == http.StatusOK })
	words := strings.Fields(run(t, localized(t, deployEnv(t, "token"), map[string]string{"COUNTERSIGN_DATABASE_URL": database}), "token", "create", "--user", "admin", "--role", "admin"))
	admin := apiclient.New(apiURL, words[len(words)-1])

	sub, err := admin.Submit(ctx, api.SubmitRequest{TaskType: "contract-review", Content: sample(t, "contract-review", "msa-northwind-harbor.txt")})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-calls:
	case <-time.After(2 * time.Minute):
		t.Fatal("the first worker never called the model")
	}
	startWorker("worker2")
	first.kill(t)
	killed := time.Now()
	select {
	case at := <-calls:
		t.Logf("the other worker called the model %s after the first was killed", at.Sub(killed).Round(time.Millisecond))
		if at.Sub(killed) > time.Minute {
			t.Fatalf("the drafting was retried %s after its worker died, want within seconds", at.Sub(killed))
		}
	case <-time.After(2 * time.Minute):
		t.Fatal("no worker called the model again within two minutes of the first one's death")
	}

	var doc *api.DocumentView
	apiProc.waitFor(t, "the document awaiting review", func() bool {
		doc, err = admin.Document(ctx, sub.ID)
		return err == nil && doc.Status == countersign.StatusAwaitingReview
	})
	events, err := admin.Audit(ctx, sub.ID)
	if err != nil {
		t.Fatal(err)
	}
	var drafts []string
	for _, e := range events {
		if strings.HasPrefix(e.Type, "draft.") {
			drafts = append(drafts, e.Type)
		}
	}
	if len(drafts) != 1 || drafts[0] != countersign.EventDraftFailed {
		t.Fatalf("draft events %v, want one %s", drafts, countersign.EventDraftFailed)
	}
}
