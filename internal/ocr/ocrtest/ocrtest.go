// Package ocrtest draws pages of text for OCR tests, so no scanned fixture
// comes from elsewhere: black Go Regular text on a white page, at a size
// Tesseract reads well, saved as PNG, JPEG or TIFF; and the hostile images
// intake must refuse.
package ocrtest

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"image/png"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"
	"golang.org/x/image/tiff"
)

// Layout of the drawn text, in pixels: FontSize pixels per em, the first
// line's baseline Top from the page's top, Left from its left edge, lines
// Leading apart, and a Margin below the last line and right of the
// longest.
const (
	FontSize = 40
	Left     = 60
	Top      = 90
	Leading  = 60
	Margin   = 60
)

var face = func() font.Face {
	f, err := opentype.Parse(goregular.TTF)
	if err != nil {
		panic(err)
	}
	face, err := opentype.NewFace(f, &opentype.FaceOptions{Size: FontSize, DPI: 72, Hinting: font.HintingFull})
	if err != nil {
		panic(err)
	}
	return face
}()

// Page draws the lines of text on a white page just large enough for them.
func Page(lines []string) *image.Gray {
	width := 0
	for _, l := range lines {
		width = max(width, font.MeasureString(face, l).Ceil())
	}
	img := image.NewGray(image.Rect(0, 0, Left+width+Margin, Top+Leading*max(len(lines)-1, 0)+Margin))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	d := &font.Drawer{Dst: img, Src: image.NewUniform(color.Black), Face: face}
	for i, l := range lines {
		d.Dot = fixed.P(Left, Top+i*Leading)
		d.DrawString(l)
	}
	return img
}

// Fade takes half the ink out of what line (counting from 0) of a Page
// has after the text before: every other dark pixel turns white, in a
// pattern Tesseract still reads, with low confidence.
func Fade(img *image.Gray, line int, before string) {
	y := Top + line*Leading
	for py := y - FontSize; py < y+FontSize/3; py++ {
		for px := Left + Advance(before); px < img.Bounds().Dx(); px++ {
			if img.GrayAt(px, py).Y < 128 && (px*7+py*13)%2 == 0 {
				img.SetGray(px, py, color.Gray{Y: 255})
			}
		}
	}
}

// Advance is how wide s is drawn, in pixels.
func Advance(s string) int { return font.MeasureString(face, s).Round() }

// PNG encodes img as a PNG.
func PNG(img image.Image) []byte {
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		panic(err)
	}
	return b.Bytes()
}

// JPEG encodes img as a JPEG of good quality.
func JPEG(img image.Image) []byte {
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 90}); err != nil {
		panic(err)
	}
	return b.Bytes()
}

// TIFF encodes img as a TIFF, Deflate-compressed.
func TIFF(img image.Image) []byte {
	var b bytes.Buffer
	if err := tiff.Encode(&b, img, &tiff.Options{Compression: tiff.Deflate}); err != nil {
		panic(err)
	}
	return b.Bytes()
}

// HugePNG is a small PNG that declares width×height pixels: a valid
// header, then a few rows of image data, as a decompression bomb starts.
func HugePNG(width, height uint32) []byte {
	small := PNG(image.NewGray(image.Rect(0, 0, 8, 8)))
	// The IHDR chunk follows the 8-byte signature: length, type, then
	// width and height; its CRC covers type and data.
	out := bytes.Clone(small)
	binary.BigEndian.PutUint32(out[16:], width)
	binary.BigEndian.PutUint32(out[20:], height)
	binary.BigEndian.PutUint32(out[29:], crc32.ChecksumIEEE(out[12:29]))
	return out
}

// ScannedPDF is a one-page PDF whose page is img and nothing else, as a
// scanner writes one: an 8-bit gray image XObject, Flate-compressed,
// filling a page of img's size at 300 dpi, with no text layer.
func ScannedPDF(img *image.Gray) []byte {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		zw.Write(img.Pix[img.PixOffset(b.Min.X, y) : img.PixOffset(b.Min.X, y)+w])
	}
	zw.Close()
	pw, ph := float64(w)*72/300, float64(h)*72/300
	content := fmt.Sprintf("q %.2f 0 0 %.2f 0 0 cm /Im1 Do Q", pw, ph)
	objs := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		fmt.Sprintf("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %.2f %.2f] /Resources << /XObject << /Im1 5 0 R >> >> /Contents 4 0 R >>", pw, ph),
		fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(content), content),
		fmt.Sprintf("<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /FlateDecode /Length %d >>\nstream\n%s\nendstream", w, h, z.Len(), z.String()),
	}
	var out bytes.Buffer
	out.WriteString("%PDF-1.7\n")
	offsets := make([]int, len(objs))
	for i, o := range objs {
		offsets[i] = out.Len()
		fmt.Fprintf(&out, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := out.Len()
	fmt.Fprintf(&out, "xref\n0 %d\n0000000000 65535 f \n", len(objs)+1)
	for _, off := range offsets {
		fmt.Fprintf(&out, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&out, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objs)+1, xref)
	return out.Bytes()
}
