package natsbus

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/chargedesk/chargedesk"
	"github.com/nats-io/nats.go"
)

var _ chargedesk.ConversationFeed = (*Bus)(nil)

// PublishConversation publishes ch as JSON on <prefix>.conv.<escaped
// conversation id>. Like PublishEvent it does not wait for subscribers.
// EINVALID for an empty or too long id; EUNAVAILABLE for a closed bus.
func (b *Bus) PublishConversation(ch chargedesk.ConversationChange) error {
	if ch.ID == "" || len(ch.ID) > 64 {
		return chargedesk.Errorf(chargedesk.EINVALID, "conversation id must be 1 to 64 bytes")
	}
	data, err := json.Marshal(ch)
	if err != nil {
		return chargedesk.Errorf(chargedesk.EINVALID, "conversation change cannot be encoded: %v", err)
	}
	if err := b.nc.Publish(b.subj.conv+escapeToken(ch.ID), data); err != nil {
		return busError("publish conversation change", err)
	}
	return nil
}

// SubscribeConversations calls fn with every change published, from any
// node, of conversation id, or of every conversation when id is "". Calls
// are made one at a time on a goroutine of the subscription's own, in
// publication order; fn must return quickly (a subscriber that falls far
// behind loses changes). unsubscribe is safe to call more than once.
func (b *Bus) SubscribeConversations(id string, fn func(chargedesk.ConversationChange)) (unsubscribe func() error, err error) {
	token := "*"
	if id != "" {
		if len(id) > 64 {
			return nil, chargedesk.Errorf(chargedesk.EINVALID, "conversation id must be 1 to 64 bytes")
		}
		token = escapeToken(id)
	}
	if fn == nil {
		return nil, chargedesk.Errorf(chargedesk.EINVALID, "conversation subscriber has no function")
	}
	if b.isClosed() {
		return nil, chargedesk.Errorf(chargedesk.EUNAVAILABLE, "subscribe conversations: the bus is closed")
	}
	sub, err := b.nc.Subscribe(b.subj.conv+token, func(m *nats.Msg) {
		var ch chargedesk.ConversationChange
		if err := json.Unmarshal(m.Data, &ch); err != nil || ch.ID == "" {
			b.log.Warn("undecodable conversation change dropped", "subject", m.Subject)
			return
		}
		fn(ch)
	})
	if err != nil {
		return nil, busError("subscribe conversations", err)
	}
	if err := b.flush(); err != nil {
		_ = sub.Unsubscribe()
		return nil, busError("subscribe conversations", err)
	}
	var once sync.Once
	return func() error {
		var err error
		once.Do(func() {
			if e := sub.Unsubscribe(); e != nil && !b.isClosed() {
				err = busError("unsubscribe conversations", e)
			}
		})
		return err
	}, nil
}

// escapeToken turns any string into one subject token: letters, digits
// and '-' stand for themselves, every other byte is '_' and its two
// upper-case hex digits ("C-1.a_b" is "C-1_2Ea_5Fb").
func escapeToken(s string) string {
	const hex = "0123456789ABCDEF"
	var sb strings.Builder
	sb.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' {
			sb.WriteByte(c)
			continue
		}
		sb.WriteByte('_')
		sb.WriteByte(hex[c>>4])
		sb.WriteByte(hex[c&15])
	}
	return sb.String()
}

// NotifyingStore is a store that publishes a chargedesk.ConversationChange
// on a feed after each conversation write it commits: a conversation
// created or updated, a turn appended or amended. Wrapping the one store
// every writer uses (the agent, the channels, the console) is what makes
// the live views see every change, from every node. A publication that
// fails is logged; the write stands.
type NotifyingStore struct {
	chargedesk.Store
	feed chargedesk.ConversationFeed
	now  func() time.Time
	log  *slog.Logger
}

// NotifyConversations returns st publishing its conversation changes on
// feed (the Bus); log (nil: none) hears of the publications that fail.
func NotifyConversations(st chargedesk.Store, feed chargedesk.ConversationFeed, log *slog.Logger) *NotifyingStore {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &NotifyingStore{Store: st, feed: feed, now: time.Now, log: log}
}

func (s *NotifyingStore) publish(id, kind string, seq int64) {
	if err := s.feed.PublishConversation(chargedesk.ConversationChange{ID: id, Kind: kind, Seq: seq, At: s.now()}); err != nil {
		s.log.Warn("conversation change not published", "conversation_id", id, "kind", kind, "err", err)
	}
}

// CreateConversation stores c and publishes ChangeCreated.
func (s *NotifyingStore) CreateConversation(ctx context.Context, c *chargedesk.Conversation) error {
	if err := s.Store.CreateConversation(ctx, c); err != nil {
		return err
	}
	s.publish(c.ID, chargedesk.ChangeCreated, 0)
	return nil
}

// UpdateConversation updates the conversation and publishes ChangeUpdated.
func (s *NotifyingStore) UpdateConversation(ctx context.Context, id string, fn func(*chargedesk.Conversation) error) (*chargedesk.Conversation, error) {
	c, err := s.Store.UpdateConversation(ctx, id, fn)
	if err != nil {
		return nil, err
	}
	s.publish(id, chargedesk.ChangeUpdated, 0)
	return c, nil
}

// AppendTurn stores t and publishes ChangeTurn with its Seq.
func (s *NotifyingStore) AppendTurn(ctx context.Context, t *chargedesk.Turn) error {
	if err := s.Store.AppendTurn(ctx, t); err != nil {
		return err
	}
	s.publish(t.ConversationID, chargedesk.ChangeTurn, t.Seq)
	return nil
}

// AmendInterruptedTurn amends the turn and publishes ChangeAmended with
// its Seq.
func (s *NotifyingStore) AmendInterruptedTurn(ctx context.Context, conversationID string, in chargedesk.Interruption) (*chargedesk.Turn, error) {
	t, err := s.Store.AmendInterruptedTurn(ctx, conversationID, in)
	if err != nil {
		return nil, err
	}
	s.publish(conversationID, chargedesk.ChangeAmended, t.Seq)
	return t, nil
}
