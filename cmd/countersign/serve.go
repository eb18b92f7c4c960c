//go:build !clientonly

package main

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/countersign/countersign/internal/app"
	"github.com/countersign/countersign/internal/config"
	"github.com/countersign/countersign/internal/telemetry"
)

func newDev(d deps) *cobra.Command {
	var cfg config.Config
	cmd := &cobra.Command{
		Use:   "dev",
		Short: "Run everything on this machine: embedded Temporal, SQLite store, worker and API",
		Long: `Runs countersign on one machine with no other service: a real Temporal server
embedded in the process and persisted to a SQLite file, the embedded store
(another SQLite file), a worker and the HTTP API.

State lives under --data-dir and survives restarts, including a kill: open
reviews are still there when dev starts again. On first start an admin API
token is written to <data-dir>/admin.token; the CLI finds it there by itself.

With --database-url the store is that Postgres database instead of SQLite,
and with --temporal-database-url the embedded Temporal server persists to
Postgres (Temporal stays in the process either way).

Limits: one process. For more, run the worker and api roles against a
Temporal cluster (or "countersign temporal") and Postgres.`,
		Args: usage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return serve(cmd, d, cfg, app.Roles{Embedded: true, Worker: true, API: true})
		},
	}
	cfg.AddDataDir(cmd.Flags())
	cfg.AddServer(cmd.Flags())
	cfg.AddHTTP(cmd.Flags())
	cfg.AddClaims(cmd.Flags())
	cfg.AddDev(cmd.Flags())
	cfg.AddTemporalDatabase(cmd.Flags())
	cfg.AddReconcile(cmd.Flags())
	cfg.AddWorker(cmd.Flags())
	cfg.AddDatabase(cmd.Flags())
	cfg.AddModel(cmd.Flags())
	cfg.AddWebhook(cmd.Flags())
	cfg.AddEncryption(cmd.Flags())
	cfg.AddOIDC(cmd.Flags())
	cfg.AddOIDCSignIn(cmd.Flags())
	cfg.AddSlack(cmd.Flags())
	cfg.AddMail(cmd.Flags())
	cfg.AddDecisionSigning(cmd.Flags())
	cfg.AddDecisionVerify(cmd.Flags())
	return cmd
}

func newWorker(d deps) *cobra.Command {
	var cfg config.Config
	cmd := &cobra.Command{
		Use:   "worker",
		Short: "Run review workflows and activities against a Temporal cluster and Postgres",
		Long: `Runs the worker role: it polls the review task queue of a Temporal cluster and
keeps documents, reviews and the audit log in Postgres. Run as many replicas as
the load needs; they share nothing but Temporal and the database.`,
		Args: usage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return serve(cmd, d, cfg, app.Roles{Worker: true})
		},
	}
	cfg.AddServer(cmd.Flags())
	cfg.AddTemporal(cmd.Flags())
	cfg.AddDatabase(cmd.Flags())
	cfg.AddModel(cmd.Flags())
	cfg.AddWebhook(cmd.Flags())
	cfg.AddEncryption(cmd.Flags())
	cfg.AddMetrics(cmd.Flags())
	cfg.AddReconcile(cmd.Flags())
	cfg.AddWorker(cmd.Flags())
	cfg.AddSlack(cmd.Flags())
	cfg.AddMail(cmd.Flags())
	cfg.AddDecisionVerify(cmd.Flags())
	return cmd
}

func newAPI(d deps) *cobra.Command {
	var cfg config.Config
	cmd := &cobra.Command{
		Use:   "api",
		Short: "Serve the HTTP API against a Temporal cluster and Postgres",
		Long: `Runs the API role: the REST API and the health probes, starting review
workflows on a Temporal cluster and reading state from Postgres. /readyz
answers 200 once a worker polls the review task queue.`,
		Args: usage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return serve(cmd, d, cfg, app.Roles{API: true})
		},
	}
	cfg.AddServer(cmd.Flags())
	cfg.AddHTTP(cmd.Flags())
	cfg.AddClaims(cmd.Flags())
	cfg.AddTemporal(cmd.Flags())
	cfg.AddDatabase(cmd.Flags())
	cfg.AddEncryption(cmd.Flags())
	cfg.AddOIDC(cmd.Flags())
	cfg.AddOIDCSignIn(cmd.Flags())
	cfg.AddSlack(cmd.Flags())
	cfg.AddDecisionSigning(cmd.Flags())
	return cmd
}

// serve starts the roles, prints where everything is, and runs until SIGINT
// or SIGTERM, then stops cleanly. The flags, and so cfg, already hold their
// environment variables (the root command's PersistentPreRunE); what is read
// here from the environment are the settings that have no flag.
func serve(cmd *cobra.Command, d deps, cfg config.Config, roles app.Roles) error {
	cfg.ModelFromEnv()
	if err := cfg.WebhookFromEnv(); err != nil {
		return exitError{code: 2, err: err}
	}
	if err := cfg.EncryptionFromEnv(); err != nil {
		return exitError{code: 2, err: err}
	}
	logger, err := newLogger(cfg)
	if err != nil {
		return exitError{code: 2, err: err}
	}
	if roles.Worker {
		if err := config.CheckCacheSize("workflow-cache-size", cfg.WorkflowCacheSize); err != nil {
			return exitError{code: 2, err: err}
		}
	}
	if roles.Embedded {
		if err := config.CheckCacheSize("temporal-history-cache-size", cfg.TemporalHistoryCacheSize); err != nil {
			return exitError{code: 2, err: err}
		}
	}
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	out := cmd.ErrOrStderr()
	if roles.Embedded {
		fmt.Fprintf(out, "countersign dev: starting the embedded Temporal server in %s ...\n", cfg.DataDir)
	}
	a, err := d.start(ctx, cfg, roles, logger)
	if err != nil {
		return err
	}
	defer func() {
		fmt.Fprintln(out, "countersign: stopping ...")
		a.Stop()
		fmt.Fprintln(out, "countersign: stopped")
	}()
	banner(out, a)
	select {
	case <-ctx.Done():
		return nil
	case err := <-a.Err():
		return err
	}
}

// modelLine says what the auto extractor of the examples drafts with.
func modelLine(cfg config.Config) string {
	if !cfg.ModelConfigured() {
		return fmt.Sprintf("none: task types with extractor auto draft with their rules (set %s or %s to use a model)", config.EnvOpenAIKey, config.EnvOpenAIBaseURL)
	}
	endpoint := cfg.OpenAIBaseURL
	if endpoint == "" {
		endpoint = "OpenAI"
	}
	model := cfg.OpenAIModel
	if model == "" {
		model = "default model"
	}
	return fmt.Sprintf("%s at %s, for task types with extractor openai or auto", model, endpoint)
}

// encryptionLine says whether Temporal payloads are encrypted, and with
// which key.
func encryptionLine(cfg config.Config) string {
	if cfg.Encryption == nil {
		return fmt.Sprintf("off: Temporal histories hold drafts and decisions in clear (set %s or --encryption-key-file)", config.EnvEncryptionKeys)
	}
	return fmt.Sprintf("Temporal payloads AES-256-GCM, key %s (keyring %s)", cfg.Encryption.Current(), strings.Join(cfg.Encryption.IDs(), ", "))
}

// telemetryLines say where traces and metrics go.
func telemetryLines(w io.Writer, a *app.App) {
	traces := a.Telemetry.TracesExporter
	if traces == telemetry.ExporterNone {
		traces = fmt.Sprintf("not exported (set %s=otlp or console); audit events still record trace IDs", telemetry.EnvTracesExporter)
	}
	fmt.Fprintf(w, "  traces      %s\n", traces)
	var metrics []string
	switch {
	case a.APIURL != "":
		metrics = append(metrics, "Prometheus at "+a.APIURL+"/metrics")
	case a.MetricsURL != "":
		metrics = append(metrics, "Prometheus at "+a.MetricsURL)
	}
	if pushed := a.Telemetry.MetricsExporters; pushed != "" {
		metrics = append(metrics, pushed)
	}
	if len(metrics) == 0 {
		metrics = append(metrics, fmt.Sprintf("not served (set --metrics, or %s=otlp)", telemetry.EnvMetricsExporter))
	}
	fmt.Fprintf(w, "  metrics     %s\n", strings.Join(metrics, "; "))
}

func banner(w io.Writer, a *app.App) {
	var types []string
	for _, tt := range a.TaskTypes.All() {
		types = append(types, fmt.Sprintf("%s (%s)", tt.Name, tt.Policy.Mode))
	}
	fmt.Fprintln(w, "countersign is running")
	if a.APIURL != "" {
		fmt.Fprintf(w, "  API         %s\n", a.APIURL)
		signIn := "sign in with an API token"
		if sso, err := a.Config.OIDCSignIn(); err == nil && sso != nil {
			signIn += " or through " + a.Config.OIDCIssuer
		}
		fmt.Fprintf(w, "  web page    %s/ui/ (%s)\n", a.APIURL, signIn)
	}
	if a.Roles.Embedded {
		dir := a.Config.DataDir
		if abs, err := filepath.Abs(dir); err == nil {
			dir = abs
		}
		fmt.Fprintf(w, "  admin token %s\n", filepath.Join(dir, app.AdminTokenFile))
		fmt.Fprintf(w, "  Temporal    %s, namespace %s (%s, log %s)\n", a.TemporalAddress, a.Config.Namespace,
			a.TemporalStorage, filepath.Join(dir, app.TemporalLog))
		fmt.Fprintf(w, "  Temporal UI not bundled: point yours at %s (docs/operations.md#the-temporal-web-ui)\n", a.TemporalAddress)
		if a.Config.DatabaseURL != "" {
			fmt.Fprintln(w, "  store       Postgres")
		} else {
			fmt.Fprintf(w, "  store       SQLite %s\n", filepath.Join(dir, app.StoreDB))
		}
	} else {
		fmt.Fprintf(w, "  Temporal    %s, namespace %s\n", a.TemporalAddress, a.Config.Namespace)
		fmt.Fprintln(w, "  store       Postgres")
	}
	fmt.Fprintf(w, "  encryption  %s\n", encryptionLine(a.Config))
	fmt.Fprintf(w, "  slack       %s\n", slackLine(a))
	if a.Roles.Worker {
		fmt.Fprintf(w, "  mail        %s\n", mailLine(a))
	}
	if a.Roles.Worker {
		fmt.Fprintln(w, "  worker      polling the review task queue")
		fmt.Fprintf(w, "  model       %s\n", modelLine(a.Config))
	}
	fmt.Fprintf(w, "  task types  %s, from %s\n", strings.Join(types, ", "), a.TaskTypesOrigin)
	telemetryLines(w, a)
	if a.Roles.Embedded {
		fmt.Fprintf(w, "Try: %s submit --type contract-review examples/contract-review/samples\n", os.Args[0])
	}
	fmt.Fprintln(w, "Stop with Ctrl-C.")
}

// slackLine says whether reviews go to Slack, and how Slack's answers
// come back.
func slackLine(a *app.App) string {
	c := a.Config
	if !c.SlackEnabled() {
		return fmt.Sprintf("off (set %s to post reviews to Slack)", config.Env("slack-bot-token"))
	}
	var parts []string
	if a.Roles.Worker {
		channel := c.SlackChannel
		if channel == "" {
			channel = "the task types' channels only"
		}
		parts = append(parts, "reviews posted to "+channel)
	}
	if a.Roles.API {
		switch {
		case c.SlackAppToken != "":
			parts = append(parts, "buttons and /countersign over Socket Mode")
		case c.SlackSigningSecret != "":
			parts = append(parts, "buttons at "+a.APIURL+"/slack/interactions, /countersign at "+a.APIURL+"/slack/commands")
		default:
			parts = append(parts, fmt.Sprintf("buttons off (set %s or %s)", config.Env("slack-signing-secret"), config.Env("slack-app-token")))
		}
	}
	return strings.Join(parts, "; ")
}

// mailLine says whether review notices are e-mailed, and through what.
func mailLine(a *app.App) string {
	c := a.Config
	if !c.MailEnabled() {
		return fmt.Sprintf("off (set %s and %s to e-mail review notices)", config.Env("smtp-addr"), config.Env("mail-from"))
	}
	tls := "STARTTLS required"
	if c.SMTPInsecure {
		tls = "STARTTLS when offered"
	}
	return fmt.Sprintf("notices from %s through %s (%s)", c.MailFrom, c.SMTPAddr, tls)
}
