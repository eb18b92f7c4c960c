package ocr

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"io"

	"golang.org/x/image/tiff"

	"github.com/countersign/countersign"
)

// Sniff returns the media type of an image file told by its first bytes
// (PNG, JPEG or TIFF), or "" for anything else.
func Sniff(data []byte) string {
	switch {
	case bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")):
		return countersign.ContentTypePNG
	case bytes.HasPrefix(data, []byte{0xff, 0xd8, 0xff}):
		return countersign.ContentTypeJPEG
	case bytes.HasPrefix(data, []byte("II*\x00")), bytes.HasPrefix(data, []byte("MM\x00*")):
		return countersign.ContentTypeTIFF
	}
	return ""
}

// IsImage reports whether contentType is an image type OCR reads.
func IsImage(contentType string) bool {
	switch contentType {
	case countersign.ContentTypePNG, countersign.ContentTypeJPEG, countersign.ContentTypeTIFF:
		return true
	}
	return false
}

type codec struct {
	config func(io.Reader) (image.Config, error)
	decode func(io.Reader) (image.Image, error)
}

var codecs = map[string]codec{
	countersign.ContentTypePNG:  {png.DecodeConfig, png.Decode},
	countersign.ContentTypeJPEG: {jpeg.DecodeConfig, jpeg.Decode},
	countersign.ContentTypeTIFF: {tiff.DecodeConfig, tiff.Decode},
}

// Decode decodes an image file of contentType within the limits: the file
// must be of that type, within MaxBytes, and declare at most MaxPixels,
// checked before any pixel is decoded, so a small file that declares a
// huge image (a decompression bomb) costs nothing. A TIFF must have one
// page. A corrupt or truncated file is refused saying so.
func (r *Reader) Decode(data []byte, contentType string) (image.Image, error) {
	l := r.cfg.Limits
	c, ok := codecs[contentType]
	switch {
	case !ok:
		return nil, refuse(countersign.CodeInvalid, "%q is not an image type OCR reads (image/png, image/jpeg, image/tiff)", contentType)
	case len(data) > l.MaxBytes:
		return nil, refuse(countersign.CodeTooLarge, "the image is %d bytes; the limit is %d (ocr-max-bytes)", len(data), l.MaxBytes)
	case Sniff(data) != contentType:
		return nil, refuse(countersign.CodeInvalid, "the file is not a %s image: its first bytes are not that format's", contentType)
	}
	cfg, err := guarded(func() (image.Config, error) { return c.config(bytes.NewReader(data)) })
	if err != nil {
		return nil, refuse(countersign.CodeInvalid, "the %s image is corrupt: %v", contentType, err)
	}
	px := int64(cfg.Width) * int64(cfg.Height)
	switch {
	case cfg.Width <= 0 || cfg.Height <= 0:
		return nil, refuse(countersign.CodeInvalid, "the image declares %d×%d pixels", cfg.Width, cfg.Height)
	case px > l.MaxPixels:
		return nil, refuse(countersign.CodeTooLarge, "the image declares %d×%d pixels (%d); the limit is %d (ocr-max-pixels)", cfg.Width, cfg.Height, px, l.MaxPixels)
	}
	if contentType == countersign.ContentTypeTIFF {
		if pages, err := tiffPages(data); err != nil {
			return nil, refuse(countersign.CodeInvalid, "the TIFF image is corrupt: %v", err)
		} else if pages > 1 {
			return nil, refuse(countersign.CodeInvalid, "the TIFF has more than one page; submit one page per TIFF, or the pages as a PDF")
		}
	}
	img, err := guarded(func() (image.Image, error) { return c.decode(bytes.NewReader(data)) })
	if err != nil {
		return nil, refuse(countersign.CodeInvalid, "the %s image is corrupt or truncated: %v", contentType, err)
	}
	return img, nil
}

// Image reads an image file's text as one page, measured as if scanned at
// countersign.ImageDPI.
func (r *Reader) Image(ctx context.Context, data []byte, contentType string) (countersign.PageText, error) {
	release, err := r.Slot(ctx)
	if err != nil {
		return countersign.PageText{}, err
	}
	defer release()
	img, err := r.Decode(data, contentType)
	if err != nil {
		return countersign.PageText{}, err
	}
	return r.Page(ctx, img, countersign.ImageDPI)
}

// guarded runs a decoder, turning a panic on a malformed file into an
// error: the decoders are meant not to panic, but a submitted file must
// not take the server down if one does.
func guarded[T any](f func() (T, error)) (v T, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("the decoder failed: %v", p)
		}
	}()
	return f()
}

// tiffPages counts a TIFF's pages (image file directories), up to two.
func tiffPages(data []byte) (int, error) {
	if len(data) < 8 {
		return 0, fmt.Errorf("the header is cut short")
	}
	var order binary.ByteOrder = binary.LittleEndian
	if data[0] == 'M' {
		order = binary.BigEndian
	}
	offset := int64(order.Uint32(data[4:8]))
	pages := 0
	for offset != 0 && pages < 2 {
		if offset+2 > int64(len(data)) {
			return 0, fmt.Errorf("directory %d is past the end of the file", pages+1)
		}
		entries := int64(order.Uint16(data[offset:]))
		next := offset + 2 + 12*entries
		if next+4 > int64(len(data)) {
			return 0, fmt.Errorf("directory %d is cut short", pages+1)
		}
		pages++
		offset = int64(order.Uint32(data[next:]))
	}
	return pages, nil
}
