package console_test

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chargedesk/chargedesk"
	"github.com/chargedesk/chargedesk/console"
	"github.com/chargedesk/chargedesk/sqlstore"
	"golang.org/x/crypto/bcrypt"
)

// benchConversations is how many conversations the list is rendered
// among.
const benchConversations = 100_000

// seedConversations writes n conversations straight into a SQLite file
// whose schema sqlstore made, in one transaction (sqlstore's own writes
// each wait on an fsync): a network's mix of channels, languages,
// categories and states, each active at another second.
func seedConversations(b *testing.B, path string, n int, now time.Time) {
	b.Helper()
	db, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(10000)&_pragma=synchronous(OFF)")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	tx, err := db.Begin()
	if err != nil {
		b.Fatal(err)
	}
	stmt, err := tx.Prepare(`INSERT INTO conversations (id, channel, language, from_addr, driver_id, verified, charger_id,
		connector_id, category, playbook, state, data, status, ticket_id, flagged, operator, busy, busy_until,
		created_at, updated_at, active_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?, 0, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		b.Fatal(err)
	}
	channels := []string{"chat", "chat", "sms", "sms", "voice", "chat", "sms", "voice", "chat", "api"}
	languages := []string{"en", "en", "fr", "en", "es", "en", "fr", "en"}
	for i := range n {
		// The newest conversations are the open ones; most are done.
		status, operator, busy, ticket := "resolved", "", "", ""
		var busyUntil any
		switch age := n - i; {
		case age <= 300 && i%7 == 0:
			operator = "ada"
			status = "open"
		case age <= 300 && i%5 == 0:
			busy, busyUntil = chargedesk.BusyCharger, now.Add(time.Minute).UnixMicro()
			status = "open"
		case age <= 2000:
			status = "open"
		case i%20 == 0:
			status, ticket = "escalated", fmt.Sprintf("T-%06d", i)
		case i%3 == 0:
			status = "closed"
		}
		at := now.Add(-time.Duration(n-i) * time.Second).UnixMicro()
		ch := channels[i%len(channels)]
		from := ""
		if ch == "sms" || ch == "voice" {
			from = fmt.Sprintf("+1514555%04d", i%10000)
		}
		if _, err := stmt.Exec(fmt.Sprintf("C-%032x", i), ch, languages[i%len(languages)], from, fmt.Sprintf("drv-%d", i%5000),
			"phone", fmt.Sprintf("CP-%04d", i%3000), 1, chargedesk.Categories[i%len(chargedesk.Categories)], "session", "gathering",
			status, ticket, operator, busy, busyUntil, at-1_000_000, at, at); err != nil {
			b.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkConversationList renders /console/conversations (the query,
// the template, the whole response) among 100,000 conversations in a
// SQLite store: the first page, filtered ways, a later page.
func BenchmarkConversationList(b *testing.B) {
	ctx := context.Background()
	path := filepath.Join(b.TempDir(), "cd.db")
	st, err := sqlstore.Open(ctx, "sqlite://"+path)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	now := time.Now()
	start := time.Now()
	seedConversations(b, path, benchConversations, now)
	b.Logf("seeded %d conversations in %v", benchConversations, time.Since(start).Round(time.Millisecond))
	c, err := console.New(console.Config{Store: st, Operators: st, Commands: &recorder{}, HashCost: bcrypt.MinCost})
	if err != nil {
		b.Fatal(err)
	}
	if err := st.PutOperator(ctx, &chargedesk.Operator{Username: "vera", Role: chargedesk.RoleViewer, PasswordHash: "x"}); err != nil {
		b.Fatal(err)
	}
	secret := "benchmark-session-secret"
	sum := sha256.Sum256([]byte(secret))
	if err := st.CreateOperatorSession(ctx, &chargedesk.OperatorSession{ID: hex.EncodeToString(sum[:]), Username: "vera", CSRF: "csrf",
		CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
		b.Fatal(err)
	}
	get := func(b *testing.B, query string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("GET", "/console/conversations"+query, nil)
		req.AddCookie(&http.Cookie{Name: "chargedesk_console", Value: secret})
		rec := httptest.NewRecorder()
		c.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("%s: %d %s", query, rec.Code, rec.Body)
		}
		return rec
	}
	// A later page: the cursor of the first page's "Older" link.
	first := get(b, "").Body.String()
	i := strings.Index(first, `">Older`)
	j := strings.LastIndex(first[:max(i, 0)], `href="/console/conversations`)
	if i < 0 || j < 0 {
		b.Fatal("no Older link on the first page")
	}
	page2 := strings.ReplaceAll(first[j+len(`href="/console/conversations`):i], "&amp;", "&")
	for _, q := range []struct{ name, query string }{
		{"first_page", ""},
		{"channel_sms", "?channel=sms"},
		{"language_es_category", "?language=es&category=rfid_failure"},
		{"state_agent", "?state=agent"},
		{"state_charger", "?state=charger"},
		{"state_person", "?state=person"},
		{"state_escalated", "?state=escalated"},
		{"state_done", "?state=done"},
		{"chat_escalated_category", "?channel=chat&state=escalated&category=connector_stuck"},
		// Nothing matches: the worst case, every candidate is read.
		{"api_person_none", "?channel=api&state=person"},
		{"es_person_none", "?language=es&state=person&category=other"},
		{"api_es_none", "?channel=api&language=es"},
		{"api_escalated_none", "?channel=api&state=escalated"},
		{"second_page", page2},
	} {
		b.Run(q.name, func(b *testing.B) {
			rows := strings.Count(get(b, q.query).Body.String(), "<tr data-id=")
			if rows == 0 && !strings.HasSuffix(q.name, "_none") {
				b.Fatalf("%s: no rows", q.query)
			}
			for b.Loop() {
				get(b, q.query)
			}
			b.ReportMetric(float64(rows), "rows")
		})
	}
}
