package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	openai "github.com/sashabaranov/go-openai"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/api"
	"github.com/countersign/countersign/api/apiclient"
	"github.com/countersign/countersign/internal/app"
	"github.com/countersign/countersign/internal/config"
	"github.com/countersign/countersign/internal/llm/llmtest"
	"github.com/countersign/countersign/internal/ocr"
	"github.com/countersign/countersign/internal/ocr/ocrtest"
	"github.com/countersign/countersign/internal/pdfium/pdftest"
)

// claimFormLines is the sample claim form as printed: lines wrapped at
// 60 characters, blank lines kept.
func claimFormLines(t *testing.T) []string {
	var out []string
	for _, line := range strings.Split(strings.TrimRight(sample(t, "pii-extraction", "claim-form-daniel-obrien.txt"), "\n"), "\n") {
		line = strings.ReplaceAll(line, "—", "-")
		for len(line) > 60 {
			cut := strings.LastIndex(line[:60], " ")
			out = append(out, line[:cut])
			line = line[cut+1:]
		}
		out = append(out, line)
	}
	return out
}

// scannedClaimForm draws the claim form as a scan, the policy number's
// line faded so OCR reads it unsure, and returns it as a PNG with its
// lines.
func scannedClaimForm(t *testing.T) ([]byte, []string) {
	lines := claimFormLines(t)
	img := ocrtest.Page(lines)
	for i, l := range lines {
		if strings.HasPrefix(l, "Policy number: ") {
			ocrtest.Fade(img, i, "Policy number: ")
		}
	}
	return ocrtest.PNG(img), lines
}

// needTesseract skips a test without Tesseract, or fails it when
// COUNTERSIGN_REQUIRE_TESSERACT is set (.ci/run installs it and sets it).
func needTesseract(t *testing.T) {
	if err := ocr.New(ocr.Config{}).Available(); err != nil {
		if os.Getenv("COUNTERSIGN_REQUIRE_TESSERACT") != "" {
			t.Fatalf("no Tesseract, and COUNTERSIGN_REQUIRE_TESSERACT is set: %v", err)
		}
		t.Skipf("no Tesseract (.ci/run installs it): %v", err)
	}
}

// waitRouted polls a document until it is routed.
func waitRouted(t *testing.T, c *apiclient.Client, id string) *api.DocumentView {
	t.Helper()
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		doc, err := c.Document(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if doc.Route != nil {
			return doc
		}
	}
	t.Fatalf("document %s was never routed", id)
	return nil
}

// checkOnPage: each named field's evidence is located on page 1 of the
// scan, its first box on the line the form prints its label on.
func checkOnPage(t *testing.T, doc *api.DocumentView, lines []string, labels map[string]string) {
	t.Helper()
	const pt = 72.0 / countersign.ImageDPI
	for field, label := range labels {
		line := -1
		for i, l := range lines {
			if strings.HasPrefix(l, label) {
				line = i
			}
		}
		boxes := doc.Original.Evidence[field]
		if len(boxes) != 1 || boxes[0].Page != 1 || len(boxes[0].Boxes) == 0 {
			t.Errorf("evidence of %s on the page = %+v; want boxes on page 1", field, boxes)
			continue
		}
		b := boxes[0].Boxes[0]
		baseline := float64(ocrtest.Top+line*ocrtest.Leading) * pt
		x := float64(ocrtest.Left+ocrtest.Advance(label)) * pt
		// The rules quote the label too, a model the value alone.
		if b.Y1 < baseline-3 || b.Y1 > baseline+4 || b.X0 < ocrtest.Left*pt-4 || b.X0 > x+4 {
			t.Errorf("box of %s = %+v; want it on line %d (baseline %.1f), from the label to its value at x %.1f", field, b, line, baseline, x)
		}
	}
}

// TestScannedClaimForm: a scanned claim form (drawn here, a PNG) goes
// through intake by OCR, is drafted by the rules from the text OCR read,
// its evidence located on the page where it was drawn, the unsure
// policy number flagged by ocr_confidence; the original comes back byte
// for byte, its hash in document.received; decided, it is exported.
// Hostile images are refused fast naming the limit, and the server goes
// on.
func TestScannedClaimForm(t *testing.T) {
	needTesseract(t)
	ctx := context.Background()
	a := startAppWith(t, config.Config{}, app.Roles{Embedded: true, Worker: true, API: true})
	u := newUsers(t, a)
	file, lines := scannedClaimForm(t)
	sub, err := u.submitter.Submit(ctx, api.SubmitRequest{TaskType: "pii-extraction", ContentBase64: file, ContentType: countersign.ContentTypePNG})
	if err != nil {
		t.Fatal(err)
	}
	doc := waitRouted(t, u.admin, sub.ID)
	sum := sha256.Sum256(file)
	if doc.OriginalSHA256 != hex.EncodeToString(sum[:]) || doc.Original == nil || doc.Original.ContentType != countersign.ContentTypePNG ||
		len(doc.Original.Pages) != 1 || !doc.Original.Pages[0].OCR {
		t.Fatalf("document = %+v, original %+v; want the PNG's hash and one page read by OCR", doc.Document, doc.Original)
	}
	// OCR reads the e-mail address as "dobrien@ mailbox.example" (the
	// font's wide @), which no rule takes for an address: a person fills
	// it in.
	if doc.Draft == nil || doc.Draft.Extractor != countersign.ExtractorRules || doc.Draft.Fields["phone"] != "+1 617 555 0142" ||
		!regexp.MustCompile(`^Daniel O['’]Brien$`).MatchString(doc.Draft.Fields["full_name"].(string)) || doc.Draft.Fields["customer_id"] != "AUTO-88213094" {
		t.Fatalf("draft = %+v; want the rules' fields from the text OCR read", doc.Draft)
	}
	checkOnPage(t, doc, lines, map[string]string{"full_name": "Name: ", "phone": "Phone: ", "customer_id": "Policy number: "})
	id := doc.Confidence.Fields["customer_id"]
	if v, ok := id.Signals[countersign.SignalOCRConfidence]; !ok || v >= 0.6 || !strings.Contains(strings.Join(id.Reasons, "|"), `OCR was unsure of the scanned text under the quote: it read "AUTO-88213094"`) {
		t.Errorf("customer_id signals %v, reasons %q; want a low ocr_confidence with its reason", id.Signals, id.Reasons)
	}
	if v, ok := doc.Confidence.Fields["phone"].Signals[countersign.SignalOCRConfidence]; !ok || v < 0.6 {
		t.Errorf("phone ocr_confidence = %v (%v); want a sure read", v, ok)
	}

	// The original, byte for byte, for an auditor; its hash in the trail.
	req, _ := http.NewRequest(http.MethodGet, a.APIURL+"/v1/documents/"+url.PathEscape(sub.ID)+"/original", nil)
	req.Header.Set("Authorization", "Bearer "+a.AdminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !bytes.Equal(got, file) || resp.Header.Get("Content-Type") != countersign.ContentTypePNG ||
		!strings.Contains(resp.Header.Get("Content-Disposition"), sub.ID+".png") {
		t.Fatalf("GET original = %d %s %s, %d bytes; want the PNG as submitted", resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Content-Disposition"), len(got))
	}
	events, err := u.auditor.Audit(ctx, sub.ID)
	if err != nil {
		t.Fatal(err)
	}
	var received struct {
		OriginalSHA256 string `json:"original_sha256"`
	}
	if err := json.Unmarshal(lastEvent(t, events, countersign.EventDocumentReceived).Data, &received); err != nil || received.OriginalSHA256 != doc.OriginalSHA256 {
		t.Errorf("document.received = %+v, %v; want original_sha256 %s", received, err, doc.OriginalSHA256)
	}

	// Decided by a person when routed to one, then exported.
	if doc.Route.Outcome != countersign.OutcomeHumanReview {
		t.Fatalf("route = %+v; a draft without its required e-mail goes to a person", doc.Route)
	}
	review := waitForReview(t, u.reviewer, sub.ID)
	fields := countersign.Fields{}
	for k, v := range doc.Draft.Fields {
		fields[k] = v
	}
	fields["email"] = "dobrien@mailbox.example"
	if _, err := u.approver.Decide(ctx, review.ID, api.DecisionRequest{Action: countersign.ActionCorrect, Fields: fields, Reason: "e-mail read from the scan"}); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(time.Minute); doc.Final == nil && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if doc, err = u.auditor.Document(ctx, sub.ID); err != nil {
			t.Fatal(err)
		}
	}
	var out bytes.Buffer
	if _, err := u.auditor.Export(ctx, url.Values{"format": {"csv"}, "task_type": {"pii-extraction"}}, &out, nil); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), sub.ID) || !strings.Contains(out.String(), "dobrien@mailbox.example") {
		t.Errorf("export = %q; want the scanned document", out.String())
	}
	if _, err := u.admin.VerifyAudit(ctx); err != nil {
		t.Errorf("audit verify: %v", err)
	}

	// The same form as a scanned PDF: its page has no text layer, only
	// the image, so it is rendered and read by OCR.
	scan, err := u.submitter.Submit(ctx, api.SubmitRequest{TaskType: "pii-extraction", ContentBase64: ocrtest.ScannedPDF(ocrtest.Page(lines)), ContentType: countersign.ContentTypePDF})
	if err != nil {
		t.Fatal(err)
	}
	scanDoc := waitRouted(t, u.admin, scan.ID)
	if len(scanDoc.Original.Pages) != 1 || !scanDoc.Original.Pages[0].OCR || scanDoc.Draft.Fields["phone"] != "+1 617 555 0142" {
		t.Errorf("scanned PDF: pages %+v, draft %+v; want one page read by OCR and the rules' fields", scanDoc.Original.Pages, scanDoc.Draft)
	}
	checkOnPage(t, scanDoc, lines, map[string]string{"full_name": "Name: ", "phone": "Phone: "})

	for _, tc := range []struct {
		name, typ string
		file      []byte
		status    int
		says      string
	}{
		{"decompression bomb", countersign.ContentTypePNG, ocrtest.HugePNG(60000, 60000), http.StatusRequestEntityTooLarge, "declares 60000×60000 pixels (3600000000); the limit is 40000000 (ocr-max-pixels)"},
		{"truncated", countersign.ContentTypePNG, file[:len(file)/3], http.StatusUnprocessableEntity, "corrupt or truncated"},
		{"not what it says", countersign.ContentTypeTIFF, file, http.StatusUnprocessableEntity, "not a image/tiff image"},
		{"unknown type", "image/gif", []byte("GIF89a"), http.StatusUnprocessableEntity, `content_type "image/gif" is not supported`},
	} {
		start := time.Now()
		_, err := u.submitter.Submit(ctx, api.SubmitRequest{TaskType: "pii-extraction", ContentBase64: tc.file, ContentType: tc.typ})
		if status(err) != tc.status || err == nil || !strings.Contains(err.Error(), tc.says) {
			t.Errorf("%s: Submit = %v; want %d saying %q", tc.name, err, tc.status, tc.says)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("%s: refused after %v; want at once", tc.name, d)
		}
	}
	if _, err := u.auditor.Document(ctx, sub.ID); err != nil {
		t.Fatalf("the server after the hostile files: %v", err)
	}
}

// TestScannedClaimFormWithModel: the text OCR read is what the model is
// given and what its quotes are grounded in (the fake model quotes the
// form's lines as it received them), and the quotes are located on the
// scan.
func TestScannedClaimFormWithModel(t *testing.T) {
	needTesseract(t)
	srv := llmtest.New(t)
	labelled := func(text, label string) string {
		m := regexp.MustCompile(`(?m)^` + label + `: (.+)$`).FindStringSubmatch(text)
		if m == nil {
			return "nothing"
		}
		return m[1]
	}
	srv.Otherwise(func(req openai.ChatCompletionRequest) llmtest.Reply {
		text := req.Messages[len(req.Messages)-1].Content
		name, phone := labelled(text, "Name"), labelled(text, "Phone")
		return llmtest.Answer(llmtest.Fields(
			"full_name", &llmtest.Field{Value: name, Quote: name},
			"email", &llmtest.Field{Value: "dobrien@mailbox.example", Quote: "dobrien@ mailbox.example"},
			"phone", &llmtest.Field{Value: phone, Quote: phone},
		))
	})
	a := startAppWith(t, config.Config{OpenAIBaseURL: srv.BaseURL(), OpenAIModel: "local-model"}, app.Roles{Embedded: true, Worker: true, API: true})
	u := newUsers(t, a)
	file, lines := scannedClaimForm(t)
	sub, err := u.submitter.Submit(context.Background(), api.SubmitRequest{TaskType: "pii-extraction", ContentBase64: file, ContentType: countersign.ContentTypePNG})
	if err != nil {
		t.Fatal(err)
	}
	doc := waitRouted(t, u.admin, sub.ID)
	if doc.Draft.Extractor != countersign.ExtractorOpenAI || doc.Draft.Fields["phone"] != "+1 617 555 0142" {
		t.Fatalf("draft = %+v; want the model's, from the text OCR read", doc.Draft)
	}
	for _, name := range []string{"full_name", "phone"} {
		fs := doc.Confidence.Fields[name]
		if fs.Signals[countersign.SignalGrounding] != 1 {
			t.Errorf("%s grounding = %v; the quote is in the text OCR read", name, fs.Signals[countersign.SignalGrounding])
		}
		if _, ok := fs.Signals[countersign.SignalOCRConfidence]; !ok {
			t.Errorf("%s has no ocr_confidence: %v", name, fs.Signals)
		}
	}
	checkOnPage(t, doc, lines, map[string]string{"full_name": "Name: ", "email": "Email: ", "phone": "Phone: "})
}

// TestScanWithoutTesseract: a server without Tesseract refuses a scan
// saying what to install, and still reads a PDF's text layer.
func TestScanWithoutTesseract(t *testing.T) {
	a := startAppWith(t, config.Config{OCR: ocr.Config{Tesseract: "tesseract-not-installed"}}, app.Roles{Embedded: true, Worker: true, API: true})
	u := newUsers(t, a)
	ctx := context.Background()
	_, err := u.submitter.Submit(ctx, api.SubmitRequest{TaskType: "pii-extraction", ContentBase64: ocrtest.PNG(ocrtest.Page([]string{"Name: Jane Roe"})), ContentType: countersign.ContentTypePNG})
	if status(err) != http.StatusUnprocessableEntity || !strings.Contains(err.Error(), "apt-get install tesseract-ocr") {
		t.Errorf("a scan without Tesseract: %v; want 422 saying what to install", err)
	}
	pdf := pdftest.PDF([][]string{claimFormLines(t)}, pdftest.Options{})
	sub, err := u.submitter.Submit(ctx, api.SubmitRequest{TaskType: "pii-extraction", ContentBase64: pdf, ContentType: countersign.ContentTypePDF})
	if err != nil {
		t.Fatalf("a text PDF without Tesseract: %v", err)
	}
	if doc := waitRouted(t, u.admin, sub.ID); doc.Draft.Fields["email"] != "dobrien@mailbox.example" {
		t.Errorf("draft of the text PDF = %+v", doc.Draft)
	}
}
