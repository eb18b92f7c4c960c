package web_test

import (
	"bytes"
	"context"
	"fmt"
	"image/png"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/pageimage"
	"github.com/countersign/countersign/internal/pdfium/pdftest"
)

// TestReviewShowsPDFPages: the review page of a PDF document shows each
// page's image, served to whoever may see the document, with the
// evidence boxes over it where the layout puts the quoted words, and each
// field links to its first box; a document submitted as text shows none.
func TestReviewShowsPDFPages(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	file := pdftest.PDF([][]string{{"MASTER SERVICES AGREEMENT", "between Northwind Ltd and Harbor Inc."}, {"Term: 24 months.", "Governing law: Sweden."}}, pdftest.Options{})
	text, err := fixturePDF.Extract(ctx, file)
	if err != nil {
		t.Fatal(err)
	}
	o := &countersign.Original{SHA256: countersign.ContentSHA256(string(file)), ContentType: countersign.ContentTypePDF, Size: int64(len(file)), Data: file, Layout: text.Layout}
	if err := f.store.PutOriginal(ctx, o); err != nil {
		t.Fatal(err)
	}
	at := func(quote string) countersign.Evidence {
		i := strings.Index(text.Content, quote)
		start := len([]rune(text.Content[:i]))
		return countersign.Evidence{Quote: quote, Start: start, End: start + len([]rune(quote))}
	}
	const id = "pdfpdfpdfpdfpdfpdfpdfpdfpdfpdfpd"
	doc := &countersign.Document{ID: id, TaskType: "contract-review", TaskTypeVersion: f.version, Content: text.Content, ContentSHA256: countersign.ContentSHA256(text.Content),
		OriginalSHA256: o.SHA256, Status: countersign.StatusProcessing, SubmittedBy: "sam", CreatedAt: f.now}
	if _, _, err := f.store.CreateDocument(ctx, doc); err != nil {
		t.Fatal(err)
	}
	status := countersign.StatusAwaitingReview
	draft := &countersign.Draft{
		Fields:   countersign.Fields{"party_a": "Northwind Ltd", "term_months": float64(24), "governing_law": "Sweden"},
		Evidence: map[string]countersign.Evidence{"party_a": at("Northwind Ltd"), "term_months": at("24 months"), "governing_law": at("Sweden")},
	}
	if err := f.store.UpdateDocument(ctx, id, countersign.DocumentUpdate{Status: &status, Draft: draft}); err != nil {
		t.Fatal(err)
	}
	r := &countersign.Review{ID: id + "-r1", DocumentID: id, TaskType: "contract-review", Kind: countersign.ReviewGate, Status: countersign.ReviewPending, CreatedAt: f.now, DueAt: f.now.Add(time.Hour)}
	if err := f.store.OpenReview(ctx, r); err != nil {
		t.Fatal(err)
	}

	b := f.as(countersign.RoleReviewer)
	page := b.get("/ui/reviews/" + r.ID)
	if page.status != http.StatusOK {
		t.Fatalf("review page: %d\n%s", page.status, page.body)
	}
	for n := 1; n <= 2; n++ {
		want := fmt.Sprintf(`<img src="/ui/documents/%s/pages/%d" width="%d" height="%d"`, id, n, pdftest.Width*pageimage.DefaultDPI/72, pdftest.Height*pageimage.DefaultDPI/72)
		if !strings.Contains(page.body, want) {
			t.Errorf("review page lacks page %d's image %s", n, want)
		}
	}
	if !strings.Contains(page.body, fmt.Sprintf(`viewBox="0 0 %d %d"`, pdftest.Width, pdftest.Height)) {
		t.Errorf("the boxes' overlay is not in the page's points")
	}
	// Each field's first box is where the layout says its quote stands.
	for name, ev := range draft.Evidence {
		box := text.Layout.Locate(ev.Start, ev.End)[0].Boxes[0]
		i := strings.Index(page.body, fmt.Sprintf(`x="%v" y="%v" width="%v" height="%v"><title>%s</title>`, box.X0, box.Y0, box.X1-box.X0, box.Y1-box.Y0, name))
		if i < 0 {
			t.Errorf("no box for %s at %+v on the review page", name, box)
			continue
		}
		rect := page.body[strings.LastIndex(page.body[:i], "<rect"):i]
		if !strings.Contains(rect, `id="pbox-`) {
			t.Errorf("the first box of %s has no ID to jump to: %s", name, rect)
		}
	}
	if !strings.Contains(page.body, `class="on-page" data-evidence=`) || !strings.Contains(page.body, "on page 2") {
		t.Errorf("the fields do not link to their pages (term_months is on page 2)")
	}

	img := b.get(fmt.Sprintf("/ui/documents/%s/pages/2", id))
	decoded, err := png.Decode(bytes.NewReader([]byte(img.body)))
	if img.status != http.StatusOK || img.header.Get("Content-Type") != "image/png" || err != nil || decoded.Bounds().Dx() != pdftest.Width*pageimage.DefaultDPI/72 {
		t.Fatalf("page image: %d %s, %v", img.status, img.header.Get("Content-Type"), err)
	}
	if got := b.get(fmt.Sprintf("/ui/documents/%s/pages/3", id)); got.status != http.StatusNotFound || !strings.Contains(got.body, "the PDF has 2 pages") {
		t.Errorf("page 3 of 2: %d\n%s", got.status, got.body)
	}
	if got := f.as(countersign.RoleSubmitter).get(fmt.Sprintf("/ui/documents/%s/pages/1", id)); got.status != http.StatusForbidden {
		t.Errorf("a submitter sees a page image: %d", got.status)
	}
	// The document page shows them too; a text document's pages none.
	if got := b.get("/ui/documents/" + id); !strings.Contains(got.body, `id="doc-pages"`) || !strings.Contains(got.body, `class="page-legend"`) {
		t.Errorf("document page lacks the pages")
	}
	if got := b.get("/ui/reviews/" + docA + "-r1"); got.status != http.StatusOK || strings.Contains(got.body, `id="doc-pages"`) {
		t.Errorf("a text document's review page: %d, shows pages: %v", got.status, strings.Contains(got.body, `id="doc-pages"`))
	}
}
