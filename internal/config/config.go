// Package config is countersign's configuration: one struct, filled from
// command-line flags, with COUNTERSIGN_* environment variables as fallbacks
// and defaults that make `countersign dev` work with nothing set.
package config

import (
	"crypto/ed25519"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/codec"
	"github.com/countersign/countersign/internal/config/flagenv"
	"github.com/countersign/countersign/internal/ocr"
	"github.com/countersign/countersign/internal/pageimage"
	"github.com/countersign/countersign/internal/pdfium"
	"github.com/countersign/countersign/internal/provenance"
)

// Config is the whole configuration of the server roles.
type Config struct {
	// DataDir holds everything `countersign dev` keeps: the Temporal and
	// store databases, the admin token, logs.
	DataDir string
	// HTTPAddr is where the API listens; PublicURL is where people reach it
	// (for links in notices).
	HTTPAddr  string
	PublicURL string
	// SlackUsersFile lists Slack account links to make at start.
	SlackUsersFile string
	// TaskTypesDir is a folder of task type YAML files; empty means the
	// examples built into the binary.
	TaskTypesDir string
	// TemporalPort is the embedded Temporal server's gRPC port (dev and
	// temporal only).
	TemporalPort int
	// TemporalDatabaseURL puts the embedded Temporal server on Postgres
	// instead of SQLite (dev and temporal only).
	TemporalDatabaseURL string
	// TemporalHistoryCacheSize is how many workflows the embedded
	// Temporal server keeps in memory (dev and temporal only).
	TemporalHistoryCacheSize int
	// WorkflowCacheSize is how many workflows a worker process keeps in
	// memory between their steps (dev and worker only).
	WorkflowCacheSize int

	// TemporalAddress, Namespace and the TLS files say how the production
	// roles reach Temporal.
	TemporalAddress       string
	Namespace             string
	TemporalTLSCert       string
	TemporalTLSKey        string
	TemporalTLSCA         string
	TemporalTLSServerName string
	// DatabaseURL is the Postgres database of the production roles.
	DatabaseURL string

	// MaxBodyBytes bounds API request bodies; MaxDocumentBytes bounds a
	// document's content.
	MaxBodyBytes     int64
	MaxDocumentBytes int
	// PDF bounds what reading one submitted PDF may cost.
	PDF pdfium.Limits
	// OCR says which Tesseract reads scans (images, PDF pages without a
	// text layer) and bounds what reading one may cost.
	OCR ocr.Config
	// PageCacheBytes bounds the in-memory cache of rendered page images
	// (internal/pageimage).
	PageCacheBytes int64
	// OpenAIBaseURL, OpenAIModel and OpenAIKey configure the openai
	// extractor for the task types that do not configure it themselves.
	// The key comes only from the environment (OPENAI_API_KEY).
	OpenAIBaseURL string
	OpenAIModel   string
	OpenAIKey     string
	// ModelAttempts is how many times a failing model call is tried before
	// the document goes to a person without a draft.
	ModelAttempts int
	// WebhookURL is told when documents are delivered and when a
	// supervisor tightens or resets a policy; WebhookSecret signs the
	// calls and comes only from the environment (COUNTERSIGN_WEBHOOK_SECRET).
	WebhookURL    string
	WebhookSecret string

	// EncryptionKeyFile holds the keyring that encrypts Temporal payloads;
	// Encryption is that keyring, read from the file or from
	// COUNTERSIGN_ENCRYPTION_KEYS (the environment only, being secret). Nil
	// leaves payloads in clear.
	EncryptionKeyFile string
	Encryption        *codec.Keyring
	// EncryptDocuments encrypts document bodies in the store with the same
	// keyring.
	EncryptDocuments bool
	// CodecHTTPAddr is where `countersign codec-server` listens; UIOrigins
	// are the Temporal web UIs it answers from a browser (CORS).
	CodecHTTPAddr string
	UIOrigins     []string

	// LogLevel is debug, info, warn or error; LogFormat is text or json.
	LogLevel  string
	LogFormat string

	// ReconcileInterval is how often a worker starts the review of documents
	// stored without one and closes reviews whose workflow was terminated.
	ReconcileInterval time.Duration
	// AuditSettle is how long after an audit review's creation time the
	// supervisor waits before it counts or passes it.
	AuditSettle time.Duration
	// ClaimLease is how long a claim holds a review unless renewed.
	ClaimLease time.Duration

	// MetricsAddr is where the worker role serves GET /metrics; empty
	// serves none (the API serves /metrics on its own address). Traces and
	// OTLP metrics are configured by the standard OTEL_* variables.
	MetricsAddr string

	// MaxFields bounds the fields of a decision or veto, MaxMetadataKeys the
	// metadata keys of a submitted document. RateLimit is how many requests
	// per second one API token may make on average (0 turns the limit off)
	// and RateBurst how many at once.
	MaxFields       int
	MaxMetadataKeys int
	RateLimit       float64
	RateBurst       int
	// MaxReasonBytes bounds the reason of a decision, veto or policy reset,
	// MaxFieldValueBytes each field value of a decision or veto (as JSON);
	// ReadTimeout how long a request's body may take to arrive. See
	// CheckLimits.
	MaxReasonBytes     int
	MaxFieldValueBytes int
	ReadTimeout        time.Duration

	// OIDCIssuer turns on OIDC bearer tokens from that issuer for the API,
	// beside API tokens; OIDCAudience is the aud they must carry. The claim
	// names say where the user, the role values and the groups are, and
	// OIDCRoles maps role values to roles (VALUE=ROLE,...); see OIDC.
	OIDCIssuer      string
	OIDCAudience    string
	OIDCUserClaim   string
	OIDCRoleClaim   string
	OIDCGroupsClaim string
	OIDCRoles       string
	// OIDCClientID, OIDCClientSecret and OIDCRedirectURL let people sign in
	// to the web page through the issuer; see AddOIDCSignIn.
	OIDCClientID     string
	OIDCClientSecret string
	OIDCRedirectURL  string

	// DecisionSigningKeyFile holds the API's Ed25519 key that signs the
	// decisions it sends to workflows, DecisionVerifyKeysFile the public
	// keys the workers accept them from; DecisionSigner and
	// DecisionVerifyKeys are what was read (see DecisionKeys).
	DecisionSigningKeyFile string
	DecisionVerifyKeysFile string
	DecisionSigner         *provenance.Signer
	DecisionVerifyKeys     []ed25519.PublicKey

	// Slack: SlackBotToken (xoxb-) posts review messages and turns Slack
	// on; SlackSigningSecret verifies the HTTP interactions and commands;
	// SlackAppToken (xapp-) turns on Socket Mode instead of a public
	// endpoint. SlackChannel is where reviews are posted when the task type
	// names no channel; SlackAPIURL replaces Slack's Web API (proxies,
	// tests). See AddSlack.
	SlackBotToken      string
	SlackSigningSecret string
	SlackAppToken      string
	SlackChannel       string
	SlackAPIURL        string

	// Mail: SMTPAddr turns e-mail notices on (see AddMail).
	SMTPAddr       string
	SMTPUsername   string
	SMTPPassword   string
	SMTPInsecure   bool
	MailFrom       string
	MailTo         string
	MailGroupsFile string
}

// EnvPrefix starts the environment variable of every flag; see flagenv.
const EnvPrefix = flagenv.EnvPrefix

// Env returns the environment variable that backs a flag.
func Env(flag string) string { return flagenv.Env(flag) }

// Setting names a flag and its variable for messages; see flagenv.Setting.
func Setting(flag string) string { return flagenv.Setting(flag) }

func usage(flag, text string) string { return fmt.Sprintf("%s (env %s)", text, Env(flag)) }

// AddDataDir adds --data-dir.
func (c *Config) AddDataDir(fs *pflag.FlagSet) {
	fs.StringVar(&c.DataDir, "data-dir", ".countersign", usage("data-dir", "folder for the embedded stack's state: Temporal and store databases, admin token, logs"))
}

// AddServer adds the flags every server role has.
func (c *Config) AddServer(fs *pflag.FlagSet) {
	fs.StringVar(&c.TaskTypesDir, "task-types", "", usage("task-types", "folder of task type YAML files (default: the examples built into the binary)"))
	c.AddLog(fs)
}

// AddLog adds the flags of the log.
func (c *Config) AddLog(fs *pflag.FlagSet) {
	fs.StringVar(&c.LogLevel, "log-level", "info", usage("log-level", "log level: debug, info, warn or error"))
	fs.StringVar(&c.LogFormat, "log-format", "text", usage("log-format", "log format: text or json"))
}

// AddHTTP adds the flags of the API.
func (c *Config) AddHTTP(fs *pflag.FlagSet) {
	fs.StringVar(&c.HTTPAddr, "http", "127.0.0.1:8080", usage("http", "address the HTTP API listens on"))
	fs.Int64Var(&c.MaxBodyBytes, "max-body", 8<<20, usage("max-body", "largest request body accepted, in bytes"))
	fs.IntVar(&c.MaxDocumentBytes, "max-document", 5<<20, usage("max-document", "largest document accepted, in bytes"))
	c.addPDF(fs)
	c.addOCR(fs)
	c.addLimits(fs)
}

// addPDF adds the limits on reading a submitted PDF.
func (c *Config) addPDF(fs *pflag.FlagSet) {
	fs.IntVar(&c.PDF.MaxBytes, "pdf-max-bytes", pdfium.DefaultMaxBytes, usage("pdf-max-bytes", "largest PDF accepted, in bytes"))
	fs.IntVar(&c.PDF.MaxPages, "pdf-max-pages", pdfium.DefaultMaxPages, usage("pdf-max-pages", "most pages a PDF may have"))
	fs.DurationVar(&c.PDF.PageTimeout, "pdf-page-timeout", pdfium.DefaultPageTimeout, usage("pdf-page-timeout", "longest reading one page of a PDF may take"))
	fs.Int64Var(&c.PDF.MemoryBytes, "pdf-memory-bytes", pdfium.DefaultMemoryBytes, usage("pdf-memory-bytes", "memory one PDF reader (a PDFium WebAssembly instance) may use, in bytes"))
	fs.IntVar(&c.PDF.Instances, "pdf-readers", pdfium.DefaultInstances, usage("pdf-readers", "PDFs read at once (each reader holds up to pdf-memory-bytes); more wait"))
	fs.Int64Var(&c.PageCacheBytes, "page-cache-bytes", pageimage.DefaultCacheBytes, usage("page-cache-bytes", "memory the rendered page images people see are cached in, in bytes (never on disk; negative turns the cache off)"))
	fs.IntVar(&c.PDF.MaxPagePixels, "pdf-max-page-pixels", pdfium.DefaultMaxPagePixels, usage("pdf-max-page-pixels", "most pixels (width times height) one rendered PDF page image may have"))
}

// addOCR adds the OCR of scans: which Tesseract, which language, and the
// limits on reading one.
func (c *Config) addOCR(fs *pflag.FlagSet) {
	fs.StringVar(&c.OCR.Tesseract, "tesseract", ocr.DefaultTesseract, usage("tesseract", "Tesseract command that reads scans, looked up on the PATH when a scan is read (Debian: apt-get install tesseract-ocr); without it scans are refused and text PDFs still read"))
	fs.StringVar(&c.OCR.Language, "ocr-language", ocr.DefaultLanguage, usage("ocr-language", "Tesseract language(s) scans are read in, such as eng or eng+deu (each needs its tesseract-ocr-<lang> package)"))
	fs.IntVar(&c.OCR.MaxBytes, "ocr-max-bytes", ocr.DefaultMaxBytes, usage("ocr-max-bytes", "largest image (PNG, JPEG, TIFF) accepted, in bytes"))
	fs.Int64Var(&c.OCR.MaxPixels, "ocr-max-pixels", ocr.DefaultMaxPixels, usage("ocr-max-pixels", "most pixels an image may declare, or a scanned PDF page be rendered with, checked before decoding"))
	fs.IntVar(&c.OCR.MaxPages, "ocr-max-pages", ocr.DefaultMaxPages, usage("ocr-max-pages", "most scanned pages of one document read by OCR"))
	fs.DurationVar(&c.OCR.PageTimeout, "ocr-page-timeout", ocr.DefaultPageTimeout, usage("ocr-page-timeout", "longest reading one scanned page may take"))
	fs.Int64Var(&c.OCR.MemoryBytes, "ocr-memory-bytes", ocr.DefaultMemoryBytes, usage("ocr-memory-bytes", "address space one Tesseract run may use, in bytes"))
	fs.IntVar(&c.OCR.Workers, "ocr-workers", ocr.DefaultWorkers, usage("ocr-workers", "scanned pages read at once (one Tesseract process, one thread each); more wait"))
}

// addLimits adds the API's limits on fields, reasons and field values, on
// how long a request's body may take, and on each token's rate.
func (c *Config) addLimits(fs *pflag.FlagSet) {
	fs.IntVar(&c.MaxFields, "max-fields", 200, usage("max-fields", "most fields in a decision or veto"))
	fs.IntVar(&c.MaxMetadataKeys, "max-metadata-keys", 200, usage("max-metadata-keys", "most metadata keys on a submitted document"))
	fs.Float64Var(&c.RateLimit, "rate-limit", 50, usage("rate-limit", "requests per second one API token may make on average, per API process (0 turns the limit off)"))
	fs.IntVar(&c.RateBurst, "rate-burst", 100, usage("rate-burst", "requests one API token may make at once before --rate-limit applies"))
	fs.IntVar(&c.MaxReasonBytes, "max-reason", 4<<10, usage("max-reason", fmt.Sprintf("largest reason of a decision, veto or policy reset, in bytes (at most %d)", countersign.MaxReasonBytes)))
	fs.IntVar(&c.MaxFieldValueBytes, "max-field-value", 16<<10, usage("max-field-value", fmt.Sprintf("largest field value in a decision or veto, in bytes of JSON (at most %d)", countersign.MaxFieldValueBytes)))
	fs.DurationVar(&c.ReadTimeout, "read-timeout", 30*time.Second, usage("read-timeout", "longest a request's body may take to arrive, from the end of its headers; past it the request gets 400 and its connection is closed"))
}

// CheckLimits reports an input limit that cannot hold: a reason or field
// value limit that is negative, or above the ceiling every workflow
// enforces, which would let the API pass what the workflow then refuses; a
// negative read timeout. Zero, as in a Config made in code, is the API's
// default.
func (c *Config) CheckLimits() error {
	for _, l := range []struct {
		flag       string
		value, max int
	}{
		{"max-reason", c.MaxReasonBytes, countersign.MaxReasonBytes},
		{"max-field-value", c.MaxFieldValueBytes, countersign.MaxFieldValueBytes},
	} {
		if l.value < 0 || l.value > l.max {
			return fmt.Errorf("--%s (%s) is %d: give 1 to %d bytes, the most a workflow accepts", l.flag, Env(l.flag), l.value, l.max)
		}
	}
	if c.ReadTimeout < 0 {
		return fmt.Errorf("--read-timeout (%s) is %s: give a duration, such as 30s", Env("read-timeout"), c.ReadTimeout)
	}
	if err := c.OCR.Check(); err != nil {
		return fmt.Errorf("--%w (%s)", err, Env("ocr-language"))
	}
	return nil
}

// The environment variables of OpenAI's own clients, which the openai
// extractor honours too.
const (
	EnvOpenAIBaseURL = "OPENAI_BASE_URL"
	EnvOpenAIKey     = "OPENAI_API_KEY"
)

// AddModel adds the flags of the openai extractor.
func (c *Config) AddModel(fs *pflag.FlagSet) {
	fs.StringVar(&c.OpenAIBaseURL, "openai-base-url", "", fmt.Sprintf("OpenAI-compatible endpoint for the openai extractor, such as http://localhost:11434/v1 (env %s; the key is read from %s)", EnvOpenAIBaseURL, EnvOpenAIKey))
	fs.StringVar(&c.OpenAIModel, "openai-model", "", usage("openai-model", "model for task types that name none (default: gpt-4o-mini on OpenAI, else the endpoint's first model)"))
	fs.IntVar(&c.ModelAttempts, "model-attempts", 5, usage("model-attempts", "attempts at a model call that fails with 429, 5xx or no answer before the document goes to a person without a draft"))
}

// EnvWebhookSecret holds the secret that signs webhook calls.
const EnvWebhookSecret = EnvPrefix + "WEBHOOK_SECRET"

// AddWebhook adds --webhook-url.
func (c *Config) AddWebhook(fs *pflag.FlagSet) {
	fs.StringVar(&c.WebhookURL, "webhook-url", "", fmt.Sprintf("URL told, by a signed POST, when a document's outcome is delivered or corrected after audit and when a policy is tightened or reset (env %s; the signing secret is read from %s)", Env("webhook-url"), EnvWebhookSecret))
}

// WebhookFromEnv reads the webhook's signing secret and checks the URL.
func (c *Config) WebhookFromEnv() error {
	c.WebhookSecret = os.Getenv(EnvWebhookSecret)
	if c.WebhookURL == "" {
		return nil
	}
	u, err := url.Parse(c.WebhookURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%s: %q is not an http(s) URL", Setting("webhook-url"), c.WebhookURL)
	}
	if c.WebhookSecret == "" {
		return fmt.Errorf("%s is set but %s is empty: receivers could not tell countersign's calls from anyone's", Setting("webhook-url"), EnvWebhookSecret)
	}
	return nil
}

// ModelFromEnv fills the openai extractor's endpoint and key from OpenAI's
// environment variables: OPENAI_BASE_URL when --openai-base-url is not set,
// and OPENAI_API_KEY.
func (c *Config) ModelFromEnv() {
	if c.OpenAIBaseURL == "" {
		c.OpenAIBaseURL = os.Getenv(EnvOpenAIBaseURL)
	}
	c.OpenAIKey = os.Getenv(EnvOpenAIKey)
}

// ModelConfigured reports whether a model endpoint is configured, which
// turns the auto extractor of the examples to the model.
func (c *Config) ModelConfigured() bool { return c.OpenAIBaseURL != "" || c.OpenAIKey != "" }

// AddDev adds the flags only `countersign dev` has.
func (c *Config) AddDev(fs *pflag.FlagSet) {
	fs.IntVar(&c.TemporalPort, "temporal-port", 7233, usage("temporal-port", "gRPC port of the embedded Temporal server (0 picks a free one)"))
	fs.StringVar(&c.Namespace, "namespace", "default", usage("namespace", "Temporal namespace, created on first start"))
	fs.IntVar(&c.TemporalHistoryCacheSize, "temporal-history-cache-size", DefaultTemporalHistoryCacheSize, usage("temporal-history-cache-size",
		"workflows the embedded Temporal server keeps in memory; the others are read from its database when they next move, so an open review parked beyond it costs disk, not memory"))
}

// The default cache sizes: enough for every review a team has in hand, and
// for the documents in flight, while a backlog of parked reviews costs disk
// (docs/operations.md: Memory of parked reviews).
const (
	DefaultTemporalHistoryCacheSize = 1024
	DefaultWorkflowCacheSize        = 1024
)

// AddWorker adds the flags of the roles that run a worker.
func (c *Config) AddWorker(fs *pflag.FlagSet) {
	fs.IntVar(&c.WorkflowCacheSize, "workflow-cache-size", DefaultWorkflowCacheSize, usage("workflow-cache-size",
		"workflows a worker process keeps in memory between their steps; the others are replayed from their history when they next move (a decision, a timer), so an open review parked beyond it costs disk, not memory"))
}

// CheckCacheSize checks the size a cache flag gives.
func CheckCacheSize(flag string, size int) error {
	if size < 1 {
		return fmt.Errorf("%s is %d: give at least 1 workflow", Setting(flag), size)
	}
	return nil
}

// AddTemporalDatabase adds --temporal-database-url, of the Temporal server
// that `countersign dev` embeds and `countersign temporal` runs.
func (c *Config) AddTemporalDatabase(fs *pflag.FlagSet) {
	fs.StringVar(&c.TemporalDatabaseURL, "temporal-database-url", "", usage("temporal-database-url",
		"Postgres URL of the Temporal server's own database, such as postgres://temporal:password@db:5432/temporal; its visibility records go to a second database on the same server, named after it with _visibility; both, and Temporal's schema in them, are created or updated on start (dev: SQLite in --data-dir when empty)"))
}

// AddTemporal adds the flags that say how to reach a Temporal cluster.
func (c *Config) AddTemporal(fs *pflag.FlagSet) {
	fs.StringVar(&c.TemporalAddress, "temporal-address", "127.0.0.1:7233", usage("temporal-address", "Temporal frontend host:port"))
	fs.StringVar(&c.Namespace, "namespace", "default", usage("namespace", "Temporal namespace"))
	fileVar(fs, &c.TemporalTLSCert, "temporal-tls-cert", usage("temporal-tls-cert", "client certificate for mutual TLS to Temporal"))
	fileVar(fs, &c.TemporalTLSKey, "temporal-tls-key", usage("temporal-tls-key", "client key for mutual TLS to Temporal"))
	fileVar(fs, &c.TemporalTLSCA, "temporal-tls-ca", usage("temporal-tls-ca", "CA bundle to verify Temporal's certificate"))
	fs.StringVar(&c.TemporalTLSServerName, "temporal-tls-server-name", "", usage("temporal-tls-server-name", "server name to verify in Temporal's certificate (turns TLS on)"))
}

// AddMetrics adds --metrics, for roles without the API's address.
func (c *Config) AddMetrics(fs *pflag.FlagSet) {
	fs.StringVar(&c.MetricsAddr, "metrics", "", usage("metrics", "address to serve Prometheus metrics on, at GET /metrics, such as :9464 (default: none; OTEL_METRICS_EXPORTER=otlp pushes them instead)"))
}

// AddDatabase adds --database-url.
func (c *Config) AddDatabase(fs *pflag.FlagSet) {
	fs.StringVar(&c.DatabaseURL, "database-url", "", usage("database-url", "Postgres URL, postgres://user:password@host:5432/db"))
}

// EnvEncryptionKeys holds the keyring that encrypts Temporal payloads, as
// ID:BASE64KEY entries separated by commas, the first one encrypting.
const EnvEncryptionKeys = EnvPrefix + "ENCRYPTION_KEYS"

// AddEncryption adds --encryption-key-file.
func (c *Config) AddEncryption(fs *pflag.FlagSet) {
	fileVar(fs, &c.EncryptionKeyFile, "encryption-key-file", fmt.Sprintf("file of AES-256 keys that encrypt Temporal payloads, one ID:BASE64KEY a line, the first one encrypting (env %s; or give the keys themselves, comma-separated, in %s)", Env("encryption-key-file"), EnvEncryptionKeys))
	fs.BoolVar(&c.EncryptDocuments, "encrypt-documents", false, fmt.Sprintf("also encrypt document bodies in the store with those keys; bodies stored in clear before still read (env %s)", Env("encrypt-documents")))
}

// EncryptionFromEnv reads the keyring from --encryption-key-file or from
// COUNTERSIGN_ENCRYPTION_KEYS, and checks every key. With neither set,
// payloads stay in clear. A keyring that is set but cannot be used (an
// unreadable file, an empty variable, a bad key) is an error naming where it
// was set, and so is --encrypt-documents without one: encryption an operator
// asked for is never left off.
func (c *Config) EncryptionFromEnv() error {
	text, fromEnv := os.LookupEnv(EnvEncryptionKeys)
	where := EnvEncryptionKeys
	switch {
	case c.EncryptionKeyFile != "" && fromEnv:
		return fmt.Errorf("both %s and %s are set: keep the keys in one place, so that which one encrypts is clear", Setting("encryption-key-file"), EnvEncryptionKeys)
	case c.EncryptionKeyFile != "":
		where = fmt.Sprintf("%s %s", Setting("encryption-key-file"), c.EncryptionKeyFile)
		raw, err := os.ReadFile(c.EncryptionKeyFile)
		if err != nil {
			return fmt.Errorf("%s: %w", Setting("encryption-key-file"), err)
		}
		text = string(raw)
	case !fromEnv:
		c.Encryption = nil
		if c.EncryptDocuments {
			return fmt.Errorf("%s needs keys: set %s or %s", Setting("encrypt-documents"), Setting("encryption-key-file"), EnvEncryptionKeys)
		}
		return nil
	}
	keys, err := codec.ParseKeyring(text)
	if err != nil {
		return fmt.Errorf("%s: %w", where, err)
	}
	c.Encryption = keys
	return nil
}

// AddCodecServer adds the flags of `countersign codec-server`.
func (c *Config) AddCodecServer(fs *pflag.FlagSet) {
	fs.StringVar(&c.CodecHTTPAddr, "codec-http", "127.0.0.1:8089", usage("codec-http", "address the codec server listens on"))
	fs.StringSliceVar(&c.UIOrigins, "ui-origin", nil, usage("ui-origin", "origin of a Temporal web UI allowed to call from a browser, such as https://temporal.example.com or http://localhost:8233; repeat or separate with commas"))
}

// CheckUIOrigins reports a --ui-origin that is not a bare web origin.
func (c *Config) CheckUIOrigins() error {
	for _, origin := range c.UIOrigins {
		u, err := url.Parse(origin)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
			return fmt.Errorf("--ui-origin %q is not an origin: give scheme://host[:port], as the browser's address bar shows it, without a path", origin)
		}
	}
	for i, origin := range c.UIOrigins {
		c.UIOrigins[i] = strings.TrimSuffix(origin, "/")
	}
	return nil
}

// FromEnv sets every flag the command line did not set from its
// environment variable; see flagenv.FromEnv.
func FromEnv(fs *pflag.FlagSet, flagOnly func(name string) bool) error {
	return flagenv.FromEnv(fs, flagOnly)
}

// fileVar adds a flag whose value is a file countersign reads, which
// CheckFiles opens before anything starts.
func fileVar(fs *pflag.FlagSet, p *string, name, usage string) {
	fs.StringVar(p, name, "", usage)
	flagenv.MarkFile(fs, name)
}

// ReadsFile reports whether the flag names a file countersign reads; see
// flagenv.ReadsFile.
func ReadsFile(f *pflag.Flag) bool { return flagenv.ReadsFile(f) }

// CheckFiles opens every file a flag of fs names; see flagenv.CheckFiles.
func CheckFiles(fs *pflag.FlagSet) error { return flagenv.CheckFiles(fs) }

// CheckProduction reports what is missing for the worker and api roles.
func (c *Config) CheckProduction() error {
	if c.DatabaseURL == "" {
		return fmt.Errorf("--database-url (or %s) is required: the worker and api roles keep their state in Postgres", Env("database-url"))
	}
	if !strings.HasPrefix(c.DatabaseURL, "postgres://") && !strings.HasPrefix(c.DatabaseURL, "postgresql://") {
		return fmt.Errorf("--database-url must be a postgres:// URL")
	}
	return nil
}
