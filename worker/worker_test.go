package worker_test

import (
	"crypto/rand"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	sdklog "go.temporal.io/sdk/log"
	sdkworker "go.temporal.io/sdk/worker"

	"github.com/countersign/countersign/internal/codec"
	"github.com/countersign/countersign/worker"
	"github.com/countersign/countersign/workflows"
)

// A worker that turns encryption on must still replay the histories written
// in clear before, since their workflows may still be running.
func TestEncryptingWorkerReplaysHistoriesInClear(t *testing.T) {
	secret := make([]byte, codec.KeySize)
	if _, err := rand.Read(secret); err != nil {
		t.Fatal(err)
	}
	keys, err := codec.NewKeyring(codec.Key{ID: "k1", Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	dc, fc := worker.Converters(codec.New(keys))
	files, err := filepath.Glob(filepath.Join("..", "workflows", "testdata", "histories", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no recorded histories: %v", err)
	}
	logger := sdklog.NewStructuredLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			replayer, err := sdkworker.NewWorkflowReplayerWithOptions(sdkworker.WorkflowReplayerOptions{DataConverter: dc, FailureConverter: fc})
			if err != nil {
				t.Fatal(err)
			}
			(&workflows.Workflows{}).Register(replayer)
			if err := replayer.ReplayWorkflowHistoryFromJSONFile(logger, f); err != nil {
				t.Fatalf("%s does not replay with encryption on: %v", f, err)
			}
		})
	}
}
