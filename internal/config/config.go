// Package config is countersign's configuration: one struct, filled from
// command-line flags, with COUNTERSIGN_* environment variables as fallbacks
// and defaults that make `countersign dev` work with nothing set.
package config

import (
	"fmt"
	"net/url"
	"os"
	"slices"
	"strings"

	"github.com/spf13/pflag"
)

// Config is the whole configuration of the server roles.
type Config struct {
	// DataDir holds everything `countersign dev` keeps: the Temporal and
	// store databases, the admin token, logs.
	DataDir string
	// HTTPAddr is where the API listens.
	HTTPAddr string
	// TaskTypesDir is a folder of task type YAML files; empty means the
	// examples built into the binary.
	TaskTypesDir string
	// TemporalPort is the embedded Temporal server's gRPC port (dev only).
	TemporalPort int

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

	// LogLevel is debug, info, warn or error; LogFormat is text or json.
	LogLevel  string
	LogFormat string
}

// EnvPrefix starts the environment variable of every flag: --data-dir is
// also COUNTERSIGN_DATA_DIR.
const EnvPrefix = "COUNTERSIGN_"

// Env returns the environment variable that backs a flag.
func Env(flag string) string {
	return EnvPrefix + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

func usage(flag, text string) string { return fmt.Sprintf("%s (env %s)", text, Env(flag)) }

// AddDataDir adds --data-dir.
func (c *Config) AddDataDir(fs *pflag.FlagSet) {
	fs.StringVar(&c.DataDir, "data-dir", ".countersign", usage("data-dir", "folder for the embedded stack's state: Temporal and store databases, admin token, logs"))
}

// AddServer adds the flags every server role has.
func (c *Config) AddServer(fs *pflag.FlagSet) {
	fs.StringVar(&c.TaskTypesDir, "task-types", "", usage("task-types", "folder of task type YAML files (default: the examples built into the binary)"))
	fs.StringVar(&c.LogLevel, "log-level", "info", usage("log-level", "log level: debug, info, warn or error"))
	fs.StringVar(&c.LogFormat, "log-format", "text", usage("log-format", "log format: text or json"))
}

// AddHTTP adds the flags of the API.
func (c *Config) AddHTTP(fs *pflag.FlagSet) {
	fs.StringVar(&c.HTTPAddr, "http", "127.0.0.1:8080", usage("http", "address the HTTP API listens on"))
	fs.Int64Var(&c.MaxBodyBytes, "max-body", 8<<20, usage("max-body", "largest request body accepted, in bytes"))
	fs.IntVar(&c.MaxDocumentBytes, "max-document", 5<<20, usage("max-document", "largest document accepted, in bytes"))
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
		return fmt.Errorf("--webhook-url %q is not an http(s) URL", c.WebhookURL)
	}
	if c.WebhookSecret == "" {
		return fmt.Errorf("--webhook-url is set but %s is empty: receivers could not tell countersign's calls from anyone's", EnvWebhookSecret)
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
}

// AddTemporal adds the flags that say how to reach a Temporal cluster.
func (c *Config) AddTemporal(fs *pflag.FlagSet) {
	fs.StringVar(&c.TemporalAddress, "temporal-address", "127.0.0.1:7233", usage("temporal-address", "Temporal frontend host:port"))
	fs.StringVar(&c.Namespace, "namespace", "default", usage("namespace", "Temporal namespace"))
	fs.StringVar(&c.TemporalTLSCert, "temporal-tls-cert", "", usage("temporal-tls-cert", "client certificate for mutual TLS to Temporal"))
	fs.StringVar(&c.TemporalTLSKey, "temporal-tls-key", "", usage("temporal-tls-key", "client key for mutual TLS to Temporal"))
	fs.StringVar(&c.TemporalTLSCA, "temporal-tls-ca", "", usage("temporal-tls-ca", "CA bundle to verify Temporal's certificate"))
	fs.StringVar(&c.TemporalTLSServerName, "temporal-tls-server-name", "", usage("temporal-tls-server-name", "server name to verify in Temporal's certificate (turns TLS on)"))
}

// AddDatabase adds --database-url.
func (c *Config) AddDatabase(fs *pflag.FlagSet) {
	fs.StringVar(&c.DatabaseURL, "database-url", "", usage("database-url", "Postgres URL, postgres://user:password@host:5432/db"))
}

// FromEnv sets every flag the command line did not set from its environment
// variable, if that is set. With names, only those flags have one.
func FromEnv(fs *pflag.FlagSet, names ...string) error {
	var err error
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Changed || err != nil {
			return
		}
		if len(names) > 0 && !slices.Contains(names, f.Name) {
			return
		}
		if v, ok := os.LookupEnv(Env(f.Name)); ok {
			if setErr := fs.Set(f.Name, v); setErr != nil {
				err = fmt.Errorf("%s=%q: %w", Env(f.Name), v, setErr)
			}
		}
	})
	return err
}

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
