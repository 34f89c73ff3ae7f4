package natsbus

import (
	"testing"

	"github.com/chargedesk/chargedesk"
)

// TestExternalServer runs two nodes against the NATS server named by
// CHARGEDESK_TEST_NATS_URL, under a subject prefix of their own so that test
// runs sharing the server do not meet.
func TestExternalServer(t *testing.T) {
	url := externalURL(t)
	prefix := "chargedesk-test." + randomID()
	a := openBus(t, Config{URL: url, Name: "ext-a", SubjectPrefix: prefix})
	b := openBus(t, Config{URL: url, Name: "ext-b", SubjectPrefix: prefix})
	if got := a.ClientURL(); got == "" {
		t.Error("ClientURL() is empty for an external server")
	}

	t.Run("command", func(t *testing.T) {
		serve(t, b, "ext.cp_1", answer("b"))
		res, err := a.Send(t.Context(), clearCache("ext.cp_1"))
		if err != nil || res.Status != chargedesk.ResultAccepted || res.Detail != "b:ext.cp_1" {
			t.Errorf("Send = %+v, %v", res, err)
		}
	})
	t.Run("offline", func(t *testing.T) {
		res, err := a.Send(t.Context(), clearCache("ext.nobody"))
		if err != nil || res.Status != chargedesk.ResultChargerOffline {
			t.Errorf("Send = %+v, %v; want ChargerOffline", res, err)
		}
	})
	t.Run("events", func(t *testing.T) {
		sink := subscribe(t, a, "ext.cp_1")
		if err := b.PublishEvent(event("ext.cp_1", "m1")); err != nil {
			t.Fatal(err)
		}
		if ev := sink.next(t); ev.MessageID != "m1" || ev.ChargerID != "ext.cp_1" {
			t.Errorf("event = %+v", ev)
		}
	})
}
