package storetest

import (
	"bytes"
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/countersign/countersign"
)

// testOriginals: an original is stored once per SHA-256 and read back with
// or without its file; a document names its original.
func testOriginals(t *testing.T, s countersign.Store) {
	ctx := context.Background()
	layout := &countersign.Layout{TextSHA256: "t", Pages: []countersign.Page{{Width: 612, Height: 792, Start: 0, End: 5}},
		Words: []countersign.Word{{Start: 0, End: 5, Page: 1, Box: countersign.Box{X0: 72, Y0: 60, X1: 100, Y1: 72}, Confidence: 1}}}
	o := &countersign.Original{SHA256: "abc", ContentType: countersign.ContentTypePDF, Size: 9, Data: []byte("%PDF-1.4\x00\xff"), Layout: layout}
	if err := s.PutOriginal(ctx, o); err != nil {
		t.Fatal(err)
	}
	// A second file under the same hash keeps the first (content-addressed).
	if err := s.PutOriginal(ctx, &countersign.Original{SHA256: "abc", ContentType: "text/plain", Size: 1, Data: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetOriginal(ctx, "abc", true)
	if err != nil || !bytes.Equal(got.Data, o.Data) || got.ContentType != o.ContentType || got.Size != 9 || !reflect.DeepEqual(got.Layout, layout) {
		t.Fatalf("GetOriginal = %+v, %v; want %+v", got, err, o)
	}
	got, err = s.GetOriginal(ctx, "abc", false)
	if err != nil || got.Data != nil || !reflect.DeepEqual(got.Layout, layout) {
		t.Fatalf("GetOriginal(no data) = %+v, %v", got, err)
	}
	if _, err := s.GetOriginal(ctx, "def", false); !errors.Is(err, countersign.ErrNotFound) {
		t.Fatalf("GetOriginal(unknown) = %v, want not found", err)
	}
	doc := &countersign.Document{ID: "doc-pdf", TaskType: "contract-review", TaskTypeVersion: "v1", Content: "hello",
		ContentSHA256: "h", Status: countersign.StatusProcessing, SubmittedBy: "alice", CreatedAt: t0, OriginalSHA256: "abc"}
	if _, _, err := s.CreateDocument(ctx, doc); err != nil {
		t.Fatal(err)
	}
	stored, err := s.GetDocument(ctx, doc.ID)
	if err != nil || stored.OriginalSHA256 != "abc" {
		t.Fatalf("GetDocument = %+v, %v; want original abc", stored, err)
	}
}
