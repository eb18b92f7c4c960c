package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"sync"
)

// statements runs the queries of one pool of connections on statements
// prepared once and kept. Without them database/sql prepares every query
// anew on each call, and SQLite parses and plans its SQL each time: a
// third of the store's CPU time on the auto-accept path, which runs some
// thirty queries a document (docs/operations.md, Benchmarks). pgx keeps
// the Postgres store's statements the same way.
//
// Only SQL that sqlc writes as a constant is kept. A query whose slice
// parameter is expanded to several placeholders (",?", which no constant
// holds) has one text per length and runs as before; so does any query
// once maxStatements are kept, a bound the store's own queries stay well
// under.
type statements struct {
	db *sql.DB

	mu   sync.Mutex
	kept map[string]*sql.Stmt
	// pending are queries first run in a transaction, to prepare once it
	// ends: the write pool has one connection, which the transaction holds.
	pending map[string]bool
}

// maxStatements bounds the statements kept per pool.
const maxStatements = 256

func newStatements(db *sql.DB) *statements {
	return &statements{db: db, kept: map[string]*sql.Stmt{}, pending: map[string]bool{}}
}

// keepable reports whether query has one text whatever its arguments.
func keepable(query string) bool { return !strings.Contains(query, ",?") }

// lookup returns the statement kept for query, or nil; with wanted, a
// query that may be kept and is not is noted to be prepared later.
func (s *statements) lookup(query string, wanted bool) *sql.Stmt {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.kept[query]
	if st == nil && wanted && keepable(query) && len(s.kept) < maxStatements {
		s.pending[query] = true
	}
	return st
}

// stmt returns the statement kept for query, preparing it first if need
// be, or nil when query is not to be kept or cannot be prepared: the call
// then runs it unprepared, which reports whatever is wrong with it as
// before.
func (s *statements) stmt(ctx context.Context, query string) *sql.Stmt {
	if st := s.lookup(query, false); st != nil || !keepable(query) || s.full() {
		return st
	}
	prepared, err := s.db.PrepareContext(ctx, query)
	if err != nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if st := s.kept[query]; st != nil {
		prepared.Close()
		return st
	}
	if len(s.kept) >= maxStatements {
		prepared.Close()
		return nil
	}
	s.kept[query] = prepared
	return prepared
}

// full reports whether no more statements are kept: a query not kept
// then runs unprepared rather than prepared and closed again.
func (s *statements) full() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.kept) >= maxStatements
}

// preparePending prepares the queries first run in a transaction. Call it
// once the transaction has ended.
func (s *statements) preparePending(ctx context.Context) {
	s.mu.Lock()
	var queries []string
	for q := range s.pending {
		queries = append(queries, q)
	}
	clear(s.pending)
	s.mu.Unlock()
	for _, q := range queries {
		s.stmt(ctx, q)
	}
}

func (s *statements) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st := s.stmt(ctx, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return s.db.ExecContext(ctx, query, args...)
}

func (s *statements) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := s.stmt(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return s.db.QueryContext(ctx, query, args...)
}

func (s *statements) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st := s.stmt(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return s.db.QueryRowContext(ctx, query, args...)
}

func (s *statements) PrepareContext(ctx context.Context, query string) (*sql.Stmt, error) {
	return s.db.PrepareContext(ctx, query)
}

// close closes the kept statements.
func (s *statements) close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs []error
	for q, st := range s.kept {
		errs = append(errs, st.Close())
		delete(s.kept, q)
	}
	return errors.Join(errs...)
}

// txStatements runs the queries of one transaction on the kept
// statements, bound to it, when they are kept already.
type txStatements struct {
	tx *sql.Tx
	s  *statements
}

func (t txStatements) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st := t.s.lookup(query, true); st != nil {
		return t.tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	}
	return t.tx.ExecContext(ctx, query, args...)
}

func (t txStatements) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := t.s.lookup(query, true); st != nil {
		return t.tx.StmtContext(ctx, st).QueryContext(ctx, args...)
	}
	return t.tx.QueryContext(ctx, query, args...)
}

func (t txStatements) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st := t.s.lookup(query, true); st != nil {
		return t.tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
	}
	return t.tx.QueryRowContext(ctx, query, args...)
}

func (t txStatements) PrepareContext(ctx context.Context, query string) (*sql.Stmt, error) {
	return t.tx.PrepareContext(ctx, query)
}
