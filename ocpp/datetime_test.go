package ocpp

import (
	"encoding/json"
	"testing"
	"time"
)

func TestDateTimeMarshal(t *testing.T) {
	paris := time.FixedZone("CEST", 2*3600)
	cases := []struct {
		name string
		in   time.Time
		want string
	}{
		{"utc", time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC), `"2024-05-06T07:08:09.000Z"`},
		{"offset to utc", time.Date(2024, 5, 6, 9, 8, 9, 0, paris), `"2024-05-06T07:08:09.000Z"`},
		{"milliseconds truncated", time.Date(2024, 5, 6, 7, 8, 9, 123987654, time.UTC), `"2024-05-06T07:08:09.123Z"`},
		{"zero", time.Time{}, `"0001-01-01T00:00:00.000Z"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := json.Marshal(NewDateTime(c.in))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != c.want {
				t.Errorf("Marshal = %s, want %s", got, c.want)
			}
		})
	}
}

func TestDateTimeUnmarshal(t *testing.T) {
	cases := []struct {
		name    string
		in      string
		want    time.Time
		wantErr bool
	}{
		{"utc", `"2024-05-06T07:08:09Z"`, time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC), false},
		{"offset", `"2024-05-06T09:08:09.5+02:00"`, time.Date(2024, 5, 6, 7, 8, 9, 5e8, time.UTC), false},
		{"negative offset", `"2024-05-05T23:08:09-08:00"`, time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC), false},
		{"nanoseconds", `"2024-05-06T07:08:09.123456789Z"`, time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.UTC), false},
		{"beyond nanoseconds", `"2024-05-06T07:08:09.1234567891Z"`, time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.UTC), false},
		{"leap second", `"2016-12-31T23:59:60Z"`, time.Date(2017, 1, 1, 0, 0, 0, 0, time.UTC), false},
		{"lowercase", `"2024-05-06t07:08:09z"`, time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC), false},
		{"no offset", `"2024-05-06T07:08:09"`, time.Time{}, true},
		{"number", `1714979289`, time.Time{}, true},
		{"bad offset", `"2024-05-06T07:08:09+25:00"`, time.Time{}, true},
		{"garbage", `"2024-05-06T07:08:09Zjunk"`, time.Time{}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var d DateTime
			err := json.Unmarshal([]byte(c.in), &d)
			if (err != nil) != c.wantErr {
				t.Fatalf("Unmarshal(%s) error = %v, want error %v", c.in, err, c.wantErr)
			}
			if !c.wantErr && !d.Equal(c.want) {
				t.Errorf("Unmarshal(%s) = %v, want %v", c.in, d.Time, c.want)
			}
		})
	}
}

func TestDateTimeNullAndOmitzero(t *testing.T) {
	var s struct {
		At DateTime `json:"at,omitzero"`
	}
	if err := json.Unmarshal([]byte(`{"at":null}`), &s); err != nil || !s.At.IsZero() {
		t.Fatalf("null: %v, %v", err, s.At)
	}
	b, err := json.Marshal(s)
	if err != nil || string(b) != `{}` {
		t.Fatalf("zero DateTime marshals as %s, %v; want {}", b, err)
	}
}
