package ocpp

import (
	"errors"
	"testing"

	"github.com/chargedesk/chargedesk"
)

func TestLookup(t *testing.T) {
	cases := []struct {
		p        chargedesk.Protocol
		action   string
		ok       bool
		byCharge bool
		byCSMS   bool
	}{
		{chargedesk.OCPP16, "BootNotification", true, true, false},
		{chargedesk.OCPP16, "RemoteStartTransaction", true, false, true},
		{chargedesk.OCPP16, "DataTransfer", true, true, true},
		{chargedesk.OCPP16, "SignedFirmwareStatusNotification", true, true, false},
		{chargedesk.OCPP16, "TransactionEvent", false, false, false},
		{chargedesk.OCPP16, "bootnotification", false, false, false},
		{chargedesk.OCPP201, "TransactionEvent", true, true, false},
		{chargedesk.OCPP201, "RequestStartTransaction", true, false, true},
		{chargedesk.OCPP201, "DataTransfer", true, true, true},
		{chargedesk.OCPP201, "StartTransaction", false, false, false},
		{"ocpp2.1", "Heartbeat", false, false, false},
	}
	for _, c := range cases {
		t.Run(string(c.p)+"/"+c.action, func(t *testing.T) {
			a, ok := Lookup(c.p, c.action)
			if ok != c.ok {
				t.Fatalf("Lookup ok = %v, want %v", ok, c.ok)
			}
			if !ok {
				return
			}
			if a.Name != c.action || a.Protocol != c.p {
				t.Errorf("Lookup = %+v", a)
			}
			if a.SentByCharger() != c.byCharge || a.SentByCSMS() != c.byCSMS {
				t.Errorf("%s: SentByCharger %v SentByCSMS %v, want %v %v", a.Direction, a.SentByCharger(), a.SentByCSMS(), c.byCharge, c.byCSMS)
			}
		})
	}
}

func TestActions(t *testing.T) {
	for p, want := range map[chargedesk.Protocol]int{chargedesk.OCPP16: 39, chargedesk.OCPP201: 64, "ocpp2.1": 0} {
		as := Actions(p)
		if len(as) != want {
			t.Errorf("%s: %d actions, want %d", p, len(as), want)
		}
		for i := 1; i < len(as); i++ {
			if as[i-1].Name >= as[i].Name {
				t.Errorf("%s: not sorted at %s, %s", p, as[i-1].Name, as[i].Name)
			}
		}
	}
}

func TestCheckIncoming(t *testing.T) {
	cases := []struct {
		p      chargedesk.Protocol
		action string
		want   ErrorCode
	}{
		{chargedesk.OCPP16, "Heartbeat", ""},
		{chargedesk.OCPP16, "DataTransfer", ""},
		{chargedesk.OCPP16, "Reset", NotSupported},
		{chargedesk.OCPP16, "NotifyEvent", NotImplemented},
		{chargedesk.OCPP201, "NotifyEvent", ""},
		{chargedesk.OCPP201, "GetVariables", NotSupported},
		{chargedesk.OCPP201, "Foo", NotImplemented},
	}
	for _, c := range cases {
		t.Run(string(c.p)+"/"+c.action, func(t *testing.T) {
			err := CheckIncoming(c.p, c.action)
			if c.want == "" {
				if err != nil {
					t.Fatalf("CheckIncoming = %v, want nil", err)
				}
				return
			}
			var e *Error
			if !errors.As(err, &e) || e.Code != c.want {
				t.Fatalf("CheckIncoming = %v, want code %s", err, c.want)
			}
		})
	}
}

func TestDirectionString(t *testing.T) {
	for d, want := range map[Direction]string{ChargerToCSMS: "ChargerToCSMS", CSMSToCharger: "CSMSToCharger", BothDirections: "Both", 0: "Direction(0)"} {
		if got := d.String(); got != want {
			t.Errorf("%d.String() = %q, want %q", d, got, want)
		}
	}
}
