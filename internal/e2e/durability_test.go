package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/api"
	"github.com/countersign/countersign/api/apiclient"
	"github.com/countersign/countersign/internal/app"
)

// binEnv names a prebuilt countersign binary; without it the test builds one.
const binEnv = "COUNTERSIGN_BIN"

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// binary returns the countersign binary the durability test runs.
func binary(t *testing.T) string {
	t.Helper()
	if path := os.Getenv(binEnv); path != "" {
		return path
	}
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "countersign-bin")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "countersign")
		out, err := exec.Command("go", "build", "-o", binPath, "../../cmd/countersign").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// devProcess is `countersign dev` running as a separate process.
type devProcess struct {
	cmd    *exec.Cmd
	output *syncBuffer
	api    *apiclient.Client
	// exited closes when the process has exited, with waitErr what
	// cmd.Wait returned: wait for it with wait, never with cmd.Wait.
	exited  chan struct{}
	waitErr error
}

// wait waits for the process to exit and returns what cmd.Wait returned.
func (p *devProcess) wait() error {
	<-p.exited
	return p.waitErr
}

// syncBuffer collects a process's output while the test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startDev starts `countersign dev` on dataDir, with args after its own,
// and waits until it is ready.
func startDev(t *testing.T, bin, dataDir string, args ...string) *devProcess {
	t.Helper()
	os.Remove(filepath.Join(dataDir, app.DevFile))
	out := &syncBuffer{}
	cmd := exec.Command(bin, append([]string{"dev", "--data-dir", dataDir, "--http", "127.0.0.1:0", "--temporal-port", "0", "--log-level", "warn"}, args...)...)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &devProcess{cmd: cmd, output: out, exited: make(chan struct{})}
	go func() { p.waitErr = cmd.Wait(); close(p.exited) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		p.wait()
	})
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		select {
		case <-p.exited:
			t.Fatalf("countersign dev exited before it was ready:\n%s", out)
		default:
		}
		raw, err := os.ReadFile(filepath.Join(dataDir, app.DevFile))
		var info app.DevInfo
		if err == nil && json.Unmarshal(raw, &info) == nil && info.PID == cmd.Process.Pid {
			token, err := os.ReadFile(filepath.Join(dataDir, app.AdminTokenFile))
			if err != nil {
				t.Fatal(err)
			}
			p.api = apiclient.New(info.API, strings.TrimSpace(string(token)))
			if p.ready() {
				return p
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("countersign dev did not become ready:\n%s", out)
	return nil
}

func (p *devProcess) ready() bool {
	resp, err := p.api.HTTP.Get(p.api.BaseURL + "/readyz")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == 200
}

// TestOpenReviewSurvivesKill kills `countersign dev` with SIGKILL while a
// review is open, starts a fresh process on the same data dir, and decides
// the review there.
func TestOpenReviewSurvivesKill(t *testing.T) {
	bin := binary(t)
	dataDir := t.TempDir()
	ctx := context.Background()

	first := startDev(t, bin, dataDir)
	sub, err := first.api.Submit(ctx, api.SubmitRequest{TaskType: "contract-review", Content: sample(t, "contract-review", "consulting-lindqvist-fjord.txt")})
	if err != nil {
		t.Fatal(err)
	}
	review := waitForReview(t, first.api, sub.ID)
	if err := first.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if err := first.wait(); err == nil {
		t.Fatal("countersign dev exited cleanly after SIGKILL")
	}

	second := startDev(t, bin, dataDir)
	if second.cmd.Process.Pid == first.cmd.Process.Pid {
		t.Fatal("the second run is the same process")
	}
	again := waitForReview(t, second.api, sub.ID)
	if again.ID != review.ID || again.Status != countersign.ReviewPending {
		t.Fatalf("after the restart the review is %+v, want %s pending", again, review.ID)
	}
	// The admin submitted the document, so someone else decides it.
	tok, err := second.api.CreateToken(ctx, "rita", countersign.RoleReviewer, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	rita := apiclient.New(second.api.BaseURL, tok.Secret)
	decided, err := rita.Decide(ctx, review.ID, api.DecisionRequest{Action: countersign.ActionCorrect, Fields: countersign.Fields{"term_months": 9}})
	if err != nil {
		t.Fatalf("deciding after the restart: %v\n%s", err, second.output)
	}
	if decided.Document.Status != countersign.StatusAccepted {
		t.Fatalf("decision = %+v", decided)
	}
	report, err := second.api.VerifyAudit(ctx)
	if err != nil || !report.OK {
		t.Fatalf("audit after the restart: %+v, %v", report, err)
	}

	// A clean stop on SIGTERM.
	if err := second.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- second.wait() }()
	select {
	case err := <-done:
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			t.Fatalf("countersign dev exited with %v on SIGTERM:\n%s", err, second.output)
		}
	case <-time.After(time.Minute):
		t.Fatalf("countersign dev did not stop within a minute of SIGTERM:\n%s", second.output)
	}
	if !strings.Contains(second.output.String(), "countersign: stopped") {
		t.Fatalf("no clean stop in the output:\n%s", second.output)
	}
}
