package natsbus

import (
	"context"
	"testing"
	"time"

	"github.com/chargedesk/chargedesk"
)

// convStore is the part of a store NotifyingStore decorates: turns get
// Seq 1, 2, ...; conversation "missing" is unknown.
type convStore struct {
	chargedesk.Store
	seq int64
}

func (s *convStore) known(id string) error {
	if id == "missing" {
		return chargedesk.Errorf(chargedesk.ENOTFOUND, "no conversation %s", id)
	}
	return nil
}

func (s *convStore) CreateConversation(_ context.Context, c *chargedesk.Conversation) error {
	if c.ID == "missing" {
		return chargedesk.Errorf(chargedesk.ECONFLICT, "exists")
	}
	return nil
}

func (s *convStore) UpdateConversation(_ context.Context, id string, fn func(*chargedesk.Conversation) error) (*chargedesk.Conversation, error) {
	if err := s.known(id); err != nil {
		return nil, err
	}
	c := &chargedesk.Conversation{ID: id}
	return c, fn(c)
}

func (s *convStore) AppendTurn(_ context.Context, t *chargedesk.Turn) error {
	if err := s.known(t.ConversationID); err != nil {
		return err
	}
	s.seq++
	t.Seq = s.seq
	return nil
}

func (s *convStore) AmendInterruptedTurn(_ context.Context, id string, _ chargedesk.Interruption) (*chargedesk.Turn, error) {
	if err := s.known(id); err != nil {
		return nil, err
	}
	return &chargedesk.Turn{ConversationID: id, Seq: s.seq}, nil
}

type changeSink chan chargedesk.ConversationChange

func (s changeSink) next(t *testing.T) chargedesk.ConversationChange {
	t.Helper()
	select {
	case ch := <-s:
		return ch
	case <-time.After(10 * time.Second):
		t.Fatal("no conversation change arrived")
		return chargedesk.ConversationChange{}
	}
}

func (s changeSink) none(t *testing.T) {
	t.Helper()
	select {
	case ch := <-s:
		t.Fatalf("unexpected change %+v", ch)
	case <-time.After(100 * time.Millisecond):
	}
}

func TestConversationChanges(t *testing.T) {
	a, b := twoNodes(t, Config{}, Config{})
	ctx := context.Background()
	one, all := make(changeSink, 16), make(changeSink, 16)
	const id = "C-1.a_b" // '.' and '_' must not split or clash subjects
	for _, sub := range []struct {
		id   string
		sink changeSink
	}{{id, one}, {"", all}} {
		unsub, err := b.SubscribeConversations(sub.id, func(ch chargedesk.ConversationChange) { sub.sink <- ch })
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if err := unsub(); err != nil {
				t.Error(err)
			}
			_ = unsub()
		})
	}
	st := NotifyConversations(&convStore{}, a, testLogger(t))

	// Each write, on node a, reaches node b's subscribers.
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(st.CreateConversation(ctx, &chargedesk.Conversation{ID: id}))
	must(st.AppendTurn(ctx, &chargedesk.Turn{ConversationID: id}))
	_, err := st.UpdateConversation(ctx, id, func(*chargedesk.Conversation) error { return nil })
	must(err)
	_, err = st.AmendInterruptedTurn(ctx, id, chargedesk.Interruption{})
	must(err)
	must(st.AppendTurn(ctx, &chargedesk.Turn{ConversationID: "C-2"}))
	want := []chargedesk.ConversationChange{
		{ID: id, Kind: chargedesk.ChangeCreated}, {ID: id, Kind: chargedesk.ChangeTurn, Seq: 1},
		{ID: id, Kind: chargedesk.ChangeUpdated}, {ID: id, Kind: chargedesk.ChangeAmended, Seq: 1},
	}
	for i, w := range want {
		got := one.next(t)
		if got.ID != w.ID || got.Kind != w.Kind || got.Seq != w.Seq || got.At.IsZero() {
			t.Errorf("change %d of %s: %+v, want %+v", i, id, got, w)
		}
		if got := all.next(t); got.ID != w.ID || got.Kind != w.Kind {
			t.Errorf("change %d on the subscription to all: %+v, want %+v", i, got, w)
		}
	}
	if got := all.next(t); got.ID != "C-2" || got.Seq != 2 {
		t.Errorf("another conversation's turn: %+v", got)
	}
	one.none(t) // C-2 is not C-1.a_b's

	// A write that fails publishes nothing.
	if err := st.AppendTurn(ctx, &chargedesk.Turn{ConversationID: "missing"}); chargedesk.ErrorCode(err) != chargedesk.ENOTFOUND {
		t.Fatalf("append to an unknown conversation: %v", err)
	}
	if err := st.CreateConversation(ctx, &chargedesk.Conversation{ID: "missing"}); chargedesk.ErrorCode(err) != chargedesk.ECONFLICT {
		t.Fatalf("create a duplicate: %v", err)
	}
	all.none(t)

	// Bounds.
	if err := a.PublishConversation(chargedesk.ConversationChange{}); chargedesk.ErrorCode(err) != chargedesk.EINVALID {
		t.Errorf("publish without an id: %v", err)
	}
	if _, err := a.SubscribeConversations(id, nil); chargedesk.ErrorCode(err) != chargedesk.EINVALID {
		t.Errorf("subscribe without a function: %v", err)
	}
}

func TestEscapeToken(t *testing.T) {
	for in, want := range map[string]string{
		"C-0a1B":    "C-0a1B",
		"C-1.a_b":   "C-1_2Ea_5Fb",
		"C-*>":      "C-_2A_3E",
		"a b\x00é":  "a_20b_00_C3_A9",
		"CA1234567": "CA1234567",
	} {
		if got := escapeToken(in); got != want {
			t.Errorf("escapeToken(%q) = %q, want %q", in, got, want)
		}
	}
}
