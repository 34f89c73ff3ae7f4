package sim

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/chargedesk/chargedesk"
)

// Network is a generated charging network: sites, the chargers on them and
// the drivers who use them. Everything in it is made up except the cities.
type Network struct {
	Seed int64
	// Operator is the made-up network's name and Label its three-letter
	// code, the first part of every station label.
	Operator string
	Label    string
	Sites    []Site
	Chargers []ChargerSpec
	Drivers  []Driver
}

// Site is a charging location in a real city.
type Site struct {
	ID      string
	Name    string // made up, e.g. "Maple Plaza"
	Address string // street-style, e.g. "1420 Cedar Avenue"
	City    string
	Region  string // state or province code
	Country string // "US" or "CA"
	Lat     float64
	Lon     float64
}

// ChargerSpec is a generated charger; Config turns it into a ChargerConfig.
type ChargerSpec struct {
	// ID is the charging station identity, also the label printed on the
	// station (e.g. "MPL-TOR-0042").
	ID         string
	SiteID     string
	Password   string
	Protocol   chargedesk.Protocol
	Vendor     string
	Model      string
	Firmware   string
	Serial     string
	Connectors []ConnectorSpec
}

// Config returns the configuration of a simulated charger for spec that
// connects to url.
func (s ChargerSpec) Config(url string) ChargerConfig {
	return ChargerConfig{ID: s.ID, Password: s.Password, Protocol: s.Protocol, URL: url,
		Vendor: s.Vendor, Model: s.Model, Firmware: s.Firmware, Serial: s.Serial,
		Connectors: append([]ConnectorSpec(nil), s.Connectors...)}
}

// Driver is a generated driver account.
type Driver struct {
	ID    string
	Name  string
	Phone string // E.164, +1NPA555xxxx: fictional 555-01xx first (see phoneBook)
	// Language is "en", "fr" or "es".
	Language string
	HomeCity string
	// IDTags are the driver's RFID tokens (at most 20 characters, so they
	// work on 1.6 chargers).
	IDTags   []string
	Payments []PaymentMethod
}

// PaymentMethod is a stored card; only the last four digits are known.
type PaymentMethod struct {
	Brand    string
	Last4    string
	ExpMonth int
	ExpYear  int
}

// NetworkOptions tune GenerateNetworkWith.
type NetworkOptions struct {
	// Share201 is the share of chargers speaking OCPP 2.0.1 (the rest
	// speak 1.6); negative means none. The default is 0.3.
	Share201 float64
	// DriversPerCharger is the number of drivers per charger (default 2).
	DriversPerCharger int
}

// city is a real city with its telephone area code.
type city struct {
	name, region, country, code string
	lat, lon                    float64
	npa                         string
	spanish                     float64 // share of Spanish-speaking drivers
}

var cities = []city{
	{"Toronto", "ON", "CA", "TOR", 43.6532, -79.3832, "416", 0.02},
	{"Montréal", "QC", "CA", "MTL", 45.5019, -73.5674, "514", 0.02},
	{"Québec", "QC", "CA", "QBC", 46.8139, -71.2080, "418", 0.01},
	{"Gatineau", "QC", "CA", "GAT", 45.4765, -75.7013, "819", 0.01},
	{"Ottawa", "ON", "CA", "OTT", 45.4215, -75.6972, "613", 0.02},
	{"Vancouver", "BC", "CA", "VAN", 49.2827, -123.1207, "604", 0.03},
	{"Calgary", "AB", "CA", "CGY", 51.0447, -114.0719, "403", 0.03},
	{"Edmonton", "AB", "CA", "EDM", 53.5461, -113.4938, "780", 0.02},
	{"Winnipeg", "MB", "CA", "WPG", 49.8951, -97.1384, "204", 0.02},
	{"Halifax", "NS", "CA", "HFX", 44.6488, -63.5752, "902", 0.01},
	{"New York", "NY", "US", "NYC", 40.7128, -74.0060, "212", 0.20},
	{"Los Angeles", "CA", "US", "LAX", 34.0522, -118.2437, "213", 0.35},
	{"San Francisco", "CA", "US", "SFO", 37.7749, -122.4194, "415", 0.15},
	{"San Jose", "CA", "US", "SJC", 37.3382, -121.8863, "408", 0.25},
	{"Seattle", "WA", "US", "SEA", 47.6062, -122.3321, "206", 0.07},
	{"Portland", "OR", "US", "PDX", 45.5152, -122.6784, "503", 0.08},
	{"Denver", "CO", "US", "DEN", 39.7392, -104.9903, "303", 0.20},
	{"Phoenix", "AZ", "US", "PHX", 33.4484, -112.0740, "602", 0.30},
	{"Austin", "TX", "US", "AUS", 30.2672, -97.7431, "512", 0.25},
	{"Houston", "TX", "US", "HOU", 29.7604, -95.3698, "713", 0.35},
	{"San Antonio", "TX", "US", "SAT", 29.4241, -98.4936, "210", 0.40},
	{"Chicago", "IL", "US", "CHI", 41.8781, -87.6298, "312", 0.20},
	{"Minneapolis", "MN", "US", "MSP", 44.9778, -93.2650, "612", 0.06},
	{"Boston", "MA", "US", "BOS", 42.3601, -71.0589, "617", 0.12},
	{"Atlanta", "GA", "US", "ATL", 33.7490, -84.3880, "404", 0.08},
	{"Miami", "FL", "US", "MIA", 25.7617, -80.1918, "305", 0.55},
	{"Orlando", "FL", "US", "ORL", 28.5383, -81.3792, "407", 0.25},
	{"Nashville", "TN", "US", "BNA", 36.1627, -86.7816, "615", 0.06},
	{"Washington", "DC", "US", "WAS", 38.9072, -77.0369, "202", 0.10},
	{"Salt Lake City", "UT", "US", "SLC", 40.7608, -111.8910, "801", 0.15},
}

var operators = []struct{ name, label string }{
	{"Maple Charge", "MPL"}, {"Northline EV", "NTL"}, {"Bluecurrent Networks", "BLC"},
	{"Voltway", "VTW"}, {"Cedar Energy", "CDR"}, {"Granite Plug", "GRP"},
}

var siteFirst = []string{"Maple", "Cedar", "Harbour", "Lakeside", "Granite", "Willow", "Summit", "Riverside",
	"Pine", "Aspen", "Birch", "Meadow", "Northgate", "Eastview", "Sunset", "Bayfront", "Oak", "Elm"}
var siteSecond = []string{"Plaza", "Commons", "Crossing", "Centre", "Market", "Square", "Park & Ride",
	"Station", "Galleria", "Point", "Court", "Landing", "Yards", "Village"}
var streets = []string{"Main", "King", "Queen", "Oak", "Maple", "Cedar", "Elm", "Pine", "Lake", "Hill",
	"Park", "Church", "Mill", "River", "Spring", "Highland", "Sunset", "Washington", "Lincoln", "Victoria"}
var streetKinds = []string{"Street", "Avenue", "Road", "Boulevard", "Drive", "Way", "Lane"}

var vendors = []struct {
	name   string
	prefix string
}{
	{"VoltForge", "VF"}, {"Northwind Power", "NW"}, {"AmpereWorks", "AW"}, {"Lumen EV", "LM"},
	{"TerraCharge", "TC"}, {"Kestrel Systems", "KS"},
}

var firstNames = map[string][]string{
	"en": {"Olivia", "Liam", "Emma", "Noah", "Ava", "Ethan", "Mia", "Lucas", "Chloe", "Owen", "Grace", "Ryan", "Priya", "Wei", "Aisha"},
	"fr": {"Léa", "Félix", "Chloé", "William", "Camille", "Mathis", "Florence", "Émile", "Juliette", "Samuel"},
	"es": {"Sofía", "Mateo", "Valentina", "Santiago", "Camila", "Diego", "Lucía", "Javier", "Isabella", "Carlos"},
}
var lastNames = map[string][]string{
	"en": {"Smith", "Johnson", "Brown", "Lee", "Wilson", "Martin", "Taylor", "Anderson", "Nguyen", "Patel", "Campbell", "Clark"},
	"fr": {"Tremblay", "Gagnon", "Roy", "Côté", "Bouchard", "Gauthier", "Morin", "Lavoie", "Fortin", "Gagné"},
	"es": {"García", "Rodríguez", "Martínez", "Hernández", "López", "González", "Pérez", "Sánchez", "Ramírez", "Torres"},
}

var cardBrands = []string{"Visa", "Mastercard", "Amex", "Discover"}

// GenerateNetwork returns a network of n chargers, the same for the same
// seed, with the default options.
func GenerateNetwork(seed int64, n int) Network {
	return GenerateNetworkWith(seed, n, NetworkOptions{})
}

// GenerateNetworkWith returns a network of n chargers, the same for the
// same seed and options.
func GenerateNetworkWith(seed int64, n int, opts NetworkOptions) Network {
	if opts.Share201 == 0 {
		opts.Share201 = 0.3
	}
	if opts.DriversPerCharger <= 0 {
		opts.DriversPerCharger = 2
	}
	n = max(n, 0)
	r := rand.New(rand.NewPCG(uint64(seed), 0x5eed_c4a6_e0de_5171))
	pick := func(list []string) string { return list[r.IntN(len(list))] }
	op := operators[r.IntN(len(operators))]
	net := Network{Seed: seed, Operator: op.name, Label: op.label}

	// About three chargers per site.
	nSites := max((n+2)/3, min(n, 1))
	usedSite := map[string]bool{}
	siteCity := make([]city, 0, nSites)
	for i := range nSites {
		ct := cities[r.IntN(len(cities))]
		name := pick(siteFirst) + " " + pick(siteSecond)
		for tries := 0; usedSite[ct.code+name] && tries < 20; tries++ {
			name = pick(siteFirst) + " " + pick(siteSecond)
		}
		usedSite[ct.code+name] = true
		net.Sites = append(net.Sites, Site{
			ID:      fmt.Sprintf("site-%04d", i+1),
			Name:    name,
			Address: fmt.Sprintf("%d %s %s", 10+r.IntN(9980), pick(streets), pick(streetKinds)),
			City:    ct.name, Region: ct.region, Country: ct.country,
			// Within about a kilometre or two of the city centre.
			Lat: round6(ct.lat + (r.Float64()-0.5)*0.04),
			Lon: round6(ct.lon + (r.Float64()-0.5)*0.06),
		})
		siteCity = append(siteCity, ct)
	}

	perCity := map[string]int{}
	for i := range n {
		si := i % nSites
		if i >= nSites {
			si = r.IntN(nSites)
		}
		ct := siteCity[si]
		perCity[ct.code]++
		v := vendors[r.IntN(len(vendors))]
		spec := ChargerSpec{
			ID:       fmt.Sprintf("%s-%s-%04d", op.label, ct.code, perCity[ct.code]),
			SiteID:   net.Sites[si].ID,
			Password: password(r),
			Protocol: chargedesk.OCPP16,
			Vendor:   v.name,
			Firmware: fmt.Sprintf("%d.%d.%d", 1+r.IntN(4), r.IntN(10), r.IntN(30)),
			Serial:   fmt.Sprintf("%s%08d", v.prefix, r.IntN(100_000_000)),
		}
		if opts.Share201 > 0 && r.Float64() < opts.Share201 {
			spec.Protocol = chargedesk.OCPP201
		}
		if r.IntN(3) == 0 {
			// Level 2 AC: one or two J1772 connectors.
			kw := []float64{7.2, 9.6, 11.5, 19.2}[r.IntN(4)]
			for range 1 + r.IntN(2) {
				spec.Connectors = append(spec.Connectors, ConnectorSpec{Type: J1772, MaxPowerKW: kw})
			}
			spec.Model = fmt.Sprintf("%s-AC%d", v.prefix, int(kw*10))
		} else {
			kw := []float64{50, 62.5, 150, 180, 350}[r.IntN(5)]
			types := []ConnectorType{CCS1, NACS}
			if r.IntN(4) == 0 {
				types = append(types, CHAdeMO)
			}
			for range 1 + r.IntN(4) {
				t := types[r.IntN(len(types))]
				p := kw
				if t == CHAdeMO {
					p = 50
				}
				spec.Connectors = append(spec.Connectors, ConnectorSpec{Type: t, MaxPowerKW: p})
			}
			spec.Model = fmt.Sprintf("%s-DC%d", v.prefix, int(kw))
		}
		net.Chargers = append(net.Chargers, spec)
	}

	usedTag := map[string]bool{}
	phones := newPhoneBook()
	for i := range n * opts.DriversPerCharger {
		ct := cities[r.IntN(len(cities))]
		if len(siteCity) > 0 && r.IntN(4) != 0 {
			ct = siteCity[r.IntN(len(siteCity))]
		}
		lang := "en"
		switch {
		case ct.region == "QC" && r.Float64() < 0.8:
			lang = "fr"
		case r.Float64() < ct.spanish:
			lang = "es"
		}
		d := Driver{
			ID:       fmt.Sprintf("drv-%05d", i+1),
			Name:     pick(firstNames[lang]) + " " + pick(lastNames[lang]),
			Language: lang,
			HomeCity: ct.name,
		}
		d.Phone = phones.next(r, ct)
		for range 1 + r.IntN(2) {
			tag := fmt.Sprintf("%016X", r.Uint64())
			for usedTag[tag] {
				tag = fmt.Sprintf("%016X", r.Uint64())
			}
			usedTag[tag] = true
			d.IDTags = append(d.IDTags, tag)
		}
		for range 1 + r.IntN(2) {
			d.Payments = append(d.Payments, PaymentMethod{
				Brand:    pick(cardBrands),
				Last4:    fmt.Sprintf("%04d", r.IntN(10000)),
				ExpMonth: 1 + r.IntN(12),
				ExpYear:  2025 + r.IntN(7),
			})
		}
		net.Drivers = append(net.Drivers, d)
	}
	return net
}

// phoneBook hands out unique driver phone numbers. A driver first gets a
// random number of the fictional 555-0100..555-0199 block of the home
// city's area code; when a few draws all collide (the block fills up with
// about a hundred drivers per city), the next free number of the city's
// 555 exchange, in order, and after that of the other cities' exchanges.
// The draws and the scan depend only on the generator, so a seed still
// gives the same network; about 30 cities times 9,899 lines are far more
// numbers than any generated network needs.
type phoneBook struct {
	used map[string]bool
	// cursor is, per city code, the next line to try in the fallback scan.
	cursor map[string]int
}

// phoneDraws is how many random numbers of the fictional block are tried
// before the deterministic scan.
const phoneDraws = 20

func newPhoneBook() *phoneBook {
	return &phoneBook{used: map[string]bool{}, cursor: map[string]int{}}
}

// next returns an unused number for a driver of city ct and marks it used.
func (b *phoneBook) next(r *rand.Rand, ct city) string {
	for range phoneDraws {
		p := fmt.Sprintf("+1%s55501%02d", ct.npa, r.IntN(100))
		if !b.used[p] {
			b.used[p] = true
			return p
		}
	}
	if p, ok := b.scan(ct); ok {
		return p
	}
	for _, other := range cities {
		if p, ok := b.scan(other); ok {
			return p
		}
	}
	// Every line of every city is taken (about 300,000 drivers): numbers
	// repeat rather than the generator looping forever.
	return fmt.Sprintf("+1%s55501%02d", ct.npa, r.IntN(100))
}

// scan returns the next unused line 555-0200..555-9999 (but 555-1212,
// directory assistance) of ct's area code.
func (b *phoneBook) scan(ct city) (string, bool) {
	for line := max(b.cursor[ct.code], 200); line <= 9999; line++ {
		if line == 1212 {
			continue
		}
		p := fmt.Sprintf("+1%s555%04d", ct.npa, line)
		if !b.used[p] {
			b.used[p] = true
			b.cursor[ct.code] = line + 1
			return p, true
		}
	}
	b.cursor[ct.code] = 10000
	return "", false
}

// passwordChars are letters, digits, '-' and '_': safe to paste into a
// shell, a URL or JSON, and over 5.8 bits each (a password of 16 to 40 of
// them is a strong machine secret).
const passwordChars = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789-_"

func password(r *rand.Rand) string {
	var b strings.Builder
	for range 16 + r.IntN(25) {
		b.WriteByte(passwordChars[r.IntN(len(passwordChars))])
	}
	return b.String()
}

func round6(f float64) float64 {
	return float64(int64(f*1e6)) / 1e6
}

// Site returns the site with the given id, or nil.
func (n *Network) Site(id string) *Site {
	for i := range n.Sites {
		if n.Sites[i].ID == id {
			return &n.Sites[i]
		}
	}
	return nil
}
