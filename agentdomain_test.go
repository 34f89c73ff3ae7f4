package chargedesk_test

import (
	"math"
	"testing"

	"github.com/chargedesk/chargedesk"
)

func TestValidPhone(t *testing.T) {
	for p, want := range map[string]bool{
		"+15555550123": true, "+33123456789": true, "5555550123": false, "+1555": false,
		"+1 555 555 0123": false, "+05555550123": false, "+1555555012345678": false,
	} {
		if got := chargedesk.ValidPhone(p); got != want {
			t.Errorf("ValidPhone(%q) = %v, want %v", p, got, want)
		}
	}
}

func TestDriverValidate(t *testing.T) {
	ok := chargedesk.Driver{ID: "D1", Name: "Ana", Phone: "+15555550123", Language: "es"}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	for name, d := range map[string]chargedesk.Driver{
		"no id":        {Language: "en"},
		"bad phone":    {ID: "D1", Phone: "555-0123", Language: "en"},
		"bad language": {ID: "D1", Language: "de"},
	} {
		if err := d.Validate(); chargedesk.ErrorCode(err) != chargedesk.EINVALID {
			t.Errorf("%s: %v, want invalid", name, err)
		}
	}
}

func TestTicketStatusMoves(t *testing.T) {
	tests := []struct {
		from, to chargedesk.TicketStatus
		ok       bool
	}{
		{chargedesk.TicketOpen, chargedesk.TicketAssigned, true},
		{chargedesk.TicketOpen, chargedesk.TicketClosed, true},
		{chargedesk.TicketAssigned, chargedesk.TicketClosed, true},
		{chargedesk.TicketAssigned, chargedesk.TicketOpen, true},
		{chargedesk.TicketClosed, chargedesk.TicketOpen, true},
		{chargedesk.TicketClosed, chargedesk.TicketAssigned, false},
		{chargedesk.TicketOpen, "lost", false},
	}
	for _, tt := range tests {
		if got := tt.from.CanMove(tt.to); got != tt.ok {
			t.Errorf("%s → %s: %v, want %v", tt.from, tt.to, got, tt.ok)
		}
	}
	tk := chargedesk.Ticket{ID: "T1", Category: "field_service", Summary: "lock broken", Status: chargedesk.TicketAssigned}
	if err := tk.Validate(); chargedesk.ErrorCode(err) != chargedesk.EINVALID {
		t.Errorf("assigned without assignee: %v", err)
	}
	tk.Assignee = "field-3"
	if err := tk.Validate(); err != nil {
		t.Error(err)
	}
}

func TestSiteAndLocation(t *testing.T) {
	s := chargedesk.Site{ID: "S1", Name: "Maple Plaza", Lat: 43.65, Lon: -79.38}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	s.Lat = 91
	if chargedesk.ErrorCode(s.Validate()) != chargedesk.EINVALID {
		t.Error("latitude 91 accepted")
	}
	l := chargedesk.ChargerLocation{ChargerID: "CP-1", SiteID: "S1", Connectors: []chargedesk.ConnectorSpec{{ID: 1, Type: chargedesk.ConnectorCCS1, MaxPowerKW: 150}}}
	if err := l.Validate(); err != nil {
		t.Fatal(err)
	}
	l.Connectors[0].Type = "Type2"
	if chargedesk.ErrorCode(l.Validate()) != chargedesk.EINVALID {
		t.Error("a European plug accepted")
	}
	// Toronto to Montréal is about 504 km.
	if d := chargedesk.DistanceKM(43.6532, -79.3832, 45.5019, -73.5674); math.Abs(d-504) > 5 {
		t.Errorf("Toronto–Montréal %.0f km", d)
	}
}
