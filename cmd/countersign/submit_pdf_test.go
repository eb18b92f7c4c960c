package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/pdfium/pdftest"
)

// TestSubmitPicksPDFByContent: a file starting with %PDF- goes as a PDF
// whatever its name (even .txt or .jsonl), and a text file that mentions
// %PDF- later goes as text.
func TestSubmitPicksPDFByContent(t *testing.T) {
	dir := t.TempDir()
	pdf := pdftest.PDF([][]string{{"Agreement"}}, pdftest.Options{})
	text := []byte("A note on the %PDF-1.7 header.\n")
	for name, data := range map[string][]byte{"contract.txt": pdf, "contract.jsonl": pdf, "note.pdf": text} {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		docs, err := readFile(path, false)
		if err != nil || len(docs) != 1 {
			t.Fatalf("%s: readFile = %v, %v", name, docs, err)
		}
		sub := docs[0].sub
		isPDF := bytes.Equal(data, pdf)
		if isPDF && (!bytes.Equal(sub.ContentBase64, pdf) || sub.ContentType != countersign.ContentTypePDF || sub.Content != "") {
			t.Errorf("%s: sent as %q / %d bytes of %q; want the PDF as a file", name, sub.Content, len(sub.ContentBase64), sub.ContentType)
		}
		if !isPDF && (sub.Content != string(text) || sub.ContentBase64 != nil) {
			t.Errorf("%s: sent as a file; want text", name)
		}
		if sub.Metadata["filename"] != name {
			t.Errorf("%s: metadata = %v; want its file name", name, sub.Metadata)
		}
	}
}
