// Package devserver runs a real Temporal server inside the process, persisted
// to a SQLite file or to Postgres: the engine behind `countersign dev`,
// `countersign temporal` and the end-to-end tests. It is the same server code
// a cluster runs (go.temporal.io/server), with all four services in one
// process: one history shard on SQLite, four on Postgres.
package devserver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/google/uuid"
	"go.temporal.io/server/common/authorization"
	"go.temporal.io/server/common/cluster"
	"go.temporal.io/server/common/config"
	"go.temporal.io/server/common/dynamicconfig"
	"go.temporal.io/server/common/log"
	"go.temporal.io/server/common/membership/static"
	sqliteplugin "go.temporal.io/server/common/persistence/sql/sqlplugin/sqlite"
	"go.temporal.io/server/common/primitives"
	"go.temporal.io/server/common/primitives/timestamp"
	sqliteschema "go.temporal.io/server/schema/sqlite"
	"go.temporal.io/server/temporal"
)

// clusterName names the single cluster of the dev server.
const clusterName = "countersign-dev"

// Options configure a dev server.
type Options struct {
	// DatabaseFile is the SQLite file Temporal persists to; it and its schema
	// are created on first start.
	DatabaseFile string
	// DatabaseURL, set instead of DatabaseFile, puts Temporal on Postgres
	// (postgres://user:password@host:5432/temporal?sslmode=…), with its
	// visibility records in a second database on the same server, named
	// after the first with VisibilitySuffix. Both are created when missing
	// (the login needs CREATEDB for that, or an administrator makes them
	// for it), and their schemas created or brought up to date on every
	// start.
	DatabaseURL string
	// IP is the address services bind to (default 127.0.0.1).
	IP string
	// Port is the frontend gRPC port; 0 picks a free one.
	Port int
	// Namespace is created on first start if missing (default "default").
	Namespace string
	// Retention is how long closed workflow histories are kept (default 30 days).
	Retention time.Duration
	// LogFile receives the server's own log at warn level and above; empty
	// discards it.
	LogFile string
	// CacheSize is how many workflows the history service keeps in memory
	// (default DefaultCacheSize); the others are read from the database
	// when they next move.
	CacheSize int
}

// DefaultCacheSize is the history cache's size when Options name none.
const DefaultCacheSize = 1024

// Server is a running embedded Temporal server.
type Server struct {
	server  temporal.Server
	address string
	storage string
}

// Start creates the database on first use, registers the namespace and starts
// all Temporal services. It returns once the frontend accepts connections.
func Start(ctx context.Context, opts Options) (*Server, error) {
	if (opts.DatabaseFile == "") == (opts.DatabaseURL == "") {
		return nil, errors.New("devserver: give a SQLite database file or a Postgres URL, not both")
	}
	if opts.IP == "" {
		opts.IP = "127.0.0.1"
	}
	if opts.Namespace == "" {
		opts.Namespace = "default"
	}
	if opts.Retention == 0 {
		opts.Retention = 30 * 24 * time.Hour
	}
	if opts.CacheSize <= 0 {
		opts.CacheSize = DefaultCacheSize
	}
	ports, err := freePorts(opts.IP, 5)
	if err != nil {
		return nil, err
	}
	if opts.Port == 0 {
		opts.Port = ports[0]
	}

	var logger log.Logger = log.NewNoopLogger()
	if opts.LogFile != "" {
		logger = log.NewZapLogger(log.BuildZapLogger(log.Config{Level: "warn", OutputFile: opts.LogFile, Format: "json"}))
	}
	var st *stores
	var storage string
	if opts.DatabaseURL != "" {
		st, err = preparePostgres(opts, logger)
		storage = postgresName(opts.DatabaseURL)
	} else {
		st, err = prepareSQLite(opts)
		storage = "SQLite " + opts.DatabaseFile
		if abs, err := filepath.Abs(opts.DatabaseFile); err == nil {
			storage = "SQLite " + abs
		}
	}
	if err != nil {
		return nil, err
	}
	if err := createNamespace(st.main, opts); err != nil {
		return nil, err
	}
	conf := serverConfig(opts, st, ports)
	authorizer, err := authorization.GetAuthorizerFromConfig(&conf.Global.Authorization)
	if err != nil {
		return nil, fmt.Errorf("devserver: authorizer: %w", err)
	}
	claimMapper, err := authorization.GetClaimMapperFromConfig(&conf.Global.Authorization, logger)
	if err != nil {
		return nil, fmt.Errorf("devserver: claim mapper: %w", err)
	}
	hosts := map[primitives.ServiceName]static.Hosts{}
	for _, name := range []primitives.ServiceName{primitives.FrontendService, primitives.HistoryService, primitives.MatchingService, primitives.WorkerService} {
		hosts[name] = static.SingleLocalHost(net.JoinHostPort(opts.IP, strconv.Itoa(conf.Services[string(name)].RPC.GRPCPort)))
	}
	restoreEnv := hideEnv(serverTracingEnv...)
	srv, err := temporal.NewServer(
		temporal.WithConfig(conf),
		temporal.ForServices(temporal.DefaultServices),
		temporal.WithStaticHosts(hosts),
		temporal.WithLogger(logger),
		temporal.WithAuthorizer(authorizer),
		temporal.WithClaimMapper(func(*config.Config) authorization.ClaimMapper { return claimMapper }),
		temporal.WithDynamicConfigClient(dynamicconfig.StaticClient{
			// The history service's cache of workflows (mutable state) is
			// host-level in this version: one bound for the process.
			dynamicconfig.HistoryCacheHostLevelMaxSize.Key(): opts.CacheSize,
			dynamicconfig.TransferProcessorMaxPollRPS.Key():  TransferPollRPS,
		}),
	)
	restoreEnv()
	if err != nil {
		return nil, fmt.Errorf("devserver: %w", err)
	}
	if err := srv.Start(); err != nil {
		return nil, fmt.Errorf("devserver: start: %w", err)
	}
	s := &Server{server: srv, address: net.JoinHostPort(opts.IP, strconv.Itoa(opts.Port)), storage: storage}
	if err := waitForPort(ctx, s.address); err != nil {
		srv.Stop()
		return nil, err
	}
	return s, nil
}

// TransferPollRPS is how many times a second each history shard may read
// its transfer queue, the tasks that hand a workflow's new activity or
// workflow task to matching. Temporal's default, 20, makes every step of
// a workflow that is not dispatched eagerly wait up to 50 ms for the next
// read: a REST decision, which waits for two activities in a row, took
// 100 ms at the median against 7 ms for an Update that runs none, and 24
// ms with this bound (docs/operations.md, Benchmarks). The queue is read
// when a task is written, not polled, so an idle server does not read it
// more; under load it reads in more, smaller batches.
const TransferPollRPS = 1000

// serverTracingEnv are the variables with which the Temporal server would
// export its own spans. They are meant for countersign's spans: the embedded
// server's are its internals, and it refuses exporters countersign accepts
// (console, OTLP over HTTP), which would stop `countersign dev` at start.
var serverTracingEnv = []string{"OTEL_TRACES_EXPORTER", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"}

// hideEnv unsets the variables keys and returns what sets them back. The
// server reads them while it is built, and has no option to ignore them.
func hideEnv(keys ...string) (restore func()) {
	saved := map[string]string{}
	for _, key := range keys {
		if v, ok := os.LookupEnv(key); ok {
			saved[key] = v
			os.Unsetenv(key)
		}
	}
	return func() {
		for key, v := range saved {
			os.Setenv(key, v)
		}
	}
}

// Address is the frontend's host:port, for Temporal clients.
func (s *Server) Address() string { return s.address }

// Storage says where the server persists, for people: the SQLite file, or
// the Postgres server and databases (never the password).
func (s *Server) Storage() string { return s.storage }

// Stop stops all services; the databases keep their state.
func (s *Server) Stop() { s.server.Stop() }

// stores are the SQL stores a server persists to.
type stores struct {
	// main holds workflows, task queues and namespaces; visibility the
	// records that list workflows (the same store on SQLite).
	main, visibility *config.SQL
	// shards is the number of history shards.
	shards int32
}

// prepareSQLite creates the SQLite file with Temporal's schema on first
// start.
func prepareSQLite(opts Options) (*stores, error) {
	conf := &config.SQL{
		PluginName:   sqliteplugin.PluginName,
		DatabaseName: opts.DatabaseFile,
		// Attributes other than SQLite URI parameters become pragmas. WAL
		// with synchronous=NORMAL survives a killed process (committed
		// transactions are in the WAL); a power cut may lose the last ones.
		ConnectAttributes: map[string]string{"mode": "rwc", "journal_mode": "wal", "synchronous": "normal", "busy_timeout": "10000"},
	}
	if _, err := os.Stat(opts.DatabaseFile); errors.Is(err, os.ErrNotExist) {
		if err := os.MkdirAll(filepath.Dir(opts.DatabaseFile), 0o700); err != nil {
			return nil, fmt.Errorf("devserver: %w", err)
		}
		if err := sqliteschema.SetupSchema(conf); err != nil {
			os.Remove(opts.DatabaseFile)
			return nil, fmt.Errorf("devserver: create Temporal schema in %s: %w", opts.DatabaseFile, err)
		}
	}
	return &stores{main: conf, visibility: conf, shards: 1}, nil
}

// createNamespace registers the namespace in the store before the server
// starts, unless it is there: no wait for the server's namespace cache to
// see one registered through the API. CreateNamespaces lives with the SQLite
// schema, but writes through whichever SQL plugin the configuration names.
func createNamespace(conf *config.SQL, opts Options) error {
	ns, err := sqliteschema.NewNamespaceConfig(clusterName, opts.Namespace, false, nil)
	if err != nil {
		return fmt.Errorf("devserver: namespace %s: %w", opts.Namespace, err)
	}
	ns.Detail.Config.Retention = timestamp.DurationPtr(opts.Retention)
	if err := sqliteschema.CreateNamespaces(conf, ns); err != nil {
		return fmt.Errorf("devserver: namespace %s: %w", opts.Namespace, err)
	}
	return nil
}

func serverConfig(opts Options, st *stores, ports []int) *config.Config {
	frontend := net.JoinHostPort(opts.IP, strconv.Itoa(opts.Port))
	service := func(grpcPort, httpPort int) config.Service {
		var s config.Service
		s.RPC.GRPCPort, s.RPC.HTTPPort, s.RPC.BindOnIP = grpcPort, httpPort, opts.IP
		return s
	}
	conf := &config.Config{}
	conf.Global.Membership.MaxJoinDuration = 30 * time.Second
	conf.Global.Membership.BroadcastAddress = opts.IP
	conf.Persistence.DefaultStore = "temporal"
	conf.Persistence.VisibilityStore = "temporal"
	conf.Persistence.NumHistoryShards = st.shards
	conf.Persistence.DataStores = map[string]config.DataStore{"temporal": {SQL: st.main}}
	if st.visibility != st.main {
		conf.Persistence.VisibilityStore = "visibility"
		conf.Persistence.DataStores["visibility"] = config.DataStore{SQL: st.visibility}
	}
	conf.ClusterMetadata = &cluster.Config{
		FailoverVersionIncrement: 10,
		MasterClusterName:        clusterName,
		CurrentClusterName:       clusterName,
		ClusterInformation: map[string]cluster.ClusterInformation{clusterName: {
			Enabled:                true,
			InitialFailoverVersion: 1,
			RPCAddress:             frontend,
			HTTPAddress:            net.JoinHostPort(opts.IP, strconv.Itoa(ports[1])),
			ClusterID:              uuid.NewString(),
		}},
	}
	conf.DCRedirectionPolicy.Policy = "noop"
	conf.Services = map[string]config.Service{
		"frontend": service(opts.Port, ports[1]),
		"history":  service(ports[2], 0),
		"matching": service(ports[3], 0),
		"worker":   service(ports[4], 0),
	}
	conf.Archival.History.State = "disabled"
	conf.Archival.Visibility.State = "disabled"
	conf.NamespaceDefaults.Archival.History.State = "disabled"
	conf.NamespaceDefaults.Archival.Visibility.State = "disabled"
	conf.PublicClient.HostPort = frontend
	return conf
}

// freePorts finds n distinct ports nothing listens on right now.
func freePorts(ip string, n int) ([]int, error) {
	var listeners []net.Listener
	defer func() {
		for _, l := range listeners {
			l.Close()
		}
	}()
	ports := make([]int, 0, n)
	for range n {
		l, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
		if err != nil {
			return nil, fmt.Errorf("devserver: find a free port on %s: %w", ip, err)
		}
		listeners = append(listeners, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

func waitForPort(ctx context.Context, address string) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	for {
		conn, err := (&net.Dialer{Timeout: time.Second}).DialContext(ctx, "tcp", address)
		if err == nil {
			conn.Close()
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("devserver: frontend at %s did not come up: %w", address, err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}
