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
	"strings"
	"testing"
	"time"

	openai "github.com/sashabaranov/go-openai"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/api"
	"github.com/countersign/countersign/internal/app"
	"github.com/countersign/countersign/internal/config"
	"github.com/countersign/countersign/internal/llm/llmtest"
	"github.com/countersign/countersign/internal/pdfium/pdftest"
)

// TestPDFContract: a born-digital contract PDF, made here, goes through
// intake (base64 JSON), is drafted by the rules from its text layer, and
// its evidence is located on its pages; the original comes back byte for
// byte, its hash is in document.received, and the export has the
// document. Hostile PDFs are refused with errors naming the limit, and the
// server goes on.
func TestPDFContract(t *testing.T) {
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
	file := pdftest.PDF(pages, pdftest.Options{Flate: true})
	sub, err := u.submitter.Submit(ctx, api.SubmitRequest{TaskType: "contract-review", ContentBase64: file, ContentType: countersign.ContentTypePDF})
	if err != nil {
		t.Fatal(err)
	}
	review := waitForReview(t, u.reviewer, sub.ID)
	doc, err := u.auditor.Document(ctx, sub.ID)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(file)
	if doc.OriginalSHA256 != hex.EncodeToString(sum[:]) || doc.Original == nil || doc.Original.ContentType != countersign.ContentTypePDF || len(doc.Original.Pages) != len(pages) {
		t.Fatalf("document = %+v, original %+v; want the PDF's hash and %d pages", doc.Document, doc.Original, len(pages))
	}
	if doc.Draft == nil || len(doc.Draft.Evidence) == 0 {
		t.Fatalf("draft = %+v; want the rules' fields with evidence", doc.Draft)
	}
	for name, ev := range doc.Draft.Evidence {
		boxes := doc.Original.Evidence[name]
		if len(boxes) == 0 || boxes[0].Page < 1 || len(boxes[0].Boxes) == 0 {
			t.Errorf("evidence of %s (%q at %d) has no boxes: %+v", name, ev.Quote, ev.Start, boxes)
			continue
		}
		b := boxes[0].Boxes[0]
		if b.X0 < pdftest.Left-1 || b.Y0 < pdftest.Top-pdftest.FontSize || b.X1 <= b.X0 || b.Y1 <= b.Y0 || b.Y1 > pdftest.Height {
			t.Errorf("box of %s = %+v; not on a line of the page", name, b)
		}
	}
	// The original, byte for byte, for an auditor.
	req, _ := http.NewRequest(http.MethodGet, a.APIURL+"/v1/documents/"+url.PathEscape(sub.ID)+"/original", nil)
	req.Header.Set("Authorization", "Bearer "+a.AdminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !bytes.Equal(got, file) || resp.Header.Get("Content-Type") != countersign.ContentTypePDF {
		t.Fatalf("GET original = %d %s, %d bytes; want the PDF as submitted", resp.StatusCode, resp.Header.Get("Content-Type"), len(got))
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
	// Approved, it is exported with its fields.
	if _, err := u.approver.Decide(ctx, review.ID, api.DecisionRequest{Action: countersign.ActionApprove}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Minute)
	for doc.Final == nil && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		if doc, err = u.auditor.Document(ctx, sub.ID); err != nil {
			t.Fatal(err)
		}
	}
	var out bytes.Buffer
	if _, err := u.auditor.Export(ctx, url.Values{"format": {"csv"}, "task_type": {"contract-review"}}, &out, nil); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), sub.ID) || !strings.Contains(out.String(), "Northwind") {
		t.Errorf("export = %q; want the approved PDF document", out.String())
	}

	// The same file again is the same document.
	again, err := u.submitter.Submit(ctx, api.SubmitRequest{TaskType: "contract-review", ContentBase64: file, ContentType: countersign.ContentTypePDF})
	if err != nil || again.ID != sub.ID || again.Created {
		t.Fatalf("resubmission = %+v, %v; want document %s, not created", again, err, sub.ID)
	}

	for _, tc := range []struct {
		name   string
		file   []byte
		status int
		says   string
	}{
		{"corrupt", append([]byte("%PDF-1.7\n"), bytes.Repeat([]byte{0xde, 0xad}, 512)...), http.StatusUnprocessableEntity, "corrupt"},
		{"encrypted", pdftest.PDF(pages, pdftest.Options{Encrypt: true}), http.StatusUnprocessableEntity, "encrypted"},
		{"page bomb", pdftest.PageBomb(10000), http.StatusRequestEntityTooLarge, "10000 pages; the limit is 500 (pdf-max-pages)"},
		// Out of memory or out of time, whichever comes first on the
		// machine: both are limits named.
		{"decompression bomb", pdftest.PDF(pages, pdftest.Options{BombBytes: 1 << 30}), http.StatusUnprocessableEntity, "(pdf-"},
	} {
		_, err := u.submitter.Submit(ctx, api.SubmitRequest{TaskType: "contract-review", ContentBase64: tc.file, ContentType: countersign.ContentTypePDF})
		if status(err) != tc.status || err == nil || !strings.Contains(err.Error(), tc.says) {
			t.Errorf("%s: Submit = %v; want %d saying %q", tc.name, err, tc.status, tc.says)
		}
	}
	if _, err := u.auditor.Document(ctx, sub.ID); err != nil {
		t.Fatalf("the server after the hostile files: %v", err)
	}
}

// TestPDFWithModel: a PDF's text is what the model is given and what its
// quotes are grounded in (the fake model answers quotes from the claim
// form), and the grounded quotes are located on the page.
func TestPDFWithModel(t *testing.T) {
	srv := llmtest.New(t)
	content := sample(t, "pii-extraction", "claim-form-daniel-obrien.txt")
	srv.Otherwise(func(req openai.ChatCompletionRequest) llmtest.Reply {
		if !strings.Contains(req.Messages[len(req.Messages)-1].Content, "Daniel O'Brien") {
			return llmtest.Answer(llmtest.Fields("full_name", &llmtest.Field{Value: "nobody", Quote: "nobody"}))
		}
		return llmtest.Answer(llmtest.Fields(
			"full_name", &llmtest.Field{Value: "Daniel O'Brien", Quote: "Daniel O'Brien"},
			"email", &llmtest.Field{Value: "dobrien@mailbox.example", Quote: "dobrien@mailbox.example"},
		))
	})
	a := startAppWith(t, config.Config{OpenAIBaseURL: srv.BaseURL(), OpenAIModel: "local-model"}, app.Roles{Embedded: true, Worker: true, API: true})
	u := newUsers(t, a)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	file := pdftest.PDF([][]string{strings.Split(strings.TrimRight(content, "\n"), "\n")}, pdftest.Options{})
	sub, err := u.submitter.Submit(ctx, api.SubmitRequest{TaskType: "pii-extraction", ContentBase64: file, ContentType: countersign.ContentTypePDF})
	if err != nil {
		t.Fatal(err)
	}
	var doc *api.DocumentView
	for doc == nil || doc.Route == nil {
		if ctx.Err() != nil {
			t.Fatalf("document %s was never routed", sub.ID)
		}
		time.Sleep(50 * time.Millisecond)
		if doc, err = u.admin.Document(ctx, sub.ID); err != nil {
			t.Fatal(err)
		}
	}
	if doc.Draft.Extractor != "openai" || doc.Draft.Fields["full_name"] != "Daniel O'Brien" {
		t.Fatalf("draft = %+v; want the model's, from the PDF's text", doc.Draft)
	}
	if g := doc.Confidence.Fields["full_name"].Signals["grounding"]; g < 0.9 {
		t.Errorf("full_name grounding = %v; the quote is in the PDF's text", g)
	}
	for _, name := range []string{"full_name", "email"} {
		if boxes := doc.Original.Evidence[name]; len(boxes) != 1 || boxes[0].Page != 1 || len(boxes[0].Boxes) != 1 {
			t.Errorf("evidence of %s on the page = %+v; want one box on page 1", name, boxes)
		}
	}
}
