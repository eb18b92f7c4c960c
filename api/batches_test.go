package api_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/countersign/countersign"
)

// storeBatched stores a document of a batch (none for "") as intake would,
// then gives it status, a route and, when accepted, final fields.
func (s *server) storeBatched(id, batch string, status countersign.Status, route countersign.Outcome) {
	s.t.Helper()
	ctx := context.Background()
	content := "text of " + id
	_, _, err := s.store.CreateDocument(ctx, &countersign.Document{ID: id, TaskType: "pii-extraction", TaskTypeVersion: "v1",
		Content: content, ContentSHA256: countersign.ContentSHA256(content), Status: countersign.StatusProcessing,
		SubmittedBy: "sam", CreatedAt: time.Now(), Batch: batch})
	if err != nil {
		s.t.Fatal(err)
	}
	u := countersign.DocumentUpdate{Status: &status}
	if route != "" {
		u.Route = &countersign.Route{Outcome: route, Reasons: []string{}}
		u.Draft = &countersign.Draft{Fields: countersign.Fields{"name": "Ann"}, Extractor: "rules"}
	}
	if status == countersign.StatusAccepted {
		u.Final = &countersign.Final{Fields: countersign.Fields{"name": "Ann"}, Outcome: route, DecidedBy: "system", DecidedAt: time.Now()}
	}
	if err := s.store.UpdateDocument(ctx, id, u); err != nil {
		s.t.Fatal(err)
	}
}

// TestSubmitRefusesBadBatchNames: a batch name that could not be one is
// refused with 422 naming what is wrong, before anything is stored.
func TestSubmitRefusesBadBatchNames(t *testing.T) {
	s := newServer(t, 0)
	for _, tc := range []struct{ batch, says string }{
		{"data room 7", `batch name "data room 7" is not one`},
		{"räume", `batch name "räume" is not one`},
		{"a/b", `batch name "a/b" is not one`},
		{"..", `batch name ".." is not one: it needs a character other than '.'`},
		{strings.Repeat("x", 129), "batch name is 129 characters long; the limit is 128"},
	} {
		body, _ := json.Marshal(map[string]any{"task_type": "pii-extraction", "content": "Ann Lee", "batch": tc.batch})
		a := s.do("POST", "/v1/documents", s.tokens[countersign.RoleSubmitter], string(body))
		if a.status != http.StatusUnprocessableEntity || !strings.Contains(a.message(), tc.says) {
			t.Errorf("submit with batch %.20q: %d %q; want 422 saying %q", tc.batch, a.status, a.message(), tc.says)
		}
	}
	if page, err := s.store.ListBatches(context.Background(), countersign.BatchFilter{}); err != nil || len(page.Batches) != 0 {
		t.Fatalf("batches after refused submissions = %+v, %v; want none", page, err)
	}
}

// TestBatchProgress: GET /v1/batches/{name} counts a batch's documents by
// status and by route, with its open reviews; GET /v1/batches lists the
// batches, a page at a time.
func TestBatchProgress(t *testing.T) {
	s := newServer(t, 0)
	s.storeBatched("d1", "room-7", countersign.StatusAccepted, countersign.OutcomeAutoAccept)
	s.storeBatched("d2", "room-7", countersign.StatusAwaitingReview, countersign.OutcomeHumanReview)
	s.storeBatched("d3", "room-7", countersign.StatusProcessing, "")
	s.storeBatched("d4", "alerts:2026-03-14", countersign.StatusRejected, countersign.OutcomeReject)
	s.storeBatched("loose", "", countersign.StatusAccepted, countersign.OutcomeAutoAccept)
	if err := s.store.OpenReview(context.Background(), &countersign.Review{ID: countersign.ReviewID("d2", 1), DocumentID: "d2",
		TaskType: "pii-extraction", CreatedAt: time.Now(), DueAt: time.Now().Add(time.Hour), Reasons: []string{"low"}}); err != nil {
		t.Fatal(err)
	}

	a := s.do("GET", "/v1/batches/room-7", s.tokens[countersign.RoleSubmitter], "")
	if a.status != http.StatusOK {
		t.Fatalf("GET /v1/batches/room-7: %d %v", a.status, a.body)
	}
	got := func(key string) any { return a.body[key] }
	if got("name") != "room-7" || got("documents") != 3.0 || got("unfinished") != 2.0 || got("done") != false || got("open_reviews") != 1.0 {
		t.Fatalf("progress = %v; want room-7: 3 documents, 2 unfinished, not done, 1 open review", a.body)
	}
	byStatus, _ := got("by_status").(map[string]any)
	byRoute, _ := got("by_route").(map[string]any)
	if byStatus["accepted"] != 1.0 || byStatus["awaiting_review"] != 1.0 || byStatus["processing"] != 1.0 || byStatus["failed"] != 0.0 {
		t.Fatalf("by_status = %v", byStatus)
	}
	if byRoute["auto_accept"] != 1.0 || byRoute["human_review"] != 1.0 || len(byRoute) != 2 {
		t.Fatalf("by_route = %v; want 1 auto_accept, 1 human_review", byRoute)
	}
	if a := s.do("GET", "/v1/batches/alerts:2026-03-14", s.tokens[countersign.RoleAuditor], ""); a.status != http.StatusOK || a.body["done"] != true {
		t.Fatalf("GET the alerts batch: %d %v; want it done", a.status, a.body)
	}
	if a := s.do("GET", "/v1/batches/room-8", s.tokens[countersign.RoleSubmitter], ""); a.status != http.StatusNotFound || !strings.Contains(a.message(), "batch room-8 not found") {
		t.Fatalf("GET an unknown batch: %d %q; want 404 naming it", a.status, a.message())
	}
	if a := s.do("GET", "/v1/batches/room%207", s.tokens[countersign.RoleSubmitter], ""); a.status != http.StatusBadRequest || !strings.Contains(a.message(), `batch name "room 7" is not one`) {
		t.Fatalf("GET a bad batch name: %d %q; want 400 naming it", a.status, a.message())
	}

	first := s.do("GET", "/v1/batches?limit=1", s.tokens[countersign.RoleSubmitter], "")
	batches, _ := first.body["batches"].([]any)
	if first.status != http.StatusOK || len(batches) != 1 || batches[0].(map[string]any)["name"] != "alerts:2026-03-14" || first.body["next_cursor"] == "" {
		t.Fatalf("GET /v1/batches?limit=1: %d %v; want the newest batch and a cursor", first.status, first.body)
	}
	next := s.do("GET", "/v1/batches?limit=1&cursor="+url.QueryEscape(first.body["next_cursor"].(string)), s.tokens[countersign.RoleSubmitter], "")
	batches, _ = next.body["batches"].([]any)
	if next.status != http.StatusOK || len(batches) != 1 || batches[0].(map[string]any)["name"] != "room-7" {
		t.Fatalf("second page: %d %v; want room-7", next.status, next.body)
	}
	if a := s.do("GET", "/v1/batches?limit=0", s.tokens[countersign.RoleSubmitter], ""); a.status != http.StatusBadRequest {
		t.Fatalf("GET /v1/batches?limit=0: %d, want 400", a.status)
	}
}

// TestExportOfABatch: the export filtered by batch holds that batch's
// accepted documents and nothing else; a bad batch name is a 400.
func TestExportOfABatch(t *testing.T) {
	s := newServer(t, 0)
	s.storeBatched("in-1", "room-7", countersign.StatusAccepted, countersign.OutcomeAutoAccept)
	s.storeBatched("in-2", "room-7", countersign.StatusAccepted, countersign.OutcomeHumanReview)
	s.storeBatched("in-rejected", "room-7", countersign.StatusRejected, countersign.OutcomeReject)
	s.storeBatched("other", "room-8", countersign.StatusAccepted, countersign.OutcomeAutoAccept)
	s.storeBatched("loose", "", countersign.StatusAccepted, countersign.OutcomeAutoAccept)

	export := func(query string) (int, http.Header, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", s.url+"/v1/export?"+query, nil)
		req.Header.Set("Authorization", "Bearer "+s.tokens[countersign.RoleAuditor])
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header, string(raw)
	}
	status, header, body := export("format=eval&batch=room-7")
	if status != http.StatusOK {
		t.Fatalf("export of room-7: %d %s", status, body)
	}
	var ids []string
	for _, line := range strings.Split(strings.TrimSpace(body), "\n") {
		var rec struct {
			Metadata struct {
				DocumentID string `json:"document_id"`
			} `json:"metadata"`
		}
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("export line %q: %v", line, err)
		}
		ids = append(ids, rec.Metadata.DocumentID)
	}
	if strings.Join(ids, " ") != "in-1 in-2" {
		t.Fatalf("export of room-7 holds %v, want in-1 in-2", ids)
	}
	if cd := header.Get("Content-Disposition"); !strings.Contains(cd, "room-7") {
		t.Fatalf("Content-Disposition %q does not name the batch", cd)
	}
	if status, _, body := export("format=eval&batch=room%207"); status != http.StatusBadRequest || !strings.Contains(body, `batch name \"room 7\" is not one`) {
		t.Fatalf("export of a bad batch name: %d %s; want 400 naming it", status, body)
	}
}
