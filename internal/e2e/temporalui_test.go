package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/api"
	"github.com/countersign/countersign/internal/app"
	"github.com/countersign/countersign/internal/codec"
	"github.com/countersign/countersign/workflows"
)

// TestTemporalUISetUp follows docs/operations.md's "The Temporal web UI"
// with the built binary, as far as these machines allow (no UI program
// runs here): the dev stack with an encryption keyring; the frontend at the
// banner's address answers a Temporal client, as Temporal's UI server would
// be pointed at it; `countersign codec-server --ui-origin
// http://localhost:8233` answers the browser's CORS preflight from that
// origin and decodes, for an auditor's token, a payload of a review's
// history that Temporal holds encrypted, as the UI's Data Encoder asks it
// to; a submitter's token is refused.
func TestTemporalUISetUp(t *testing.T) {
	bin := binary(t)
	dataDir := t.TempDir()
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	ring := filepath.Join(t.TempDir(), "keyring")
	if err := os.WriteFile(ring, []byte("k1:"+base64.StdEncoding.EncodeToString(key)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	dev := startDev(t, bin, dataDir, "--encryption-key-file", ring)
	if banner := dev.output.String(); !strings.Contains(banner, "Temporal UI not bundled: point yours at ") {
		t.Fatalf("banner:\n%s", banner)
	}
	raw, err := os.ReadFile(filepath.Join(dataDir, app.DevFile))
	if err != nil {
		t.Fatal(err)
	}
	var info app.DevInfo
	if err := json.Unmarshal(raw, &info); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	sub, err := dev.api.Submit(ctx, api.SubmitRequest{TaskType: "contract-review", Content: sample(t, "contract-review", "msa-northwind-harbor.txt")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dev.api.WaitUntil(ctx, sub.ID, 100*time.Millisecond, func(s countersign.Status) bool { return s != countersign.StatusProcessing }); err != nil {
		t.Fatal(err)
	}

	// Temporal's UI server is pointed at the banner's address (TEMPORAL_ADDRESS).
	tc, err := client.Dial(client.Options{HostPort: info.Temporal, Namespace: "default"})
	if err != nil {
		t.Fatalf("a Temporal client at the banner's address %s: %v", info.Temporal, err)
	}
	defer tc.Close()
	var encoded map[string]any
	var encoding string
	iter := tc.GetWorkflowHistory(ctx, workflows.ReviewWorkflowID(sub.ID), "", false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for iter.HasNext() && encoded == nil {
		e, err := iter.Next()
		if err != nil {
			t.Fatal(err)
		}
		if a := e.GetWorkflowExecutionStartedEventAttributes(); a != nil {
			p := a.GetInput().GetPayloads()[0]
			encoding = string(p.GetMetadata()["encoding"])
			if bytes.Contains(p.GetData(), []byte(sub.ID)) {
				t.Fatal("the history holds the review's input in clear")
			}
			encoded = map[string]any{"metadata": map[string]string{}, "data": base64.StdEncoding.EncodeToString(p.GetData())}
			for k, v := range p.GetMetadata() {
				encoded["metadata"].(map[string]string)[k] = base64.StdEncoding.EncodeToString(v)
			}
		}
	}
	if encoded == nil {
		t.Fatal("no start event in the review's history")
	}
	if encoding != codec.Encoding {
		t.Fatalf("the review's input is encoded %q in history, want %q (encrypted)", encoding, codec.Encoding)
	}

	// The codec server, as the docs run it.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	out := &syncBuffer{}
	cmd := exec.Command(bin, "codec-server", "--ui-origin", "http://localhost:8233", "--codec-http", addr, "--data-dir", dataDir, "--encryption-key-file", ring)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	auditor, err := dev.api.CreateToken(ctx, "otto", countersign.RoleAuditor, 0)
	if err != nil {
		t.Fatal(err)
	}
	submitter, err := dev.api.CreateToken(ctx, "sam", countersign.RoleSubmitter, 0)
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + addr
	waitUntil(t, "the codec server", func() (bool, string) {
		resp, err := http.Get(base + "/")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil, fmt.Sprint(err, out.String())
	})

	preflight, _ := http.NewRequest(http.MethodOptions, base+"/decode", nil)
	preflight.Header.Set("Origin", "http://localhost:8233")
	preflight.Header.Set("Access-Control-Request-Method", "POST")
	preflight.Header.Set("Access-Control-Request-Headers", "authorization,content-type,x-namespace")
	resp, err := http.DefaultClient.Do(preflight)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Header.Get("Access-Control-Allow-Origin") != "http://localhost:8233" || resp.Header.Get("Access-Control-Allow-Credentials") != "true" {
		t.Fatalf("preflight from the UI's origin: %d %v", resp.StatusCode, resp.Header)
	}

	decode := func(token string) (int, string) {
		body, _ := json.Marshal(map[string]any{"payloads": []any{encoded}})
		req, _ := http.NewRequest(http.MethodPost, base+"/decode", bytes.NewReader(body))
		req.Header.Set("Origin", "http://localhost:8233")
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Namespace", "default")
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(raw)
	}
	status, body := decode(auditor.Secret)
	var decoded struct {
		Payloads []struct {
			Data string `json:"data"`
		} `json:"payloads"`
	}
	if status != http.StatusOK || json.Unmarshal([]byte(body), &decoded) != nil || len(decoded.Payloads) != 1 {
		t.Fatalf("decode as an auditor: %d %s", status, body)
	}
	plain, err := base64.StdEncoding.DecodeString(decoded.Payloads[0].Data)
	if err != nil || !strings.Contains(string(plain), sub.ID) {
		t.Fatalf("the decoded input does not name the document %s: %s (%v)", sub.ID, plain, err)
	}
	if status, body := decode(submitter.Secret); status != http.StatusForbidden {
		t.Fatalf("decode as a submitter: %d %s, want 403", status, body)
	}
}
