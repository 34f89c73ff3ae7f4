package sqlstore

import (
	"context"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chargedesk/chargedesk"
	"github.com/google/go-cmp/cmp"
	"github.com/pressly/goose/v3"
)

// runConsoleConformance checks what the console needs of conversations
// (migration 00006): the operator who has one, the agent's busy lease,
// ActiveAt, operator turns, and the listing by activity with its filters,
// phases and cursor.
func runConsoleConformance(t *testing.T, b backend) {
	ctx := context.Background()
	fresh := func(t *testing.T, opts ...Option) *Store {
		t.Helper()
		return openStore(t, b.newDSN(t), opts...)
	}

	t.Run("Migration00006", func(t *testing.T) {
		t.Parallel()
		s := fresh(t)
		dialect, dir := goose.DialectSQLite3, "migrations/sqlite"
		if s.pg {
			dialect, dir = goose.DialectPostgres, "migrations/postgres"
		}
		fsys, err := fs.Sub(migrations, dir)
		must(t, err)
		p, err := goose.NewProvider(dialect, s.w, fsys, goose.WithDisableGlobalRegistry(true))
		must(t, err)
		_, err = p.DownTo(ctx, 5)
		must(t, err)
		// Conversations of before: one with turns after its last update,
		// one without turns.
		for _, id := range []string{"with-turns", "quiet"} {
			_, err = s.w.ExecContext(ctx, s.q(`INSERT INTO conversations (id, channel, language, status, created_at, updated_at)
				VALUES (?, 'sms', 'en', 'open', ?, ?)`), id, s.ts(base), s.ts(base.Add(time.Second)))
			must(t, err)
		}
		for i := range 2 {
			_, err = s.w.ExecContext(ctx, s.q(`INSERT INTO turns (conversation_id, seq, at, role, body) VALUES ('with-turns', ?, ?, 'driver', 'hi')`),
				i+1, s.ts(base.Add(time.Duration(10+i)*time.Second)))
			must(t, err)
		}
		_, err = p.Up(ctx)
		must(t, err)
		for id, want := range map[string]time.Time{"with-turns": base.Add(11 * time.Second), "quiet": base.Add(time.Second)} {
			c, err := s.Conversation(ctx, id)
			must(t, err)
			if !c.ActiveAt.Equal(micro(want)) || c.Operator != "" || c.Busy != "" {
				t.Errorf("%s after the migration: active %v (want %v), operator %q, busy %q", id, c.ActiveAt, micro(want), c.Operator, c.Busy)
			}
		}
	})

	t.Run("ConsoleFields", func(t *testing.T) {
		t.Parallel()
		clock := &setClock{t: base}
		s := fresh(t, WithClock(clock.now))
		c := &chargedesk.Conversation{ID: "c1", Channel: chargedesk.ChannelChat, Language: "es", Status: chargedesk.ConversationOpen,
			Operator: "ada", Busy: chargedesk.BusyCharger, BusyUntil: base.Add(time.Minute)}
		must(t, s.CreateConversation(ctx, c))
		if !c.ActiveAt.Equal(micro(base)) {
			t.Errorf("ActiveAt %v after create, want now %v", c.ActiveAt, micro(base))
		}
		got, err := s.Conversation(ctx, "c1")
		must(t, err)
		if diff := cmp.Diff(c, got, sameJSON); diff != "" {
			t.Errorf("stored (-want +got):\n%s", diff)
		}
		if got.Operator != "ada" || got.Busy != chargedesk.BusyCharger || !got.BusyUntil.Equal(micro(base.Add(time.Minute))) {
			t.Errorf("console fields %q %q %v", got.Operator, got.Busy, got.BusyUntil)
		}

		// Cleared through an update, with ActiveAt moved to now.
		clock.set(base.Add(10 * time.Second))
		got, err = s.UpdateConversation(ctx, "c1", func(c *chargedesk.Conversation) error {
			c.Operator, c.Busy, c.BusyUntil = "", "", time.Time{}
			c.ActiveAt = base.Add(time.Hour) // ignored: the store keeps it
			return nil
		})
		must(t, err)
		stored, err := s.Conversation(ctx, "c1")
		must(t, err)
		if diff := cmp.Diff(got, stored, sameJSON); diff != "" {
			t.Errorf("returned and stored differ (-returned +stored):\n%s", diff)
		}
		if stored.Operator != "" || stored.Busy != "" || !stored.BusyUntil.IsZero() || !stored.ActiveAt.Equal(micro(base.Add(10*time.Second))) {
			t.Errorf("after update: operator %q busy %q until %v, active %v", stored.Operator, stored.Busy, stored.BusyUntil, stored.ActiveAt)
		}

		for _, tt := range []struct {
			name string
			edit func(c *chargedesk.Conversation)
		}{
			{"busy", func(c *chargedesk.Conversation) { c.Busy = "napping" }},
			{"long operator", func(c *chargedesk.Conversation) { c.Operator = strings.Repeat("a", 65) }},
			{"operator not UTF-8", func(c *chargedesk.Conversation) { c.Operator = "a\xff" }},
		} {
			t.Run(tt.name, func(t *testing.T) {
				c := &chargedesk.Conversation{ID: "c2", Channel: chargedesk.ChannelSMS, Language: "en", Status: chargedesk.ConversationOpen}
				tt.edit(c)
				wantCode(t, s.CreateConversation(ctx, c), chargedesk.EINVALID)
				_, err := s.UpdateConversation(ctx, "c1", func(c *chargedesk.Conversation) error { tt.edit(c); return nil })
				wantCode(t, err, chargedesk.EINVALID)
			})
		}
	})

	t.Run("ActiveAt", func(t *testing.T) {
		t.Parallel()
		clock := &setClock{t: base}
		s := fresh(t, WithClock(clock.now))
		must(t, s.CreateConversation(ctx, &chargedesk.Conversation{ID: "c1", Channel: chargedesk.ChannelSMS, Language: "en",
			Status: chargedesk.ConversationOpen, CreatedAt: base.Add(-time.Hour)}))
		active := func(want time.Time) {
			t.Helper()
			c, err := s.Conversation(ctx, "c1")
			must(t, err)
			if !c.ActiveAt.Equal(micro(want)) {
				t.Errorf("ActiveAt %v, want %v", c.ActiveAt, micro(want))
			}
			if !c.UpdatedAt.Equal(micro(base)) {
				t.Errorf("UpdatedAt %v moved; want %v (turns do not update the conversation)", c.UpdatedAt, micro(base))
			}
		}
		active(base)
		// A turn moves it forward, an older turn does not move it back.
		must(t, s.AppendTurn(ctx, &chargedesk.Turn{ConversationID: "c1", Role: chargedesk.RoleDriver, Text: "hi", At: base.Add(5 * time.Second)}))
		active(base.Add(5 * time.Second))
		must(t, s.AppendTurn(ctx, &chargedesk.Turn{ConversationID: "c1", Role: chargedesk.RoleAgent, Text: "hello", At: base.Add(2 * time.Second)}))
		active(base.Add(5 * time.Second))
		// An operator's turn: at most MaxOperatorMessageLen characters.
		must(t, s.AppendTurn(ctx, &chargedesk.Turn{ConversationID: "c1", Role: chargedesk.RoleOperatorTurn,
			Text: strings.Repeat("é", chargedesk.MaxOperatorMessageLen), At: base.Add(7 * time.Second)}))
		active(base.Add(7 * time.Second))
		wantCode(t, s.AppendTurn(ctx, &chargedesk.Turn{ConversationID: "c1", Role: chargedesk.RoleOperatorTurn,
			Text: strings.Repeat("a", chargedesk.MaxOperatorMessageLen+1)}), chargedesk.EINVALID)
		turns, err := s.Turns(ctx, "c1")
		must(t, err)
		if len(turns) != 3 || turns[2].Role != chargedesk.RoleOperatorTurn {
			t.Errorf("turns %+v", turns)
		}
		// An update moves it to now, never back.
		clock.set(base.Add(3 * time.Second))
		_, err = s.UpdateConversation(ctx, "c1", func(c *chargedesk.Conversation) error { c.State = "x"; return nil })
		must(t, err)
		c, err := s.Conversation(ctx, "c1")
		must(t, err)
		if !c.ActiveAt.Equal(micro(base.Add(7 * time.Second))) {
			t.Errorf("ActiveAt %v after an update at an earlier now, want it kept", c.ActiveAt)
		}
		clock.set(base.Add(20 * time.Second))
		_, err = s.UpdateConversation(ctx, "c1", func(c *chargedesk.Conversation) error { c.State = "y"; return nil })
		must(t, err)
		c, err = s.Conversation(ctx, "c1")
		must(t, err)
		if !c.ActiveAt.Equal(micro(base.Add(20 * time.Second))) {
			t.Errorf("ActiveAt %v after an update, want now %v", c.ActiveAt, micro(base.Add(20*time.Second)))
		}
	})

	t.Run("ConversationsByActivity", func(t *testing.T) {
		t.Parallel()
		clock := &setClock{t: base}
		s := fresh(t, WithClock(clock.now))
		now := base.Add(time.Hour)
		channels := []chargedesk.Channel{chargedesk.ChannelChat, chargedesk.ChannelSMS, chargedesk.ChannelVoice}
		statuses := []chargedesk.ConversationStatus{chargedesk.ConversationOpen, chargedesk.ConversationOpen,
			chargedesk.ConversationResolved, chargedesk.ConversationEscalated, chargedesk.ConversationClosed}
		categories := []string{chargedesk.CategoryPaymentFailure, chargedesk.CategoryConnectorStuck, ""}
		var all []*chargedesk.Conversation
		for i := range 60 {
			// Two conversations at each time: ties are ordered by id.
			clock.set(base.Add(time.Duration(i/2) * time.Second))
			c := &chargedesk.Conversation{ID: fmt.Sprintf("c%02d", i), Channel: channels[i%3], Language: chargedesk.Languages[i%2*2],
				Category: categories[i%len(categories)], Status: statuses[i%len(statuses)]}
			switch i % 7 {
			case 1:
				c.Operator = "ada"
			case 2, 4:
				c.Busy, c.BusyUntil = chargedesk.BusyCharger, now.Add(time.Minute) // in flight at now
			case 3:
				c.Busy, c.BusyUntil = chargedesk.BusyCharger, now.Add(-time.Minute) // a lease that ran out
			case 5:
				c.Busy, c.BusyUntil = chargedesk.BusyReplying, now.Add(time.Minute)
			}
			must(t, s.CreateConversation(ctx, c))
			all = append(all, c)
		}
		// Later turns move some conversations to the top, in another order
		// than their creation.
		for i := 0; i < 60; i += 9 {
			at := base.Add(time.Duration(200-i) * time.Second)
			must(t, s.AppendTurn(ctx, &chargedesk.Turn{ConversationID: all[i].ID, Role: chargedesk.RoleDriver, Text: "still there?", At: at}))
			all[i].ActiveAt = micro(at)
		}
		clock.set(now)
		byActivity := slices.Clone(all)
		slices.SortFunc(byActivity, func(a, b *chargedesk.Conversation) int {
			if c := b.ActiveAt.Compare(a.ActiveAt); c != 0 {
				return c
			}
			return strings.Compare(b.ID, a.ID)
		})
		ids := func(cs []*chargedesk.Conversation) []string {
			out := []string{}
			for _, c := range cs {
				out = append(out, c.ID)
			}
			return out
		}
		for _, tt := range []struct {
			name string
			f    chargedesk.ConversationFilter
			keep func(c *chargedesk.Conversation) bool
		}{
			{"all", chargedesk.ConversationFilter{}, func(*chargedesk.Conversation) bool { return true }},
			{"channel", chargedesk.ConversationFilter{Channel: chargedesk.ChannelSMS}, func(c *chargedesk.Conversation) bool { return c.Channel == chargedesk.ChannelSMS }},
			{"language", chargedesk.ConversationFilter{Language: "es"}, func(c *chargedesk.Conversation) bool { return c.Language == "es" }},
			{"category", chargedesk.ConversationFilter{Category: chargedesk.CategoryPaymentFailure}, func(c *chargedesk.Conversation) bool {
				return c.Category == chargedesk.CategoryPaymentFailure
			}},
			{"status", chargedesk.ConversationFilter{Status: chargedesk.ConversationEscalated}, func(c *chargedesk.Conversation) bool {
				return c.Status == chargedesk.ConversationEscalated
			}},
			{"channel, language and category", chargedesk.ConversationFilter{Channel: chargedesk.ChannelChat, Language: "en", Category: chargedesk.CategoryConnectorStuck},
				func(c *chargedesk.Conversation) bool {
					return c.Channel == chargedesk.ChannelChat && c.Language == "en" && c.Category == chargedesk.CategoryConnectorStuck
				}},
		} {
			t.Run(tt.name, func(t *testing.T) {
				var want []*chargedesk.Conversation
				for _, c := range byActivity {
					if tt.keep(c) {
						want = append(want, c)
					}
				}
				f := tt.f
				f.ByActivity, f.Limit = true, 1000
				got, err := s.Conversations(ctx, f)
				must(t, err)
				if diff := cmp.Diff(ids(want), ids(got)); diff != "" {
					t.Errorf("ids (-want +got):\n%s", diff)
				}
			})
		}
		for _, p := range chargedesk.Phases {
			t.Run("phase "+string(p), func(t *testing.T) {
				var want []*chargedesk.Conversation
				for _, c := range byActivity {
					if c.Phase(now) == p {
						want = append(want, c)
					}
				}
				if len(want) == 0 {
					t.Fatalf("the test's conversations have none in phase %s", p)
				}
				got, err := s.Conversations(ctx, chargedesk.ConversationFilter{Phase: p, ByActivity: true, Limit: 1000})
				must(t, err)
				if diff := cmp.Diff(ids(want), ids(got)); diff != "" {
					t.Errorf("ids (-want +got):\n%s", diff)
				}
				for _, c := range got {
					if c.Phase(now) != p {
						t.Errorf("%s is in phase %s, listed under %s", c.ID, c.Phase(now), p)
					}
				}
			})
		}
		t.Run("paged", func(t *testing.T) {
			for _, f := range []chargedesk.ConversationFilter{{ByActivity: true}, {ByActivity: true, Channel: chargedesk.ChannelVoice}, {}} {
				var want []string
				if f.ByActivity {
					for _, c := range byActivity {
						if f.Channel == "" || c.Channel == f.Channel {
							want = append(want, c.ID)
						}
					}
				} else {
					all, err := s.Conversations(ctx, chargedesk.ConversationFilter{Limit: 1000})
					must(t, err)
					want = ids(all)
				}
				var got []string
				f.Limit = 7
				for page := 0; ; page++ {
					if page > 20 {
						t.Fatal("paging does not end")
					}
					list, err := s.Conversations(ctx, f)
					must(t, err)
					got = append(got, ids(list)...)
					if len(list) < f.Limit {
						break
					}
					cur := list[len(list)-1].Cursor(f.ByActivity)
					f.After = &cur
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("filter %+v: paged ids (-want +got):\n%s", f, diff)
				}
			}
		})
		t.Run("unknown phase", func(t *testing.T) {
			_, err := s.Conversations(ctx, chargedesk.ConversationFilter{Phase: "sleeping"})
			wantCode(t, err, chargedesk.EINVALID)
		})
	})
}
