package web_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/oidc"
	"github.com/countersign/countersign/internal/oidc/oidctest"
	"github.com/countersign/countersign/internal/tasktype"
	"github.com/countersign/countersign/internal/web"
)

const (
	clientID     = "countersign-web"
	clientSecret = "s3cret"
)

// ssoClock is the clock the ID tokens are checked against.
type ssoClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *ssoClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *ssoClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// newSSOFixture is the fixture with sign-in through an issuer in the test,
// whose client ID differs from the API's audience. Contract reviews are for
// the group "contracts", so that the queue shows whether the ID token's
// groups arrived.
func newSSOFixture(t *testing.T) (*fixture, *oidctest.Issuer, *ssoClock) {
	t.Helper()
	iss := oidctest.New(t)
	key := oidctest.NewKey(t, "k1")
	iss.Publish(key)
	clk := &ssoClock{now: time.Now()}
	api, err := oidc.New(context.Background(), oidc.Config{Issuer: iss.URL, Audience: oidctest.Audience, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	tokens := api.WithAudience(clientID)
	endpoint, err := tokens.Endpoint()
	if err != nil {
		t.Fatal(err)
	}
	sso := &web.OIDC{
		Tokens: tokens,
		Client: &oauth2.Config{ClientID: clientID, ClientSecret: clientSecret, Endpoint: endpoint, Scopes: []string{"openid", "email"}},
		Name:   "login.example",
	}
	f := newFixtureWith(t, sso, func(types *tasktype.Registry) {
		tt, err := types.Get("contract-review")
		if err != nil {
			t.Fatal(err)
		}
		tt.ReviewGroups = []string{"contracts"}
	})
	// The redirect URL is known once the fixture listens, before any
	// request reads it.
	sso.Client.RedirectURL = f.url + "/ui/oidc/callback"
	iss.Register(oidctest.Client{ID: clientID, Secret: clientSecret, RedirectURL: sso.Client.RedirectURL}, key)
	iss.SignInAs(map[string]any{"groups": []string{"contracts"}})
	return f, iss, clk
}

// startOIDC starts a sign-in and lets the issuer sign the person in; it
// returns the sign-in's redirect and the URL the issuer sends the browser
// back to, not yet followed.
func (b *browser) startOIDC(next string) (start answer, back string) {
	t := b.f.t
	t.Helper()
	start = b.get("/ui/oidc/login?next=" + url.QueryEscape(next))
	if start.status != http.StatusFound {
		t.Fatalf("starting the sign-in = %d:\n%s", start.status, start.body)
	}
	resp, err := b.client.Get(start.header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	back = resp.Header.Get("Location")
	if resp.StatusCode != http.StatusFound || !strings.HasPrefix(back, b.f.url+"/ui/oidc/callback?") {
		t.Fatalf("the issuer answered %d to %q, want a redirect to the callback", resp.StatusCode, back)
	}
	return start, strings.TrimPrefix(back, b.f.url)
}

// signInOIDC signs a browser in through the issuer and checks that it is.
func (f *fixture) signInOIDC() *browser {
	f.t.Helper()
	b := f.anonymous()
	_, back := b.startOIDC("")
	if got := b.get(back); got.status != http.StatusOK || cookie(got, "countersign_session") == nil {
		f.t.Fatalf("callback = %d:\n%s", got.status, got.body)
	}
	page := b.get("/ui/queue")
	if page.status != http.StatusOK {
		f.t.Fatalf("queue after signing in = %d", page.status)
	}
	b.csrf = fieldValue(f.t, page.body, "csrf")
	return b
}

func listedReviews(b *browser) string {
	var ids []string
	for _, m := range regexp.MustCompile(`href="/ui/reviews/([a-z])[a-z]*-r1"`).FindAllStringSubmatch(b.get("/ui/queue").body, -1) {
		ids = append(ids, m[1])
	}
	return strings.Join(ids, "")
}

func TestOIDCSignIn(t *testing.T) {
	f, iss, _ := newSSOFixture(t)
	b := f.anonymous()

	login := b.get("/ui/login?next=" + url.QueryEscape("/ui/reviews/"+docA+"-r1"))
	if !strings.Contains(login.body, `href="/ui/oidc/login?next=%2fui%2freviews%2f`+docA+`-r1"`) || !strings.Contains(login.body, "Sign in with login.example") {
		t.Fatalf("the sign-in page lacks the provider's button:\n%s", login.body)
	}

	start, back := b.startOIDC("/ui/reviews/" + docA + "-r1")
	q := iss.LastAuthorization()
	for name, want := range map[string]string{
		"client_id": clientID, "redirect_uri": f.url + "/ui/oidc/callback", "response_type": "code", "code_challenge_method": "S256",
	} {
		if q.Get(name) != want {
			t.Errorf("authorization request %s = %q, want %q", name, q.Get(name), want)
		}
	}
	for _, name := range []string{"state", "nonce", "code_challenge"} {
		if len(q.Get(name)) < 20 {
			t.Errorf("authorization request %s = %q, want a random value", name, q.Get(name))
		}
	}
	if !strings.Contains(" "+q.Get("scope")+" ", " openid ") {
		t.Errorf("scope %q lacks openid", q.Get("scope"))
	}
	if c := cookie(start, "countersign_oidc"); c == nil || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/ui/oidc/" || c.MaxAge <= 0 || c.MaxAge > 900 {
		t.Fatalf("sign-in cookie = %+v; want HttpOnly, SameSite=Lax, path /ui/oidc/, short-lived", c)
	}
	if strings.Contains(start.header.Get("Location"), "code_verifier") {
		t.Fatal("the PKCE verifier went to the browser's address bar")
	}

	done := b.get(back)
	session := cookie(done, "countersign_session")
	if done.status != http.StatusOK || session == nil || !session.HttpOnly || session.SameSite != http.SameSiteStrictMode || session.Path != "/ui/" {
		t.Fatalf("callback = %d, session cookie %+v; want 200 and an HttpOnly, SameSite=Strict session", done.status, session)
	}
	if iss.Exchanges() != 1 {
		t.Fatalf("%d code exchanges, want 1", iss.Exchanges())
	}
	// The page goes on to where the person was going, by itself.
	if !strings.Contains(done.body, `<meta http-equiv="refresh" content="0; url=/ui/reviews/`+docA+`-r1">`) || !strings.Contains(done.body, "rita@example.com") {
		t.Fatalf("callback page:\n%s", done.body)
	}
	if c := cookie(done, "countersign_oidc"); c == nil || c.MaxAge >= 0 {
		t.Errorf("the sign-in cookie was not removed: %+v", c)
	}

	// Signed in as the token's user, role and groups.
	page := b.get("/ui/queue")
	if page.status != http.StatusOK || !strings.Contains(page.body, "<strong>rita@example.com</strong> <span class=\"tag\">reviewer</span>") {
		t.Fatalf("queue after the sign-in = %d:\n%s", page.status, page.body)
	}
	if got := listedReviews(b); got != "bac" {
		t.Errorf("queue of a member of contracts = %q, want every review", got)
	}
	iss.SignInAs(map[string]any{"email": "cleo@example.com", "groups": []string{"claims"}})
	if got := listedReviews(f.signInOIDC()); got != "c" {
		t.Errorf("queue of someone outside contracts = %q, want only the pii review", got)
	}

	// The callback cannot be used twice.
	if again := b.get(back); again.status != http.StatusBadRequest || cookie(again, "countersign_session") != nil {
		t.Fatalf("the callback again = %d, want 400 and no new session", again.status)
	}
	// The token form still works beside it.
	if got := f.as(countersign.RoleApprover).get("/ui/overview"); got.status != http.StatusOK {
		t.Fatalf("token sign-in with OIDC on: overview = %d", got.status)
	}
}

func TestOIDCRefusals(t *testing.T) {
	f, iss, _ := newSSOFixture(t)

	// Another state than this browser's sign-in started with.
	b := f.anonymous()
	_, back := b.startOIDC("")
	forged := regexp.MustCompile(`state=[^&]+`).ReplaceAllString(back, "state=someone-elses")
	got := b.get(forged)
	if got.status != http.StatusBadRequest || !strings.Contains(got.body, "does not carry the state this browser") || cookie(got, "countersign_session") != nil {
		t.Fatalf("callback with another state = %d:\n%s", got.status, got.body)
	}
	// A callback without any sign-in started.
	if got := f.anonymous().get(back); got.status != http.StatusBadRequest || cookie(got, "countersign_session") != nil {
		t.Fatalf("callback in a browser that started no sign-in = %d", got.status)
	}
	if iss.Exchanges() != 0 {
		t.Fatalf("refused callbacks exchanged %d codes", iss.Exchanges())
	}

	// The token endpoint wants the verifier of the sign-in's challenge.
	b = f.anonymous()
	_, back = b.startOIDC("")
	site, _ := url.Parse(f.url + "/ui/oidc/")
	var fl map[string]string
	for _, c := range b.client.Jar.Cookies(site) {
		if c.Name == "countersign_oidc" {
			raw, _ := base64.RawURLEncoding.DecodeString(c.Value)
			_ = json.Unmarshal(raw, &fl)
		}
	}
	if fl["v"] == "" {
		t.Fatal("no PKCE verifier in the sign-in cookie")
	}
	fl["v"] = oauth2.GenerateVerifier()
	raw, _ := json.Marshal(fl)
	b.client.Jar.SetCookies(site, []*http.Cookie{{Name: "countersign_oidc", Value: base64.RawURLEncoding.EncodeToString(raw), Path: "/ui/oidc/"}})
	if got := b.get(back); got.status != http.StatusBadGateway || cookie(got, "countersign_session") != nil || !strings.Contains(got.body, "exchanging its code failed") {
		t.Fatalf("callback with another PKCE verifier = %d:\n%s", got.status, got.body)
	}

	// A token that maps to no role.
	iss.SignInAs(map[string]any{"roles": []string{"offline_access"}})
	b = f.anonymous()
	_, back = b.startOIDC("")
	got = b.get(back)
	if got.status != http.StatusForbidden || !strings.Contains(got.body, "your account has no countersign role") || cookie(got, "countersign_session") != nil {
		t.Fatalf("callback for an account without a role = %d:\n%s", got.status, got.body)
	}
}

func TestOIDCSessionEnds(t *testing.T) {
	f, _, clk := newSSOFixture(t)

	// Signing out removes the session.
	b := f.signInOIDC()
	out := b.post("/ui/logout", url.Values{"csrf": {b.csrf}})
	if c := cookie(out, "countersign_session"); out.status != http.StatusSeeOther || c == nil || c.MaxAge >= 0 {
		t.Fatalf("sign-out = %d, cookie %+v; want the cookie removed", out.status, c)
	}
	if got := b.get("/ui/queue"); got.status != http.StatusSeeOther || !strings.HasPrefix(got.header.Get("Location"), "/ui/login") {
		t.Fatalf("queue after signing out = %d, want the sign-in page", got.status)
	}

	// When the ID token expires, so does the session.
	b = f.signInOIDC()
	clk.advance(time.Hour + 2*time.Minute)
	got := b.get("/ui/queue")
	if got.status != http.StatusSeeOther || got.header.Get("Location") != "/ui/login?next=%2Fui%2Fqueue" {
		t.Fatalf("queue with an expired session = %d to %q, want the sign-in page", got.status, got.header.Get("Location"))
	}
	if c := cookie(got, "countersign_session"); c == nil || c.MaxAge >= 0 {
		t.Errorf("the expired session's cookie was kept: %+v", c)
	}
}
