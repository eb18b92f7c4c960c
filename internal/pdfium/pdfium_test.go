package pdfium_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/pdfium"
	"github.com/countersign/countersign/internal/pdfium/pdftest"
)

// extractor is shared by the tests: compiling PDFium's module takes
// seconds, and reusing its instances is what the server does too.
var extractor = pdfium.New(pdfium.Limits{MaxBytes: 4 << 20, MaxPages: 50, PageTimeout: 20 * time.Second, MemoryBytes: 128 << 20, Instances: 1})

var contract = [][]string{
	{"MASTER SERVICES AGREEMENT", "This agreement is between Acme Corp (the Customer)", "and Globex Ltd (the Supplier)."},
	{"Term: twelve (12) months from the Effective Date.", "Governing law: England and Wales."},
}

// TestExtractTextAndBoxes: the text layer comes out page by page, joined
// by the page separator, and each word's box is where the test drew it.
func TestExtractTextAndBoxes(t *testing.T) {
	for _, flate := range []bool{false, true} {
		text, err := extractor.Extract(context.Background(), pdftest.PDF(contract, pdftest.Options{Flate: flate}))
		if err != nil {
			t.Fatal(err)
		}
		want := strings.Join(contract[0], "\n") + countersign.PageSeparator + strings.Join(contract[1], "\n")
		if text.Content != want {
			t.Fatalf("flate %v: content = %q; want %q", flate, text.Content, want)
		}
		l := text.Layout
		if len(l.Pages) != 2 || l.Pages[0].Width != pdftest.Width || l.Pages[1].Height != pdftest.Height || l.TextSHA256 != countersign.ContentSHA256(want) {
			t.Fatalf("pages = %+v", l.Pages)
		}
		// "Globex Ltd": page 1, third line, from the left margin.
		runes := []rune(want)
		start := strings.Index(want, "Globex Ltd")
		got := l.Locate(start, start+len("Globex Ltd"))
		if len(got) != 1 || got[0].Page != 1 || len(got[0].Boxes) != 1 || got[0].MinConfidence != 1 {
			t.Fatalf("Locate(Globex Ltd) = %+v; want one box on page 1", got)
		}
		b := got[0].Boxes[0]
		baseline := float64(pdftest.Top + 2*pdftest.Leading)
		// "and " is 23.4 points wide in Helvetica 12; a capital 8.6 high.
		if b.X0 < pdftest.Left+22 || b.X0 > pdftest.Left+25 || b.Y1 < baseline-1 || b.Y1 > baseline+4 || b.Y0 < baseline-pdftest.FontSize || b.Y0 > baseline-6 {
			t.Errorf("box of Globex Ltd = %+v; want on the third line (baseline %v), after \"and \"", b, baseline)
		}
		// A quote across lines has a box per line; one across the page
		// break a box on each page.
		start = strings.Index(want, "Customer)")
		if got := l.Locate(start, start+len("Customer)\nand")); len(got) != 1 || len(got[0].Boxes) != 2 {
			t.Errorf("Locate across lines = %+v; want two boxes on one page", got)
		}
		start = strings.Index(want, "Supplier")
		if got := l.Locate(start, len(runes)); len(got) != 2 || got[1].Page != 2 || len(got[1].Boxes) != 2 {
			t.Errorf("Locate across the page break = %+v; want page 1 and two lines of page 2", got)
		}
	}
}

// TestExtractRefusesHostileFiles: each hostile file is refused with an
// error naming what is wrong (and the limit's flag), within the time and
// memory limits, and the reader still reads a good file afterwards.
func TestExtractRefusesHostileFiles(t *testing.T) {
	for _, tc := range []struct {
		name string
		data []byte
		code countersign.Code
		says string
	}{
		{"not a PDF", []byte("GIF89a..."), countersign.CodeInvalid, "does not start with %PDF-"},
		{"corrupt", append([]byte("%PDF-1.7\n"), make([]byte, 4096)...), countersign.CodeInvalid, "corrupt"},
		{"truncated", pdftest.PDF(contract, pdftest.Options{})[:300], countersign.CodeInvalid, ""},
		{"encrypted", pdftest.PDF(contract, pdftest.Options{Encrypt: true}), countersign.CodeInvalid, "encrypted"},
		{"page bomb", pdftest.PageBomb(10000), countersign.CodeTooLarge, "10000 pages; the limit is 50 (pdf-max-pages)"},
		{"page count lie", pdftest.PDF(contract, pdftest.Options{ClaimPages: 10000}), countersign.CodeTooLarge, "the limit is 50 (pdf-max-pages)"},
		{"decompression bomb", pdftest.PDF(contract, pdftest.Options{BombBytes: 1 << 30}), countersign.CodeInvalid, "memory limit of 128 MiB (pdf-memory-bytes)"},
		{"over the byte limit", pdftest.PDF([][]string{{strings.Repeat("x", 5<<20)}}, pdftest.Options{}), countersign.CodeTooLarge, "the limit is 4194304 (pdf-max-bytes)"},
		{"no text", pdftest.PDF([][]string{{}}, pdftest.Options{}), countersign.CodeInvalid, "no text on any page"},
	} {
		start := time.Now()
		text, err := extractor.Extract(context.Background(), tc.data)
		var ce *countersign.Error
		if err == nil || !errors.As(err, &ce) || ce.Code != tc.code || !strings.Contains(err.Error(), tc.says) {
			t.Errorf("%s: Extract = %v, %v; want %s saying %q", tc.name, text != nil, err, tc.code, tc.says)
		}
		t.Logf("%s (%d bytes): refused in %s: %v", tc.name, len(tc.data), time.Since(start).Round(time.Millisecond), err)
	}
	if _, err := extractor.Extract(context.Background(), pdftest.PDF(contract, pdftest.Options{})); err != nil {
		t.Fatalf("a good PDF after the hostile ones: %v", err)
	}
}

// TestExtractPageTimeout: a page that takes longer than the page timeout
// is refused naming the limit, and its instance replaced.
func TestExtractPageTimeout(t *testing.T) {
	e := pdfium.New(pdfium.Limits{PageTimeout: time.Millisecond, MemoryBytes: 128 << 20, Instances: 1})
	defer e.Close()
	_, err := e.Extract(context.Background(), pdftest.PDF(contract, pdftest.Options{BombBytes: 64 << 20}))
	if err == nil || !strings.Contains(err.Error(), "longer than 1ms (pdf-page-timeout)") {
		t.Fatalf("Extract = %v; want refused for the page timeout", err)
	}
}

// BenchmarkExtract reports pages/s of text extraction, boxes included, on
// a 20-page text PDF:
//
//	go test -run '^$' -bench Extract -benchtime 20x ./internal/pdfium
func BenchmarkExtract(b *testing.B) {
	var pages [][]string
	for p := range 20 {
		var lines []string
		for l := range 40 {
			lines = append(lines, strings.Repeat("Clause "+string(rune('A'+p))+" line "+string(rune('a'+l%26))+" of the agreement. ", 3))
		}
		pages = append(pages, lines)
	}
	data := pdftest.PDF(pages, pdftest.Options{Flate: true})
	if _, err := extractor.Extract(context.Background(), data); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := extractor.Extract(context.Background(), data); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(pages))/b.Elapsed().Seconds(), "pages/s")
}
