package web

import (
	"context"
	"crypto/hmac"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path"
	"strings"
	"unicode/utf8"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/dispatch"
	"github.com/countersign/countersign/internal/ocr"
	"github.com/countersign/countersign/internal/pdfium"
	"github.com/countersign/countersign/internal/rest"
)

// Submitter takes in a document: dispatch.Dispatcher.Submit is the real
// one, the REST API's own intake (POST /v1/documents).
type Submitter interface {
	Submit(ctx context.Context, sub dispatch.Submission) (*countersign.Document, bool, error)
}

// DefaultMaxUploadBytes bounds an uploaded file when Services.MaxUploadBytes
// is zero: the default limit of PDFs and images (pdf-max-bytes, ocr-max-bytes).
const DefaultMaxUploadBytes = 20 << 20

// uploadSlack is what the submit form's body may hold beside its file.
const uploadSlack = 1 << 20

// uploadField is the file input of the submit form.
const uploadField = "file"

// submitView is the submit page's data.
type submitView struct {
	CSRF       string
	TaskTypes  []string
	TaskType   string
	ExternalID string
	// Message says why the last upload was refused; Submitted names the
	// document it made, for those who may not open the document page.
	Message   string
	Submitted *countersign.Document
	MaxBytes  int64
}

func (h *handler) submitForm(w http.ResponseWriter, r *http.Request, sess *session) {
	h.showSubmit(w, r, sess, http.StatusOK, submitView{TaskType: r.URL.Query().Get("task_type")})
}

func (h *handler) showSubmit(w http.ResponseWriter, r *http.Request, sess *session, status int, v submitView) {
	v.CSRF = sess.CSRF
	v.TaskTypes = h.TaskTypes.Names()
	v.MaxBytes = h.maxUpload()
	h.render(w, r, status, "submit", "", view{Title: "Submit a document", Nav: "submit", Session: sess, Data: v})
}

// maxUpload is the largest file the form takes.
func (h *handler) maxUpload() int64 {
	if h.MaxUploadBytes > 0 {
		return h.MaxUploadBytes
	}
	return DefaultMaxUploadBytes
}

// submit takes the upload form (multipart/form-data): a task type, a file
// and an optional external ID. The file's type is told by its content, not
// its name or the browser's word: a PDF, a PNG, JPEG or TIFF image, or
// UTF-8 text. It goes to the same intake as POST /v1/documents, as the
// signed-in person. A refusal shows the form again with the reason.
func (h *handler) submit(w http.ResponseWriter, r *http.Request) {
	sess, err := h.authenticate(r)
	if err != nil {
		h.signIn(w, r, err)
		return
	}
	// The role is the session's: someone who may not submit is refused
	// before the upload is read.
	if !may(sess.Role, submitRoles) {
		h.fail(w, r, sess, countersign.Errorf(countersign.CodeForbidden, "%s (role %s) may not submit documents: the %s role is needed.", sess.User, sess.Role, countersign.RoleList(append(submitRoles[:len(submitRoles):len(submitRoles)], countersign.RoleAdmin))))
		return
	}
	limit := h.maxUpload()
	// The form's other fields and the multipart framing fit in the slack;
	// a file just over the limit is still read, to be refused by name.
	r.Body = http.MaxBytesReader(w, r.Body, limit+uploadSlack)
	if err := r.ParseMultipartForm(8 << 20); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			// A body cut short keeps its fields unread: the form comes
			// back empty, with the reason. Nothing is changed, so no
			// CSRF token is needed for that.
			h.showSubmit(w, r, sess, http.StatusRequestEntityTooLarge, submitView{
				Message: fmt.Sprintf("the upload is larger than %d bytes, the largest file this server takes (pdf-max-bytes, ocr-max-bytes)", limit)})
			return
		}
		h.fail(w, r, sess, countersign.Errorf(countersign.CodeBadRequest, "The upload could not be read as a form with a file (multipart/form-data): %v.", err))
		return
	}
	defer r.MultipartForm.RemoveAll()
	if !hmac.Equal([]byte(r.PostFormValue(csrfField)), []byte(sess.CSRF)) {
		h.fail(w, r, sess, countersign.Errorf(countersign.CodeForbidden, "The form was refused: it did not carry this session's security token (CSRF). Reload the page and try again."))
		return
	}
	v := submitView{TaskType: r.PostFormValue("task_type"), ExternalID: r.PostFormValue("external_id")}
	refuse := func(err error) {
		code := countersign.ErrorCode(err)
		if code == countersign.CodeInternal || code == countersign.CodeUnavailable {
			h.fail(w, r, sess, err)
			return
		}
		v.Message = err.Error()
		h.showSubmit(w, r, sess, rest.Status(code), v)
	}
	data, name, err := readUpload(r, limit)
	if err != nil {
		refuse(err)
		return
	}
	sub := dispatch.Submission{TaskType: v.TaskType, ExternalID: v.ExternalID, SubmittedBy: sess.User, Channel: countersign.ChannelWeb}
	if name != "" {
		// As countersign submit records it: the queue names the document
		// by it.
		sub.Metadata = map[string]string{"filename": name}
	}
	switch {
	case pdfium.IsPDF(data):
		sub.Original, sub.ContentType = data, countersign.ContentTypePDF
	case ocr.Sniff(data) != "":
		sub.Original, sub.ContentType = data, ocr.Sniff(data)
	case utf8.Valid(data):
		sub.Content = string(data)
	default:
		refuse(countersign.Errorf(countersign.CodeInvalid, "the file is not a PDF, a PNG, JPEG or TIFF image, or UTF-8 text"))
		return
	}
	doc, _, err := h.Submitter.Submit(r.Context(), sub)
	if err != nil {
		refuse(err)
		return
	}
	if may(sess.Role, trailRoles) {
		http.Redirect(w, r, "/ui/documents/"+doc.ID, http.StatusSeeOther)
		return
	}
	// A submitter may not read the document page: the form says what was
	// made, ready for the next file of the same task type.
	h.showSubmit(w, r, sess, http.StatusOK, submitView{TaskType: v.TaskType, Submitted: doc})
}

// readUpload reads the form's file and its base name, refusing one larger
// than limit or empty.
func readUpload(r *http.Request, limit int64) ([]byte, string, error) {
	f, hdr, err := r.FormFile(uploadField)
	if err != nil {
		return nil, "", countersign.Errorf(countersign.CodeInvalid, "no file was chosen: choose a PDF, an image (PNG, JPEG, TIFF) or a text file")
	}
	defer f.Close()
	if hdr.Size > limit {
		return nil, "", countersign.Errorf(countersign.CodeTooLarge, "the file %s is %d bytes; the limit is %d", hdr.Filename, hdr.Size, limit)
	}
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, "", fmt.Errorf("reading the uploaded file: %w", err)
	}
	if len(data) == 0 {
		return nil, "", countersign.Errorf(countersign.CodeInvalid, "the file %s is empty", hdr.Filename)
	}
	name := path.Base(strings.ReplaceAll(hdr.Filename, "\\", "/"))
	if name == "." || name == "/" || !utf8.ValidString(name) || strings.ContainsRune(name, 0) || len(name) > 255 {
		name = ""
	}
	return data, name, nil
}
