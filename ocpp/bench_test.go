package ocpp_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chargedesk/chargedesk"
	"github.com/chargedesk/chargedesk/ocpp"
	"github.com/chargedesk/chargedesk/ocpp/v16"
	"github.com/chargedesk/chargedesk/ocpp/v201"
)

// BenchmarkRoundTrip measures what the CSMS does for one message from a
// charger: parse the frame, validate the request, decode it into its Go
// type, build and marshal the response, validate it, encode the frame.
func BenchmarkRoundTrip(b *testing.B) {
	now := ocpp.NewDateTime(time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC))
	cases := []struct {
		name     string
		p        chargedesk.Protocol
		frame    string
		response any
	}{
		{"v16/Heartbeat", chargedesk.OCPP16, "v16/heartbeat.json", &v16.HeartbeatResponse{CurrentTime: now}},
		{"v16/StatusNotification", chargedesk.OCPP16, "v16/status.json", &v16.StatusNotificationResponse{}},
		{"v16/MeterValues", chargedesk.OCPP16, "v16/metervalues.json", &v16.MeterValuesResponse{}},
		{"v201/Heartbeat", chargedesk.OCPP201, "v201/heartbeat.json", &v201.HeartbeatResponse{CurrentTime: now}},
		{"v201/StatusNotification", chargedesk.OCPP201, "v201/status.json", &v201.StatusNotificationResponse{}},
		{"v201/MeterValues", chargedesk.OCPP201, "v201/metervalues.json", &v201.MeterValuesResponse{}},
	}
	v := newValidator(b)
	for _, c := range cases {
		frame, err := os.ReadFile(filepath.Join("testdata", "frames", c.frame))
		if err != nil {
			b.Fatal(err)
		}
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(frame)))
			for b.Loop() {
				m, err := ocpp.Parse(frame)
				if err != nil {
					b.Fatal(err)
				}
				if err := v.Validate(c.p, m.Action, false, m.Payload); err != nil {
					b.Fatal(err)
				}
				req := newPayload(c.p, m.Action, false)
				if err := json.Unmarshal(m.Payload, req); err != nil {
					b.Fatal(err)
				}
				out, err := json.Marshal(c.response)
				if err != nil {
					b.Fatal(err)
				}
				if err := v.Validate(c.p, m.Action, true, out); err != nil {
					b.Fatal(err)
				}
				_ = ocpp.Message{Type: ocpp.CallResult, ID: m.ID, Payload: out}.Encode()
			}
		})
	}
}

// BenchmarkValidate measures validation alone.
func BenchmarkValidate(b *testing.B) {
	v := newValidator(b)
	for _, name := range []string{"v16/metervalues", "v201/metervalues", "v201/transaction_started"} {
		frame, err := os.ReadFile(filepath.Join("testdata", "frames", name+".json"))
		if err != nil {
			b.Fatal(err)
		}
		m, err := ocpp.Parse(frame)
		if err != nil {
			b.Fatal(err)
		}
		p := chargedesk.OCPP201
		if filepath.Dir(name) == "v16" {
			p = chargedesk.OCPP16
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := v.Validate(p, m.Action, false, m.Payload); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkNewValidator measures compiling every schema (once per process).
func BenchmarkNewValidator(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		newValidator(b)
	}
}
