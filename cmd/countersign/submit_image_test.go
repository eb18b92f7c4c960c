package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/ocr/ocrtest"
)

// TestSubmitPicksImageByContent: a PNG, JPEG or TIFF goes as an image of
// its type, told by its first bytes whatever its name.
func TestSubmitPicksImageByContent(t *testing.T) {
	dir := t.TempDir()
	page := ocrtest.Page([]string{"Claim"})
	for name, tc := range map[string]struct {
		data []byte
		typ  string
	}{
		"scan.txt":   {ocrtest.PNG(page), countersign.ContentTypePNG},
		"scan.png":   {ocrtest.JPEG(page), countersign.ContentTypeJPEG},
		"scan.jsonl": {ocrtest.TIFF(page), countersign.ContentTypeTIFF},
	} {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, tc.data, 0o644); err != nil {
			t.Fatal(err)
		}
		docs, err := readFile(path, false)
		if err != nil || len(docs) != 1 {
			t.Fatalf("%s: readFile = %v, %v", name, docs, err)
		}
		if sub := docs[0].sub; !bytes.Equal(sub.ContentBase64, tc.data) || sub.ContentType != tc.typ || sub.Content != "" {
			t.Errorf("%s: sent as %q / %d bytes of %q; want the file as %s", name, sub.Content, len(sub.ContentBase64), sub.ContentType, tc.typ)
		}
	}
}
