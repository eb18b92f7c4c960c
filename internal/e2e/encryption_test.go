package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/api/proxy"
	"go.temporal.io/sdk/converter"
	sdklog "go.temporal.io/sdk/log"
	sdkworker "go.temporal.io/sdk/worker"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/api"
	"github.com/countersign/countersign/internal/app"
	"github.com/countersign/countersign/internal/codec"
	"github.com/countersign/countersign/internal/config"
	"github.com/countersign/countersign/internal/store/sqlite"
	"github.com/countersign/countersign/worker"
	"github.com/countersign/countersign/workflows"
)

// With a keyring configured, a workflow history read with a plain Temporal
// client (no codec: what the Temporal UI or CLI shows without the codec
// server) holds none of the document's text, the draft, the evidence or the
// correction; with the codec it all reads back, and the history replays.
// With --encrypt-documents, the body in the store is ciphertext too.
func TestHistoryIsEncrypted(t *testing.T) {
	secret := make([]byte, codec.KeySize)
	if _, err := rand.Read(secret); err != nil {
		t.Fatal(err)
	}
	keys, err := codec.NewKeyring(codec.Key{ID: "e2e-key", Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	a := startAppWith(t, config.Config{Encryption: keys, EncryptDocuments: true}, app.Roles{Embedded: true, Worker: true, API: true})
	u := newUsers(t, a)
	ctx := context.Background()

	sub, err := u.submitter.Submit(ctx, api.SubmitRequest{TaskType: "contract-review", Content: sample(t, "contract-review", "msa-northwind-harbor.txt")})
	if err != nil {
		t.Fatal(err)
	}
	review := waitForReview(t, u.reviewer, sub.ID)
	// A refusal still says why: failures cross the codec both ways.
	bad := api.DecisionRequest{Action: countersign.ActionCorrect, Fields: countersign.Fields{"term_months": "two years"}}
	if _, err := u.reviewer.Decide(ctx, review.ID, bad); status(err) != http.StatusUnprocessableEntity || !strings.Contains(err.Error(), "term_months") {
		t.Fatalf("correction failing the schema: %v, want 422 naming term_months", err)
	}
	const corrected = "Zanzibar Quokka Holdings LLC"
	if _, err := u.reviewer.Decide(ctx, review.ID, api.DecisionRequest{Action: countersign.ActionCorrect, Fields: countersign.Fields{"party_b": corrected}}); err != nil {
		t.Fatal(err)
	}
	doc, err := u.reviewer.Document(ctx, sub.ID)
	if err != nil {
		t.Fatal(err)
	}
	if doc.Status != countersign.StatusAccepted || doc.Final == nil || doc.Final.Fields["party_b"] != corrected || doc.Draft.Fields["party_a"] != "Northwind Analytics, Inc." {
		t.Fatalf("document = %+v", doc)
	}
	// Text the history would hold in clear: a drafted value, an evidence
	// quote (the document's own words), the correction.
	secrets := []string{"Northwind Analytics", "Harbor Freight Logistics", corrected}

	plain, err := worker.Dial(ctx, worker.ClientOptions{Address: a.TemporalAddress, Namespace: a.Config.Namespace, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	workflowID := workflows.ReviewWorkflowID(sub.ID)
	history := fetchHistory(t, plain, workflowID)
	raw, err := history.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range secrets {
		if bytes.Contains(raw, []byte(s)) {
			t.Errorf("the history read without the codec shows %q", s)
		}
	}
	var count int
	err = proxy.VisitPayloads(ctx, history, proxy.VisitPayloadsOptions{
		// Search attributes are Temporal's index, never encoded: here only
		// the TemporalChangeVersion of workflow.GetVersion. Headers carry
		// what interceptors propagate (trace context), which the SDK writes
		// without the codec; the check above covers their text.
		SkipSearchAttributes: true,
		Visitor: func(vc *proxy.VisitPayloadsContext, ps []*commonpb.Payload) ([]*commonpb.Payload, error) {
			if _, header := vc.Parent.(*commonpb.Header); header {
				return ps, nil
			}
			for _, p := range ps {
				count++
				if enc, key := string(p.Metadata[converter.MetadataEncoding]), string(p.Metadata[codec.MetadataKeyID]); enc != codec.Encoding || key != "e2e-key" {
					t.Errorf("a payload in clear: encoding %q, key %q: %.80q", enc, key, p.Data)
				}
			}
			return ps, nil
		},
	})
	if err != nil || count < 10 {
		t.Fatalf("visited %d payloads: %v", count, err)
	}
	var result workflows.ReviewResult
	if err := plain.GetWorkflow(ctx, workflowID, "").Get(ctx, &result); err == nil {
		t.Fatalf("a client without the keys read the result: %+v", result)
	}

	// With the codec: the encrypted history replays, and decodes to the text.
	dc, fc := worker.Converters(codec.New(keys))
	replayer, err := sdkworker.NewWorkflowReplayerWithOptions(sdkworker.WorkflowReplayerOptions{DataConverter: dc, FailureConverter: fc})
	if err != nil {
		t.Fatal(err)
	}
	(&workflows.Workflows{}).Register(replayer)
	if err := replayer.ReplayWorkflowHistory(sdklog.NewStructuredLogger(quietLogger()), history); err != nil {
		t.Fatalf("the encrypted history does not replay: %v", err)
	}
	decoder := codec.New(keys)
	err = proxy.VisitPayloads(ctx, history, proxy.VisitPayloadsOptions{
		Visitor: func(_ *proxy.VisitPayloadsContext, ps []*commonpb.Payload) ([]*commonpb.Payload, error) {
			return decoder.Decode(ps)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if raw, err = history.Marshal(); err != nil {
		t.Fatal(err)
	}
	for _, s := range secrets {
		if !bytes.Contains(raw, []byte(s)) {
			t.Errorf("the history decoded with the codec lacks %q", s)
		}
	}
	waitCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := a.Temporal.GetWorkflow(waitCtx, workflowID, "").Get(waitCtx, &result); err != nil || result.Status != countersign.StatusAccepted {
		t.Fatalf("the result through the App's client: %+v, %v", result, err)
	}

	// The body at rest, read past the App's store, is ciphertext; the
	// pipeline above drafted from it, so the App's own reads decrypt.
	behind, err := sqlite.Open(ctx, filepath.Join(a.Config.DataDir, app.StoreDB))
	if err != nil {
		t.Fatal(err)
	}
	defer behind.Close()
	stored, err := behind.GetDocument(ctx, sub.ID)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(stored.Content, "Northwind") || !strings.HasPrefix(stored.Content, "countersign:encrypted:v1:e2e-key:") {
		t.Fatalf("document body at rest = %.80q, want ciphertext under e2e-key", stored.Content)
	}
}
