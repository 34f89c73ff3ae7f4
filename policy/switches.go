package policy

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/chargedesk/chargedesk"
)

// The switches' keys in the store's settings: the kill switch, and one per
// playbook of the agent (PlaybookKey).
const (
	KillSwitchKey     = "agent.enabled"
	playbookKeyPrefix = "agent.playbook."
	switchKeyPrefix   = "agent."
)

// PlaybookKey is the setting that switches the agent's playbook name.
func PlaybookKey(name string) string { return playbookKeyPrefix + name }

// Switch cache lifetimes: DefaultSwitchTTL unless SwitchOptions.TTL says
// otherwise, never more than MaxSwitchTTL, so that a switch thrown on one
// node holds on every node within seconds.
const (
	DefaultSwitchTTL = 2 * time.Second
	MaxSwitchTTL     = 5 * time.Second
	// switchReadTimeout bounds one read of the switches.
	switchReadTimeout = 2 * time.Second
)

// SwitchOptions configure NewSwitches.
type SwitchOptions struct {
	// TTL is how long the switches read are trusted (DefaultSwitchTTL;
	// at most MaxSwitchTTL).
	TTL    time.Duration
	Now    func() time.Time
	Logger *slog.Logger
}

// Switches are the support agent's switches, kept in the store so that
// every node holds the same position: the kill switch (KillSwitchKey:
// while off, the agent still talks with drivers but no command of its
// reaches a charger and it takes no payment action) and one per playbook
// (PlaybookKey: while off, the agent hands the driver to a person with a
// ticket instead of running it). A switch never set is on.
//
// Reads go through a cache renewed once it is TTL old; a change made
// through this value is seen by it at once, by others within TTL. When the
// store cannot be read, the positions last read stay (on, before any
// read) and the store is asked again after TTL. Safe for concurrent use.
type Switches struct {
	store chargedesk.SettingStore
	ttl   time.Duration
	now   func() time.Time
	log   *slog.Logger

	mu     sync.Mutex
	off    map[string]bool // keys switched off, as last read
	readAt time.Time
	read   bool
}

// NewSwitches returns the switches kept in store.
func NewSwitches(store chargedesk.SettingStore, o SwitchOptions) *Switches {
	s := &Switches{store: store, ttl: o.TTL, now: o.Now, log: o.Logger, off: map[string]bool{}}
	if s.ttl <= 0 {
		s.ttl = DefaultSwitchTTL
	}
	s.ttl = min(s.ttl, MaxSwitchTTL)
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	return s
}

// TTL is how long a position read is trusted.
func (s *Switches) TTL() time.Duration { return s.ttl }

// Enabled reports the position of switch key (true when never set).
func (s *Switches) Enabled(key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.read || s.now().Sub(s.readAt) >= s.ttl {
		ctx, cancel := context.WithTimeout(context.Background(), switchReadTimeout)
		_, _ = s.load(ctx)
		cancel()
	}
	return !s.off[key]
}

// AgentEnabled reports the kill switch's position.
func (s *Switches) AgentEnabled() bool { return s.Enabled(KillSwitchKey) }

// PlaybookEnabled reports whether the agent may run playbook name; it is
// what agent.Config.Playbooks takes.
func (s *Switches) PlaybookEnabled(name string) bool { return s.Enabled(PlaybookKey(name)) }

// Set stores switch key's position, by whom (an actor as the audit log
// names them; "" when unknown), and takes it at once in this value's cache.
// EINVALID for a key that is not an agent switch.
func (s *Switches) Set(ctx context.Context, key string, on bool, by string) error {
	if !strings.HasPrefix(key, switchKeyPrefix) {
		return chargedesk.Errorf(chargedesk.EINVALID, "%q is not a switch of the agent", key)
	}
	if err := s.store.PutSetting(ctx, &chargedesk.Setting{Key: key, Value: strconv.FormatBool(on), UpdatedBy: by}); err != nil {
		return err
	}
	s.mu.Lock()
	s.off[key] = !on
	s.mu.Unlock()
	s.log.WarnContext(ctx, "agent switch thrown", "switch", key, "on", on, "by", by)
	return nil
}

// SetAgentEnabled throws the kill switch for a caller that cannot be told
// of a failure (the operator API's PUT /api/v1/agent): a store error is
// logged, and AgentEnabled then still reports the stored position.
func (s *Switches) SetAgentEnabled(on bool) {
	ctx, cancel := context.WithTimeout(context.Background(), switchReadTimeout)
	defer cancel()
	if err := s.Set(ctx, KillSwitchKey, on, ""); err != nil {
		s.log.Error("the kill switch could not be stored", "on", on, "err", err)
	}
}

// Stored reads every switch from the store now (not the cache), with who
// set each and when, keyed by setting key; it renews the cache too.
func (s *Switches) Stored(ctx context.Context) (map[string]*chargedesk.Setting, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.load(ctx)
}

// load reads the switches into the cache; s.mu is held.
func (s *Switches) load(ctx context.Context) (map[string]*chargedesk.Setting, error) {
	s.read, s.readAt = true, s.now()
	list, err := s.store.Settings(ctx, switchKeyPrefix)
	if err != nil {
		s.log.Error("the agent's switches could not be read; keeping the positions last read", "err", err)
		return nil, err
	}
	off := map[string]bool{}
	byKey := map[string]*chargedesk.Setting{}
	for _, st := range list {
		if _, err := strconv.ParseBool(st.Value); err != nil {
			s.log.Error("an agent switch holds no position; taken as on", "switch", st.Key, "value", st.Value)
		}
		off[st.Key] = !SwitchOn(st)
		byKey[st.Key] = st
	}
	s.off = off
	return byKey, nil
}

// SwitchOn reports a stored switch's position: on unless its value is a
// false one ("false", "0"...); a switch never set (nil) is on.
func SwitchOn(st *chargedesk.Setting) bool {
	if st == nil {
		return true
	}
	on, err := strconv.ParseBool(st.Value)
	return on || err != nil
}
