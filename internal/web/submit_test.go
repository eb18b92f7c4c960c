package web_test

import (
	"bytes"
	"context"
	"mime/multipart"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/dispatch"
	"github.com/countersign/countersign/internal/ocr/ocrtest"
	"github.com/countersign/countersign/internal/pdfium/pdftest"
)

// fixtureUploadLimit is the submit form's largest file in the fixture.
const fixtureUploadLimit = 64 << 10

// recordingSubmitter stands in for the dispatcher's intake (which needs
// Temporal to start a review): it keeps what the form sent and answers a
// processing document, or refuse when set.
type recordingSubmitter struct {
	mu     sync.Mutex
	calls  []dispatch.Submission
	refuse error
}

func (s *recordingSubmitter) Submit(_ context.Context, sub dispatch.Submission) (*countersign.Document, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.refuse != nil {
		return nil, false, s.refuse
	}
	s.calls = append(s.calls, sub)
	id := countersign.DocumentID(sub.TaskType, sub.ExternalID, string(sub.Original)+sub.Content)
	return &countersign.Document{ID: id, TaskType: sub.TaskType, Status: countersign.StatusProcessing}, true, nil
}

func (s *recordingSubmitter) taken() []dispatch.Submission {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]dispatch.Submission(nil), s.calls...)
}

// upload sends the submit form as a browser does: multipart, with the file
// named name and the given fields.
func (b *browser) upload(fields map[string]string, name string, data []byte) answer {
	b.f.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	if _, ok := fields["csrf"]; !ok {
		mw.WriteField("csrf", b.csrf)
	}
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	if name != "" {
		fw, _ := mw.CreateFormFile("file", name)
		fw.Write(data)
	}
	mw.Close()
	req, _ := http.NewRequest(http.MethodPost, b.f.url+"/ui/submit", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return b.do(req)
}

func TestSubmitPage(t *testing.T) {
	f := newFixture(t)
	sam := f.as(countersign.RoleSubmitter)

	// The form lists the task types; the header links to it.
	page := sam.get("/ui/submit")
	if page.status != http.StatusOK || !strings.Contains(page.body, `enctype="multipart/form-data"`) ||
		!strings.Contains(page.body, `<option value="contract-review"`) || !strings.Contains(page.body, `href="/ui/submit"`) {
		t.Fatalf("submit page = %d:\n%s", page.status, page.body)
	}
	if q := sam.get("/ui/queue"); strings.Contains(q.body, `href="/ui/submit"`) != true {
		t.Errorf("a submitter's pages do not link to the submit page")
	}
	if q := f.as(countersign.RoleReviewer).get("/ui/queue"); strings.Contains(q.body, `href="/ui/submit"`) {
		t.Errorf("a reviewer's queue links to the submit page")
	}

	png := ocrtest.PNG(ocrtest.Page([]string{"Name: Jane Roe"}))
	pdf := pdftest.PDF([][]string{{"MASTER SERVICES AGREEMENT"}}, pdftest.Options{})

	// Roles: a reviewer and an auditor may not submit, whatever they send.
	for _, role := range []countersign.Role{countersign.RoleReviewer, countersign.RoleAuditor} {
		a := f.as(role).upload(map[string]string{"task_type": "contract-review"}, "scan.png", png)
		if a.status != http.StatusForbidden || !strings.Contains(a.body, "may not submit documents") || !strings.Contains(a.body, string(role)) {
			t.Errorf("upload as %s = %d:\n%s", role, a.status, a.body)
		}
	}
	// CSRF: a form without the session's token is refused.
	if a := sam.upload(map[string]string{"csrf": "forged", "task_type": "contract-review"}, "scan.png", png); a.status != http.StatusForbidden || !strings.Contains(a.body, "CSRF") {
		t.Errorf("upload with a forged CSRF token = %d:\n%s", a.status, a.body)
	}
	if n := len(f.submitter.taken()); n != 0 {
		t.Fatalf("%d refused uploads reached intake", n)
	}

	// Refusals show the form again with the reason and the task type kept.
	refusals := []struct {
		name   string
		data   []byte
		status int
		want   string
	}{
		{"big.png", append(png, make([]byte, fixtureUploadLimit)...), http.StatusRequestEntityTooLarge, "the file big.png is "},
		{"blob.bin", []byte{0x00, 0xff, 0xfe, 0x01, 0x80}, http.StatusUnprocessableEntity, "the file is not a PDF, a PNG, JPEG or TIFF image, or UTF-8 text"},
		{"empty.txt", nil, http.StatusUnprocessableEntity, "the file empty.txt is empty"},
	}
	for _, r := range refusals {
		a := sam.upload(map[string]string{"task_type": "pii-extraction", "external_id": "x-1"}, r.name, r.data)
		if a.status != r.status || !strings.Contains(a.body, r.want) ||
			!strings.Contains(a.body, `<option value="pii-extraction" selected>`) || !strings.Contains(a.body, `value="x-1"`) {
			t.Errorf("upload of %s = %d; want %d, the form again with %q and the task type kept:\n%s", r.name, a.status, r.status, r.want, a.body)
		}
	}
	// A body far over the limit is cut short: the form comes back empty
	// with the limit.
	huge := sam.upload(map[string]string{"task_type": "pii-extraction"}, "huge.png", append(png, make([]byte, 2<<20)...))
	if huge.status != http.StatusRequestEntityTooLarge || !strings.Contains(huge.body, "the upload is larger than 65536 bytes") || !strings.Contains(huge.body, `name="file"`) {
		t.Errorf("upload far over the limit = %d:\n%s", huge.status, huge.body)
	}
	// Intake's own refusal is shown the same way.
	f.submitter.refuse = countersign.Errorf(countersign.CodeTooLarge, "the file has 2 pages; the limit is 1 (pdf-max-pages)")
	a := sam.upload(map[string]string{"task_type": "pii-extraction"}, "two.pdf", pdf)
	if a.status != http.StatusRequestEntityTooLarge || !strings.Contains(a.body, "the file has 2 pages; the limit is 1 (pdf-max-pages)") ||
		!strings.Contains(a.body, `<option value="pii-extraction" selected>`) {
		t.Errorf("upload refused by intake = %d:\n%s", a.status, a.body)
	}
	f.submitter.refuse = nil

	// Accepted: a PNG and a PDF go to intake as files of the type their
	// bytes say, whatever their names; text goes as content.
	if a := sam.upload(map[string]string{"task_type": "pii-extraction", "external_id": "scan-7"}, "scan.txt", png); a.status != http.StatusOK || !strings.Contains(a.body, "Submitted: document") {
		t.Errorf("PNG upload as a submitter = %d:\n%s", a.status, a.body)
	}
	ada := f.as(countersign.RoleAdmin)
	a = ada.upload(map[string]string{"task_type": "contract-review"}, "contract.pdf", pdf)
	if a.status != http.StatusSeeOther || !strings.HasPrefix(a.header.Get("Location"), "/ui/documents/") {
		t.Errorf("PDF upload as admin = %d, Location %q; want a redirect to the document page", a.status, a.header.Get("Location"))
	}
	sam.upload(map[string]string{"task_type": "pii-extraction"}, "note.txt", []byte("Name: Zoë Müller"))
	calls := f.submitter.taken()
	if len(calls) != 3 {
		t.Fatalf("intake got %d submissions; want 3", len(calls))
	}
	want := []dispatch.Submission{
		{TaskType: "pii-extraction", ExternalID: "scan-7", SubmittedBy: "sam", Channel: countersign.ChannelWeb, ContentType: countersign.ContentTypePNG},
		{TaskType: "contract-review", SubmittedBy: "ada", Channel: countersign.ChannelWeb, ContentType: countersign.ContentTypePDF},
		{TaskType: "pii-extraction", SubmittedBy: "sam", Channel: countersign.ChannelWeb, Content: "Name: Zoë Müller"},
	}
	files := [][]byte{png, pdf, nil}
	for i, c := range calls {
		w := want[i]
		if c.TaskType != w.TaskType || c.ExternalID != w.ExternalID || c.SubmittedBy != w.SubmittedBy || c.Channel != w.Channel ||
			c.ContentType != w.ContentType || c.Content != w.Content || !bytes.Equal(c.Original, files[i]) {
			t.Errorf("submission %d = %+v (%d bytes of file); want %+v with %d bytes", i, c, len(c.Original), w, len(files[i]))
		}
	}
	// The file's name is recorded as countersign submit records it.
	if got := calls[0].Metadata["filename"]; got != "scan.txt" {
		t.Errorf("first submission's filename metadata %q, want scan.txt", got)
	}
}
