package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/countersign/countersign"
)

// TestUserNamesOfTokensAndSlackLinks: POST /v1/tokens and POST
// /v1/slack/users refuse, with 422 naming the problem, a user name that
// cannot be printed, is too long, is one countersign acts as, or differs
// only in case or spaces from a user who has a token or a link; the same
// name again is the same user.
func TestUserNamesOfTokensAndSlackLinks(t *testing.T) {
	s := newServer(t, 0)
	admin := s.tokens[countersign.RoleAdmin]
	if got := s.do("POST", "/v1/tokens", admin, `{"user":"rita","role":"reviewer"}`); got.status != http.StatusCreated {
		t.Fatalf("token for rita: %d %s", got.status, got.message())
	}
	cases := []struct{ path, body, text string }{
		{"/v1/tokens", `{"user":"ri\u0000ta","role":"reviewer"}`, "cannot be printed (U+0000)"},
		{"/v1/tokens", `{"user":"` + strings.Repeat("x", 100000) + `","role":"reviewer"}`, "user name is 100000 characters; the limit is 128"},
		{"/v1/tokens", `{"user":"countersign","role":"admin"}`, `user name "countersign" is reserved`},
		{"/v1/tokens", `{"user":"Rita","role":"reviewer"}`, `user name "Rita" is too like "rita", a user with an API token`},
		{"/v1/tokens", `{"user":" rita","role":"reviewer"}`, "starts or ends with a space"},
		{"/v1/tokens", `{"user":"ri ta","role":"reviewer"}`, `user name "ri ta" is too like "rita"`},
		{"/v1/tokens", `{"user":"USER-ADMIN","role":"admin"}`, `too like "user-admin"`},
		{"/v1/slack/users", `{"slack_user_id":"U024BE7LH","user":"RITA","role":"reviewer"}`, `user name "RITA" is too like "rita", a user with an API token`},
		{"/v1/slack/users", `{"slack_user_id":"U024BE7LH","user":"config:x","role":"reviewer"}`, "reserved"},
	}
	for _, tc := range cases {
		got := s.do("POST", tc.path, admin, tc.body)
		if got.status != http.StatusUnprocessableEntity || !strings.Contains(got.message(), tc.text) {
			t.Errorf("POST %s %.60s: %d %.200q; want 422 saying %q", tc.path, tc.body, got.status, got.message(), tc.text)
		}
	}
	for _, ok := range []struct{ path, body string }{
		{"/v1/tokens", `{"user":"rita","role":"reviewer"}`},
		{"/v1/slack/users", `{"slack_user_id":"U024BE7LH","user":"rita","role":"reviewer"}`},
		{"/v1/slack/users", `{"slack_user_id":"U01SAM","user":"Sam Lee","role":"approver"}`},
	} {
		if got := s.do("POST", ok.path, admin, ok.body); got.status != http.StatusCreated {
			t.Errorf("POST %s %s: %d %s, want 201", ok.path, ok.body, got.status, got.message())
		}
	}
	if got := s.do("POST", "/v1/tokens", admin, `{"user":"samlee","role":"reviewer"}`); got.status != http.StatusUnprocessableEntity ||
		!strings.Contains(got.message(), `"samlee" is too like "Sam Lee", a user with a Slack link`) {
		t.Errorf("token for a variant of a Slack-linked user: %d %s, want 422", got.status, got.message())
	}
}
