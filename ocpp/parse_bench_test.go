package ocpp

import "testing"

// BenchmarkParse compares Parse (fast path for the common frames) with the
// generic decoder it falls back to.
func BenchmarkParse(b *testing.B) {
	frames := []struct{ name, frame string }{
		{"Heartbeat", `[2,"19223201","Heartbeat",{}]`},
		{"StatusNotification", `[2,"19223202","StatusNotification",{"connectorId":1,"errorCode":"NoError","status":"Available","timestamp":"2024-05-06T07:08:09Z"}]`},
		{"CallResult", `[3,"19223201",{"currentTime":"2024-05-06T07:08:09.000Z"}]`},
	}
	for _, f := range frames {
		data := []byte(f.frame)
		b.Run(f.name+"/Parse", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Parse(data); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(f.name+"/decoder", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := parseFull(data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
