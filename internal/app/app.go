// Package app wires countersign's parts into the roles the binary runs:
// `dev` (embedded Temporal, SQLite store, worker and API in one process),
// `worker` and `api` (against a Temporal cluster and Postgres). The command
// line and the end-to-end tests start the same App.
package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	sdkworker "go.temporal.io/sdk/worker"
	"golang.org/x/oauth2"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/activities"
	"github.com/countersign/countersign/api"
	"github.com/countersign/countersign/examples"
	"github.com/countersign/countersign/internal/auth"
	"github.com/countersign/countersign/internal/codec"
	"github.com/countersign/countersign/internal/config"
	"github.com/countersign/countersign/internal/datadir"
	"github.com/countersign/countersign/internal/devserver"
	"github.com/countersign/countersign/internal/dispatch"
	"github.com/countersign/countersign/internal/llm"
	"github.com/countersign/countersign/internal/mailnotify"
	"github.com/countersign/countersign/internal/ocr"
	"github.com/countersign/countersign/internal/oidc"
	"github.com/countersign/countersign/internal/pageimage"
	"github.com/countersign/countersign/internal/pdfium"
	"github.com/countersign/countersign/internal/provenance"
	"github.com/countersign/countersign/internal/reconcile"
	"github.com/countersign/countersign/internal/store/postgres"
	"github.com/countersign/countersign/internal/store/sqlite"
	"github.com/countersign/countersign/internal/tasktype"
	"github.com/countersign/countersign/internal/web"
	"github.com/countersign/countersign/internal/webhook"
	"github.com/countersign/countersign/worker"
	"github.com/countersign/countersign/workflows"
)

// Files in a dev data dir. The two the client commands read are named in
// package datadir, which the client binary links instead of this one.
const (
	TemporalDB     = "temporal.db"
	StoreDB        = "countersign.db"
	TemporalLog    = "temporal.log"
	AdminTokenFile = datadir.AdminTokenFile
	// DevFile records where a running dev stack listens, for the CLI.
	DevFile = datadir.DevFile
)

// WrapHTTP, when set, wraps the API's HTTP handler: the end-to-end tests
// hold every answer to the OpenAPI description with it. Nil in the binary.
var WrapHTTP func(http.Handler) http.Handler

// Roles choose what an App runs.
type Roles struct {
	// Embedded runs Temporal in the process and keeps the store in SQLite,
	// both under the data dir.
	Embedded bool
	Worker   bool
	API      bool
}

// DevInfo is what DevFile holds.
type DevInfo = datadir.DevInfo

// App is a running set of roles. Start it with Start, stop it with Stop.
type App struct {
	Config    config.Config
	Roles     Roles
	Logger    *slog.Logger
	TaskTypes *tasktype.Registry
	// TaskTypesOrigin says where the task types came from.
	TaskTypesOrigin string
	Store           countersign.Store
	Temporal        client.Client
	// TemporalAddress is the Temporal frontend the App uses.
	TemporalAddress string
	// TemporalStorage says where the embedded Temporal server persists
	// (embedded only).
	TemporalStorage string
	// APIURL is the base URL of the API, once it listens.
	APIURL string
	// AdminToken is the dev admin token (embedded only).
	AdminToken string

	devserver *devserver.Server
	worker    sdkworker.Worker
	// stopWorker stops the worker's Run; workerDone closes once it returned.
	stopWorker chan any
	workerDone chan struct{}
	http       *http.Server
	errs       chan error
	// oidc checks OIDC bearer tokens, when an issuer is configured;
	// oidcSignIn signs people in to the web page through it.
	oidc       api.OIDCAuthenticator
	oidcSignIn *web.OIDC
	// slack is Slack, when a bot token is set (slack.go).
	slack slackRole
	// mail is the e-mail notifier, nil when mail is off.
	mail *mailnotify.Notifier
	// dispatch is the path of every role to the workflows (dispatcher).
	dispatch *dispatch.Dispatcher
	// pdfReader reads submitted PDFs (pdf).
	pdfReader *pdfium.Extractor
	// pageImages renders originals' pages for people (pages).
	pageImages *pageimage.Renderer
	// ocrReader reads scans by OCR and decodes submitted images (ocr),
	// shared by intake and the page images so that both keep to one
	// bound on the pages in memory at once.
	ocrReader *ocr.Reader

	// stopReconciler stops the worker's reconciler and waits for it.
	stopReconciler func()

	observability
}

// Start starts the roles. On error, whatever had started is stopped again.
func Start(ctx context.Context, cfg config.Config, roles Roles, logger *slog.Logger, opts ...Option) (*App, error) {
	a := &App{Config: cfg, Roles: roles, Logger: logger, errs: make(chan error, 2)}
	for _, opt := range opts {
		opt(a)
	}
	if err := a.start(ctx); err != nil {
		a.Stop()
		return nil, err
	}
	return a, nil
}

func (a *App) start(ctx context.Context) error {
	if err := a.loadTaskTypes(); err != nil {
		return err
	}
	if err := a.Config.DecisionKeys(a.Roles.API, a.Roles.Worker); err != nil {
		return err
	}
	if err := a.setupTelemetry(ctx); err != nil {
		return err
	}
	if a.Roles.Worker {
		// The SDK keeps one cache of workflows per process, made when the
		// process's first worker starts, with the size set then: before
		// the embedded server, whose own system workers share it. A
		// Config built in code without a size keeps the default.
		size := a.Config.WorkflowCacheSize
		if size <= 0 {
			size = config.DefaultWorkflowCacheSize
		}
		sdkworker.SetStickyWorkflowCacheSize(size)
	}
	if a.Roles.Embedded {
		if err := a.startEmbedded(ctx); err != nil {
			return err
		}
	} else {
		if err := a.connect(ctx); err != nil {
			return err
		}
	}
	if err := a.Config.NeedDecisionKeys(a.Roles.API, a.Roles.Worker); err != nil {
		return err
	}
	if err := a.setupSlack(); err != nil {
		return err
	}
	if err := a.setupMail(); err != nil {
		return err
	}
	if a.Config.EncryptDocuments {
		if a.Config.Encryption == nil {
			return fmt.Errorf("encrypting document bodies needs an encryption keyring")
		}
		a.Store = codec.EncryptDocuments(a.Store, a.Config.Encryption)
	}
	if a.Roles.Worker {
		a.startWorker()
		if err := a.serveMetrics(); err != nil {
			return err
		}
	}
	if a.Roles.API {
		if err := a.startOIDC(ctx); err != nil {
			return err
		}
		if err := a.startAPI(); err != nil {
			return err
		}
		a.startSlackSocket()
	}
	if a.Roles.Embedded {
		return a.writeDevFile()
	}
	return nil
}

func (a *App) loadTaskTypes() error {
	var err error
	if a.Config.TaskTypesDir == "" {
		a.TaskTypesOrigin = "built-in examples"
		a.TaskTypes, err = tasktype.LoadFS(examples.TaskTypes, "examples")
	} else {
		a.TaskTypesOrigin = a.Config.TaskTypesDir
		a.TaskTypes, err = tasktype.LoadDir(a.Config.TaskTypesDir)
	}
	return err
}

// startEmbedded starts the embedded Temporal server (on SQLite under the data
// dir, or on Postgres when a Temporal database URL is set) and opens the
// store (SQLite under the data dir, or Postgres when a database URL is set),
// and makes sure there is an admin token.
func (a *App) startEmbedded(ctx context.Context) error {
	dir := a.Config.DataDir
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	if a.Config.DecisionSigner == nil {
		key, err := provenance.EnsureDevKey(dir)
		if err != nil {
			return fmt.Errorf("decision signing key: %w", err)
		}
		a.Config.DecisionSigner = provenance.NewSigner(key)
	}
	opts := devserver.Options{
		DatabaseURL: a.Config.TemporalDatabaseURL,
		Port:        a.Config.TemporalPort,
		Namespace:   a.Config.Namespace,
		LogFile:     filepath.Join(dir, TemporalLog),
		CacheSize:   a.Config.TemporalHistoryCacheSize,
	}
	if opts.DatabaseURL == "" {
		opts.DatabaseFile = filepath.Join(dir, TemporalDB)
	}
	srv, err := devserver.Start(ctx, opts)
	if err != nil {
		return err
	}
	a.devserver = srv
	a.TemporalAddress, a.TemporalStorage = srv.Address(), srv.Storage()
	a.Temporal, err = worker.Dial(ctx, worker.ClientOptions{
		Address:      srv.Address(),
		Namespace:    a.Config.Namespace,
		Logger:       a.quietLogger(),
		Codec:        a.codec(),
		Interceptors: a.Telemetry.ClientInterceptors(),
	})
	if err != nil {
		return err
	}
	if a.Config.DatabaseURL != "" {
		a.Store, err = postgres.Open(ctx, a.Config.DatabaseURL)
	} else {
		a.Store, err = sqlite.Open(ctx, filepath.Join(dir, StoreDB))
	}
	if err != nil {
		return err
	}
	return a.ensureAdminToken(ctx)
}

// connect reaches the production Temporal cluster and Postgres.
func (a *App) connect(ctx context.Context) error {
	if err := a.Config.CheckProduction(); err != nil {
		return err
	}
	var err error
	a.TemporalAddress = a.Config.TemporalAddress
	a.Temporal, err = worker.Dial(ctx, worker.ClientOptions{
		Address:       a.Config.TemporalAddress,
		Namespace:     a.Config.Namespace,
		TLSCertFile:   a.Config.TemporalTLSCert,
		TLSKeyFile:    a.Config.TemporalTLSKey,
		TLSCAFile:     a.Config.TemporalTLSCA,
		TLSServerName: a.Config.TemporalTLSServerName,
		Logger:        a.quietLogger(),
		Codec:         a.codec(),
		Interceptors:  a.Telemetry.ClientInterceptors(),
	})
	if err != nil {
		return err
	}
	a.Store, err = postgres.Open(ctx, a.Config.DatabaseURL)
	return err
}

// codec encrypts Temporal payloads when a keyring is configured; with none,
// payloads stay in clear.
func (a *App) codec() converter.PayloadCodec {
	if a.Config.Encryption == nil {
		return nil
	}
	return codec.New(a.Config.Encryption)
}

// quietLogger is for the Temporal SDK, which logs every worker start at info.
func (a *App) quietLogger() *slog.Logger {
	return slog.New(levelFloor{Handler: a.Logger.Handler(), min: slog.LevelWarn})
}

// ensureAdminToken writes an admin token to the data dir on first start, and
// again if the one there no longer opens the store.
func (a *App) ensureAdminToken(ctx context.Context) error {
	path := filepath.Join(a.Config.DataDir, AdminTokenFile)
	if raw, err := os.ReadFile(path); err == nil {
		secret := strings.TrimSpace(string(raw))
		if _, err := auth.Authenticate(ctx, a.Store, secret, time.Now()); err == nil {
			a.AdminToken = secret
			return nil
		}
	}
	secret, _, err := auth.Issue(ctx, a.Store, countersign.SystemActor, countersign.ChannelCLI, "admin", countersign.RoleAdmin, 0, time.Now())
	if err != nil {
		return fmt.Errorf("create admin token: %w", err)
	}
	if err := os.WriteFile(path, []byte(secret+"\n"), 0o600); err != nil {
		return fmt.Errorf("write admin token: %w", err)
	}
	a.AdminToken = secret
	return nil
}

func (a *App) startWorker() {
	acts := &activities.Activities{
		Store:       a.traced(),
		TaskTypes:   tasktype.NewResolver(a.TaskTypes, a.Store),
		AuditSettle: a.Config.AuditSettle,
		Extractors: map[string]countersign.Extractor{
			countersign.ExtractorRules: llm.NewRules(),
			countersign.ExtractorOpenAI: llm.NewOpenAI(llm.OpenAIConfig{
				BaseURL: a.Config.OpenAIBaseURL,
				APIKey:  a.Config.OpenAIKey,
				Model:   a.Config.OpenAIModel,

				TracerProvider: a.Telemetry.TracerProvider,
				Metrics:        a.Telemetry.Metrics,
			}),
		},
		ModelAttempts: a.Config.ModelAttempts,
		Notifier:      a.slackNotifier(),
		Mail:          a.mailNotifier(),
		ReviewURL:     a.Config.ReviewLinks(),
		Supervisors:   worker.Supervisors{Client: a.Temporal},
		Now:           time.Now,
		Logger:        a.Logger,
		Metrics:       a.Telemetry.Metrics,
	}
	if a.Config.WebhookURL != "" {
		acts.Webhook = &webhook.Client{URL: a.Config.WebhookURL, Secret: a.Config.WebhookSecret}
	}
	a.worker = worker.New(a.Temporal, &workflows.Workflows{Provenance: a.Config.DecisionVerifier()}, acts)
	// The worker runs until stopWorker closes: Run stops it then, so Stop
	// never stops a worker whose Run has not begun (the SDK panics on that).
	a.stopWorker, a.workerDone = make(chan any), make(chan struct{})
	go func() {
		defer close(a.workerDone)
		if err := a.worker.Run(a.stopWorker); err != nil {
			a.errs <- fmt.Errorf("worker: %w", err)
		}
	}()
	a.startReconciler()
}

// startReconciler starts, now and every --reconcile-interval, the review of
// each document intake stored without one, closes the reviews whose
// workflow was terminated or timed out in Temporal, and completes batches,
// sending their webhook (package reconcile).
func (a *App) startReconciler() {
	r := &reconcile.Reconciler{
		Dispatch: a.dispatcher(),
		Store:    a.traced(),
		Interval: a.Config.ReconcileInterval,
		Logger:   a.Logger,
	}
	if a.Config.WebhookURL != "" {
		r.Webhook = &webhook.Client{URL: a.Config.WebhookURL, Secret: a.Config.WebhookSecret}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		r.Run(ctx)
	}()
	a.stopReconciler = func() {
		cancel()
		<-done
	}
}

func (a *App) startAPI() error {
	if err := a.Config.CheckLimits(); err != nil {
		return err
	}
	listener, err := net.Listen("tcp", a.Config.HTTPAddr)
	if err != nil {
		return fmt.Errorf("HTTP API: %w", err)
	}
	a.APIURL = "http://" + listener.Addr().String()
	if err := a.observeQueue(); err != nil {
		listener.Close()
		return err
	}
	slackInteractions, slackCommands := a.slackEndpoints()
	router := api.Router(api.Services{
		Store:        a.traced(),
		Dispatch:     a.dispatcher(),
		Ready:        a.Ready,
		MaxBodyBytes: a.Config.MaxBodyBytes,
		Logger:       a.Logger,
		Telemetry:    a.Telemetry,

		MaxFields:          a.Config.MaxFields,
		MaxMetadataKeys:    a.Config.MaxMetadataKeys,
		MaxReasonBytes:     a.Config.MaxReasonBytes,
		MaxFieldValueBytes: a.Config.MaxFieldValueBytes,
		ReadTimeout:        a.Config.ReadTimeout,
		RateLimit:          rateLimit(a.Config.RateLimit),
		RateBurst:          a.Config.RateBurst,
		OIDC:               a.oidc,

		SlackInteractions: slackInteractions,
		SlackCommands:     slackCommands,
		Pages:             a.pages(),

		UI: web.New(web.Services{
			Store:          a.traced(),
			TaskTypes:      a.TaskTypes,
			Decider:        a.dispatcher(),
			Claims:         a.dispatcher(),
			ClaimLease:     a.Config.ClaimLease,
			Escalations:    a.dispatcher(),
			Logger:         a.Logger,
			OIDC:           a.oidcSignIn,
			Pages:          a.pages(),
			Submitter:      a.dispatcher(),
			MaxUploadBytes: a.maxUploadBytes(),
		}),
	})
	var handler http.Handler = router
	if WrapHTTP != nil {
		handler = WrapHTTP(router)
	}
	// The router reads each body within --read-timeout; a connection idle
	// between requests is closed after IdleTimeout rather than held.
	a.http = &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	go func() {
		if err := a.http.Serve(listener); err != nil && !errors.Is(err, http.ErrServerClosed) {
			a.errs <- fmt.Errorf("HTTP API: %w", err)
		}
	}()
	return nil
}

// dispatcher is the App's path to the workflows (internal/dispatch): the
// REST API's, the web page's and Slack's for people's requests, signed
// alike, and the reconciler's. It is made on first use, once the store is
// open as the roles use it; a person's update that finds its review
// workflow terminated closes what it left open at once.
// maxUploadBytes is the largest file the web page's submit form takes: the
// larger of the PDF and image limits of the dispatcher's readers.
func (a *App) maxUploadBytes() int64 {
	d, n := a.dispatcher(), int64(0)
	if d.PDF != nil {
		n = max(n, int64(d.PDF.Limits().MaxBytes))
	}
	if d.OCR != nil {
		n = max(n, int64(d.OCR.Limits().MaxBytes))
	}
	return n
}

func (a *App) dispatcher() *dispatch.Dispatcher {
	if a.dispatch != nil {
		return a.dispatch
	}
	d := &dispatch.Dispatcher{
		Temporal:         a.Temporal,
		Store:            a.traced(),
		TaskTypes:        a.TaskTypes,
		Resolver:         tasktype.NewResolver(a.TaskTypes, a.Store),
		Signer:           a.Config.DecisionSigner,
		MaxDocumentBytes: a.Config.MaxDocumentBytes,
		ClaimLease:       a.Config.ClaimLease,
		PDF:              a.pdf(),
		OCR:              a.ocr(),
	}
	if a.Config.WebhookURL != "" {
		d.Webhook = &webhook.Client{URL: a.Config.WebhookURL, Secret: a.Config.WebhookSecret}
	}
	d.Abandoned = &reconcile.Reconciler{Dispatch: d, Store: a.traced(), Logger: a.Logger}
	a.dispatch = d
	return d
}

// startOIDC discovers the configured OIDC issuer, if any, and sets up the
// web page's sign-in through it when that is configured; an issuer that
// cannot be reached, or cannot sign people in, stops the start, naming it.
func (a *App) startOIDC(ctx context.Context) error {
	cfg, err := a.Config.OIDC()
	if err != nil {
		return err
	}
	signIn, err := a.Config.OIDCSignIn()
	if err != nil || cfg == nil {
		return err
	}
	authn, err := oidc.New(ctx, *cfg)
	if err != nil {
		return err
	}
	a.oidc = authn
	if signIn == nil {
		return nil
	}
	endpoint, err := authn.Endpoint()
	if err != nil {
		return err
	}
	issuer, _ := url.Parse(cfg.Issuer)
	a.oidcSignIn = &web.OIDC{
		// The ID tokens of the sign-in are made for the web page's client.
		Tokens: authn.WithAudience(signIn.ClientID),
		Client: &oauth2.Config{
			ClientID:     signIn.ClientID,
			ClientSecret: signIn.ClientSecret,
			Endpoint:     endpoint,
			RedirectURL:  signIn.RedirectURL,
			Scopes:       []string{"openid", "email", "profile"},
		},
		Name: issuer.Host,
	}
	return nil
}

// rateLimit is the API's rate limit for the --rate-limit flag, whose 0
// turns the limit off.
func rateLimit(perSecond float64) float64 {
	if perSecond <= 0 {
		return api.NoRateLimit
	}
	return perSecond
}

// Ready reports whether the App can do its work: the store answers and a
// worker polls the review task queue.
func (a *App) Ready(ctx context.Context) error {
	if err := a.Store.Ping(ctx); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	return worker.Polling(ctx, a.Temporal)
}

// WaitReady waits until Ready holds or ctx ends.
func (a *App) WaitReady(ctx context.Context) error {
	for {
		err := a.Ready(ctx)
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("not ready: %w", err)
		case err := <-a.errs:
			return err
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Err delivers the first error of a role that stopped on its own.
func (a *App) Err() <-chan error { return a.errs }

func (a *App) writeDevFile() error {
	info, err := json.MarshalIndent(DevInfo{API: a.APIURL, Temporal: a.TemporalAddress, PID: os.Getpid()}, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(a.Config.DataDir, DevFile), append(info, '\n'), 0o600)
}

// pdf returns the reader of submitted PDFs, made on first use; its
// WebAssembly module is compiled on the first PDF read.
func (a *App) pdf() *pdfium.Extractor {
	if a.pdfReader == nil {
		a.pdfReader = pdfium.New(a.Config.PDF)
	}
	return a.pdfReader
}

// pages returns the renderer of originals' pages, shared by the API and
// the web page so that both use one cache.
func (a *App) pages() *pageimage.Renderer {
	if a.pageImages == nil {
		a.pageImages = pageimage.New(a.traced(), a.pdf(), a.Config.PageCacheBytes)
		a.pageImages.Images = a.ocr()
	}
	return a.pageImages
}

// ocr returns the OCR reader, made on first use.
func (a *App) ocr() *ocr.Reader {
	if a.ocrReader == nil {
		a.ocrReader = ocr.New(a.Config.OCR)
	}
	return a.ocrReader
}

// Stop stops the roles in order: the API drains its requests, the worker
// finishes its tasks, then Temporal and the store close.
func (a *App) Stop() {
	a.stopSlack()
	if a.http != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if err := a.http.Shutdown(ctx); err != nil {
			a.Logger.Warn("HTTP API did not drain", "error", err)
		}
		cancel()
	}
	if a.stopReconciler != nil {
		a.stopReconciler()
	}
	if a.worker != nil {
		close(a.stopWorker)
		<-a.workerDone
	}
	if a.Temporal != nil {
		a.Temporal.Close()
	}
	if a.devserver != nil {
		a.devserver.Stop()
		os.Remove(filepath.Join(a.Config.DataDir, DevFile))
	}
	if a.pdfReader != nil {
		a.pdfReader.Close()
	}
	if a.Store != nil {
		if err := a.Store.Close(); err != nil {
			a.Logger.Warn("closing the store", "error", err)
		}
	}
	a.stopTelemetry()
}

// levelFloor drops records below a level.
type levelFloor struct {
	slog.Handler
	min slog.Level
}

func (l levelFloor) Enabled(ctx context.Context, level slog.Level) bool {
	return level >= l.min && l.Handler.Enabled(ctx, level)
}

func (l levelFloor) WithAttrs(attrs []slog.Attr) slog.Handler {
	return levelFloor{Handler: l.Handler.WithAttrs(attrs), min: l.min}
}

func (l levelFloor) WithGroup(name string) slog.Handler {
	return levelFloor{Handler: l.Handler.WithGroup(name), min: l.min}
}
