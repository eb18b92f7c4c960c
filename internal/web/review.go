package web

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/dispatch"
	"github.com/countersign/countersign/internal/fieldview"
	"github.com/countersign/countersign/internal/rest"
	"github.com/countersign/countersign/internal/schema"
)

// reviewView is the review page's data.
type reviewView struct {
	Review *countersign.Review
	// Why is the review's reasons in plain words (fieldview.Explain).
	Why      []fieldview.Reason
	Doc      *countersign.Document
	TaskType *countersign.TaskType
	Fields   []fieldView
	Text     []segment
	// Tree is the document laid out as a tree, for a task type whose
	// input is JSON (an alert); nil otherwise.
	Tree *jsonNode
	// Pages is the document's original page by page with the evidence
	// boxed, for a PDF; nil otherwise.
	Pages *pagesView
	// Holder is who holds a live claim on the review ("" for nobody),
	// Mine whether it is the viewer; the page renews the viewer's claim
	// every RenewEvery seconds while it is open. CanClaim is whether the
	// page takes claims at all, CanRelease whether the viewer may release
	// the holder's claim.
	Holder     string
	Mine       bool
	CanClaim   bool
	CanRelease bool
	RenewEvery int
	// CanDecide is whether this person may decide; Open whether the review
	// still waits for a decision.
	CanDecide bool
	Open      bool
	Audit     bool
	// Key is the form's idempotency key: sending the same form twice
	// (a double click, a retry after a lost answer) decides once.
	Key string
	// CanEscalate is whether the page offers escalating the alert to an
	// incident; Escalated says how the last escalation went, and
	// EscalationReason keeps what was typed when one was refused.
	CanEscalate      bool
	Escalated        string
	EscalationReason string
	// After a refused decision: what was wrong, the action tried, the
	// reason given, and the fields the schema check named.
	Message string
	Action  string
	Reason  string
	Errors  []schema.FieldError
}

func (h *handler) review(w http.ResponseWriter, r *http.Request, sess *session) {
	v, err := h.loadReview(r, sess, r.PathValue("id"))
	if err != nil {
		h.fail(w, r, sess, err)
		return
	}
	h.showReview(w, r, sess, http.StatusOK, v)
}

func (h *handler) showReview(w http.ResponseWriter, r *http.Request, sess *session, status int, v *reviewView) {
	title := "Review " + v.Review.ID
	h.render(w, r, status, "review", "", view{Title: title, Nav: "queue", Session: sess, Data: v})
}

// loadReview reads a review, its document and its task type version, and
// lays out the fields and the highlighted text.
func (h *handler) loadReview(r *http.Request, sess *session, id string) (*reviewView, error) {
	rv, err := h.Store.GetReview(r.Context(), id)
	if err != nil {
		if errors.Is(err, countersign.ErrNotFound) {
			return nil, countersign.Errorf(countersign.CodeNotFound, "There is no review %s.", id)
		}
		return nil, err
	}
	doc, err := h.Store.GetDocument(r.Context(), rv.DocumentID)
	if err != nil {
		return nil, err
	}
	tt, err := h.resolver.Version(r.Context(), doc.TaskTypeVersion)
	if err != nil {
		return nil, fmt.Errorf("task type of document %s: %w", doc.ID, err)
	}
	if err := h.mayReview(sess, doc.TaskType); err != nil {
		return nil, err
	}
	v := &reviewView{
		Review:    rv,
		Doc:       doc,
		TaskType:  tt,
		CanDecide: sess.Role.CanDecide(),
		Open:      rv.Status == countersign.ReviewPending,
		Audit:     rv.Kind == countersign.ReviewAudit,
		Key:       newKey(),
	}
	v.Fields, v.Text, v.Tree = fieldViews(tt, doc)
	if v.Pages, err = h.pagesOf(r.Context(), doc, v.Fields); err != nil {
		return nil, err
	}
	v.Why = fieldview.Explain(rv.Reasons, tt, h.taskType(doc.TaskType))
	v.Holder = rv.Holder(h.Now())
	v.Mine = v.Holder != "" && v.Holder == sess.User
	v.CanClaim = h.Claims != nil && v.CanDecide && v.Open
	v.CanRelease = v.CanClaim && v.Holder != "" && (v.Mine || sess.Role.CanSupervise())
	v.RenewEvery = int(h.claimLease().Seconds() / 3)
	v.CanEscalate = h.Escalations != nil && v.CanDecide && tt.Verdict != nil
	return v, nil
}

func (h *handler) claimLease() time.Duration {
	if h.ClaimLease > 0 {
		return h.ClaimLease
	}
	return countersign.DefaultClaimLease
}

// claim claims the review for the person, or renews their claim: the
// claim button, and the page's renewal while it is open (renew=1, which
// renews a claim they still hold and takes none, answering 204, or the
// refusal as text).
func (h *handler) claim(w http.ResponseWriter, r *http.Request, sess *session) {
	id := r.PathValue("id")
	if h.Claims == nil {
		h.fail(w, r, sess, countersign.Errorf(countersign.CodeUnavailable, "Claims are not served here."))
		return
	}
	if r.URL.Query().Get("renew") == "1" {
		// Renew only: a claim released or lapsed meanwhile is not taken
		// back by a page left open.
		_, err := h.Claims.Renew(r.Context(), id, sess.Principal)
		if err != nil {
			http.Error(w, err.Error(), rest.Status(countersign.ErrorCode(err)))
			return
		}
		w.WriteHeader(http.StatusNoContent)
		return
	}
	_, err := h.Claims.Claim(r.Context(), id, sess.Principal, countersign.ChannelWeb)
	h.afterClaim(w, r, sess, id, err)
}

// release releases the claim on the review: the viewer's own, or, for an
// approver, the holder's.
func (h *handler) release(w http.ResponseWriter, r *http.Request, sess *session) {
	id := r.PathValue("id")
	if h.Claims == nil {
		h.fail(w, r, sess, countersign.Errorf(countersign.CodeUnavailable, "Claims are not served here."))
		return
	}
	_, err := h.Claims.Release(r.Context(), id, sess.Principal, countersign.ChannelWeb)
	h.afterClaim(w, r, sess, id, err)
}

// afterClaim shows the review again after a claim or release: as it is
// now on success, with what was wrong on a refusal.
func (h *handler) afterClaim(w http.ResponseWriter, r *http.Request, sess *session, id string, err error) {
	if err == nil {
		http.Redirect(w, r, "/ui/reviews/"+url.PathEscape(id), http.StatusSeeOther)
		return
	}
	code := countersign.ErrorCode(err)
	if code != countersign.CodeConflict && code != countersign.CodeForbidden {
		h.fail(w, r, sess, err)
		return
	}
	v, lerr := h.loadReview(r, sess, id)
	if lerr != nil {
		h.fail(w, r, sess, lerr)
		return
	}
	v.Message = err.Error()
	h.showReview(w, r, sess, rest.Status(code), v)
}

// next claims the best review for the person, of the task types they may
// review (of the queue's task type, when one is chosen), and opens it; with
// none left, the queue says so.
func (h *handler) next(w http.ResponseWriter, r *http.Request, sess *session) {
	if h.Claims == nil {
		h.fail(w, r, sess, countersign.Errorf(countersign.CodeUnavailable, "Claims are not served here."))
		return
	}
	f := countersign.ReviewFilter{}
	f.TaskTypes, _ = h.reviewable(sess)
	queue := "/ui/queue?none=1"
	if t := r.PostFormValue("task_type"); t != "" {
		f.TaskType = t
		queue += "&task_type=" + url.QueryEscape(t)
	}
	if len(f.TaskTypes) == 0 {
		h.fail(w, r, sess, countersign.Errorf(countersign.CodeForbidden, "No task type is open to your review groups, so there is no review for you to take."))
		return
	}
	rv, err := h.Claims.Next(r.Context(), sess.Principal, countersign.ChannelWeb, f)
	if err != nil {
		h.fail(w, r, sess, err)
		return
	}
	if rv == nil {
		http.Redirect(w, r, queue, http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/ui/reviews/"+url.PathEscape(rv.ID), http.StatusSeeOther)
}

func newKey() string {
	raw := make([]byte, 16)
	_, _ = rand.Read(raw)
	return hex.EncodeToString(raw)
}

// decide reads a decision form, checks a correction against the task
// type's schema, and sends the decision through the same update as the
// REST API. A refusal shows the review again with what was wrong and what
// the person entered; a review someone else closed meanwhile says so.
func (h *handler) decide(w http.ResponseWriter, r *http.Request, sess *session) {
	v, err := h.loadReview(r, sess, r.PathValue("id"))
	if err != nil {
		h.fail(w, r, sess, err)
		return
	}
	if !v.Open {
		h.closedMeanwhile(w, r, sess, v.Review)
		return
	}
	if key := r.PostFormValue("key"); len(key) <= 64 && key != "" {
		v.Key = key
	}
	v.Action = r.PostFormValue("action")
	v.Reason = strings.TrimSpace(r.PostFormValue("reason"))
	req := dispatch.Decision{Action: countersign.Action(v.Action)}
	switch req.Action {
	case countersign.ActionApprove:
	case countersign.ActionReject:
		if v.Reason == "" {
			v.Message = "A rejection needs a reason: say what is wrong with the document."
			h.showReview(w, r, sess, http.StatusUnprocessableEntity, v)
			return
		}
		req.Reason = v.Reason
	case countersign.ActionCorrect:
		patch, ok := h.checkCorrection(r, v)
		if !ok {
			h.showReview(w, r, sess, http.StatusUnprocessableEntity, v)
			return
		}
		req.Fields = patch
	default:
		v.Message = fmt.Sprintf("Unknown action %q: approve, correct or reject.", v.Action)
		h.showReview(w, r, sess, http.StatusUnprocessableEntity, v)
		return
	}
	resp, err := h.Decider.Decide(r.Context(), v.Review.ID, sess.Principal, countersign.ChannelWeb, req, v.Key)
	if err != nil {
		switch countersign.ErrorCode(err) {
		case countersign.CodeConflict:
			if closed, gerr := h.Store.GetReview(r.Context(), v.Review.ID); gerr == nil && closed.Status == countersign.ReviewClosed {
				h.closedMeanwhile(w, r, sess, closed)
				return
			}
			v.Message = err.Error()
			h.showReview(w, r, sess, http.StatusConflict, v)
		case countersign.CodeInvalid:
			v.Message = "The decision was refused: " + err.Error()
			h.showReview(w, r, sess, http.StatusUnprocessableEntity, v)
		default:
			h.fail(w, r, sess, err)
		}
		return
	}
	target := "/ui/documents/" + url.PathEscape(resp.DocumentID) + "?decided=" + url.QueryEscape(string(resp.Decision.Action))
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// checkCorrection reads the corrected fields and checks the draft with them
// against the task type's schema, as the workflow's validator will. When
// something is wrong it fills the view's messages and reports false.
func (h *handler) checkCorrection(r *http.Request, v *reviewView) (countersign.Fields, bool) {
	patch, problems := readCorrection(r.PostForm, v.Fields)
	var errs []schema.FieldError
	for _, f := range v.Fields {
		if p, ok := problems[f.Name]; ok {
			errs = append(errs, schema.FieldError{Field: f.Name, Message: p})
		}
	}
	if len(errs) == 0 && len(patch) == 0 {
		v.Message = "Nothing was changed. Change the fields that are wrong, or approve the draft as it is."
		return nil, false
	}
	if len(errs) == 0 {
		compiled, err := h.schemas.get(v.TaskType)
		if err != nil {
			v.Message = err.Error()
			return nil, false
		}
		var draft countersign.Fields
		if !v.Doc.Draft.Failed() {
			draft = v.Doc.Draft.Fields
		}
		var found schema.Errors
		if err := compiled.Validate(countersign.Correct(draft, patch)); errors.As(err, &found) {
			errs = found
		} else if err != nil {
			v.Message = err.Error()
			return nil, false
		}
	}
	if len(errs) == 0 {
		return patch, true
	}
	v.Errors = errs
	v.Message = "The corrected fields do not fit the task type; nothing was sent. Fix the fields marked below."
	for i := range v.Fields {
		for _, e := range errs {
			if e.Field == v.Fields[i].Name {
				v.Fields[i].Error = strings.TrimSpace(v.Fields[i].Error + " " + e.Message)
			}
		}
	}
	return nil, false
}

// closedMeanwhile says plainly that a review was closed before this
// person's decision reached it, by whom and how.
func (h *handler) closedMeanwhile(w http.ResponseWriter, r *http.Request, sess *session, rv *countersign.Review) {
	by := rv.ClosedBy
	if by == "" {
		by = "someone else"
	}
	when := ""
	if rv.ClosedAt != nil {
		when = " at " + rv.ClosedAt.UTC().Format("2006-01-02 15:04 UTC")
	}
	outcome := string(rv.Outcome)
	if outcome == "" {
		outcome = "closed it"
	}
	message := fmt.Sprintf("This review was closed before your decision reached it: %s decided %s%s. Your decision was not recorded; nothing you entered was applied.", by, outcome, when)
	ev := errorView{Status: http.StatusConflict, Heading: "Already decided", Message: message,
		Back: "/ui/documents/" + url.PathEscape(rv.DocumentID), BackText: "See the document and its decision"}
	h.render(w, r, http.StatusConflict, "error", "", view{Title: ev.Heading, Nav: "queue", Session: sess, Data: ev})
}

// mayReview refuses a reviewer outside the review groups of a task type,
// as the API does: by the task type as configured now (access follows
// today's rules), and a task type no longer configured names no groups.
func (h *handler) mayReview(sess *session, taskType string) error {
	tt, err := h.TaskTypes.Get(taskType)
	if err != nil || sess.MayReview(tt) {
		return nil
	}
	return countersign.Errorf(countersign.CodeForbidden, "%s (role %s) may not see documents of %s: they are reviewed by the groups %s.",
		sess.User, sess.Role, tt.Name, strings.Join(tt.ReviewGroups, ", "))
}

// escalate raises the review's document (an alert) to an incident, as POST
// /v1/documents/{id}/escalate does, and shows the review again with how
// it went. The form's key makes a second click or a reload record and send
// the first escalation again rather than another.
func (h *handler) escalate(w http.ResponseWriter, r *http.Request, sess *session) {
	v, err := h.loadReview(r, sess, r.PathValue("id"))
	if err != nil {
		h.fail(w, r, sess, err)
		return
	}
	if !v.CanEscalate {
		h.fail(w, r, sess, countersign.Errorf(countersign.CodeForbidden, "Documents of %s are not escalated from this page: only alerts (task types with a verdict) are.", v.TaskType.Name))
		return
	}
	key := r.PostFormValue("key")
	if len(key) > 64 {
		key = ""
	}
	v.EscalationReason = strings.TrimSpace(r.PostFormValue("escalation_reason"))
	e := dispatch.Escalation{Reason: v.EscalationReason}
	if sev := strings.TrimSpace(r.PostFormValue("escalation_severity")); sev != "" {
		n, err := strconv.Atoi(sev)
		if err != nil || n < 1 {
			v.Message = fmt.Sprintf("The escalation's severity must be a whole number of 1 or more, or left empty, not %q.", sev)
			h.showReview(w, r, sess, http.StatusUnprocessableEntity, v)
			return
		}
		e.Severity = n
	}
	if e.Reason == "" {
		v.Message = "An escalation needs a reason: say why this alert is an incident."
		h.showReview(w, r, sess, http.StatusUnprocessableEntity, v)
		return
	}
	out, err := h.Escalations.Escalate(r.Context(), v.Doc.ID, sess.Principal, countersign.ChannelWeb, e, key)
	if err != nil {
		if code := countersign.ErrorCode(err); code == countersign.CodeInvalid || code == countersign.CodeForbidden {
			v.Message = "The escalation was refused: " + err.Error()
			h.showReview(w, r, sess, rest.Status(code), v)
			return
		}
		h.fail(w, r, sess, err)
		return
	}
	v.EscalationReason = ""
	switch inc := out.Incident; {
	case !inc.Configured:
		v.Escalated = "Escalated: recorded in the document's trail. No incident target is configured (--webhook-url), so nothing was sent."
	case inc.Delivered:
		v.Escalated = "Escalated: recorded in the document's trail and sent to the incident target."
	default:
		v.Escalated = "Escalated and recorded, but the incident target did not take it (" + inc.Error + "). Send it again with the same form: it is sent again as the same escalation."
		v.Key = key
	}
	h.showReview(w, r, sess, http.StatusOK, v)
}
