package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/api"
	"github.com/countersign/countersign/examples"
	"github.com/countersign/countersign/internal/auth"
	"github.com/countersign/countersign/internal/dispatch"
	"github.com/countersign/countersign/internal/openapicheck"
	"github.com/countersign/countersign/internal/pageimage"
	"github.com/countersign/countersign/internal/pdfium"
	"github.com/countersign/countersign/internal/pdfium/pdftest"
	"github.com/countersign/countersign/internal/store/sqlite"
	"github.com/countersign/countersign/internal/tasktype"
)

// TestDocumentPages: GET /v1/documents/{id}/pages/{page} answers a PDF
// document's page as a PNG to those who may read its original, renders
// each page once while it stays in the cache, and refuses a page that is
// not there, a page that is not a number, a resolution out of range and a
// document submitted as text, each with a message saying what is wrong.
func TestDocumentPages(t *testing.T) {
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "pages.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	types, err := tasktype.LoadFS(examples.TaskTypes, "examples")
	if err != nil {
		t.Fatal(err)
	}
	reader := pdfium.New(pdfium.Limits{PageTimeout: 20 * time.Second, MemoryBytes: 128 << 20, Instances: 1})
	t.Cleanup(func() { reader.Close() })
	file := pdftest.PDF([][]string{{"MASTER SERVICES AGREEMENT", "between Acme Corp and Globex Ltd."}, {"Governing law: England and Wales."}}, pdftest.Options{})
	text, err := reader.Extract(ctx, file)
	if err != nil {
		t.Fatal(err)
	}
	o := &countersign.Original{SHA256: countersign.ContentSHA256(string(file)), ContentType: countersign.ContentTypePDF, Size: int64(len(file)), Data: file, Layout: text.Layout}
	if err := store.PutOriginal(ctx, o); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	for _, doc := range []*countersign.Document{
		{ID: "pdf1", TaskType: "contract-review", TaskTypeVersion: "v", Content: text.Content, ContentSHA256: countersign.ContentSHA256(text.Content), OriginalSHA256: o.SHA256, Status: countersign.StatusAwaitingReview, SubmittedBy: "sam", CreatedAt: now},
		{ID: "txt1", TaskType: "contract-review", TaskTypeVersion: "v", Content: "x", ContentSHA256: "x", Status: countersign.StatusAwaitingReview, SubmittedBy: "sam", CreatedAt: now},
	} {
		if _, _, err := store.CreateDocument(ctx, doc); err != nil {
			t.Fatal(err)
		}
	}
	// Room for either page at 72 DPI and not both: the second evicts the
	// first.
	one, err := reader.RenderPagePNG(ctx, file, 1, 72)
	if err != nil {
		t.Fatal(err)
	}
	two, err := reader.RenderPagePNG(ctx, file, 2, 72)
	if err != nil {
		t.Fatal(err)
	}
	bound := int64(len(one) + len(two) - 1)
	pages := pageimage.New(store, reader, bound)
	router := api.Router(api.Services{
		Store:    store,
		Dispatch: &dispatch.Dispatcher{Store: store, TaskTypes: types, Resolver: tasktype.NewResolver(types, store)},
		Ready:    func(context.Context) error { return nil },
		Pages:    pages,
	})
	ts := httptest.NewServer(openapicheck.Wrap(t, router))
	t.Cleanup(ts.Close)
	tokens := map[countersign.Role]string{}
	for _, role := range countersign.Roles {
		tokens[role], _, err = auth.Issue(ctx, store, "test", countersign.ChannelCLI, "user-"+string(role), role, 0, now)
		if err != nil {
			t.Fatal(err)
		}
	}
	get := func(path string, role countersign.Role) (int, string, []byte) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, ts.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+tokens[role])
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("Content-Type"), body
	}

	for _, role := range []countersign.Role{countersign.RoleReviewer, countersign.RoleApprover, countersign.RoleAuditor, countersign.RoleAdmin} {
		status, ctype, body := get("/v1/documents/pdf1/pages/1?dpi=72", role)
		if status != http.StatusOK || ctype != "image/png" || !bytes.Equal(body, one) {
			t.Fatalf("%s: page 1 = %d %s, %d bytes; want the PNG of page 1 at 72 DPI", role, status, ctype, len(body))
		}
	}
	if status, _, body := get("/v1/documents/pdf1/pages/1", countersign.RoleSubmitter); status != http.StatusForbidden {
		t.Errorf("submitter: page 1 = %d %s; want 403", status, body)
	}
	if s := pages.Stats(); s.Misses != 1 || s.Hits != 3 || s.Images != 1 {
		t.Errorf("after one page seen four times: %+v; want rendered once, three hits", s)
	}
	get("/v1/documents/pdf1/pages/2?dpi=72", countersign.RoleReviewer)
	get("/v1/documents/pdf1/pages/1?dpi=72", countersign.RoleReviewer)
	get("/v1/documents/pdf1/pages/1?dpi=72", countersign.RoleReviewer)
	if s := pages.Stats(); s.Misses != 3 || s.Hits != 4 || s.Images != 1 || s.Bytes > bound {
		t.Errorf("cache = %+v; want page 2 evicting page 1 and page 1 page 2 (3 misses, 4 hits), one image within %d bytes", s, bound)
	}
	// The default resolution.
	status, _, body := get("/v1/documents/pdf1/pages/2", countersign.RoleReviewer)
	img, err := png.Decode(bytes.NewReader(body))
	if status != http.StatusOK || err != nil || img.Bounds().Dx() != pdftest.Width*pageimage.DefaultDPI/72 {
		t.Fatalf("page 2 = %d, %v; want a PNG %d pixels wide", status, err, pdftest.Width*pageimage.DefaultDPI/72)
	}

	for _, tc := range []struct {
		path   string
		status int
		says   string
	}{
		{"/v1/documents/pdf1/pages/3", http.StatusNotFound, "page 3: the PDF has 2 pages"},
		{"/v1/documents/pdf1/pages/0", http.StatusNotFound, "pages are numbered from 1"},
		{"/v1/documents/pdf1/pages/one", http.StatusBadRequest, `page "one" is not a page number`},
		{"/v1/documents/pdf1/pages/1?dpi=high", http.StatusBadRequest, `dpi "high" is not a resolution`},
		{"/v1/documents/pdf1/pages/1?dpi=9000", http.StatusUnprocessableEntity, "9000 DPI is out of range"},
		{"/v1/documents/txt1/pages/1", http.StatusNotFound, "submitted as text"},
		{"/v1/documents/nope/pages/1", http.StatusNotFound, ""},
	} {
		status, ctype, body := get(tc.path, countersign.RoleReviewer)
		var refusal struct {
			Error struct{ Message string } `json:"error"`
		}
		json.Unmarshal(body, &refusal)
		if status != tc.status || !strings.HasPrefix(ctype, "application/json") || !strings.Contains(refusal.Error.Message, tc.says) {
			t.Errorf("GET %s = %d %s %s; want %d saying %q", tc.path, status, ctype, body, tc.status, tc.says)
		}
	}
}
