package pageimage_test

import (
	"bytes"
	"context"
	"errors"
	"image/png"
	"testing"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/ocr"
	"github.com/countersign/countersign/internal/ocr/ocrtest"
	"github.com/countersign/countersign/internal/pageimage"
)

// originals is a store of originals by SHA-256.
type originals map[string]*countersign.Original

func (o originals) GetOriginal(_ context.Context, sha string, _ bool) (*countersign.Original, error) {
	if v, ok := o[sha]; ok {
		return v, nil
	}
	return nil, countersign.Errorf(countersign.CodeNotFound, "no original %s", sha)
}

// TestImageOriginalsAreOnePage: a scan submitted as an image is shown as
// its one page: a PNG as submitted, a JPEG decoded and encoded as PNG at
// its own size; page 2 is past the last; without Images, an image is not
// shown.
func TestImageOriginalsAreOnePage(t *testing.T) {
	img := ocrtest.Page([]string{"Claim number CLM-1"})
	pngData, jpegData := ocrtest.PNG(img), ocrtest.JPEG(img)
	store := originals{
		"p": {SHA256: "p", ContentType: countersign.ContentTypePNG, Data: pngData},
		"j": {SHA256: "j", ContentType: countersign.ContentTypeJPEG, Data: jpegData},
	}
	r := pageimage.New(store, nil, 0)
	r.Images = ocr.New(ocr.Config{})
	ctx := context.Background()
	got, err := r.PNG(ctx, &countersign.Document{ID: "d1", OriginalSHA256: "p"}, 1, 0)
	if err != nil || !bytes.Equal(got, pngData) {
		t.Fatalf("a PNG original: %v (%d bytes), want it as submitted", err, len(got))
	}
	got, err = r.PNG(ctx, &countersign.Document{ID: "d2", OriginalSHA256: "j"}, 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	decoded, err := png.Decode(bytes.NewReader(got))
	if err != nil || decoded.Bounds() != img.Bounds() {
		t.Fatalf("a JPEG original: %v, bounds %v, want a PNG of %v", err, decoded, img.Bounds())
	}
	var ce *countersign.Error
	if _, err := r.PNG(ctx, &countersign.Document{ID: "d1", OriginalSHA256: "p"}, 2, 0); !errors.As(err, &ce) || ce.Code != countersign.CodeNotFound {
		t.Fatalf("page 2 of an image: %v, want not found", err)
	}
	without := pageimage.New(store, nil, 0)
	if _, err := without.PNG(ctx, &countersign.Document{ID: "d1", OriginalSHA256: "p"}, 1, 0); !errors.As(err, &ce) || ce.Code != countersign.CodeInvalid {
		t.Fatalf("without Images: %v, want refused", err)
	}
}
