package payments

import (
	"sync"
	"testing"
	"time"

	"github.com/chargedesk/chargedesk"
)

// clock is a settable clock for tests.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

// newClock returns a clock at 2026-03-15 12:00 UTC.
func newClock() *clock { return &clock{t: time.Date(2026, 3, 15, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// visa is a card valid until the end of 2028.
var visa = Card{Brand: "Visa", Last4: "4242", ExpMonth: 12, ExpYear: 2028}

// fixture is a processor with one USD account "acct-1" holding one synced
// default card (visa), and its clock.
type fixture struct {
	b    *Builtin
	clk  *clock
	card *Method
}

func newFixture(t *testing.T, opts Options) *fixture {
	t.Helper()
	clk := newClock()
	b := NewBuiltinWith(clk.Now, opts)
	if err := b.AddAccount("acct-1", USD); err != nil {
		t.Fatal(err)
	}
	m, err := b.AddMethod("acct-1", visa)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{b: b, clk: clk, card: m}
}

// wantCode fails the test unless err carries the domain error code want
// ("" for no error).
func wantCode(t *testing.T, err error, want string) {
	t.Helper()
	if got := chargedesk.ErrorCode(err); got != want {
		t.Fatalf("error code = %q, want %q (err: %v)", got, want, err)
	}
}

// mustAuthorize authorizes and fails the test on an error.
func mustAuthorize(t *testing.T, b *Builtin, req AuthRequest) *AuthResult {
	t.Helper()
	res, err := b.Authorize(t.Context(), req)
	if err != nil {
		t.Fatalf("Authorize(%+v): %v", req, err)
	}
	return res
}

// declineCode returns the decline code of res, or "" when approved.
func declineCode(res *AuthResult) string {
	if res.Decline == nil {
		return ""
	}
	return res.Decline.Code
}
