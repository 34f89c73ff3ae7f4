package payments

import (
	"context"
	"crypto/rand"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/chargedesk/chargedesk"
)

// Defaults of Options.
const (
	DefaultHoldTTL        = 7 * 24 * time.Hour
	DefaultPayLinkTTL     = time.Hour
	DefaultPayLinkBaseURL = "https://pay.chargedesk.invalid/p/"
)

// maxAttempts is how many authorization attempts an account remembers.
const maxAttempts = 100

// Options tune a Builtin processor. Zero fields take their defaults.
type Options struct {
	// HoldTTL is how long a pending hold lasts before it expires
	// (DefaultHoldTTL).
	HoldTTL time.Duration
	// SyncDelay, when positive, is how long after it was added in the app
	// a card syncs by itself. Zero means app cards sync only on
	// SyncAccount.
	SyncDelay time.Duration
	// PayLinkTTL is how long a pay link can be paid (DefaultPayLinkTTL).
	PayLinkTTL time.Duration
	// PayLinkBaseURL prefixes a pay link's id to make its URL
	// (DefaultPayLinkBaseURL).
	PayLinkBaseURL string
}

// Card is a card to put on an account: brand, last four digits and expiry,
// never the card number.
type Card struct {
	Brand    string
	Last4    string
	ExpMonth int
	ExpYear  int
}

// Validate checks the card's fields.
func (c Card) Validate() error {
	if c.Brand == "" || len(c.Brand) > 20 {
		return chargedesk.Errorf(chargedesk.EINVALID, "card brand must be 1 to 20 characters")
	}
	for _, r := range c.Brand {
		if !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r == ' ') {
			return chargedesk.Errorf(chargedesk.EINVALID, "card brand %q must be letters", c.Brand)
		}
	}
	if len(c.Last4) != 4 {
		return chargedesk.Errorf(chargedesk.EINVALID, "last4 must be exactly 4 digits")
	}
	for i := 0; i < 4; i++ {
		if c.Last4[i] < '0' || c.Last4[i] > '9' {
			return chargedesk.Errorf(chargedesk.EINVALID, "last4 must be exactly 4 digits")
		}
	}
	if c.ExpMonth < 1 || c.ExpMonth > 12 {
		return chargedesk.Errorf(chargedesk.EINVALID, "expiry month %d is not 1 to 12", c.ExpMonth)
	}
	if c.ExpYear < 2000 || c.ExpYear > 2099 {
		return chargedesk.Errorf(chargedesk.EINVALID, "expiry year %d is not 2000 to 2099", c.ExpYear)
	}
	return nil
}

// Builtin is the processor shipped with chargedesk: in memory, with the
// state a real processor keeps (accounts, cards, holds, authorization
// attempts, pay links), driven by an injected clock, and safe for
// concurrent use. Seed it with AddAccount, AddMethod and AddAppMethod;
// inject the catalogue's payment faults with InjectFault.
type Builtin struct {
	now  func() time.Time
	opts Options

	mu          sync.Mutex
	unavailable bool
	seq         int64
	accounts    map[string]*account
	holds       map[string]*Hold
	links       map[string]*PayLink
}

var _ Processor = (*Builtin)(nil)

// account is the processor's state for one driver account.
type account struct {
	id        string
	currency  Currency
	methods   []*method // in the order added
	defaultID string    // a synced method, or ""
	holdIDs   []string  // in the order created
	attempts  []*Authorization
	idem      map[string]*idemEntry
	// transientLeft is how many coming authorizations fail with a
	// transient processing error (transient_decline).
	transientLeft int
}

// method is a card with the processor's private state.
type method struct {
	Method
	// syncAt, when set, is when an app card syncs by itself.
	syncAt time.Time
	// hardDecline, when set, is the decline code every authorization of
	// this card gets (hard_decline).
	hardDecline string
}

// idemEntry is the remembered first answer to an idempotency key.
type idemEntry struct {
	req    AuthRequest
	result AuthResult
}

// NewBuiltin returns an empty processor with default options that reads
// the time from now (time.Now when nil).
func NewBuiltin(now func() time.Time) *Builtin {
	return NewBuiltinWith(now, Options{})
}

// NewBuiltinWith returns an empty processor with the given options that
// reads the time from now (time.Now when nil).
func NewBuiltinWith(now func() time.Time, opts Options) *Builtin {
	if now == nil {
		now = time.Now
	}
	if opts.HoldTTL <= 0 {
		opts.HoldTTL = DefaultHoldTTL
	}
	if opts.SyncDelay < 0 {
		opts.SyncDelay = 0
	}
	if opts.PayLinkTTL <= 0 {
		opts.PayLinkTTL = DefaultPayLinkTTL
	}
	if opts.PayLinkBaseURL == "" {
		opts.PayLinkBaseURL = DefaultPayLinkBaseURL
	}
	return &Builtin{
		now:      now,
		opts:     opts,
		accounts: make(map[string]*account),
		holds:    make(map[string]*Hold),
		links:    make(map[string]*PayLink),
	}
}

// SetUnavailable simulates an outage of the processor: while on, every
// Processor method returns an EUNAVAILABLE error and changes nothing.
func (b *Builtin) SetUnavailable(on bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.unavailable = on
}

// AddAccount creates an account whose amounts are in currency. Errors:
// EINVALID for a bad id or currency; ECONFLICT if the account exists.
func (b *Builtin) AddAccount(accountID string, currency Currency) error {
	if err := validateID("account id", accountID); err != nil {
		return err
	}
	if !currency.Valid() {
		return chargedesk.Errorf(chargedesk.EINVALID, "currency %q is not USD or CAD", currency)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.accounts[accountID]; ok {
		return chargedesk.Errorf(chargedesk.ECONFLICT, "payment account %s exists", accountID)
	}
	b.accounts[accountID] = &account{id: accountID, currency: currency, idem: make(map[string]*idemEntry)}
	return nil
}

// AddMethod puts a card on the account that the backend knows at once
// (synced). It becomes the default when the account has none. Errors:
// EINVALID for a bad card; ENOTFOUND for an unknown account.
func (b *Builtin) AddMethod(accountID string, c Card) (*Method, error) {
	return b.addMethod(accountID, c, true)
}

// AddAppMethod puts a card on the account as the driver does in the app:
// the backend does not know it (Synced false) until SyncAccount, or until
// Options.SyncDelay has passed when that is set. Once synced it becomes the
// default. Errors: EINVALID for a bad card; ENOTFOUND for an unknown
// account.
func (b *Builtin) AddAppMethod(accountID string, c Card) (*Method, error) {
	return b.addMethod(accountID, c, false)
}

func (b *Builtin) addMethod(accountID string, c Card, synced bool) (*Method, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	a, err := b.account(accountID)
	if err != nil {
		return nil, err
	}
	now := b.now()
	m := b.newMethod(a, c, now, synced)
	if !synced && b.opts.SyncDelay > 0 {
		m.syncAt = now.Add(b.opts.SyncDelay)
	}
	out := a.view(m)
	return &out, nil
}

// newMethod appends a card to a; a synced card becomes the default when a
// has none. The caller holds b.mu.
func (b *Builtin) newMethod(a *account, c Card, now time.Time, synced bool) *method {
	m := &method{Method: Method{
		ID: b.nextID("pm"), AccountID: a.id, Brand: c.Brand, Last4: c.Last4,
		ExpMonth: c.ExpMonth, ExpYear: c.ExpYear, Synced: synced, AddedAt: now,
	}}
	a.methods = append(a.methods, m)
	if synced && a.defaultID == "" {
		a.defaultID = m.ID
	}
	return m
}

// Methods implements Processor.
func (b *Builtin) Methods(ctx context.Context, accountID string) ([]Method, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	a, err := b.begin(ctx, accountID)
	if err != nil {
		return nil, err
	}
	out := make([]Method, 0, len(a.methods))
	for _, m := range a.methods {
		out = append(out, a.view(m))
	}
	return out, nil
}

// Authorize implements Processor.
func (b *Builtin) Authorize(ctx context.Context, req AuthRequest) (*AuthResult, error) {
	if err := req.Validate(); err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	a, err := b.begin(ctx, req.AccountID)
	if err != nil {
		return nil, err
	}
	if req.Currency == "" {
		req.Currency = a.currency
	}
	if e, ok := a.idem[req.IdempotencyKey]; ok && req.IdempotencyKey != "" {
		if e.req != req {
			return nil, chargedesk.Errorf(chargedesk.ECONFLICT, "idempotency key %q was used with different parameters", req.IdempotencyKey)
		}
		return e.result.clone(), nil
	}
	if req.Currency != a.currency {
		return nil, chargedesk.Errorf(chargedesk.EINVALID, "account %s pays in %s, not %s", a.id, a.currency, req.Currency)
	}
	m, err := a.pick(req.MethodID)
	if err != nil {
		return nil, err
	}
	now := b.now()
	var decline *Decline
	switch {
	case a.transientLeft > 0:
		a.transientLeft--
		decline = networkTimeout()
	case m.Expired(now):
		decline = NewDecline(DeclineExpiredCard)
	case m.hardDecline != "":
		decline = NewDecline(m.hardDecline)
	}
	res := b.attempt(a, m, req, decline, now)
	if req.IdempotencyKey != "" {
		a.idem[req.IdempotencyKey] = &idemEntry{req: req, result: *res.clone()}
	}
	return res, nil
}

// attempt records an authorization attempt on m with the given verdict and,
// when approved (decline nil), creates its hold. The caller holds b.mu.
func (b *Builtin) attempt(a *account, m *method, req AuthRequest, decline *Decline, now time.Time) *AuthResult {
	at := &Authorization{
		ID: b.nextID("auth"), AccountID: a.id, MethodID: m.ID, Brand: m.Brand, Last4: m.Last4,
		AmountCents: req.AmountCents, Currency: req.Currency, SessionRef: req.SessionRef,
		IdempotencyKey: req.IdempotencyKey, Approved: decline == nil, Decline: decline, At: now,
	}
	res := &AuthResult{Approved: decline == nil, Decline: decline, MethodID: m.ID, Last4: m.Last4}
	if decline == nil {
		h := &Hold{
			ID: b.nextID("hold"), AccountID: a.id, MethodID: m.ID, AmountCents: req.AmountCents,
			Currency: req.Currency, Status: HoldPending, SessionRef: req.SessionRef,
			ExpiresAt: now.Add(b.opts.HoldTTL), CreatedAt: now, UpdatedAt: now,
		}
		b.holds[h.ID] = h
		a.holdIDs = append(a.holdIDs, h.ID)
		at.HoldID = h.ID
		hc := *h
		res.Hold = &hc
	}
	a.attempts = append(a.attempts, at)
	if len(a.attempts) > maxAttempts {
		a.attempts = slices.Delete(a.attempts, 0, len(a.attempts)-maxAttempts)
	}
	return res.clone()
}

// Capture implements Processor.
func (b *Builtin) Capture(ctx context.Context, holdID string, amountCents int64) (*Hold, error) {
	if err := validateAmount(amountCents); err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	h, err := b.beginHold(ctx, holdID)
	if err != nil {
		return nil, err
	}
	if h.Status != HoldPending {
		return nil, chargedesk.Errorf(chargedesk.ECONFLICT, "hold %s is %s, not pending", h.ID, h.Status)
	}
	if amountCents > h.AmountCents {
		return nil, chargedesk.Errorf(chargedesk.EINVALID, "capture of %d cents exceeds hold %s of %d cents", amountCents, h.ID, h.AmountCents)
	}
	h.Status, h.CapturedCents, h.UpdatedAt = HoldCaptured, amountCents, b.now()
	out := *h
	return &out, nil
}

// Release implements Processor.
func (b *Builtin) Release(ctx context.Context, holdID string) (*Hold, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	h, err := b.beginHold(ctx, holdID)
	if err != nil {
		return nil, err
	}
	switch h.Status {
	case HoldPending:
		h.Status, h.UpdatedAt = HoldReleased, b.now()
	case HoldReleased:
	default:
		return nil, chargedesk.Errorf(chargedesk.ECONFLICT, "hold %s is %s and cannot be released", h.ID, h.Status)
	}
	out := *h
	return &out, nil
}

// Holds implements Processor.
func (b *Builtin) Holds(ctx context.Context, accountID string, status HoldStatus) ([]Hold, error) {
	if status != "" && !status.Valid() {
		return nil, chargedesk.Errorf(chargedesk.EINVALID, "hold status %q is not pending, captured, released or expired", status)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	a, err := b.begin(ctx, accountID)
	if err != nil {
		return nil, err
	}
	var out []Hold
	for _, id := range a.holdIDs {
		if h := b.holds[id]; status == "" || h.Status == status {
			out = append(out, *h)
		}
	}
	slices.SortStableFunc(out, func(x, y Hold) int { return x.CreatedAt.Compare(y.CreatedAt) })
	return out, nil
}

// LastAuthorization implements Processor.
func (b *Builtin) LastAuthorization(ctx context.Context, accountID string) (*Authorization, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	a, err := b.begin(ctx, accountID)
	if err != nil {
		return nil, err
	}
	if len(a.attempts) == 0 {
		return nil, chargedesk.Errorf(chargedesk.ENOTFOUND, "payment account %s has no authorization attempt", a.id)
	}
	return a.attempts[len(a.attempts)-1].clone(), nil
}

// SyncAccount implements Processor.
func (b *Builtin) SyncAccount(ctx context.Context, accountID string) ([]Method, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	a, err := b.begin(ctx, accountID)
	if err != nil {
		return nil, err
	}
	var synced []*method
	for _, m := range a.methods {
		if !m.Synced {
			a.sync(m)
			synced = append(synced, m)
		}
	}
	out := make([]Method, 0, len(synced))
	for _, m := range synced {
		out = append(out, a.view(m))
	}
	return out, nil
}

// CreatePayLink implements Processor.
func (b *Builtin) CreatePayLink(ctx context.Context, accountID string, amountCents int64, currency Currency) (*PayLink, error) {
	if err := validateAmount(amountCents); err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	a, err := b.begin(ctx, accountID)
	if err != nil {
		return nil, err
	}
	if currency == "" {
		currency = a.currency
	}
	if currency != a.currency {
		return nil, chargedesk.Errorf(chargedesk.EINVALID, "account %s pays in %s, not %q", a.id, a.currency, currency)
	}
	now := b.now()
	id := "pl_" + rand.Text()
	l := &PayLink{
		ID: id, AccountID: a.id, URL: b.opts.PayLinkBaseURL + id, AmountCents: amountCents,
		Currency: currency, CreatedAt: now, ExpiresAt: now.Add(b.opts.PayLinkTTL),
	}
	b.links[id] = l
	out := *l
	return &out, nil
}

// PayLink implements Processor.
func (b *Builtin) PayLink(ctx context.Context, id string) (*PayLink, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	l, err := b.beginLink(ctx, id)
	if err != nil {
		return nil, err
	}
	out := *l
	return &out, nil
}

// MarkPayLinkPaid implements Processor. In the built-in processor it stands
// for the driver paying on the link's page.
func (b *Builtin) MarkPayLinkPaid(ctx context.Context, id string) (*PayLink, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	l, err := b.beginLink(ctx, id)
	if err != nil {
		return nil, err
	}
	if !l.Paid {
		now := b.now()
		if !now.Before(l.ExpiresAt) {
			return nil, chargedesk.Errorf(chargedesk.ECONFLICT, "pay link %s expired unpaid", l.ID)
		}
		l.Paid, l.PaidAt = true, now
	}
	out := *l
	return &out, nil
}

// begin starts a Processor call on an account: it checks ctx and the
// outage switch, finds the account and brings its state up to the clock.
// The caller holds b.mu.
func (b *Builtin) begin(ctx context.Context, accountID string) (*account, error) {
	if err := b.ready(ctx); err != nil {
		return nil, err
	}
	a, err := b.account(accountID)
	if err != nil {
		return nil, err
	}
	now := b.now()
	for _, m := range a.methods {
		if !m.Synced && !m.syncAt.IsZero() && !now.Before(m.syncAt) {
			a.sync(m)
		}
	}
	for _, id := range a.holdIDs {
		b.holds[id].settle(now)
	}
	return a, nil
}

// beginHold is begin for a call on a hold. The caller holds b.mu.
func (b *Builtin) beginHold(ctx context.Context, holdID string) (*Hold, error) {
	if err := b.ready(ctx); err != nil {
		return nil, err
	}
	h, ok := b.holds[holdID]
	if !ok {
		return nil, chargedesk.Errorf(chargedesk.ENOTFOUND, "hold %q not found", holdID)
	}
	h.settle(b.now())
	return h, nil
}

// beginLink is begin for a call on a pay link. The caller holds b.mu.
func (b *Builtin) beginLink(ctx context.Context, id string) (*PayLink, error) {
	if err := b.ready(ctx); err != nil {
		return nil, err
	}
	l, ok := b.links[id]
	if !ok {
		return nil, chargedesk.Errorf(chargedesk.ENOTFOUND, "pay link %q not found", id)
	}
	return l, nil
}

// ready fails when ctx is done or the processor is in an outage.
func (b *Builtin) ready(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("payments: %w", err)
	}
	if b.unavailable {
		return chargedesk.Errorf(chargedesk.EUNAVAILABLE, "the payments processor is unreachable")
	}
	return nil
}

// account finds an account. The caller holds b.mu.
func (b *Builtin) account(id string) (*account, error) {
	a, ok := b.accounts[id]
	if !ok {
		return nil, chargedesk.Errorf(chargedesk.ENOTFOUND, "payment account %q not found", id)
	}
	return a, nil
}

// nextID returns a new id with the given prefix. The caller holds b.mu.
func (b *Builtin) nextID(prefix string) string {
	b.seq++
	return fmt.Sprintf("%s_%d", prefix, b.seq)
}

// pick resolves the method of an authorization: id, or the default when id
// is empty.
func (a *account) pick(id string) (*method, error) {
	if id == "" {
		if a.defaultID == "" {
			if slices.ContainsFunc(a.methods, func(m *method) bool { return !m.Synced }) {
				return nil, chargedesk.Errorf(chargedesk.ECONFLICT, "payment account %s has no default method; a card added in the app is not synced yet", a.id)
			}
			return nil, chargedesk.Errorf(chargedesk.ECONFLICT, "payment account %s has no payment method on file", a.id)
		}
		id = a.defaultID
	}
	m := a.method(id)
	if m == nil {
		return nil, chargedesk.Errorf(chargedesk.ENOTFOUND, "payment method %q not found on account %s", id, a.id)
	}
	if !m.Synced {
		return nil, chargedesk.Errorf(chargedesk.ECONFLICT, "payment method %s was added in the app and is not synced yet", m.ID)
	}
	return m, nil
}

// method returns the method with the id, or nil.
func (a *account) method(id string) *method {
	for _, m := range a.methods {
		if m.ID == id {
			return m
		}
	}
	return nil
}

// sync makes an app card known to the backend and the default.
func (a *account) sync(m *method) {
	m.Synced, m.syncAt = true, time.Time{}
	a.defaultID = m.ID
}

// view returns the public copy of m.
func (a *account) view(m *method) Method {
	out := m.Method
	out.Default = m.ID == a.defaultID
	return out
}

// settle expires a pending hold whose time has passed.
func (h *Hold) settle(now time.Time) {
	if h.Status == HoldPending && !now.Before(h.ExpiresAt) {
		h.Status, h.UpdatedAt = HoldExpired, h.ExpiresAt
	}
}

// clone returns a deep copy of r.
func (r *AuthResult) clone() *AuthResult {
	out := *r
	if r.Hold != nil {
		h := *r.Hold
		out.Hold = &h
	}
	if r.Decline != nil {
		d := *r.Decline
		out.Decline = &d
	}
	return &out
}

// clone returns a deep copy of a.
func (a *Authorization) clone() *Authorization {
	out := *a
	if a.Decline != nil {
		d := *a.Decline
		out.Decline = &d
	}
	return &out
}
