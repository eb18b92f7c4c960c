package devserver

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"

	"go.temporal.io/server/common/config"
	"go.temporal.io/server/common/log"
	postgresplugin "go.temporal.io/server/common/persistence/sql/sqlplugin/postgresql"
	"go.temporal.io/server/tools/common/schema"
	sqltool "go.temporal.io/server/tools/sql"
)

// Temporal's schemas for the postgres12 plugin, as embedded in
// go.temporal.io/server/schema: each a versioned/ folder of the changes
// from 0.0 up to the version this server needs.
const (
	postgresSchema           = "postgresql/v12/temporal"
	postgresVisibilitySchema = "postgresql/v12/visibility"
)

// VisibilitySuffix ends the name of the database that holds Temporal's
// visibility records, beside the database a Postgres URL names: the server
// of postgres://…/temporal keeps them in temporal_visibility.
const VisibilitySuffix = "_visibility"

// postgresShards is the number of history shards of a server on Postgres.
// Temporal stores it at the first start and refuses to start with another,
// so it is fixed for the life of the database. Four let one machine's
// history service work on several workflows' transactions at once, where
// SQLite, one writer at a time, gains nothing from more than one.
const postgresShards = 4

// Connections per store and Temporal service; the server has four services
// in one process, each with its own pools, so a Postgres server with the
// default max_connections (100) keeps room for countersign's own store.
const (
	postgresMaxConns           = 8
	postgresVisibilityMaxConns = 4
)

// postgresConfigs makes a Postgres URL into the SQL configuration of
// Temporal's database and of its visibility database (VisibilitySuffix).
// The URL's query parameters (sslmode, sslrootcert, …) are passed to the
// driver as they are; without sslmode, TLS is off, as Temporal's plugin
// defaults.
func postgresConfigs(rawURL string) (main, visibility *config.SQL, err error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, nil, fmt.Errorf("Temporal database URL: %w", err)
	}
	if u.Scheme != "postgres" && u.Scheme != "postgresql" {
		return nil, nil, fmt.Errorf("Temporal database URL: scheme %q, want postgres://user:password@host:5432/database", u.Scheme)
	}
	name := strings.TrimPrefix(u.Path, "/")
	if name == "" || strings.Contains(name, "/") {
		return nil, nil, errors.New("Temporal database URL: name one database, as in postgres://user:password@host:5432/temporal")
	}
	host, port := u.Hostname(), u.Port()
	if host == "" {
		return nil, nil, errors.New("Temporal database URL: no host")
	}
	if port == "" {
		port = "5432"
	}
	attrs := map[string]string{}
	for key, values := range u.Query() {
		if len(values) != 1 {
			return nil, nil, fmt.Errorf("Temporal database URL: parameter %s given %d times", key, len(values))
		}
		attrs[key] = values[0]
	}
	password, _ := u.User.Password()
	main = &config.SQL{
		PluginName:        postgresplugin.PluginName,
		User:              u.User.Username(),
		Password:          password,
		DatabaseName:      name,
		ConnectAddr:       net.JoinHostPort(host, port),
		ConnectProtocol:   "tcp",
		ConnectAttributes: attrs,
		MaxConns:          postgresMaxConns,
		MaxIdleConns:      postgresMaxConns,
	}
	vis := *main
	vis.DatabaseName = name + VisibilitySuffix
	vis.MaxConns, vis.MaxIdleConns = postgresVisibilityMaxConns, postgresVisibilityMaxConns
	return main, &vis, nil
}

// preparePostgres creates Temporal's two databases when they are missing
// and brings their schemas to the versions this server needs, with
// Temporal's own schema tool: the version tables on first use, then every
// versioned change the database has not had (none on a later start).
func preparePostgres(opts Options, logger log.Logger) (*stores, error) {
	main, vis, err := postgresConfigs(opts.DatabaseURL)
	if err != nil {
		return nil, fmt.Errorf("devserver: %w", err)
	}
	for _, db := range []struct {
		conf   *config.SQL
		schema string
	}{{main, postgresSchema}, {vis, postgresVisibilitySchema}} {
		if err := setupPostgres(db.conf, db.schema, logger); err != nil {
			return nil, fmt.Errorf("devserver: Temporal database %s on %s: %w", db.conf.DatabaseName, db.conf.ConnectAddr, err)
		}
	}
	return &stores{main: main, visibility: vis, shards: postgresShards}, nil
}

// setupPostgres does for one database what Temporal's temporal-sql-tool
// create-database, setup-schema -v 0.0 and update-schema -d <versioned> do.
func setupPostgres(conf *config.SQL, schemaName string, logger log.Logger) error {
	// A login that may not create databases may still own one made for it:
	// a refusal here only matters if connecting to it fails below.
	admin := *conf
	createErr := sqltool.DoCreateDatabase(&admin, "postgres", logger)
	conn, err := sqltool.NewConnection(conf, logger)
	if err != nil {
		return errors.Join(err, createErr)
	}
	defer conn.Close()
	setup := schema.NewSetupSchemaTask(conn, &schema.SetupConfig{InitialVersion: "0.0"}, logger)
	if err := setup.Run(); err != nil {
		return errors.Join(fmt.Errorf("schema version tables: %w", err), createErr)
	}
	update := schema.NewUpdateSchemaTask(conn, &schema.UpdateConfig{DBName: conf.DatabaseName, SchemaName: schemaName}, logger)
	if err := update.Run(); err != nil {
		return fmt.Errorf("update schema %s: %w", schemaName, err)
	}
	return nil
}

// postgresName says where a Postgres URL puts Temporal, without the
// password: host:port/database and its visibility database.
func postgresName(rawURL string) string {
	main, vis, err := postgresConfigs(rawURL)
	if err != nil {
		return "Postgres"
	}
	return fmt.Sprintf("Postgres %s/%s and %s", main.ConnectAddr, main.DatabaseName, vis.DatabaseName)
}
