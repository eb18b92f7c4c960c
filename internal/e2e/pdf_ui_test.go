package e2e

import (
	"context"
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	cdpruntime "github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/api"
	"github.com/countersign/countersign/internal/app"
	"github.com/countersign/countersign/internal/config"
	"github.com/countersign/countersign/internal/pdfium/pdftest"
)

// TestPDFPageInABrowser: a reviewer opens the review of a contract PDF
// made here, in a real headless Chromium, and sees its pages rendered by
// the server with the evidence boxed; clicking a field's "on page" link
// marks its box, and the box stands where the document view's evidence
// box (in PDF points) says, scaled to the image on screen, over the ink
// of the quoted words. A screenshot is kept.
func TestPDFPageInABrowser(t *testing.T) {
	chrome := chromium(t)
	shots := newScreens(t)
	ctx := context.Background()
	a := startAppWith(t, config.Config{}, app.Roles{Embedded: true, Worker: true, API: true})
	u := newUsers(t, a)

	text := sample(t, "contract-review", "msa-northwind-harbor.txt")
	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	var pages [][]string
	for len(lines) > 0 {
		n := min(len(lines), 30)
		pages = append(pages, lines[:n])
		lines = lines[n:]
	}
	sub, err := u.submitter.Submit(ctx, api.SubmitRequest{TaskType: "contract-review", ContentBase64: pdftest.PDF(pages, pdftest.Options{Flate: true}), ContentType: countersign.ContentTypePDF})
	if err != nil {
		t.Fatal(err)
	}
	review := waitForReview(t, u.reviewer, sub.ID)
	doc, err := u.auditor.Document(ctx, sub.ID)
	if err != nil {
		t.Fatal(err)
	}
	if doc.Original == nil || len(doc.Original.Evidence) == 0 {
		t.Fatalf("original = %+v; want evidence boxes", doc.Original)
	}
	tok, err := u.admin.CreateToken(ctx, "rosa", countersign.RoleReviewer, time.Hour)
	if err != nil {
		t.Fatal(err)
	}

	browser, do, exceptions := newChromium(t, chrome)

	do("sign in", chromedp.Navigate(a.APIURL+"/ui/reviews/"+review.ID), chromedp.WaitVisible(chromedp.CSS("#token")),
		chromedp.SendKeys(chromedp.CSS("#token"), tok.Secret), chromedp.Click(chromedp.CSS("form.stack button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("#doc-pages")))
	tg := checkEvidenceBox(t, browser, do, doc)
	shots.take(browser, "pdf-01-review-page-box")

	// The document page shows the pages too, with a legend of the fields.
	do("the document page", chromedp.Navigate(a.APIURL+"/ui/documents/"+sub.ID), chromedp.WaitVisible(chromedp.CSS("#doc-pages")),
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`.page-legend a[data-evidence="%d"]`, tg.Index))))
	if n, err := chromedp.Run(browser, chromedp.Evaluate[int](`document.querySelectorAll("rect.ev-box.active").length`)); err != nil || n == 0 {
		t.Errorf("document page: %d boxes active after clicking %s in the legend, %v", n, tg.Name, err)
	}
	shots.take(browser, "pdf-02-document-page")
	exceptions()
}

// newChromium starts a headless Chromium for a test: its context, a step
// runner that fails the test naming the step, and a check that no script
// threw (call it at the end).
func newChromium(t *testing.T, chrome string) (context.Context, func(string, ...chromedp.Action[chromedp.Void]), func()) {
	t.Helper()
	ctx := context.Background()
	alloc, cancel := chromedp.NewExecAllocator(ctx, append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chrome), chromedp.NoSandbox, chromedp.WindowSize(1600, 1000), chromedp.Flag("disable-gpu", true))...)
	t.Cleanup(cancel)
	var exceptions struct {
		sync.Mutex
		list []string
	}
	browser, cancel := chromedp.NewContext(alloc, chromedp.WithListener(func(ev any) {
		exceptions.Lock()
		defer exceptions.Unlock()
		if e, ok := ev.(*cdpruntime.EventExceptionThrown); ok {
			exceptions.list = append(exceptions.list, fmt.Sprintf("%s (%s:%d)", e.ExceptionDetails.Text, e.ExceptionDetails.URL, e.ExceptionDetails.LineNumber))
		}
	}))
	t.Cleanup(cancel)
	browser, cancel = context.WithTimeout(browser, 3*time.Minute)
	t.Cleanup(cancel)
	do := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(browser, steps...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}

	return browser, do, func() {
		t.Helper()
		exceptions.Lock()
		defer exceptions.Unlock()
		if len(exceptions.list) > 0 {
			t.Errorf("script exceptions: %v", exceptions.list)
		}
	}
}

// evidenceTarget is a field of the review page with an "on page" link.
type evidenceTarget struct {
	Index int    `json:"index"`
	Name  string `json:"name"`
	Page  int    `json:"page"`
}

// checkEvidenceBox, on a review page showing doc's pages: clicking the
// field whose evidence is on the last page with a box marks its box, the
// pages pane scrolls to it, and the box stands where the document view's
// evidence box (in points) says, scaled to the image on screen, over ink.
func checkEvidenceBox(t *testing.T, browser context.Context, do func(string, ...chromedp.Action[chromedp.Void]), doc *api.DocumentView) evidenceTarget {
	t.Helper()
	// The field whose evidence is on the last page with a box: clicking
	// it must scroll the pages pane there.
	tg, err := chromedp.Run(browser, chromedp.Evaluate[evidenceTarget](`(() => {
		const links = Array.from(document.querySelectorAll("a.on-page"));
		const last = links.map(l => ({index: +l.dataset.evidence, name: l.closest(".field").querySelector(".field-name").innerText.trim(), page: +l.innerText.replace(/\D/g, "")}))
			.sort((a, b) => b.page - a.page)[0];
		return last || {index: -1};
	})()`))
	if err != nil || tg.Index < 0 {
		t.Fatalf("fields with an \"on page\" link: %+v, %v; want one", tg, err)
	}
	want := doc.Original.Evidence[tg.Name]
	if len(want) == 0 || want[0].Page != tg.Page {
		t.Fatalf("field %s is on page %d in the page, and on %+v in the document view", tg.Name, tg.Page, want)
	}
	do("jump to the field's box", chromedp.Click(chromedp.CSS(fmt.Sprintf(`a.on-page[data-evidence="%d"]`, tg.Index))))
	// The page image has loaded (it is lazy) once the pane shows it.
	do("the page image loads", chromedp.Poll[chromedp.Void](fmt.Sprintf(`(() => { const i = document.querySelector("#page-%d img"); return i && i.complete && i.naturalWidth > 0; })()`, tg.Page), chromedp.WithPollingTimeout(time.Minute)))

	type rect struct{ X, Y, W, H float64 }
	type measured struct {
		Box, Img          rect
		NaturalW, Active  int
		Ink, Pixels       int
		PaneTop, PaneBott float64
	}
	m, err := chromedp.Run(browser, chromedp.Evaluate[measured](fmt.Sprintf(`(() => {
		const r = e => { const b = e.getBoundingClientRect(); return {X: b.left, Y: b.top, W: b.width, H: b.height}; };
		const box = document.getElementById("pbox-%[1]d"), img = document.querySelector("#page-%[2]d img");
		const pane = document.getElementById("doc-pages").getBoundingClientRect();
		// Count the dark pixels of the page image under the box, in the
		// image's own pixels.
		const c = document.createElement("canvas");
		c.width = img.naturalWidth; c.height = img.naturalHeight;
		const g = c.getContext("2d"); g.drawImage(img, 0, 0);
		const bb = r(box), ib = r(img), s = img.naturalWidth / ib.W;
		const x = Math.round((bb.X - ib.X) * s), y = Math.round((bb.Y - ib.Y) * s), w = Math.max(1, Math.round(bb.W * s)), h = Math.max(1, Math.round(bb.H * s));
		const d = g.getImageData(x, y, w, h).data;
		let ink = 0;
		for (let i = 0; i < d.length; i += 4) { if ((d[i] + d[i+1] + d[i+2]) / 3 < 128) ink++; }
		return {Box: bb, Img: ib, NaturalW: img.naturalWidth, Active: document.querySelectorAll("rect.ev-box.active").length, Ink: ink, Pixels: w * h, PaneTop: pane.top, PaneBott: pane.bottom};
	})()`, tg.Index, tg.Page)))
	if err != nil {
		t.Fatal(err)
	}
	// Expected: the first box of the field in the document view, in
	// points from the page's top left, scaled to the image's width on
	// screen (the page's points to CSS pixels).
	b := want[0].Boxes[0]
	pageW := doc.Original.Pages[tg.Page-1].Width
	s := m.Img.W / pageW
	exp := rect{m.Img.X + b.X0*s, m.Img.Y + b.Y0*s, (b.X1 - b.X0) * s, (b.Y1 - b.Y0) * s}
	off := func(a, b float64) bool { return math.Abs(a-b) > 1.5 }
	if off(m.Box.X, exp.X) || off(m.Box.Y, exp.Y) || off(m.Box.W, exp.W) || off(m.Box.H, exp.H) {
		t.Errorf("box of %s on screen = %+v; want %+v (points %+v × %.3f from the image at %+v)", tg.Name, m.Box, exp, b, s, m.Img)
	}
	if m.Active == 0 {
		t.Errorf("after clicking %s no box is marked active", tg.Name)
	}
	if m.Box.Y < m.PaneTop || m.Box.Y+m.Box.H > m.PaneBott {
		t.Errorf("box of %s at y %.0f–%.0f is outside the pages pane (%.0f–%.0f): the pane did not scroll to it", tg.Name, m.Box.Y, m.Box.Y+m.Box.H, m.PaneTop, m.PaneBott)
	}
	if m.Ink*20 < m.Pixels {
		t.Errorf("under the box of %s %d of %d image pixels are dark; want the quoted words there", tg.Name, m.Ink, m.Pixels)
	}
	t.Logf("field %s, page %d: box on screen %+v, expected %+v; %d of %d pixels under it dark", tg.Name, tg.Page, m.Box, exp, m.Ink, m.Pixels)
	return tg
}
