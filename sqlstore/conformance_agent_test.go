package sqlstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chargedesk/chargedesk"
	"github.com/google/go-cmp/cmp"
)

// sameJSON compares JSON documents by meaning: PostgreSQL's jsonb keeps
// neither key order nor white space.
var sameJSON = cmp.Comparer(func(a, b json.RawMessage) bool {
	if len(a) == 0 || len(b) == 0 {
		return len(a) == len(b)
	}
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return cmp.Equal(x, y)
})

// stepClock returns a clock that starts at start and moves one second
// forward at each reading, safe for concurrent use.
func stepClock(start time.Time) func() time.Time {
	var mu sync.Mutex
	next := start
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		t := next
		next = next.Add(time.Second)
		return t
	}
}

// runAgentConformance checks the SiteStore, DriverStore, ConversationStore
// and TicketStore methods of a backend.
func runAgentConformance(t *testing.T, b backend) {
	ctx := context.Background()
	fresh := func(t *testing.T, opts ...Option) *Store {
		t.Helper()
		return openStore(t, b.newDSN(t), opts...)
	}
	sentinel := errors.New("fn refuses")

	t.Run("Sites", func(t *testing.T) {
		t.Parallel()
		s := fresh(t)
		maple := &chargedesk.Site{ID: "maple", Name: "Maple Plaza", Address: "1420 Cedar Avenue", City: "Springfield",
			Region: "QC", Country: "CA", Lat: 45.5017, Lon: -73.5673, Landmarks: []string{"the Costco one", "près du centre commercial"}}
		must(t, s.PutSite(ctx, maple))
		must(t, s.PutSite(ctx, &chargedesk.Site{ID: "aspen", Name: "Aspen Lot", Lat: -90, Lon: 180}))
		got, err := s.Site(ctx, "maple")
		must(t, err)
		if diff := cmp.Diff(maple, got); diff != "" {
			t.Errorf("stored site (-want +got):\n%s", diff)
		}

		replaced := *maple
		replaced.Name, replaced.Landmarks = "Maple Plaza North", nil
		must(t, s.PutSite(ctx, &replaced))
		got, err = s.Site(ctx, "maple")
		must(t, err)
		if diff := cmp.Diff(&replaced, got); diff != "" {
			t.Errorf("replaced site (-want +got):\n%s", diff)
		}

		all, err := s.Sites(ctx)
		must(t, err)
		var ids []string
		for _, site := range all {
			ids = append(ids, site.ID)
		}
		if diff := cmp.Diff([]string{"aspen", "maple"}, ids); diff != "" {
			t.Errorf("site ids (-want +got):\n%s", diff)
		}

		_, err = s.Site(ctx, "birch")
		wantCode(t, err, chargedesk.ENOTFOUND)

		for _, tt := range []struct {
			name string
			site *chargedesk.Site
		}{
			{"nil", nil},
			{"no id", &chargedesk.Site{Name: "x"}},
			{"no name", &chargedesk.Site{ID: "x", Name: " "}},
			{"latitude", &chargedesk.Site{ID: "x", Name: "x", Lat: 91}},
			{"too many landmarks", &chargedesk.Site{ID: "x", Name: "x", Landmarks: make([]string, 21)}},
			{"empty landmark", &chargedesk.Site{ID: "x", Name: "x", Landmarks: []string{""}}},
			{"long landmark", &chargedesk.Site{ID: "x", Name: "x", Landmarks: []string{strings.Repeat("a", 201)}}},
			{"NUL in name", &chargedesk.Site{ID: "x", Name: "a\x00b"}},
			{"long region", &chargedesk.Site{ID: "x", Name: "x", Region: strings.Repeat("a", 65)}},
		} {
			t.Run(tt.name, func(t *testing.T) {
				wantCode(t, s.PutSite(ctx, tt.site), chargedesk.EINVALID)
				if tt.site != nil && tt.site.ID == "x" {
					_, err := s.Site(ctx, "x")
					wantCode(t, err, chargedesk.ENOTFOUND)
				}
			})
		}
	})

	t.Run("ChargerLocations", func(t *testing.T) {
		t.Parallel()
		s := fresh(t)
		register(t, s, "CP-1", "CP-2", "CP-3")
		for _, id := range []string{"north", "south"} {
			must(t, s.PutSite(ctx, &chargedesk.Site{ID: id, Name: id}))
		}
		fast := []chargedesk.ConnectorSpec{
			{ID: 2, Type: chargedesk.ConnectorNACS, MaxPowerKW: 250},
			{ID: 1, Type: chargedesk.ConnectorCCS1, MaxPowerKW: 350},
		}
		must(t, s.PutChargerLocation(ctx, chargedesk.ChargerLocation{ChargerID: "CP-2", SiteID: "north", Connectors: fast}))
		must(t, s.PutChargerLocation(ctx, chargedesk.ChargerLocation{ChargerID: "CP-1", SiteID: "north"}))
		// Moving a charger replaces its location.
		slow := []chargedesk.ConnectorSpec{{ID: 1, Type: chargedesk.ConnectorJ1772, MaxPowerKW: 7.2}}
		must(t, s.PutChargerLocation(ctx, chargedesk.ChargerLocation{ChargerID: "CP-1", SiteID: "south", Connectors: slow}))

		got, err := s.ChargerLocations(ctx)
		must(t, err)
		want := []chargedesk.ChargerLocation{
			{ChargerID: "CP-1", SiteID: "south", Connectors: slow},
			{ChargerID: "CP-2", SiteID: "north", Connectors: fast},
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("locations (-want +got):\n%s", diff)
		}

		must(t, s.PutChargerLocation(ctx, chargedesk.ChargerLocation{ChargerID: "CP-3", SiteID: "south"}))
		got, err = s.ChargerLocations(ctx)
		must(t, err)
		if len(got) != 3 || got[2].ChargerID != "CP-3" || got[2].Connectors == nil || len(got[2].Connectors) != 0 {
			t.Errorf("location without connectors = %+v, want CP-3 last with an empty, non-nil slice", got)
		}

		for _, tt := range []struct {
			name string
			loc  chargedesk.ChargerLocation
			code string
		}{
			{"unknown charger", chargedesk.ChargerLocation{ChargerID: "CP-9", SiteID: "north"}, chargedesk.ENOTFOUND},
			{"unknown site", chargedesk.ChargerLocation{ChargerID: "CP-3", SiteID: "west"}, chargedesk.ENOTFOUND},
			{"bad charger id", chargedesk.ChargerLocation{ChargerID: "CP 1", SiteID: "north"}, chargedesk.EINVALID},
			{"no site", chargedesk.ChargerLocation{ChargerID: "CP-3"}, chargedesk.EINVALID},
			{"bad plug", chargedesk.ChargerLocation{ChargerID: "CP-3", SiteID: "north",
				Connectors: []chargedesk.ConnectorSpec{{ID: 1, Type: "Type2", MaxPowerKW: 22}}}, chargedesk.EINVALID},
			{"no power", chargedesk.ChargerLocation{ChargerID: "CP-3", SiteID: "north",
				Connectors: []chargedesk.ConnectorSpec{{ID: 1, Type: chargedesk.ConnectorCCS1}}}, chargedesk.EINVALID},
			{"connector twice", chargedesk.ChargerLocation{ChargerID: "CP-3", SiteID: "north",
				Connectors: []chargedesk.ConnectorSpec{{ID: 1, Type: chargedesk.ConnectorCCS1, MaxPowerKW: 50}, {ID: 1, Type: chargedesk.ConnectorNACS, MaxPowerKW: 50}}}, chargedesk.EINVALID},
		} {
			t.Run(tt.name, func(t *testing.T) {
				wantCode(t, s.PutChargerLocation(ctx, tt.loc), tt.code)
			})
		}
		// The failed puts changed nothing.
		after, err := s.ChargerLocations(ctx)
		must(t, err)
		if diff := cmp.Diff(got, after); diff != "" {
			t.Errorf("locations changed by failed puts (-before +after):\n%s", diff)
		}
	})

	t.Run("Drivers", func(t *testing.T) {
		t.Parallel()
		clock := stepClock(base)
		s := fresh(t, WithClock(clock))
		ana := &chargedesk.Driver{ID: "d1", Name: "Ana Díaz", Phone: "+15555550123", Language: "es", PaymentAccountID: "cus_1"}
		must(t, s.PutDriver(ctx, ana))
		created := ana.CreatedAt
		if created.IsZero() || !ana.UpdatedAt.Equal(created) || created.Location() != time.UTC {
			t.Errorf("new driver times %v, %v: want equal, set and UTC", created, ana.UpdatedAt)
		}
		got, err := s.Driver(ctx, "d1")
		must(t, err)
		if diff := cmp.Diff(ana, got); diff != "" {
			t.Errorf("stored driver (-want +got):\n%s", diff)
		}
		got, err = s.DriverByPhone(ctx, "+15555550123")
		must(t, err)
		if diff := cmp.Diff(ana, got); diff != "" {
			t.Errorf("driver by phone (-want +got):\n%s", diff)
		}

		t.Run("replace keeps CreatedAt", func(t *testing.T) {
			d := &chargedesk.Driver{ID: "d1", Name: "Ana Díaz", Phone: "+15555550199", Language: "fr",
				CreatedAt: base.Add(-time.Hour)}
			must(t, s.PutDriver(ctx, d))
			if !d.CreatedAt.Equal(created) || !d.UpdatedAt.After(created) {
				t.Errorf("replaced driver times %v, %v: want CreatedAt %v kept and UpdatedAt later", d.CreatedAt, d.UpdatedAt, created)
			}
			got, err := s.Driver(ctx, "d1")
			must(t, err)
			if diff := cmp.Diff(d, got); diff != "" {
				t.Errorf("stored driver (-want +got):\n%s", diff)
			}
			// The old number is free again.
			_, err = s.DriverByPhone(ctx, "+15555550123")
			wantCode(t, err, chargedesk.ENOTFOUND)
		})

		t.Run("given CreatedAt", func(t *testing.T) {
			d := &chargedesk.Driver{ID: "d2", Language: "en", CreatedAt: base.Add(-time.Hour)}
			must(t, s.PutDriver(ctx, d))
			if want := micro(base.Add(-time.Hour)); !d.CreatedAt.Equal(want) {
				t.Errorf("CreatedAt = %v, want %v", d.CreatedAt, want)
			}
		})

		t.Run("empty phones do not clash", func(t *testing.T) {
			must(t, s.PutDriver(ctx, &chargedesk.Driver{ID: "d3", Language: "en"}))
			must(t, s.PutDriver(ctx, &chargedesk.Driver{ID: "d4", Language: "fr"}))
			_, err := s.DriverByPhone(ctx, "")
			wantCode(t, err, chargedesk.ENOTFOUND)
		})

		for _, tt := range []struct {
			name string
			d    *chargedesk.Driver
			code string
		}{
			{"phone of another driver", &chargedesk.Driver{ID: "d5", Phone: "+15555550199", Language: "en"}, chargedesk.ECONFLICT},
			{"nil", nil, chargedesk.EINVALID},
			{"no id", &chargedesk.Driver{Language: "en"}, chargedesk.EINVALID},
			{"language", &chargedesk.Driver{ID: "d5", Language: "de"}, chargedesk.EINVALID},
			{"phone", &chargedesk.Driver{ID: "d5", Phone: "5555550123", Language: "en"}, chargedesk.EINVALID},
			{"name not UTF-8", &chargedesk.Driver{ID: "d5", Name: "\xff", Language: "en"}, chargedesk.EINVALID},
		} {
			t.Run(tt.name, func(t *testing.T) {
				wantCode(t, s.PutDriver(ctx, tt.d), tt.code)
				_, err := s.Driver(ctx, "d5")
				wantCode(t, err, chargedesk.ENOTFOUND)
			})
		}

		for _, tt := range []struct{ name, id, phone string }{
			{"unknown id", "d9", ""},
			{"unknown phone", "", "+15555550000"},
			{"malformed phone", "", "not a phone"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				var err error
				if tt.id != "" {
					_, err = s.Driver(ctx, tt.id)
				} else {
					_, err = s.DriverByPhone(ctx, tt.phone)
				}
				wantCode(t, err, chargedesk.ENOTFOUND)
			})
		}
	})

	newConversation := func(id string) *chargedesk.Conversation {
		return &chargedesk.Conversation{ID: id, Channel: chargedesk.ChannelSMS, Language: "en",
			Status: chargedesk.ConversationOpen}
	}

	t.Run("CreateConversation", func(t *testing.T) {
		t.Parallel()
		now := base.Add(time.Hour)
		s := fresh(t, WithClock(func() time.Time { return now }))
		c := &chargedesk.Conversation{ID: "c1", Channel: chargedesk.ChannelVoice, Language: "fr",
			From: "+15145550123", DriverID: "d1", Verified: chargedesk.VerifiedPhone, ChargerID: "CP-1",
			ConnectorID: 2, Category: chargedesk.CategoryConnectorStuck, Playbook: "unlock", State: "confirm",
			Data:   json.RawMessage(`{ "tries": 2, "asked": ["connector", "charger"] }`),
			Status: chargedesk.ConversationEscalated, TicketID: "t1", Flagged: 1}
		must(t, s.CreateConversation(ctx, c))
		if !c.CreatedAt.Equal(micro(now)) || !c.UpdatedAt.Equal(micro(now)) {
			t.Errorf("times %v, %v: want both %v", c.CreatedAt, c.UpdatedAt, micro(now))
		}
		if string(c.Data) != `{"tries":2,"asked":["connector","charger"]}` {
			t.Errorf("Data written back = %s, want it compacted", c.Data)
		}
		got, err := s.Conversation(ctx, "c1")
		must(t, err)
		if diff := cmp.Diff(c, got, sameJSON); diff != "" {
			t.Errorf("stored conversation (-want +got):\n%s", diff)
		}

		t.Run("given CreatedAt and no data", func(t *testing.T) {
			c := newConversation("c2")
			c.CreatedAt = base
			must(t, s.CreateConversation(ctx, c))
			got, err := s.Conversation(ctx, "c2")
			must(t, err)
			if !got.CreatedAt.Equal(micro(base)) || !got.UpdatedAt.Equal(micro(now)) || got.Data != nil {
				t.Errorf("got CreatedAt %v, UpdatedAt %v, Data %q; want %v, %v, nil", got.CreatedAt, got.UpdatedAt, got.Data, micro(base), micro(now))
			}
		})

		_, err = s.Conversation(ctx, "c9")
		wantCode(t, err, chargedesk.ENOTFOUND)

		for _, tt := range []struct {
			name string
			edit func(c *chargedesk.Conversation)
			code string
		}{
			{"duplicate", func(c *chargedesk.Conversation) { c.ID = "c1" }, chargedesk.ECONFLICT},
			{"no id", func(c *chargedesk.Conversation) { c.ID = "" }, chargedesk.EINVALID},
			{"long id", func(c *chargedesk.Conversation) { c.ID = strings.Repeat("c", 65) }, chargedesk.EINVALID},
			{"channel", func(c *chargedesk.Conversation) { c.Channel = "fax" }, chargedesk.EINVALID},
			{"language", func(c *chargedesk.Conversation) { c.Language = "de" }, chargedesk.EINVALID},
			{"no status", func(c *chargedesk.Conversation) { c.Status = "" }, chargedesk.EINVALID},
			{"status", func(c *chargedesk.Conversation) { c.Status = "pending" }, chargedesk.EINVALID},
			{"verification", func(c *chargedesk.Conversation) { c.Verified = "guess" }, chargedesk.EINVALID},
			{"negative connector", func(c *chargedesk.Conversation) { c.ConnectorID = -1 }, chargedesk.EINVALID},
			{"negative flagged", func(c *chargedesk.Conversation) { c.Flagged = -1 }, chargedesk.EINVALID},
			{"long from", func(c *chargedesk.Conversation) { c.From = strings.Repeat("1", 201) }, chargedesk.EINVALID},
			{"long state", func(c *chargedesk.Conversation) { c.State = strings.Repeat("s", 65) }, chargedesk.EINVALID},
			{"NUL in category", func(c *chargedesk.Conversation) { c.Category = "a\x00" }, chargedesk.EINVALID},
			{"data not JSON", func(c *chargedesk.Conversation) { c.Data = json.RawMessage(`{"a":`) }, chargedesk.EINVALID},
			{"data too large", func(c *chargedesk.Conversation) {
				c.Data = json.RawMessage(`"` + strings.Repeat("x", maxJSON) + `"`)
			}, chargedesk.EINVALID},
			{"data with NUL", func(c *chargedesk.Conversation) { c.Data = json.RawMessage(`"a\u0000"`) }, chargedesk.EINVALID},
		} {
			t.Run(tt.name, func(t *testing.T) {
				c := newConversation("c3")
				tt.edit(c)
				before := *c
				wantCode(t, s.CreateConversation(ctx, c), tt.code)
				if diff := cmp.Diff(&before, c); diff != "" {
					t.Errorf("failed create changed its argument (-before +after):\n%s", diff)
				}
				_, err := s.Conversation(ctx, "c3")
				wantCode(t, err, chargedesk.ENOTFOUND)
			})
		}
		wantCode(t, s.CreateConversation(ctx, nil), chargedesk.EINVALID)
	})

	t.Run("UpdateConversation", func(t *testing.T) {
		t.Parallel()
		s := fresh(t, WithClock(stepClock(base)))
		c := newConversation("c1")
		must(t, s.CreateConversation(ctx, c))

		got, err := s.UpdateConversation(ctx, "c1", func(c *chargedesk.Conversation) error {
			c.DriverID, c.Verified = "d1", chargedesk.VerifiedCard
			c.Playbook, c.State = "session_wont_start", "check_auth"
			c.Data = json.RawMessage(`{"step": 1}`)
			c.Status = chargedesk.ConversationResolved
			c.CreatedAt = base.Add(-24 * time.Hour) // ignored
			return nil
		})
		must(t, err)
		want := *c
		want.DriverID, want.Verified = "d1", chargedesk.VerifiedCard
		want.Playbook, want.State = "session_wont_start", "check_auth"
		want.Data = json.RawMessage(`{"step":1}`)
		want.Status = chargedesk.ConversationResolved
		want.UpdatedAt = c.CreatedAt.Add(time.Second)
		want.ActiveAt = want.UpdatedAt
		if diff := cmp.Diff(&want, got, sameJSON); diff != "" {
			t.Errorf("returned (-want +got):\n%s", diff)
		}
		stored, err := s.Conversation(ctx, "c1")
		must(t, err)
		if diff := cmp.Diff(&want, stored, sameJSON); diff != "" {
			t.Errorf("stored (-want +got):\n%s", diff)
		}

		for _, tt := range []struct {
			name string
			id   string
			fn   func(c *chargedesk.Conversation) error
			code string
		}{
			{"unknown", "c9", func(*chargedesk.Conversation) error { return nil }, chargedesk.ENOTFOUND},
			{"id change", "c1", func(c *chargedesk.Conversation) error { c.ID = "c2"; return nil }, chargedesk.EINVALID},
			{"invalid status", "c1", func(c *chargedesk.Conversation) error { c.Status = "gone"; return nil }, chargedesk.EINVALID},
			{"invalid data", "c1", func(c *chargedesk.Conversation) error { c.Data = json.RawMessage(`nope`); return nil }, chargedesk.EINVALID},
			{"fn error", "c1", func(c *chargedesk.Conversation) error { c.State = "changed"; return sentinel }, chargedesk.EINTERNAL},
		} {
			t.Run(tt.name, func(t *testing.T) {
				_, err := s.UpdateConversation(ctx, tt.id, tt.fn)
				wantCode(t, err, tt.code)
				if tt.name == "fn error" && !errors.Is(err, sentinel) {
					t.Errorf("error %v, want fn's own", err)
				}
				after, err := s.Conversation(ctx, "c1")
				must(t, err)
				if diff := cmp.Diff(stored, after, sameJSON); diff != "" {
					t.Errorf("failed update changed the conversation (-before +after):\n%s", diff)
				}
			})
		}
	})

	t.Run("Conversations", func(t *testing.T) {
		t.Parallel()
		s := fresh(t, WithClock(stepClock(base)))
		var all []string // newest first
		for i := range 105 {
			c := newConversation(fmt.Sprintf("c%03d", i))
			if i%3 == 0 {
				c.Status = chargedesk.ConversationClosed
			}
			if i%5 == 0 {
				c.DriverID = "d5"
			}
			must(t, s.CreateConversation(ctx, c))
			all = append([]string{c.ID}, all...)
		}
		// Equal CreatedAt: the greater id comes first.
		for _, id := range []string{"tie-a", "tie-b"} {
			c := newConversation(id)
			c.CreatedAt = base.Add(-time.Hour)
			must(t, s.CreateConversation(ctx, c))
		}
		var closed, d5 []string
		for _, id := range all {
			var n int
			fmt.Sscanf(id, "c%d", &n)
			if n%3 == 0 {
				closed = append(closed, id)
			}
			if n%5 == 0 {
				d5 = append(d5, id)
			}
		}
		for _, tt := range []struct {
			name string
			f    chargedesk.ConversationFilter
			want []string
		}{
			{"default limit", chargedesk.ConversationFilter{}, all[:100]},
			{"limit", chargedesk.ConversationFilter{Limit: 3}, all[:3]},
			{"all", chargedesk.ConversationFilter{Limit: 1000}, append(append([]string{}, all...), "tie-b", "tie-a")},
			{"status", chargedesk.ConversationFilter{Status: chargedesk.ConversationClosed}, closed},
			{"driver", chargedesk.ConversationFilter{DriverID: "d5", Limit: 4}, d5[:4]},
			{"status and driver", chargedesk.ConversationFilter{Status: chargedesk.ConversationClosed, DriverID: "d5"}, []string{"c090", "c075", "c060", "c045", "c030", "c015", "c000"}},
			{"none", chargedesk.ConversationFilter{DriverID: "d9"}, nil},
		} {
			t.Run(tt.name, func(t *testing.T) {
				got, err := s.Conversations(ctx, tt.f)
				must(t, err)
				if got == nil {
					t.Error("Conversations returned nil, want an empty slice")
				}
				var ids []string
				for _, c := range got {
					ids = append(ids, c.ID)
				}
				if diff := cmp.Diff(tt.want, ids); diff != "" {
					t.Errorf("ids (-want +got):\n%s", diff)
				}
			})
		}
	})

	t.Run("Turns", func(t *testing.T) {
		t.Parallel()
		now := base.Add(time.Hour)
		s := fresh(t, WithClock(func() time.Time { return now }))
		for _, id := range []string{"c1", "c2", "empty"} {
			must(t, s.CreateConversation(ctx, newConversation(id)))
		}
		written := []*chargedesk.Turn{
			{ConversationID: "c1", Role: chargedesk.RoleDriver, Text: "the charger at Maple won't start", At: base,
				Meta: json.RawMessage(`{"intent": "session_wont_start", "confidence": 0.9}`)},
			{ConversationID: "c2", Role: chargedesk.RoleDriver, Text: "hola", Seq: 77},
			{ConversationID: "c1", Role: chargedesk.RoleAction, Meta: json.RawMessage(`{"command":"RemoteStart","ok":true}`)},
			{ConversationID: "c1", Role: chargedesk.RoleAgent, Text: "I started a session on connector 1."},
		}
		for _, tu := range written {
			must(t, s.AppendTurn(ctx, tu))
		}
		for i, want := range []int64{1, 1, 2, 3} {
			if written[i].Seq != want {
				t.Errorf("turn %d: Seq %d, want %d", i, written[i].Seq, want)
			}
		}
		if !written[0].At.Equal(micro(base)) || !written[1].At.Equal(micro(now)) {
			t.Errorf("At = %v, %v; want the given time, then now", written[0].At, written[1].At)
		}
		got, err := s.Turns(ctx, "c1")
		must(t, err)
		want := []chargedesk.Turn{*written[0], *written[2], *written[3]}
		if diff := cmp.Diff(want, got, sameJSON); diff != "" {
			t.Errorf("turns of c1 (-want +got):\n%s", diff)
		}
		got, err = s.Turns(ctx, "empty")
		must(t, err)
		if got == nil || len(got) != 0 {
			t.Errorf("turns of a conversation without any = %v, want an empty slice", got)
		}
		_, err = s.Turns(ctx, "c9")
		wantCode(t, err, chargedesk.ENOTFOUND)

		// Appending a turn does not touch the conversation's fields.
		c, err := s.Conversation(ctx, "c1")
		must(t, err)
		if !c.UpdatedAt.Equal(micro(now)) || c.Status != chargedesk.ConversationOpen {
			t.Errorf("conversation after turns: %+v", c)
		}

		for _, tt := range []struct {
			name string
			turn *chargedesk.Turn
			code string
		}{
			{"driver at the limit", &chargedesk.Turn{Role: chargedesk.RoleDriver, Text: strings.Repeat("é", chargedesk.MaxMessageLen)}, ""},
			{"agent at the limit", &chargedesk.Turn{Role: chargedesk.RoleAgent, Text: strings.Repeat("a", MaxAgentTurnLen)}, ""},
			{"driver too long", &chargedesk.Turn{Role: chargedesk.RoleDriver, Text: strings.Repeat("a", chargedesk.MaxMessageLen+1)}, chargedesk.EINVALID},
			{"agent too long", &chargedesk.Turn{Role: chargedesk.RoleAgent, Text: strings.Repeat("a", MaxAgentTurnLen+1)}, chargedesk.EINVALID},
			{"role", &chargedesk.Turn{Role: "system", Text: "x"}, chargedesk.EINVALID},
			{"no role", &chargedesk.Turn{Text: "x"}, chargedesk.EINVALID},
			{"not UTF-8", &chargedesk.Turn{Role: chargedesk.RoleDriver, Text: "\xc3"}, chargedesk.EINVALID},
			{"NUL", &chargedesk.Turn{Role: chargedesk.RoleDriver, Text: "a\x00"}, chargedesk.EINVALID},
			{"meta not JSON", &chargedesk.Turn{Role: chargedesk.RoleAction, Meta: json.RawMessage(`{`)}, chargedesk.EINVALID},
			{"unknown conversation", &chargedesk.Turn{ConversationID: "c9", Role: chargedesk.RoleDriver, Text: "x"}, chargedesk.ENOTFOUND},
			{"nil", nil, chargedesk.EINVALID},
		} {
			t.Run(tt.name, func(t *testing.T) {
				if tt.turn != nil && tt.turn.ConversationID == "" {
					tt.turn.ConversationID = "c2"
				}
				before, err := s.Turns(ctx, "c2")
				must(t, err)
				err = s.AppendTurn(ctx, tt.turn)
				wantCode(t, err, tt.code)
				after, err := s.Turns(ctx, "c2")
				must(t, err)
				grew := 0
				if tt.code == "" {
					grew = 1
					if tt.turn.Seq != int64(len(before)+1) {
						t.Errorf("Seq %d, want %d", tt.turn.Seq, len(before)+1)
					}
				}
				if len(after) != len(before)+grew {
					t.Errorf("c2 has %d turns after, %d before; want %d more", len(after), len(before), grew)
				}
			})
		}
	})

	t.Run("AppendTurnConcurrent", func(t *testing.T) {
		t.Parallel()
		s := fresh(t)
		must(t, s.CreateConversation(ctx, newConversation("c1")))
		must(t, s.CreateConversation(ctx, newConversation("c2")))
		const n = 50
		turns := make([]*chargedesk.Turn, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				turns[i] = &chargedesk.Turn{ConversationID: "c1", Role: chargedesk.RoleDriver, Text: fmt.Sprint(i)}
				errs[i] = s.AppendTurn(ctx, turns[i])
				if i%10 == 0 {
					// Another conversation's turns do not take c1's numbers.
					errs[i] = errors.Join(errs[i], s.AppendTurn(ctx, &chargedesk.Turn{ConversationID: "c2", Role: chargedesk.RoleAgent}))
				}
			})
		}
		wg.Wait()
		textBySeq := map[int64]string{}
		for i := range n {
			must(t, errs[i])
			if prev, dup := textBySeq[turns[i].Seq]; dup {
				t.Errorf("Seq %d given to turns %s and %d", turns[i].Seq, prev, i)
			}
			textBySeq[turns[i].Seq] = turns[i].Text
		}
		got, err := s.Turns(ctx, "c1")
		must(t, err)
		if len(got) != n {
			t.Fatalf("%d turns stored, want %d", len(got), n)
		}
		for i, tu := range got {
			if tu.Seq != int64(i+1) {
				t.Fatalf("turn %d has Seq %d, want %d (seqs must run 1..%d)", i, tu.Seq, i+1, n)
			}
			if textBySeq[tu.Seq] != tu.Text {
				t.Errorf("Seq %d: stored text %q, the appender was told it had %q", tu.Seq, tu.Text, textBySeq[tu.Seq])
			}
		}
		other, err := s.Turns(ctx, "c2")
		must(t, err)
		if len(other) != n/10 || other[len(other)-1].Seq != n/10 {
			t.Errorf("c2 has %d turns, the last with Seq %d; want %d and %d", len(other), other[len(other)-1].Seq, n/10, n/10)
		}
	})

	t.Run("AmendInterruptedTurn", func(t *testing.T) {
		t.Parallel()
		now := base.Add(time.Hour)
		s := fresh(t, WithClock(func() time.Time { return now }))
		for _, id := range []string{"c1", "c2", "quiet"} {
			must(t, s.CreateConversation(ctx, newConversation(id)))
		}
		const greeting = "Hello, this is charging support."
		const answer = "Which charger are you at? The ID is on the label, like ABC-0042."
		const heard = "Which charger are you at?"
		c1 := []*chargedesk.Turn{
			{ConversationID: "c1", Role: chargedesk.RoleAgent, Text: greeting, At: base},
			{ConversationID: "c1", Role: chargedesk.RoleDriver, Text: "my charge won't start", At: base,
				Meta: json.RawMessage(`{"intent":"session_wont_start"}`)},
			{ConversationID: "c1", Role: chargedesk.RoleAction, Text: "lookup", At: base, Meta: json.RawMessage(`{"ok":true}`)},
			{ConversationID: "c1", Role: chargedesk.RoleAgent, Text: answer, At: base.Add(time.Second)},
		}
		for _, tu := range c1 {
			must(t, s.AppendTurn(ctx, tu))
		}
		must(t, s.AppendTurn(ctx, &chargedesk.Turn{ConversationID: "quiet", Role: chargedesk.RoleDriver, Text: "hello?"}))
		before := func(id string) []chargedesk.Turn {
			t.Helper()
			turns, err := s.Turns(ctx, id)
			must(t, err)
			return turns
		}
		unchanged := func(t *testing.T, id string, want []chargedesk.Turn) {
			t.Helper()
			if diff := cmp.Diff(want, before(id), sameJSON); diff != "" {
				t.Errorf("turns of %s changed (-before +after):\n%s", id, diff)
			}
		}
		orig := before("c1")

		// Refused without a change: bad text, unknown conversation, no
		// agent turn, an answer that is not the latest agent turn.
		for _, tt := range []struct {
			name string
			conv string
			in   chargedesk.Interruption
			code string
		}{
			{"too long", "c1", chargedesk.Interruption{Planned: answer, Heard: strings.Repeat("é", MaxAgentTurnLen+1)}, chargedesk.EINVALID},
			{"not UTF-8", "c1", chargedesk.Interruption{Planned: answer, Heard: "Which\xc3"}, chargedesk.EINVALID},
			{"NUL", "c1", chargedesk.Interruption{Planned: answer, Heard: "Which\x00"}, chargedesk.EINVALID},
			{"unknown conversation", "c9", chargedesk.Interruption{Planned: answer, Heard: heard}, chargedesk.ENOTFOUND},
			{"no agent turn", "quiet", chargedesk.Interruption{Planned: "hello?", Heard: "hel"}, chargedesk.ENOTFOUND},
			{"an older agent turn", "c1", chargedesk.Interruption{Planned: greeting, Heard: "Hello"}, chargedesk.ECONFLICT},
			{"another text", "c1", chargedesk.Interruption{Planned: answer + " ", Heard: heard}, chargedesk.ECONFLICT},
		} {
			t.Run(tt.name, func(t *testing.T) {
				quiet := before("quiet")
				got, err := s.AmendInterruptedTurn(ctx, tt.conv, tt.in)
				wantCode(t, err, tt.code)
				if got != nil {
					t.Errorf("turn %+v returned with an error", got)
				}
				unchanged(t, "c1", orig)
				unchanged(t, "quiet", quiet)
			})
		}

		// The latest agent turn keeps what was heard; its Meta says what
		// was planned and when the driver spoke; nothing else changes.
		got, err := s.AmendInterruptedTurn(ctx, "c1", chargedesk.Interruption{Planned: answer, Heard: heard, DurationMs: 850})
		must(t, err)
		want := orig[3]
		want.Text = heard
		want.Meta = json.RawMessage(`{"bargeIn":true,"planned":"` + answer + `","durationUntilInterruptMs":850}`)
		if diff := cmp.Diff(&want, got, sameJSON); diff != "" {
			t.Errorf("amended turn (-want +got):\n%s", diff)
		}
		unchanged(t, "c1", append(append([]chargedesk.Turn{}, orig[:3]...), want))
		c, err := s.Conversation(ctx, "c1")
		must(t, err)
		if !c.UpdatedAt.Equal(micro(now)) {
			t.Errorf("conversation UpdatedAt %v after an amendment, want %v", c.UpdatedAt, micro(now))
		}

		// A turn is amended once: a second interrupt of it, by its old or
		// its new text, is a conflict.
		for _, planned := range []string{answer, heard} {
			_, err = s.AmendInterruptedTurn(ctx, "c1", chargedesk.Interruption{Planned: planned, Heard: "Which"})
			wantCode(t, err, chargedesk.ECONFLICT)
		}
		unchanged(t, "c1", append(append([]chargedesk.Turn{}, orig[:3]...), want))

		// Only the latest agent turn: a driver turn after it does not
		// hide it, a later answer does. Nothing heard keeps no text; an
		// unknown duration is left out; the Meta's own keys stay.
		must(t, s.AppendTurn(ctx, &chargedesk.Turn{ConversationID: "c2", Role: chargedesk.RoleAgent, Text: "first"}))
		must(t, s.AppendTurn(ctx, &chargedesk.Turn{ConversationID: "c2", Role: chargedesk.RoleDriver, Text: "yes"}))
		must(t, s.AppendTurn(ctx, &chargedesk.Turn{ConversationID: "c2", Role: chargedesk.RoleAgent, Text: "second",
			Meta: json.RawMessage(`{"source":"playbook"}`)}))
		must(t, s.AppendTurn(ctx, &chargedesk.Turn{ConversationID: "c2", Role: chargedesk.RoleDriver, Text: "stop"}))
		c2 := before("c2")
		_, err = s.AmendInterruptedTurn(ctx, "c2", chargedesk.Interruption{Planned: "first", Heard: "fi"})
		wantCode(t, err, chargedesk.ECONFLICT)
		unchanged(t, "c2", c2)
		got, err = s.AmendInterruptedTurn(ctx, "c2", chargedesk.Interruption{Planned: "second", Heard: "", DurationMs: -1})
		must(t, err)
		want = c2[2]
		want.Text, want.Meta = "", json.RawMessage(`{"source":"playbook","bargeIn":true,"planned":"second"}`)
		if diff := cmp.Diff(&want, got, sameJSON); diff != "" {
			t.Errorf("amended turn (-want +got):\n%s", diff)
		}
		unchanged(t, "c2", []chargedesk.Turn{c2[0], c2[1], want, c2[3]})

		// What was heard may be as long as an agent turn may be, in
		// characters, and need not be a prefix of what was planned.
		must(t, s.AppendTurn(ctx, &chargedesk.Turn{ConversationID: "c2", Role: chargedesk.RoleAgent, Text: "ABC-0042"}))
		long := strings.Repeat("é", MaxAgentTurnLen)
		got, err = s.AmendInterruptedTurn(ctx, "c2", chargedesk.Interruption{Planned: "ABC-0042", Heard: long, DurationMs: 0})
		must(t, err)
		after := before("c2")
		if last := after[len(after)-1]; last.Text != long || got.Seq != last.Seq || !strings.Contains(string(last.Meta), `"durationUntilInterruptMs":0`) {
			t.Errorf("amended turn %d: %d characters, meta %s", last.Seq, len([]rune(last.Text)), last.Meta)
		}
	})

	t.Run("AmendInterruptedTurnConcurrent", func(t *testing.T) {
		t.Parallel()
		s := fresh(t)
		must(t, s.CreateConversation(ctx, newConversation("c1")))
		must(t, s.AppendTurn(ctx, &chargedesk.Turn{ConversationID: "c1", Role: chargedesk.RoleAgent, Text: "planned answer"}))
		// Interrupts of the same answer race each other and appends of
		// the next answers: an answer is amended at most once, and only
		// while it is the latest agent turn.
		const n = 8
		errs := make([]error, n)
		heard := make([]string, n)
		var appendErr error
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				heard[i] = fmt.Sprint("heard ", i)
				_, errs[i] = s.AmendInterruptedTurn(ctx, "c1", chargedesk.Interruption{Planned: "planned answer", Heard: heard[i], DurationMs: int64(i)})
			})
			if i == n/2 {
				wg.Go(func() {
					appendErr = errors.Join(
						s.AppendTurn(ctx, &chargedesk.Turn{ConversationID: "c1", Role: chargedesk.RoleDriver, Text: "next"}),
						s.AppendTurn(ctx, &chargedesk.Turn{ConversationID: "c1", Role: chargedesk.RoleAgent, Text: "planned answer, again"}))
				})
			}
		}
		wg.Wait()
		must(t, appendErr)
		won := -1
		for i, err := range errs {
			switch chargedesk.ErrorCode(err) {
			case "":
				if won >= 0 {
					t.Errorf("interrupts %d and %d both amended the answer", won, i)
				}
				won = i
			case chargedesk.ECONFLICT:
			default:
				t.Errorf("interrupt %d: %v", i, err)
			}
		}
		turns, err := s.Turns(ctx, "c1")
		must(t, err)
		if len(turns) != 3 || turns[2].Text != "planned answer, again" || len(turns[2].Meta) != 0 {
			t.Fatalf("turns after the race: %+v", turns)
		}
		first := turns[0]
		if won < 0 {
			if first.Text != "planned answer" || len(first.Meta) != 0 {
				t.Errorf("no interrupt won, yet the answer is %q %s", first.Text, first.Meta)
			}
			return
		}
		if first.Text != heard[won] || !strings.Contains(string(first.Meta), `"planned":"planned answer"`) {
			t.Errorf("interrupt %d won, the answer is %q %s", won, first.Text, first.Meta)
		}
	})

	newTicket := func(id string, status chargedesk.TicketStatus) *chargedesk.Ticket {
		tk := &chargedesk.Ticket{ID: id, Category: "field_service", Summary: "connector 1 latch broken", Status: status}
		if status == chargedesk.TicketAssigned {
			tk.Assignee = "tech-1"
		}
		return tk
	}

	t.Run("CreateTicket", func(t *testing.T) {
		t.Parallel()
		now := base.Add(time.Hour)
		s := fresh(t, WithClock(func() time.Time { return now }))
		tk := &chargedesk.Ticket{ID: "t1", Category: chargedesk.CategoryHardwareDamage, ChargerID: "CP-1", ConnectorID: 1,
			DriverID: "d1", ConversationID: "c1", Summary: "cable cut", Diagnosis: "no connector status since 09:00",
			Evidence:   json.RawMessage(`[{"event": "StatusNotification", "status": "Faulted"}]`),
			Transcript: "driver: the cable is cut\nagent: I opened a ticket", Status: chargedesk.TicketOpen}
		must(t, s.CreateTicket(ctx, tk))
		if !tk.CreatedAt.Equal(micro(now)) || !tk.UpdatedAt.Equal(micro(now)) {
			t.Errorf("times %v, %v: want both %v", tk.CreatedAt, tk.UpdatedAt, micro(now))
		}
		got, err := s.Ticket(ctx, "t1")
		must(t, err)
		if diff := cmp.Diff(tk, got, sameJSON); diff != "" {
			t.Errorf("stored ticket (-want +got):\n%s", diff)
		}
		_, err = s.Ticket(ctx, "t9")
		wantCode(t, err, chargedesk.ENOTFOUND)

		for _, tt := range []struct {
			name string
			edit func(*chargedesk.Ticket)
			code string
		}{
			{"duplicate", func(tk *chargedesk.Ticket) { tk.ID = "t1" }, chargedesk.ECONFLICT},
			{"no summary", func(tk *chargedesk.Ticket) { tk.Summary = "" }, chargedesk.EINVALID},
			{"no category", func(tk *chargedesk.Ticket) { tk.Category = "" }, chargedesk.EINVALID},
			{"status", func(tk *chargedesk.Ticket) { tk.Status = "done" }, chargedesk.EINVALID},
			{"assigned to nobody", func(tk *chargedesk.Ticket) { tk.Status = chargedesk.TicketAssigned }, chargedesk.EINVALID},
			{"evidence not JSON", func(tk *chargedesk.Ticket) { tk.Evidence = json.RawMessage(`[1,`) }, chargedesk.EINVALID},
			{"long assignee", func(tk *chargedesk.Ticket) { tk.Assignee = strings.Repeat("a", 201) }, chargedesk.EINVALID},
			{"negative connector", func(tk *chargedesk.Ticket) { tk.ConnectorID = -1 }, chargedesk.EINVALID},
			{"NUL in transcript", func(tk *chargedesk.Ticket) { tk.Transcript = "\x00" }, chargedesk.EINVALID},
		} {
			t.Run(tt.name, func(t *testing.T) {
				tk := newTicket("t2", chargedesk.TicketOpen)
				tt.edit(tk)
				wantCode(t, s.CreateTicket(ctx, tk), tt.code)
				_, err := s.Ticket(ctx, "t2")
				wantCode(t, err, chargedesk.ENOTFOUND)
			})
		}
		wantCode(t, s.CreateTicket(ctx, nil), chargedesk.EINVALID)
	})

	t.Run("UpdateTicket", func(t *testing.T) {
		t.Parallel()
		s := fresh(t, WithClock(stepClock(base)))
		for _, tt := range []struct {
			name     string
			from     chargedesk.TicketStatus
			fn       func(*chargedesk.Ticket) error
			code     string
			wantFnEr bool
		}{
			{"open to assigned", chargedesk.TicketOpen, func(tk *chargedesk.Ticket) error {
				tk.Status, tk.Assignee = chargedesk.TicketAssigned, "tech-2"
				return nil
			}, "", false},
			{"open to closed", chargedesk.TicketOpen, func(tk *chargedesk.Ticket) error {
				tk.Status, tk.Resolution = chargedesk.TicketClosed, "reset fixed it"
				return nil
			}, "", false},
			{"open stays open", chargedesk.TicketOpen, func(tk *chargedesk.Ticket) error {
				tk.Diagnosis, tk.Evidence = "latch sensor stuck", json.RawMessage(`{"a": [1]}`)
				return nil
			}, "", false},
			{"reassigned", chargedesk.TicketAssigned, func(tk *chargedesk.Ticket) error { tk.Assignee = "tech-3"; return nil }, "", false},
			{"assigned to closed", chargedesk.TicketAssigned, func(tk *chargedesk.Ticket) error { tk.Status = chargedesk.TicketClosed; return nil }, "", false},
			{"assigned back to open", chargedesk.TicketAssigned, func(tk *chargedesk.Ticket) error { tk.Status = chargedesk.TicketOpen; return nil }, "", false},
			{"closed reopened", chargedesk.TicketClosed, func(tk *chargedesk.Ticket) error { tk.Status = chargedesk.TicketOpen; return nil }, "", false},
			{"closed stays closed", chargedesk.TicketClosed, func(tk *chargedesk.Ticket) error { tk.Resolution = "replaced cable"; return nil }, "", false},
			{"closed to assigned", chargedesk.TicketClosed, func(tk *chargedesk.Ticket) error {
				tk.Status, tk.Assignee = chargedesk.TicketAssigned, "tech-2"
				return nil
			}, chargedesk.ECONFLICT, false},
			{"assigned to nobody", chargedesk.TicketOpen, func(tk *chargedesk.Ticket) error { tk.Status = chargedesk.TicketAssigned; return nil }, chargedesk.EINVALID, false},
			{"unknown status", chargedesk.TicketOpen, func(tk *chargedesk.Ticket) error { tk.Status = "later"; return nil }, chargedesk.EINVALID, false},
			{"id change", chargedesk.TicketOpen, func(tk *chargedesk.Ticket) error { tk.ID = "other"; return nil }, chargedesk.EINVALID, false},
			{"summary removed", chargedesk.TicketOpen, func(tk *chargedesk.Ticket) error { tk.Summary = ""; return nil }, chargedesk.EINVALID, false},
			{"fn error", chargedesk.TicketOpen, func(tk *chargedesk.Ticket) error { tk.Summary = "changed"; return sentinel }, chargedesk.EINTERNAL, true},
		} {
			t.Run(tt.name, func(t *testing.T) {
				id := strings.ReplaceAll(tt.name, " ", "-")
				tk := newTicket(id, tt.from)
				must(t, s.CreateTicket(ctx, tk))
				got, err := s.UpdateTicket(ctx, id, tt.fn)
				wantCode(t, err, tt.code)
				if tt.wantFnEr && !errors.Is(err, sentinel) {
					t.Errorf("error %v, want fn's own", err)
				}
				stored, err2 := s.Ticket(ctx, id)
				must(t, err2)
				if err != nil {
					if diff := cmp.Diff(tk, stored, sameJSON); diff != "" {
						t.Errorf("failed update changed the ticket (-before +after):\n%s", diff)
					}
					return
				}
				want := *tk
				must(t, tt.fn(&want))
				want.UpdatedAt = tk.CreatedAt.Add(time.Second)
				if diff := cmp.Diff(&want, got, sameJSON); diff != "" {
					t.Errorf("returned (-want +got):\n%s", diff)
				}
				if diff := cmp.Diff(&want, stored, sameJSON); diff != "" {
					t.Errorf("stored (-want +got):\n%s", diff)
				}
			})
		}
		_, err := s.UpdateTicket(ctx, "t9", func(*chargedesk.Ticket) error { return nil })
		wantCode(t, err, chargedesk.ENOTFOUND)
		// CreatedAt cannot be rewritten.
		tk := newTicket("created", chargedesk.TicketOpen)
		must(t, s.CreateTicket(ctx, tk))
		got, err := s.UpdateTicket(ctx, "created", func(t *chargedesk.Ticket) error { t.CreatedAt = base.Add(-time.Hour); return nil })
		must(t, err)
		if !got.CreatedAt.Equal(tk.CreatedAt) {
			t.Errorf("CreatedAt = %v, want %v kept", got.CreatedAt, tk.CreatedAt)
		}
	})

	t.Run("Tickets", func(t *testing.T) {
		t.Parallel()
		s := fresh(t, WithClock(stepClock(base)))
		var all, open, billing, cp2 []string // newest first
		for i := range 105 {
			tk := newTicket(fmt.Sprintf("t%03d", i), chargedesk.TicketOpen)
			if i%2 == 0 {
				tk.Status = chargedesk.TicketClosed
			}
			if i%3 == 0 {
				tk.Category = "billing"
			}
			if i%7 == 0 {
				tk.ChargerID = "CP-2"
			}
			must(t, s.CreateTicket(ctx, tk))
			all = append([]string{tk.ID}, all...)
			if tk.Status == chargedesk.TicketOpen {
				open = append([]string{tk.ID}, open...)
			}
			if tk.Category == "billing" {
				billing = append([]string{tk.ID}, billing...)
			}
			if tk.ChargerID == "CP-2" {
				cp2 = append([]string{tk.ID}, cp2...)
			}
		}
		for _, tt := range []struct {
			name string
			f    chargedesk.TicketFilter
			want []string
		}{
			{"default limit", chargedesk.TicketFilter{}, all[:100]},
			{"limit", chargedesk.TicketFilter{Limit: 2}, all[:2]},
			{"all", chargedesk.TicketFilter{Limit: 5000}, all},
			{"status", chargedesk.TicketFilter{Status: chargedesk.TicketOpen}, open},
			{"category", chargedesk.TicketFilter{Category: "billing"}, billing},
			{"charger", chargedesk.TicketFilter{ChargerID: "CP-2"}, cp2},
			{"all filters", chargedesk.TicketFilter{Status: chargedesk.TicketClosed, Category: "billing", ChargerID: "CP-2"}, []string{"t084", "t042", "t000"}},
			{"none", chargedesk.TicketFilter{Status: chargedesk.TicketAssigned}, nil},
		} {
			t.Run(tt.name, func(t *testing.T) {
				got, err := s.Tickets(ctx, tt.f)
				must(t, err)
				if got == nil {
					t.Error("Tickets returned nil, want an empty slice")
				}
				var ids []string
				for _, tk := range got {
					ids = append(ids, tk.ID)
				}
				if diff := cmp.Diff(tt.want, ids); diff != "" {
					t.Errorf("ids (-want +got):\n%s", diff)
				}
			})
		}
	})

	t.Run("AgentDurability", func(t *testing.T) {
		t.Parallel()
		dsn := b.newDSN(t)
		first, err := Open(ctx, dsn)
		must(t, err)
		register(t, first, "CP-1")
		site := &chargedesk.Site{ID: "maple", Name: "Maple Plaza", Lat: 45.5, Lon: -73.6, Landmarks: []string{"by the mall"}}
		must(t, first.PutSite(ctx, site))
		loc := chargedesk.ChargerLocation{ChargerID: "CP-1", SiteID: "maple",
			Connectors: []chargedesk.ConnectorSpec{{ID: 1, Type: chargedesk.ConnectorCHAdeMO, MaxPowerKW: 62.5}}}
		must(t, first.PutChargerLocation(ctx, loc))
		driver := &chargedesk.Driver{ID: "d1", Phone: "+15555550123", Language: "fr"}
		must(t, first.PutDriver(ctx, driver))
		conv := newConversation("c1")
		conv.Data = json.RawMessage(`{"k":"v"}`)
		must(t, first.CreateConversation(ctx, conv))
		turn := &chargedesk.Turn{ConversationID: "c1", Role: chargedesk.RoleDriver, Text: "allô"}
		must(t, first.AppendTurn(ctx, turn))
		conv.ActiveAt = turn.At // a turn is the conversation's latest activity
		ticket := newTicket("t1", chargedesk.TicketOpen)
		must(t, first.CreateTicket(ctx, ticket))

		wantTurns := []chargedesk.Turn{*turn}

		second, err := Open(ctx, dsn)
		must(t, err)
		check := func(s *Store) {
			t.Helper()
			gotSite, err := s.Site(ctx, "maple")
			must(t, err)
			locs, err := s.ChargerLocations(ctx)
			must(t, err)
			gotDriver, err := s.DriverByPhone(ctx, driver.Phone)
			must(t, err)
			gotConv, err := s.Conversation(ctx, "c1")
			must(t, err)
			turns, err := s.Turns(ctx, "c1")
			must(t, err)
			gotTicket, err := s.Ticket(ctx, "t1")
			must(t, err)
			for _, d := range []string{
				cmp.Diff(site, gotSite),
				cmp.Diff([]chargedesk.ChargerLocation{loc}, locs),
				cmp.Diff(driver, gotDriver),
				cmp.Diff(conv, gotConv, sameJSON),
				cmp.Diff(wantTurns, turns, sameJSON),
				cmp.Diff(ticket, gotTicket, sameJSON),
			} {
				if d != "" {
					t.Errorf("(-written +read):\n%s", d)
				}
			}
		}
		check(second)
		must(t, first.Close())
		check(second)
		// The next turn continues the sequence after a reopen.
		next := &chargedesk.Turn{ConversationID: "c1", Role: chargedesk.RoleAgent, Text: "Bonjour"}
		must(t, second.AppendTurn(ctx, next))
		if next.Seq != 2 {
			t.Errorf("Seq after reopen = %d, want 2", next.Seq)
		}
		wantTurns = append(wantTurns, *next)
		conv.ActiveAt = next.At
		must(t, second.Close())
		check(openStore(t, dsn))
	})
}
