//go:build !clientonly

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/app"
	"github.com/countersign/countersign/internal/codec"
	"github.com/countersign/countersign/internal/config"
	"github.com/countersign/countersign/internal/store/postgres"
	"github.com/countersign/countersign/internal/store/sqlite"
)

func newCodecServer(d deps) *cobra.Command {
	var cfg config.Config
	cmd := &cobra.Command{
		Use:   "codec-server",
		Short: "Decrypt Temporal payloads for the Temporal web UI and CLI, for holders of a reading token",
		Long: `With an encryption keyring configured, the payloads countersign writes to
Temporal (drafts, evidence quotes, decisions, failure messages) are encrypted
with AES-256-GCM, and Temporal's own tools show them as binary/encrypted. The
codec server serves Temporal's remote codec protocol (POST /decode and POST
/encode, {"payloads": [...]}) with the same keyring, so those tools can show
them in clear to the people allowed to read them.

Every call needs a countersign API token, "Authorization: Bearer <token>":
decoding takes the role approver, auditor or admin; encoding (the web UI
encodes the input of a signal or a workflow it starts) takes admin. Each call
is logged with its caller. Tokens are looked up in the store: the Postgres
database of --database-url, else the SQLite store of the dev stack in
--data-dir.

It needs the keyring of the workers (--encryption-key-file or
` + config.EnvEncryptionKeys + `) and listens on --codec-http. Browsers may call it from
the origins given with --ui-origin only (CORS); serve it over HTTPS (behind a
proxy) whenever it is not on localhost.

Temporal CLI:
  temporal workflow show -w review/<document id> \
    --codec-endpoint http://127.0.0.1:8089 --codec-auth "Bearer $TOKEN"

Temporal web UI: set its codec endpoint (the UI server's codec.endpoint, or
Data Encoder in the UI) to this server's URL, and start the codec server with
--ui-origin set to the UI's address. The UI sends an Authorization header only
when told to pass its access token, and that is the UI's own login token: put
a proxy that adds the user's countersign token in front, or the UI is refused
with 401.`,
		Example: `  # the keys dev, worker and api run with, from the environment or a file
  export COUNTERSIGN_ENCRYPTION_KEYS="2025-06:<base64 key>,2025-01:<base64 key>"
  countersign codec-server --ui-origin http://localhost:8233
  countersign codec-server --encryption-key-file /etc/countersign/keys \
    --database-url postgres://countersign@db/countersign --ui-origin https://temporal.example.com`,
		Args: usage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return serveCodec(cmd, d, cfg)
		},
	}
	cfg.AddCodecServer(cmd.Flags())
	cfg.AddEncryption(cmd.Flags())
	cfg.AddDatabase(cmd.Flags())
	cfg.AddDataDir(cmd.Flags())
	cfg.AddLog(cmd.Flags())
	return cmd
}

// serveCodec completes the codec server's configuration and runs it until
// SIGINT or SIGTERM.
func serveCodec(cmd *cobra.Command, d deps, cfg config.Config) error {
	if err := cfg.EncryptionFromEnv(); err != nil {
		return exitError{code: 2, err: err}
	}
	if cfg.Encryption == nil {
		return exitError{code: 2, err: fmt.Errorf("no keyring: give the workers' keys with --encryption-key-file or %s", config.EnvEncryptionKeys)}
	}
	if err := cfg.CheckUIOrigins(); err != nil {
		return exitError{code: 2, err: err}
	}
	logger, err := newLogger(cfg)
	if err != nil {
		return exitError{code: 2, err: err}
	}
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return d.codecServer(ctx, cfg, cmd.ErrOrStderr(), logger)
}

// runCodecServer serves the codec server until ctx ends.
func runCodecServer(ctx context.Context, cfg config.Config, out io.Writer, logger *slog.Logger) error {
	store, where, err := openTokenStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer store.Close()
	listener, err := net.Listen("tcp", cfg.CodecHTTPAddr)
	if err != nil {
		return fmt.Errorf("codec server: %w", err)
	}
	srv := &http.Server{
		Handler: codec.Handler(codec.Server{
			Codec:   codec.New(cfg.Encryption),
			Tokens:  store,
			Origins: cfg.UIOrigins,
			Logger:  logger,
		}),
		ReadHeaderTimeout: 10 * time.Second,
	}
	errs := make(chan error, 1)
	go func() { errs <- srv.Serve(listener) }()

	origins := "none (browsers refused; give --ui-origin)"
	if len(cfg.UIOrigins) > 0 {
		origins = strings.Join(cfg.UIOrigins, ", ")
	}
	fmt.Fprintln(out, "countersign codec server is running")
	fmt.Fprintf(out, "  endpoint    http://%s (POST /decode, POST /encode)\n", listener.Addr())
	fmt.Fprintf(out, "  keyring     %s, encrypting with %s\n", strings.Join(cfg.Encryption.IDs(), ", "), cfg.Encryption.Current())
	fmt.Fprintf(out, "  tokens      %s; decode: %s; encode: %s\n", where, roleList(codec.Decoders), roleList(codec.Encoders))
	fmt.Fprintf(out, "  UI origins  %s\n", origins)
	fmt.Fprintln(out, "Stop with Ctrl-C.")

	select {
	case err := <-errs:
		return fmt.Errorf("codec server: %w", err)
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil && !errors.Is(err, http.ErrServerClosed) {
		logger.Warn("codec server did not drain", "error", err)
	}
	return nil
}

// openTokenStore opens the store the API's tokens live in: Postgres as the
// api role opens it, or the dev stack's SQLite store.
func openTokenStore(ctx context.Context, cfg config.Config) (countersign.Store, string, error) {
	if cfg.DatabaseURL != "" {
		if err := cfg.CheckProduction(); err != nil {
			return nil, "", exitError{code: 2, err: err}
		}
		s, err := postgres.Open(ctx, cfg.DatabaseURL)
		return s, "Postgres", err
	}
	path := filepath.Join(cfg.DataDir, app.StoreDB)
	if _, err := os.Stat(path); err != nil {
		return nil, "", exitError{code: 2, err: fmt.Errorf("no store to check tokens against: pass --database-url (or %s), or --data-dir of a dev stack (%s: %w)", config.Env("database-url"), path, err)}
	}
	s, err := sqlite.Open(ctx, path)
	return s, "SQLite " + path, err
}

func roleList(roles []countersign.Role) string {
	names := make([]string, len(roles))
	for i, r := range roles {
		names[i] = string(r)
	}
	return strings.Join(names, ", ")
}
