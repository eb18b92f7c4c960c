package ocr_test

import (
	"context"
	"errors"
	"image"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/ocr"
	"github.com/countersign/countersign/internal/ocr/ocrtest"
)

var form = []string{
	"CLAIM FORM",
	"Name: Daniel OBrien",
	"Policy number: AUTO-88213094",
	"Date of incident: 2025-03-05",
}

// reader returns a Reader, skipping the test where Tesseract is not
// installed, or failing it when COUNTERSIGN_REQUIRE_TESSERACT is set
// (.ci/run installs Tesseract and sets it).
func reader(t testing.TB, cfg ocr.Config) *ocr.Reader {
	r := ocr.New(cfg)
	if err := r.Available(); err != nil {
		if os.Getenv("COUNTERSIGN_REQUIRE_TESSERACT") != "" {
			t.Fatalf("no Tesseract, and COUNTERSIGN_REQUIRE_TESSERACT is set: %v", err)
		}
		t.Skipf("no Tesseract: %v", err)
	}
	return r
}

// TestImageWordsAndBoxes: each format's text comes out line by line, each
// word's box where it was drawn (in points at 300 dpi), with Tesseract's
// confidence, and the page is marked OCR.
func TestImageWordsAndBoxes(t *testing.T) {
	r := reader(t, ocr.Config{})
	img := ocrtest.Page(form)
	const pt = 72.0 / countersign.ImageDPI
	for typ, data := range map[string][]byte{
		countersign.ContentTypePNG:  ocrtest.PNG(img),
		countersign.ContentTypeJPEG: ocrtest.JPEG(img),
		countersign.ContentTypeTIFF: ocrtest.TIFF(img),
	} {
		if got := ocr.Sniff(data); got != typ {
			t.Fatalf("Sniff = %q; want %q", got, typ)
		}
		page, err := r.Image(context.Background(), data, typ)
		if err != nil {
			t.Fatalf("%s: %v", typ, err)
		}
		// Tesseract may take a line for a block of its own: a blank line
		// then stands between them.
		if got, want := strings.Split(strings.ReplaceAll(page.Text, "\n\n", "\n"), "\n"), form; strings.Join(got, "|") != strings.Join(want, "|") {
			t.Fatalf("%s: text = %q; want the lines %q", typ, page.Text, want)
		}
		b := img.Bounds()
		if !page.OCR || page.Width != float64(b.Dx())*pt || page.Height != float64(b.Dy())*pt {
			t.Errorf("%s: page %v×%v OCR %v; want %v×%v points, OCR", typ, page.Width, page.Height, page.OCR, float64(b.Dx())*pt, float64(b.Dy())*pt)
		}
		// "AUTO-88213094": third line, after "Policy number: ".
		start := strings.Index(page.Text, "AUTO-")
		var w *countersign.Word
		for i := range page.Words {
			if page.Words[i].Start == start {
				w = &page.Words[i]
			}
		}
		if w == nil || w.End-w.Start != len("AUTO-88213094") {
			t.Fatalf("%s: no word at %d: %+v", typ, start, page.Words)
		}
		x0 := float64(ocrtest.Left+ocrtest.Advance("Policy number: ")) * pt
		baseline := float64(ocrtest.Top+2*ocrtest.Leading) * pt
		if d := w.Box.X0 - x0; d < -3 || d > 3 || w.Box.Y1 < baseline-2 || w.Box.Y1 > baseline+3 || w.Box.Y0 > baseline-ocrtest.FontSize*0.6*pt {
			t.Errorf("%s: box of AUTO-88213094 = %+v; want from x %.1f on the baseline %.1f", typ, w.Box, x0, baseline)
		}
		if w.Confidence < 0.6 || w.Confidence > 1 {
			t.Errorf("%s: confidence %v; want a clean word read with confidence over 0.6", typ, w.Confidence)
		}
	}
}

// TestLowConfidence: a word drawn with half its ink missing is still read,
// with a far lower confidence than when drawn clean.
func TestLowConfidence(t *testing.T) {
	r := reader(t, ocr.Config{})
	conf := func(faded bool) float64 {
		img := ocrtest.Page(form)
		if faded {
			ocrtest.Fade(img, 2, "Policy number: ")
		}
		page, err := r.Page(context.Background(), img, countersign.ImageDPI)
		if err != nil {
			t.Fatal(err)
		}
		start := strings.Index(page.Text, "AUTO-88213094")
		for _, w := range page.Words {
			if w.Start == start {
				return w.Confidence
			}
		}
		t.Fatalf("faded %v: AUTO-88213094 not read: %q", faded, page.Text)
		return 0
	}
	if clean, faded := conf(false), conf(true); faded > 0.5 || clean < faded+0.3 {
		t.Errorf("confidence of AUTO-88213094: clean %v, faded %v; want the faded one below 0.5, far below", clean, faded)
	}
}

// TestRefusals: bad and hostile images are refused fast, each with an
// error naming what is wrong; a server without Tesseract says what to
// install.
func TestRefusals(t *testing.T) {
	r := ocr.New(ocr.Config{Limits: ocr.Limits{MaxBytes: 1 << 20, MaxPixels: 4_000_000}})
	png := ocrtest.PNG(ocrtest.Page(form))
	for _, tc := range []struct {
		name, typ string
		data      []byte
		code      countersign.Code
		says      string
	}{
		{"huge declared size", countersign.ContentTypePNG, ocrtest.HugePNG(100000, 100000), countersign.CodeTooLarge, "declares 100000×100000 pixels (10000000000); the limit is 4000000 (ocr-max-pixels)"},
		{"truncated", countersign.ContentTypePNG, png[:len(png)/2], countersign.CodeInvalid, "corrupt or truncated"},
		{"header only", countersign.ContentTypeJPEG, []byte{0xff, 0xd8, 0xff, 0xe0}, countersign.CodeInvalid, "corrupt"},
		{"wrong type", countersign.ContentTypeJPEG, png, countersign.CodeInvalid, "not a image/jpeg image"},
		{"too many bytes", countersign.ContentTypePNG, append(png, make([]byte, 1<<20)...), countersign.CodeTooLarge, "(ocr-max-bytes)"},
		{"two-page TIFF", countersign.ContentTypeTIFF, twoPageTIFF(), countersign.CodeInvalid, "more than one page"},
		{"not an image type", "image/gif", []byte("GIF89a"), countersign.CodeInvalid, "not an image type OCR reads"},
	} {
		start := time.Now()
		_, err := r.Image(context.Background(), tc.data, tc.typ)
		var ce *countersign.Error
		if !errors.As(err, &ce) || ce.Code != tc.code || !strings.Contains(err.Error(), tc.says) {
			t.Errorf("%s: %v; want %s saying %q", tc.name, err, tc.code, tc.says)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("%s: refused after %v; want at once", tc.name, d)
		}
	}
	if _, err := r.Page(context.Background(), image.NewGray(image.Rect(0, 0, 3000, 3000)), 300); err == nil || !strings.Contains(err.Error(), "(ocr-max-pixels)") {
		t.Errorf("a rendered page over the pixel limit: %v", err)
	}

	missing := ocr.New(ocr.Config{Tesseract: "tesseract-not-installed"})
	_, err := missing.Image(context.Background(), png, countersign.ContentTypePNG)
	if err == nil || !strings.Contains(err.Error(), "apt-get install tesseract-ocr") {
		t.Errorf("without Tesseract: %v; want a message saying what to install", err)
	}
}

// TestPageTimeout: a page that takes longer than the timeout is refused
// naming the flag, and the run is ended.
func TestPageTimeout(t *testing.T) {
	r := reader(t, ocr.Config{Limits: ocr.Limits{PageTimeout: time.Millisecond}})
	start := time.Now()
	_, err := r.Image(context.Background(), ocrtest.PNG(ocrtest.Page(form)), countersign.ContentTypePNG)
	if err == nil || !strings.Contains(err.Error(), "(ocr-page-timeout)") {
		t.Errorf("err = %v; want the page timeout named", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("refused after %v", d)
	}
}

// twoPageTIFF is a TIFF of two pages: the first page's directory points
// at a second, a copy of the first.
func twoPageTIFF() []byte {
	data := ocrtest.TIFF(ocrtest.Page([]string{"one"}))
	// Little-endian, as Go writes: the first directory's offset, entries,
	// and the next directory's offset after them.
	off := int(data[4]) | int(data[5])<<8 | int(data[6])<<16 | int(data[7])<<24
	n := int(data[off]) | int(data[off+1])<<8
	next := off + 2 + 12*n
	out := append([]byte(nil), data...)
	second := len(out)
	out = append(out, data[off:next+4]...)
	out[next], out[next+1], out[next+2], out[next+3] = byte(second), byte(second>>8), byte(second>>16), byte(second>>24)
	return out
}

// TestImageWaitsForASlotBeforeDecoding: with every run taken, an image
// waits for a slot before it is decoded, so requests waiting hold no
// decoded pages; it gives up when its context does, and goes on once the
// slot is released.
func TestImageWaitsForASlotBeforeDecoding(t *testing.T) {
	r := ocr.New(ocr.Config{Limits: ocr.Limits{Workers: 1}})
	release, err := r.Slot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	// Not even an image: were it decoded before the wait, this would be
	// refused as no PNG rather than wait.
	if _, err := r.Image(ctx, []byte("not a png"), countersign.ContentTypePNG); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("with the only slot taken: %v, want the context's deadline", err)
	}
	release()
	if _, err := r.Image(context.Background(), []byte("not a png"), countersign.ContentTypePNG); err == nil || errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("with the slot free: %v, want the file refused", err)
	}
}
