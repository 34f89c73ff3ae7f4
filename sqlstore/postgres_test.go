package sqlstore

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
)

// postgresEnv names the variable holding the DSN of a PostgreSQL database
// the tests may create schemas in.
const postgresEnv = "CHARGEDESK_TEST_POSTGRES"

// postgresBackend gives each test a fresh schema, selected through pgx's
// search_path runtime parameter and dropped when the test ends.
func postgresBackend(t testing.TB) backend {
	base := os.Getenv(postgresEnv)
	if base == "" {
		t.Skipf("%s is not set; set it to a PostgreSQL DSN (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable) to run the PostgreSQL tests", postgresEnv)
	}
	return backend{
		newDSN:         func(t testing.TB) string { return newPostgresSchema(t, base) },
		dropAppendOnly: `DROP TRIGGER audit_no_change ON audit`,
	}
}

func newPostgresSchema(t testing.TB, base string) string {
	t.Helper()
	ctx := context.Background()
	admin, err := sql.Open("pgx", base)
	must(t, err)
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	schema := "chargedesk_test_" + hex.EncodeToString(b)
	if _, err := admin.ExecContext(ctx, `CREATE SCHEMA `+schema); err != nil {
		admin.Close()
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		if _, err := admin.ExecContext(context.Background(), `DROP SCHEMA `+schema+` CASCADE`); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
		admin.Close()
	})
	u, err := url.Parse(base)
	must(t, err)
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

func TestPostgres(t *testing.T) {
	b := postgresBackend(t)
	runConformance(t, b)
	runAgentConformance(t, b)
	runConsoleConformance(t, b)
}
