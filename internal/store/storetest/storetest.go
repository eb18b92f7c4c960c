// Package storetest is the conformance suite every countersign.Store must
// pass. Each store's tests call Run with a Harness that opens a fresh, empty
// store on the real database.
package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/countersign/countersign"
)

// Harness opens stores for the suite.
type Harness struct {
	// New returns a new, empty store; the harness closes and removes it when
	// the test ends.
	New func(t *testing.T) countersign.Store
	// Exec runs a literal SQL statement on the store's database, behind the
	// store's back: this is how the tamper tests change the audit table.
	Exec func(t *testing.T, s countersign.Store, statement string)
}

// Run runs the whole suite.
func Run(t *testing.T, h Harness) {
	t.Run("Documents", func(t *testing.T) { testDocuments(t, h.New(t)) })
	t.Run("ScanDocuments", func(t *testing.T) { testScanDocuments(t, h.New(t)) })
	t.Run("MarkDelivered", func(t *testing.T) { testMarkDelivered(t, h.New(t)) })
	t.Run("DocumentLabels", func(t *testing.T) { testDocumentLabels(t, h.New(t)) })
	t.Run("ScanDocumentBatches", func(t *testing.T) { testScanDocumentBatches(t, h.New(t)) })
	t.Run("Reviews", func(t *testing.T) { testReviews(t, h.New(t)) })
	t.Run("ReviewPaging", func(t *testing.T) { testReviewPaging(t, h.New(t)) })
	t.Run("ReviewsByDue", func(t *testing.T) { testReviewsByDue(t, h.New(t)) })
	t.Run("ReviewsByValue", func(t *testing.T) { testReviewsByValue(t, h.New(t)) })
	t.Run("ReviewKinds", func(t *testing.T) { testReviewKinds(t, h.New(t)) })
	t.Run("Claims", func(t *testing.T) { testClaims(t, h.New(t)) })
	t.Run("ClaimCandidates", func(t *testing.T) { testClaimCandidates(t, h.New(t)) })
	t.Run("ClaimsConcurrent", func(t *testing.T) { testClaimsConcurrent(t, h.New(t)) })
	t.Run("LapsedClaims", func(t *testing.T) { testLapsedClaims(t, h.New(t)) })
	t.Run("Assignment", func(t *testing.T) { testAssignment(t, h.New(t)) })
	t.Run("AssignmentTurns", func(t *testing.T) { testAssignmentTurns(t, h.New(t)) })
	t.Run("Decisions", func(t *testing.T) { testDecisions(t, h.New(t)) })
	t.Run("BatchReads", func(t *testing.T) { testBatchReads(t, h.New(t)) })
	t.Run("AuditChain", func(t *testing.T) { testAuditChain(t, h.New(t)) })
	t.Run("AuditIdempotent", func(t *testing.T) { testAuditIdempotent(t, h.New(t)) })
	t.Run("AuditConcurrent", func(t *testing.T) { testAuditConcurrent(t, h.New(t)) })
	t.Run("AuditScanBatches", func(t *testing.T) { testAuditScanBatches(t, h.New(t)) })
	t.Run("AuditTamper", func(t *testing.T) { testAuditTamper(t, h) })
	t.Run("TaskTypes", func(t *testing.T) { testTaskTypes(t, h.New(t)) })
	t.Run("Originals", func(t *testing.T) { testOriginals(t, h.New(t)) })
	t.Run("Calibrations", func(t *testing.T) { testCalibrations(t, h.New(t)) })
	t.Run("ActiveCalibration", func(t *testing.T) { testActiveCalibration(t, h) })
	t.Run("Tokens", func(t *testing.T) { testTokens(t, h.New(t)) })
	t.Run("Overrides", func(t *testing.T) { testOverrides(t, h.New(t)) })
	t.Run("OverridesConcurrent", func(t *testing.T) { testOverridesConcurrent(t, h.New(t)) })
	t.Run("AuditDraws", func(t *testing.T) { testAuditDraws(t, h.New(t)) })
	t.Run("AuditDrawsConcurrent", func(t *testing.T) { testAuditDrawsConcurrent(t, h.New(t)) })
	t.Run("Certificates", func(t *testing.T) { testCertificates(t, h.New(t)) })
	t.Run("PolicyVersions", func(t *testing.T) { testPolicyVersions(t, h.New(t)) })
	t.Run("PolicyVersionsConcurrent", func(t *testing.T) { testPolicyVersionsConcurrent(t, h.New(t)) })
	t.Run("Gold", func(t *testing.T) { testGold(t, h.New(t)) })
	t.Run("Batches", func(t *testing.T) { testBatches(t, h.New(t)) })
	t.Run("BatchesConcurrent", func(t *testing.T) { testBatchesConcurrent(t, h.New(t)) })
	t.Run("UnstartedDocuments", func(t *testing.T) { testUnstartedDocuments(t, h.New(t)) })
	t.Run("SlackUsers", func(t *testing.T) { testSlackUsers(t, h.New(t)) })
	t.Run("SlackRequests", func(t *testing.T) { testSlackRequests(t, h, h.New(t)) })
	t.Run("SlackRequestsConcurrent", func(t *testing.T) { testSlackRequestsConcurrent(t, h.New(t)) })
}

var t0 = time.Date(2026, 3, 14, 9, 26, 53, 589793000, time.UTC)

func newDocument(id string) *countersign.Document {
	return &countersign.Document{
		ID:              id,
		TaskType:        "contract-review",
		TaskTypeVersion: "abc123",
		ExternalID:      "ext-" + id,
		Content:         "This Agreement is made between Acme Corp and Globex Ltd. ünïcödé",
		ContentSHA256:   countersign.ContentSHA256(id),
		Metadata:        map[string]string{"source": "email"},
		Status:          countersign.StatusProcessing,
		SubmittedBy:     "alice",
		CreatedAt:       t0,
	}
}

func mustCreate(t *testing.T, s countersign.Store, id string) {
	t.Helper()
	if _, _, err := s.CreateDocument(context.Background(), newDocument(id)); err != nil {
		t.Fatal(err)
	}
}
