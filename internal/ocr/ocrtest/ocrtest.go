// Package ocrtest draws pages of text for OCR tests, so no scanned fixture
// comes from elsewhere: black Go Regular text on a white page, at a size
// Tesseract reads well, saved as PNG, JPEG or TIFF; and the hostile images
// intake must refuse.
package ocrtest

import (
	"bytes"
	"encoding/binary"
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
