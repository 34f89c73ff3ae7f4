package sqlstore

import (
	"context"
	"database/sql"
	"sync"
)

// maxCachedStmts bounds the statements one stmtCache keeps; queries past it
// are run unprepared, as before caching.
const maxCachedStmts = 128

// maxCachedQuery is the longest query text worth caching: longer texts are
// the multi-row statements whose text varies with their row count.
const maxCachedQuery = 2048

// stmtCache keeps the prepared statements of one SQLite *sql.DB by query
// text, so that a statement is parsed once per connection instead of once
// per call (SQLite's parser was a fifth of the server's CPU under load).
// PostgreSQL needs none: pgx caches prepared statements per connection
// itself. A nil *stmtCache caches nothing.
//
// The writer's pool holds a single connection, which a write transaction
// keeps busy: preparing on that pool from inside a transaction would wait
// for itself. So a query met inside a transaction before it is cached runs
// unprepared and is only noted (lookup); inTx prepares the noted queries
// once the transaction has ended (prepareNoted).
type stmtCache struct {
	db *sql.DB

	mu     sync.Mutex
	stmts  map[string]*sql.Stmt
	noted  map[string]bool
	closed bool
}

func newStmtCache(db *sql.DB) *stmtCache {
	return &stmtCache{db: db, stmts: make(map[string]*sql.Stmt), noted: make(map[string]bool)}
}

// lookup returns the prepared statement of query, or nil after noting the
// query for prepareNoted.
func (c *stmtCache) lookup(query string) *sql.Stmt {
	if len(query) > maxCachedQuery {
		return nil
	}
	return c.lookupAny(query)
}

// lookupAny is lookup for a query of any length.
func (c *stmtCache) lookupAny(query string) *sql.Stmt {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	st := c.stmts[query]
	if st == nil && !c.closed && len(c.stmts)+len(c.noted) < maxCachedStmts {
		c.noted[query] = true
	}
	return st
}

// hasNoted reports whether prepareNoted has work.
func (c *stmtCache) hasNoted() bool {
	if c == nil {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.noted) > 0
}

// prepareNoted prepares the queries lookup noted. It must not be called
// while the caller holds one of the pool's connections. A query that fails
// to prepare is dropped: it keeps running unprepared.
func (c *stmtCache) prepareNoted(ctx context.Context) {
	c.mu.Lock()
	queries := make([]string, 0, len(c.noted))
	for q := range c.noted {
		queries = append(queries, q)
	}
	clear(c.noted)
	c.mu.Unlock()
	for _, q := range queries {
		c.prepare(ctx, q)
	}
}

// get returns the prepared statement of query, preparing it on the pool
// when it is new (for pools whose callers never hold a connection while
// calling get). It returns nil when the query is not to be cached or does
// not prepare.
func (c *stmtCache) get(ctx context.Context, query string) *sql.Stmt {
	if c == nil || len(query) > maxCachedQuery {
		return nil
	}
	c.mu.Lock()
	st, full := c.stmts[query], len(c.stmts) >= maxCachedStmts
	c.mu.Unlock()
	if st != nil || full {
		return st
	}
	return c.prepare(ctx, query)
}

func (c *stmtCache) prepare(ctx context.Context, query string) *sql.Stmt {
	st, err := c.db.PrepareContext(ctx, query)
	if err != nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if cur := c.stmts[query]; cur != nil || c.closed || len(c.stmts) >= maxCachedStmts {
		// Prepared meanwhile by another caller, or no room: keep one.
		_ = st.Close()
		return cur
	}
	c.stmts[query] = st
	return st
}

// close closes every cached statement; the cache keeps nothing afterwards.
func (c *stmtCache) close() error {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	var first error
	for q, st := range c.stmts {
		if err := st.Close(); err != nil && first == nil {
			first = err
		}
		delete(c.stmts, q)
	}
	clear(c.noted)
	return first
}

// wtx is a write transaction whose statements run prepared from the
// writer's cache when it has them.
type wtx struct {
	*sql.Tx
	cache *stmtCache
}

// ExecContext runs query in the transaction.
func (t wtx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st := t.cache.lookup(query); st != nil {
		return t.Tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	}
	return t.Tx.ExecContext(ctx, query, args...)
}

// QueryContext runs query in the transaction.
func (t wtx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := t.cache.lookup(query); st != nil {
		return t.Tx.StmtContext(ctx, st).QueryContext(ctx, args...)
	}
	return t.Tx.QueryContext(ctx, query, args...)
}

// ExecContextLong is ExecContext for a text longer than maxCachedQuery
// that is cached all the same: one of a few fixed multi-row statements.
func (t wtx) ExecContextLong(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st := t.cache.lookupAny(query); st != nil {
		return t.Tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	}
	return t.Tx.ExecContext(ctx, query, args...)
}

// QueryContextLong is QueryContext for a text longer than maxCachedQuery
// that is cached all the same: one of a few fixed multi-row statements.
func (t wtx) QueryContextLong(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := t.cache.lookupAny(query); st != nil {
		return t.Tx.StmtContext(ctx, st).QueryContext(ctx, args...)
	}
	return t.Tx.QueryContext(ctx, query, args...)
}

// QueryRowContext runs query in the transaction.
func (t wtx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st := t.cache.lookup(query); st != nil {
		return t.Tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
	}
	return t.Tx.QueryRowContext(ctx, query, args...)
}

// rdb runs reads on the readers' pool, prepared from its cache.
type rdb struct {
	db    *sql.DB
	cache *stmtCache
}

// QueryContext runs query on a reader.
func (r rdb) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := r.cache.get(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return r.db.QueryContext(ctx, query, args...)
}

// QueryRowContext runs query on a reader.
func (r rdb) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st := r.cache.get(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return r.db.QueryRowContext(ctx, query, args...)
}

// ExecContext runs query on a reader (readers are query-only).
func (r rdb) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st := r.cache.get(ctx, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return r.db.ExecContext(ctx, query, args...)
}
