package pdfium_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/png"
	"math"
	"strings"
	"testing"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/pdfium/pdftest"
)

// dark counts the pixels in r darker than mid grey.
func dark(img image.Image, r image.Rectangle) int {
	n := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			cr, cg, cb, _ := img.At(x, y).RGBA()
			if (cr+cg+cb)/3 < 0x8000 {
				n++
			}
		}
	}
	return n
}

// TestRenderPage: a page renders at the size its DPI asks for, with ink
// where the text layer says a word is (the same box the reviewer's
// highlight is drawn from) and white where nothing was drawn.
func TestRenderPage(t *testing.T) {
	data := pdftest.PDF(contract, pdftest.Options{Flate: true})
	text, err := extractor.Extract(context.Background(), data)
	if err != nil {
		t.Fatal(err)
	}
	start := strings.Index(text.Content, "Globex Ltd")
	box := text.Layout.Locate(start, start+len("Globex Ltd"))[0].Boxes[0]
	for _, dpi := range []int{72, 150} {
		img, err := extractor.RenderPage(context.Background(), data, 1, dpi)
		if err != nil {
			t.Fatal(err)
		}
		s := float64(dpi) / 72
		// Rounded up: 792 points at 150 DPI come to 1650.0000000000002.
		if b := img.Bounds(); b.Dx() != int(math.Ceil(pdftest.Width*s)) || b.Dy() != int(math.Ceil(pdftest.Height*s)) {
			t.Fatalf("%d DPI: image is %v; want %v×%v rounded up", dpi, b, pdftest.Width*s, pdftest.Height*s)
		}
		// Boxes are in points from the page's top left, as the image is.
		word := image.Rect(int(box.X0*s), int(box.Y0*s), int(box.X1*s+1), int(box.Y1*s+1))
		inked := dark(img, word)
		if area := word.Dx() * word.Dy(); inked < area/20 {
			t.Errorf("%d DPI: %d of %d pixels dark in the box of Globex Ltd %v; want text there", dpi, inked, area, word)
		}
		below := image.Rect(0, int((pdftest.Top+4*pdftest.Leading)*s), img.Bounds().Dx(), img.Bounds().Dy())
		if n := dark(img, below); n != 0 {
			t.Errorf("%d DPI: %d dark pixels below the text; want a white page", dpi, n)
		}
	}
	img, err := extractor.RenderPage(context.Background(), data, 2, 72)
	if err != nil {
		t.Fatal(err)
	}
	if n := dark(img, image.Rect(pdftest.Left, pdftest.Top-pdftest.FontSize, pdftest.Left+200, pdftest.Top+2)); n == 0 {
		t.Error("page 2: no ink on its first line")
	}
	raw, err := extractor.RenderPagePNG(context.Background(), data, 1, 100)
	if err != nil {
		t.Fatal(err)
	}
	decoded, err := png.Decode(bytes.NewReader(raw))
	if err != nil || decoded.Bounds().Dx() != 850 {
		t.Fatalf("RenderPagePNG at 100 DPI: %v, %v; want a PNG 850 pixels wide", decoded.Bounds(), err)
	}
}

// TestRenderPageRefuses: a page out of range, a resolution out of range, a
// page over the pixel limit and a hostile file are refused, naming what is
// wrong and the limit's flag.
func TestRenderPageRefuses(t *testing.T) {
	good := pdftest.PDF(contract, pdftest.Options{})
	for _, tc := range []struct {
		name      string
		data      []byte
		page, dpi int
		code      countersign.Code
		says      string
	}{
		{"page 0", good, 0, 72, countersign.CodeNotFound, "pages are numbered from 1"},
		{"page 3 of 2", good, 3, 72, countersign.CodeNotFound, "page 3: the PDF has 2 pages"},
		{"too low a DPI", good, 1, 5, countersign.CodeInvalid, "5 DPI is out of range"},
		{"too high a DPI", good, 1, 1200, countersign.CodeInvalid, "1200 DPI is out of range"},
		// US Letter at 600 DPI is 5100×6600 pixels, over 25 million.
		{"over the pixel limit", good, 1, 600, countersign.CodeTooLarge, "5100×6600 = 33660000 pixels; the limit is 25000000 (pdf-max-page-pixels)"},
		{"encrypted", pdftest.PDF(contract, pdftest.Options{Encrypt: true}), 1, 72, countersign.CodeInvalid, "encrypted"},
		{"page bomb", pdftest.PageBomb(10000), 1, 72, countersign.CodeTooLarge, "(pdf-max-pages)"},
		{"decompression bomb", pdftest.PDF(contract, pdftest.Options{BombBytes: 1 << 30}), 1, 72, countersign.CodeInvalid, "(pdf-memory-bytes)"},
	} {
		img, err := extractor.RenderPage(context.Background(), tc.data, tc.page, tc.dpi)
		var ce *countersign.Error
		if err == nil || !errors.As(err, &ce) || ce.Code != tc.code || !strings.Contains(err.Error(), tc.says) {
			t.Errorf("%s: RenderPage = %v, %v; want %s saying %q", tc.name, img != nil, err, tc.code, tc.says)
		}
	}
	if _, err := extractor.RenderPage(context.Background(), good, 2, 72); err != nil {
		t.Fatalf("a good page after the refusals: %v", err)
	}
}

// TestBoxesOnTurnedAndCroppedPages: on a page with a /Rotate, or whose
// crop box does not start at (0, 0), the page's size is the size shown and
// a word's box is where the rendered image shows the word (so the
// reviewer's highlight lies on it): the box of the plain page, turned with
// the page, and within it.
func TestBoxesOnTurnedAndCroppedPages(t *testing.T) {
	const word = "Globex Ltd"
	// locate returns the layout, the box bounding the word and the boxes
	// Locate gives (one per run of a line: on a turned page, the word's
	// two halves lie one above the other).
	locate := func(t *testing.T, o pdftest.Options) (*countersign.Layout, countersign.Box, []countersign.Box, []byte) {
		t.Helper()
		data := pdftest.PDF(contract, o)
		text, err := extractor.Extract(context.Background(), data)
		if err != nil {
			t.Fatal(err)
		}
		start := strings.Index(text.Content, word)
		got := text.Layout.Locate(start, start+len(word))
		if len(got) != 1 || got[0].Page != 1 || len(got[0].Boxes) == 0 {
			t.Fatalf("%+v: Locate(%s) = %+v; want boxes on page 1", o, word, got)
		}
		u := got[0].Boxes[0]
		for _, b := range got[0].Boxes[1:] {
			u = countersign.Box{X0: min(u.X0, b.X0), Y0: min(u.Y0, b.Y0), X1: max(u.X1, b.X1), Y1: max(u.Y1, b.Y1)}
		}
		return text.Layout, u, got[0].Boxes, data
	}
	_, plain, _, _ := locate(t, pdftest.Options{})
	const w, h = pdftest.Width, pdftest.Height
	for _, tc := range []struct {
		opts          pdftest.Options
		width, height float64
		want          countersign.Box // plain, turned clockwise with the page
	}{
		{pdftest.Options{Origin: 100}, w, h, plain},
		{pdftest.Options{Rotate: 90}, h, w, countersign.Box{X0: h - plain.Y1, Y0: plain.X0, X1: h - plain.Y0, Y1: plain.X1}},
		{pdftest.Options{Rotate: 180}, w, h, countersign.Box{X0: w - plain.X1, Y0: h - plain.Y1, X1: w - plain.X0, Y1: h - plain.Y0}},
		{pdftest.Options{Rotate: 270}, h, w, countersign.Box{X0: plain.Y0, Y0: w - plain.X1, X1: plain.Y1, Y1: w - plain.X0}},
		{pdftest.Options{Rotate: 90, Origin: 100}, h, w, countersign.Box{X0: h - plain.Y1, Y0: plain.X0, X1: h - plain.Y0, Y1: plain.X1}},
	} {
		t.Run(fmt.Sprintf("rotate %d origin %d", tc.opts.Rotate, tc.opts.Origin), func(t *testing.T) {
			layout, box, boxes, data := locate(t, tc.opts)
			page := layout.Pages[0]
			if page.Width != tc.width || page.Height != tc.height {
				t.Errorf("page is %v×%v points; want %v×%v as shown", page.Width, page.Height, tc.width, tc.height)
			}
			if box.X0 < 0 || box.Y0 < 0 || box.X1 > page.Width || box.Y1 > page.Height || box.X0 >= box.X1 || box.Y0 >= box.Y1 {
				t.Errorf("box of %s = %+v; want a box within the %v×%v page", word, box, page.Width, page.Height)
			}
			const eps = 0.01
			if math.Abs(box.X0-tc.want.X0) > eps || math.Abs(box.Y0-tc.want.Y0) > eps || math.Abs(box.X1-tc.want.X1) > eps || math.Abs(box.Y1-tc.want.Y1) > eps {
				t.Errorf("box of %s = %+v; want %+v (the plain page's %+v, turned with the page)", word, box, tc.want, plain)
			}
			const dpi = 100
			img, err := extractor.RenderPage(context.Background(), data, 1, dpi)
			if err != nil {
				t.Fatal(err)
			}
			s := float64(dpi) / 72
			if b := img.Bounds(); b.Dx() != int(math.Ceil(page.Width*s)) || b.Dy() != int(math.Ceil(page.Height*s)) {
				t.Fatalf("image is %v; want the layout's %v×%v points at %d DPI", b, page.Width, page.Height, dpi)
			}
			for _, b := range boxes {
				r := image.Rect(int(b.X0*s), int(b.Y0*s), int(b.X1*s+1), int(b.Y1*s+1))
				if inked, area := dark(img, r), r.Dx()*r.Dy(); inked < area/20 {
					t.Errorf("%d of %d pixels dark in a box of %s %v; want the word there", inked, area, word, r)
				}
			}
			// The whole page's ink lies in the boxes of its words.
			lines := image.Rectangle{}
			for _, wd := range layout.Words {
				if wd.Page != 1 {
					continue
				}
				b := wd.Box
				lines = lines.Union(image.Rect(int(b.X0*s)-2, int(b.Y0*s)-2, int(b.X1*s)+3, int(b.Y1*s)+3))
			}
			total := dark(img, img.Bounds())
			if inside := dark(img, lines); inside != total || total == 0 {
				t.Errorf("%d of %d dark pixels within the words' boxes %v; want all of them", inside, total, lines)
			}
		})
	}
}
