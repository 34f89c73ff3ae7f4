package sim

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/chargedesk/chargedesk"
)

func TestGenerateNetworkIsDeterministic(t *testing.T) {
	tests := []struct {
		name string
		seed int64
		n    int
	}{
		{"small", 1, 5},
		{"medium", 42, 60},
		{"negative seed", -7, 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := GenerateNetwork(tt.seed, tt.n), GenerateNetwork(tt.seed, tt.n)
			if diff := cmp.Diff(a, b); diff != "" {
				t.Errorf("same seed, different networks (-a +b):\n%s", diff)
			}
			c := GenerateNetwork(tt.seed+1, tt.n)
			if cmp.Equal(a.Chargers, c.Chargers) {
				t.Error("different seeds gave the same chargers")
			}
		})
	}
}

var (
	phoneRE = regexp.MustCompile(`^\+1[2-9][0-9]{2}555[0-9]{4}$`)
	labelRE = regexp.MustCompile(`^[A-Z]{3}-[A-Z]{3}-[0-9]{4}$`)
)

func TestGenerateNetworkIsValid(t *testing.T) {
	net := GenerateNetwork(2024, 200)
	if len(net.Chargers) != 200 || len(net.Sites) == 0 || len(net.Drivers) != 400 {
		t.Fatalf("sizes: %d chargers, %d sites, %d drivers", len(net.Chargers), len(net.Sites), len(net.Drivers))
	}
	t.Run("sites", func(t *testing.T) {
		for _, s := range net.Sites {
			if s.Name == "" || s.Address == "" || s.City == "" || (s.Country != "US" && s.Country != "CA") {
				t.Errorf("site %+v", s)
			}
			if s.Lat < 24 || s.Lat > 60 || s.Lon < -130 || s.Lon > -60 {
				t.Errorf("site %s outside the US and Canada: %v,%v", s.ID, s.Lat, s.Lon)
			}
		}
	})
	t.Run("chargers", func(t *testing.T) {
		ids := map[string]bool{}
		n201 := 0
		for _, c := range net.Chargers {
			if err := chargedesk.ValidateChargerID(c.ID); err != nil {
				t.Errorf("id: %v", err)
			}
			if !labelRE.MatchString(c.ID) || c.ID[:3] != net.Label {
				t.Errorf("label %q", c.ID)
			}
			if ids[c.ID] {
				t.Errorf("duplicate id %s", c.ID)
			}
			ids[c.ID] = true
			if err := chargedesk.ValidatePassword(c.Password); err != nil {
				t.Errorf("%s password: %v", c.ID, err)
			}
			if net.Site(c.SiteID) == nil {
				t.Errorf("%s on unknown site %s", c.ID, c.SiteID)
			}
			if len(c.Vendor) > 20 || len(c.Model) > 20 || c.Vendor == "" || c.Model == "" || c.Firmware == "" {
				t.Errorf("%s vendor/model/firmware %q %q %q", c.ID, c.Vendor, c.Model, c.Firmware)
			}
			if c.Protocol == chargedesk.OCPP201 {
				n201++
			} else if c.Protocol != chargedesk.OCPP16 {
				t.Errorf("%s protocol %q", c.ID, c.Protocol)
			}
			if len(c.Connectors) < 1 || len(c.Connectors) > 4 {
				t.Errorf("%s has %d connectors", c.ID, len(c.Connectors))
			}
			for _, k := range c.Connectors {
				lo, hi := 50.0, 350.0
				switch k.Type {
				case J1772:
					lo, hi = 7.2, 19.2
				case CHAdeMO:
					lo, hi = 50, 50
				case CCS1, NACS:
				default:
					t.Errorf("%s connector type %q", c.ID, k.Type)
				}
				if k.MaxPowerKW < lo || k.MaxPowerKW > hi {
					t.Errorf("%s %s at %v kW", c.ID, k.Type, k.MaxPowerKW)
				}
			}
		}
		if n201 == 0 || n201 == len(net.Chargers) {
			t.Errorf("protocol mix: %d of %d speak 2.0.1", n201, len(net.Chargers))
		}
	})
	t.Run("drivers", func(t *testing.T) {
		tags := map[string]bool{}
		langs := map[string]int{}
		for _, d := range net.Drivers {
			if !phoneRE.MatchString(d.Phone) {
				t.Errorf("phone %q", d.Phone)
			}
			langs[d.Language]++
			if d.Name == "" || len(d.IDTags) == 0 || len(d.Payments) == 0 {
				t.Errorf("driver %+v", d)
			}
			for _, tag := range d.IDTags {
				if len(tag) == 0 || len(tag) > 20 || tags[tag] {
					t.Errorf("idTag %q (duplicate %v)", tag, tags[tag])
				}
				tags[tag] = true
			}
			for _, p := range d.Payments {
				if len(p.Last4) != 4 || p.ExpMonth < 1 || p.ExpMonth > 12 || p.Brand == "" {
					t.Errorf("payment %+v", p)
				}
			}
		}
		if langs["en"] == 0 || langs["fr"]+langs["es"] == 0 {
			t.Errorf("languages %v", langs)
		}
		for k := range langs {
			if k != "en" && k != "fr" && k != "es" {
				t.Errorf("language %q", k)
			}
		}
	})
}

func TestNetworkOptions(t *testing.T) {
	tests := []struct {
		name   string
		share  float64
		all16  bool
		all201 bool
	}{
		{"only 1.6", -1, true, false},
		{"only 2.0.1", 1, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			net := GenerateNetworkWith(3, 30, NetworkOptions{Share201: tt.share, DriversPerCharger: 1})
			if len(net.Drivers) != 30 {
				t.Errorf("%d drivers", len(net.Drivers))
			}
			for _, c := range net.Chargers {
				if tt.all16 && c.Protocol != chargedesk.OCPP16 || tt.all201 && c.Protocol != chargedesk.OCPP201 {
					t.Errorf("%s speaks %s", c.ID, c.Protocol)
				}
			}
		})
	}
}

func TestQuebecDriversSpeakFrench(t *testing.T) {
	net := GenerateNetwork(99, 300)
	fr, qc := 0, 0
	for _, d := range net.Drivers {
		if d.HomeCity == "Montréal" || d.HomeCity == "Québec" || d.HomeCity == "Gatineau" {
			qc++
			if d.Language == "fr" {
				fr++
			}
		} else if d.Language == "fr" {
			t.Errorf("%s from %s speaks fr", d.ID, d.HomeCity)
		}
	}
	if qc == 0 || fr*2 < qc {
		t.Errorf("%d of %d Québec drivers speak French", fr, qc)
	}
}

// TestLargeNetworkPhonesAreUnique generates networks far past the hundred
// fictional numbers per city (which once made the generator loop forever)
// and checks every driver has a distinct, well-formed number.
func TestLargeNetworkPhonesAreUnique(t *testing.T) {
	tests := []struct {
		name string
		n    int
	}{
		{"1000 chargers", 1000},
		{"2000 chargers", 2000},
		{"10000 chargers", 10000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			done := make(chan Network, 1)
			go func() { done <- GenerateNetwork(2026, tt.n) }()
			var net Network
			select {
			case net = <-done:
			case <-time.After(20 * time.Second):
				t.Fatalf("GenerateNetwork(2026, %d) did not return", tt.n)
			}
			if len(net.Drivers) != 2*tt.n {
				t.Fatalf("%d drivers, want %d", len(net.Drivers), 2*tt.n)
			}
			seen := make(map[string]string, len(net.Drivers))
			for _, d := range net.Drivers {
				if !phoneRE.MatchString(d.Phone) || !chargedesk.ValidPhone(d.Phone) || strings.HasSuffix(d.Phone, "5551212") {
					t.Errorf("driver %s phone %q", d.ID, d.Phone)
				}
				if other, dup := seen[d.Phone]; dup {
					t.Fatalf("drivers %s and %s share %s", other, d.ID, d.Phone)
				}
				seen[d.Phone] = d.ID
			}
		})
	}
}
