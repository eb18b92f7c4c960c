package codec

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/auth"
)

const uiOrigin = "https://temporal-ui.example.com"

// tokenStore is a fake countersign.TokenStore that only looks tokens up,
// which is all the codec server does; its other methods are not there.
type tokenStore struct {
	countersign.TokenStore
	byHash map[string]*countersign.Token
}

func (s tokenStore) TokenByHash(_ context.Context, hash string) (*countersign.Token, error) {
	if t, ok := s.byHash[hash]; ok {
		return t, nil
	}
	return nil, countersign.ErrNotFound
}

// codecServer serves the codec server with one token per role.
func codecServer(t *testing.T) (*httptest.Server, *Codec, map[countersign.Role]string) {
	t.Helper()
	store := tokenStore{byHash: map[string]*countersign.Token{}}
	tokens := map[countersign.Role]string{}
	for _, role := range countersign.Roles {
		secret, token, err := auth.NewToken("user-"+string(role), role, time.Hour, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		store.byHash[token.Hash] = token
		tokens[role] = secret
	}
	expired, token, err := auth.NewToken("gone", countersign.RoleAdmin, time.Hour, time.Now().Add(-2*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	store.byHash[token.Hash] = token
	tokens["expired"] = expired
	c := New(mustKeyring(t, newKey(t, "k1")))
	srv := httptest.NewServer(Handler(Server{Codec: c, Tokens: store, Origins: []string{uiOrigin}, Logger: discard()}))
	t.Cleanup(srv.Close)
	return srv, c, tokens
}

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }

// remote is the SDK's own client of the remote codec protocol, as the
// Temporal CLI uses it, with a token.
func remote(url, token string) converter.PayloadCodec {
	return converter.NewRemotePayloadCodec(converter.RemotePayloadCodecOptions{
		Endpoint: url,
		ModifyRequest: func(r *http.Request) error {
			if token != "" {
				r.Header.Set("Authorization", "Bearer "+token)
			}
			return nil
		},
	})
}

func TestCodecServerDecodesForReaders(t *testing.T) {
	srv, c, tokens := codecServer(t)
	encoded, err := c.Encode(payloads(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, role := range Decoders {
		decoded, err := remote(srv.URL, tokens[role]).Decode(encoded)
		if err != nil {
			t.Fatalf("%s decodes: %v", role, err)
		}
		if !strings.Contains(string(decoded[0].Data), "Northwind") {
			t.Fatalf("%s decoded %q", role, decoded[0].Data)
		}
	}

	// An admin may encode, and what the server encodes the codec decodes.
	plain := payloads(t)
	encoded, err = remote(srv.URL, tokens[countersign.RoleAdmin]).Encode(plain)
	if err != nil {
		t.Fatal(err)
	}
	if decoded, err := c.Decode(encoded); err != nil || !decoded[0].Equal(plain[0]) {
		t.Fatalf("decoding what the server encoded: %v, %v", decoded, err)
	}
}

func TestCodecServerRefusesOthers(t *testing.T) {
	srv, c, tokens := codecServer(t)
	encoded, err := c.Encode(payloads(t))
	if err != nil {
		t.Fatal(err)
	}
	body, err := json.Marshal(commonpb.Payloads{Payloads: encoded})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, path, token string
		want              int
	}{
		{"no token", "/decode", "", http.StatusUnauthorized},
		{"unknown token", "/decode", auth.Prefix + "nope", http.StatusUnauthorized},
		{"expired token", "/decode", tokens["expired"], http.StatusUnauthorized},
		{"submitter", "/decode", tokens[countersign.RoleSubmitter], http.StatusForbidden},
		{"reviewer", "/decode", tokens[countersign.RoleReviewer], http.StatusForbidden},
		{"auditor encodes", "/encode", tokens[countersign.RoleAuditor], http.StatusForbidden},
		{"approver encodes", "/encode", tokens[countersign.RoleApprover], http.StatusForbidden},
		{"GET", "/decode", tokens[countersign.RoleAdmin], http.StatusNotFound},
	}
	for _, tc := range cases {
		method := http.MethodPost
		if tc.name == "GET" {
			method = http.MethodGet
		}
		req, _ := http.NewRequest(method, srv.URL+tc.path, strings.NewReader(string(body)))
		if tc.token != "" {
			req.Header.Set("Authorization", "Bearer "+tc.token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		answer, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("%s: %d %s, want %d", tc.name, resp.StatusCode, answer, tc.want)
		}
		if strings.Contains(string(answer), "Northwind") {
			t.Errorf("%s: the refusal shows the plaintext", tc.name)
		}
	}

	// Through the SDK's client, the refusal is an error that says why.
	if _, err := remote(srv.URL, tokens[countersign.RoleSubmitter]).Decode(encoded); err == nil || !strings.Contains(err.Error(), "Forbidden") {
		t.Fatalf("submitter through the SDK client: %v, want Forbidden", err)
	}
}

func TestCodecServerCORS(t *testing.T) {
	srv, c, tokens := codecServer(t)
	preflight := func(origin string) *http.Response {
		req, _ := http.NewRequest(http.MethodOptions, srv.URL+"/decode", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "authorization,content-type,x-namespace")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	resp := preflight(uiOrigin)
	if resp.StatusCode != http.StatusNoContent ||
		resp.Header.Get("Access-Control-Allow-Origin") != uiOrigin ||
		resp.Header.Get("Access-Control-Allow-Credentials") != "true" ||
		!strings.Contains(resp.Header.Get("Access-Control-Allow-Methods"), "POST") ||
		!strings.Contains(resp.Header.Get("Access-Control-Allow-Headers"), "Authorization") ||
		!strings.Contains(resp.Header.Get("Access-Control-Allow-Headers"), "X-Namespace") {
		t.Fatalf("preflight from the UI: %d %v", resp.StatusCode, resp.Header)
	}
	resp = preflight("https://evil.example.com")
	if resp.StatusCode != http.StatusForbidden || resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("preflight from another origin: %d %v", resp.StatusCode, resp.Header)
	}

	// The real request from the UI carries the CORS headers too.
	encoded, err := c.Encode(payloads(t))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(commonpb.Payloads{Payloads: encoded})
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/decode", strings.NewReader(string(body)))
	req.Header.Set("Origin", uiOrigin)
	req.Header.Set("Authorization", "Bearer "+tokens[countersign.RoleAuditor])
	req.Header.Set("X-Namespace", "default")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	answer, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Access-Control-Allow-Origin") != uiOrigin || !strings.Contains(string(answer), `"payloads"`) {
		t.Fatalf("decode from the UI: %d %v %s", resp.StatusCode, resp.Header, answer)
	}
}
