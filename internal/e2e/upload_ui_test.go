package e2e

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/app"
	"github.com/countersign/countersign/internal/config"
)

// TestScanUploadedInABrowser: a submitter signs in to the web page in a
// real headless Chromium and uploads through its submit form, first a file
// the server does not take (refused with the reason, the task type kept),
// then a scanned claim form drawn here as a PNG. Intake reads it by OCR
// and it reaches review; a reviewer's review page shows the scan as its
// page with the evidence boxed where the document view says. Screenshots
// are kept.
func TestScanUploadedInABrowser(t *testing.T) {
	needTesseract(t)
	chrome := chromium(t)
	shots := newScreens(t)
	ctx := context.Background()
	a := startAppWith(t, config.Config{}, app.Roles{Embedded: true, Worker: true, API: true})
	u := newUsers(t, a)

	file, _ := scannedClaimForm(t)
	dir := t.TempDir()
	scan, bogus := filepath.Join(dir, "claim-scan.png"), filepath.Join(dir, "claim.bin")
	if err := os.WriteFile(scan, file, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bogus, []byte{0x00, 0xff, 0xfe, 0x01, 0x80}, 0o644); err != nil {
		t.Fatal(err)
	}
	sue, err := u.admin.CreateToken(ctx, "sue", countersign.RoleSubmitter, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	rosa, err := u.admin.CreateToken(ctx, "rosa", countersign.RoleReviewer, time.Hour)
	if err != nil {
		t.Fatal(err)
	}

	browser, do, exceptions := newChromium(t, chrome)
	submit := chromedp.Click(chromedp.CSS(`form[action="/ui/submit"] button[type=submit]`))
	// A submitter lands on the submit page.
	do("sign in as a submitter", chromedp.Navigate(a.APIURL+"/ui/login"), chromedp.WaitVisible(chromedp.CSS("#token")),
		chromedp.SendKeys(chromedp.CSS("#token"), sue.Secret), chromedp.Click(chromedp.CSS("form.stack button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("#file")))
	do("upload a file the server does not take", chromedp.SetValue(chromedp.CSS("#task_type"), "pii-extraction"),
		chromedp.SetUploadFiles(chromedp.CSS("#file"), []string{bogus}), submit, chromedp.WaitVisible(chromedp.CSS("p.alert")))
	alert, err := chromedp.Run(browser, chromedp.Text(chromedp.CSS("p.alert")))
	if err != nil || !strings.Contains(alert, "the file is not a PDF, a PNG, JPEG or TIFF image, or UTF-8 text") {
		t.Errorf("refusal = %q, %v; want the reason", alert, err)
	}
	if tt, err := chromedp.Run(browser, chromedp.Value(chromedp.CSS("#task_type"))); err != nil || tt != "pii-extraction" {
		t.Errorf("task type after the refusal = %q, %v; want pii-extraction kept", tt, err)
	}
	shots.take(browser, "upload-01-refused")
	do("upload the scan", chromedp.SetUploadFiles(chromedp.CSS("#file"), []string{scan}), submit, chromedp.WaitVisible(chromedp.CSS("p.notice code")))
	id, err := chromedp.Run(browser, chromedp.Text(chromedp.CSS("p.notice code")))
	if err != nil || id == "" {
		t.Fatalf("no document named after the upload: %q, %v", id, err)
	}
	shots.take(browser, "upload-02-submitted")

	review := waitForReview(t, u.reviewer, id)
	doc, err := u.auditor.Document(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if doc.SubmittedBy != "sue" || doc.Channel != countersign.ChannelWeb || doc.Original == nil ||
		doc.Original.ContentType != countersign.ContentTypePNG || len(doc.Original.Pages) != 1 || !doc.Original.Pages[0].OCR {
		t.Fatalf("document = %+v, original %+v; want sue's PNG from the web, one page read by OCR", doc.Document, doc.Original)
	}
	if len(doc.Original.Evidence) == 0 {
		t.Fatalf("original = %+v; want evidence boxes", doc.Original)
	}

	do("sign out", chromedp.Click(chromedp.CSS(`form[action="/ui/logout"] button`)), chromedp.WaitVisible(chromedp.CSS("#token")))
	do("sign in as a reviewer", chromedp.Navigate(a.APIURL+"/ui/reviews/"+review.ID), chromedp.WaitVisible(chromedp.CSS("#token")),
		chromedp.SendKeys(chromedp.CSS("#token"), rosa.Secret), chromedp.Click(chromedp.CSS("form.stack button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("#doc-pages")))
	checkEvidenceBox(t, browser, do, doc)
	shots.take(browser, "upload-03-review-page-box")
	exceptions()
}
