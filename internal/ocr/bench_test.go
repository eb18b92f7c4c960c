package ocr_test

import (
	"context"
	"strings"
	"testing"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/ocr"
	"github.com/countersign/countersign/internal/ocr/ocrtest"
)

// BenchmarkOCR reads a page of 30 lines of a form (about 1,500 × 1,900 pixels)
// from its PNG, decoding included, one page at a time, and reports pages
// per second.
func BenchmarkOCR(b *testing.B) {
	r := reader(b, ocr.Config{})
	var lines []string
	for i := range 30 {
		lines = append(lines, strings.Repeat("Claim 2025-0"+string(rune('0'+i%10))+" amount EUR 1,200.00 ", 2))
	}
	data := ocrtest.PNG(ocrtest.Page(lines))
	b.ResetTimer()
	for b.Loop() {
		if _, err := r.Image(context.Background(), data, countersign.ContentTypePNG); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pages/s")
}
