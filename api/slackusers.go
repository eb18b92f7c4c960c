package api

import (
	"net/http"
	"strings"
	"time"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/audit"
	"github.com/countersign/countersign/internal/auth"
	"github.com/countersign/countersign/internal/rest"
	"github.com/countersign/countersign/internal/slacklink"
)

// linkSlackUser links a Slack account to a countersign user, or changes
// the rights of a linked one: 201 and an audit event when something
// changed, 200 with the link as it was when the same link is made again.
func (h *handlers) linkSlackUser(w http.ResponseWriter, r *http.Request) {
	var req SlackUserRequest
	if err := h.decodeBody(w, r, &req); err != nil {
		h.fail(w, r, err)
		return
	}
	req.User = strings.TrimSpace(req.User)
	switch err := countersign.CheckSlackUserID(req.SlackUserID); {
	case err != nil:
		h.fail(w, r, err)
		return
	case req.User == "":
		h.fail(w, r, countersign.Errorf(countersign.CodeInvalid, "a Slack link needs the countersign user it acts as"))
		return
	case !req.Role.Valid():
		h.fail(w, r, countersign.Errorf(countersign.CodeInvalid, "unknown role %q", req.Role))
		return
	}
	if err := countersign.CheckGroups(req.Groups); err != nil {
		h.fail(w, r, err)
		return
	}
	if err := auth.CheckUser(r.Context(), h.Store, req.User); err != nil {
		h.fail(w, r, err)
		return
	}
	if len(req.Groups) == 0 {
		req.Groups = nil
	}
	link := &countersign.SlackUser{
		SlackUserID: req.SlackUserID, User: req.User, Role: req.Role, Groups: req.Groups,
		LinkedBy: principal(r).User, LinkedAt: audit.Time(h.Now()),
	}
	changed, err := h.Store.LinkSlackUser(r.Context(), link)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if !changed {
		stored, err := h.Store.SlackUser(r.Context(), link.SlackUserID)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		rest.WriteJSON(w, http.StatusOK, stored)
		return
	}
	if err := h.auditSlackUser(r, countersign.EventSlackUserLinked, link, link.LinkedAt); err != nil {
		h.fail(w, r, err)
		return
	}
	rest.WriteJSON(w, http.StatusCreated, link)
}

func (h *handlers) listSlackUsers(w http.ResponseWriter, r *http.Request) {
	users, err := h.Store.SlackUsers(r.Context())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if users == nil {
		users = []countersign.SlackUser{}
	}
	rest.WriteJSON(w, http.StatusOK, SlackUserList{SlackUsers: users})
}

// unlinkSlackUser removes a Slack account's link: from then on it can do
// nothing in countersign. The answer is the link as it was.
func (h *handlers) unlinkSlackUser(w http.ResponseWriter, r *http.Request) {
	removed, err := h.Store.UnlinkSlackUser(r.Context(), r.PathValue("slack_user_id"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if err := h.auditSlackUser(r, countersign.EventSlackUserUnlinked, removed, audit.Time(h.Now())); err != nil {
		h.fail(w, r, err)
		return
	}
	rest.WriteJSON(w, http.StatusOK, removed)
}

// auditSlackUser records who linked or unlinked a Slack account, to what
// user and rights.
func (h *handlers) auditSlackUser(r *http.Request, event string, u *countersign.SlackUser, at time.Time) error {
	return slacklink.RecordLink(r.Context(), h.Store, event, u, principal(r).User, channel(r), at)
}
