package chargedesk

import (
	"context"
	"math"
	"strings"
)

// ConnectorType is the plug standard of a connector.
type ConnectorType string

// The plug standards of North American public chargers.
const (
	ConnectorCCS1    ConnectorType = "CCS1"
	ConnectorNACS    ConnectorType = "NACS"
	ConnectorCHAdeMO ConnectorType = "CHAdeMO"
	ConnectorJ1772   ConnectorType = "J1772"
)

// Valid reports whether t is a known plug standard.
func (t ConnectorType) Valid() bool {
	switch t {
	case ConnectorCCS1, ConnectorNACS, ConnectorCHAdeMO, ConnectorJ1772:
		return true
	}
	return false
}

// Site is a charging location: where a charger is, as drivers describe it.
type Site struct {
	ID      string  `json:"id"`
	Name    string  `json:"name"`    // "Maple Plaza"
	Address string  `json:"address"` // "1420 Cedar Avenue"
	City    string  `json:"city"`
	Region  string  `json:"region"`  // state or province code
	Country string  `json:"country"` // "US" or "CA"
	Lat     float64 `json:"lat"`
	Lon     float64 `json:"lon"`
	// Landmarks are other names drivers use for the place ("the Costco
	// one", "by the mall").
	Landmarks []string `json:"landmarks,omitempty"`
}

// Validate checks the site.
func (s *Site) Validate() error {
	if s.ID == "" || len(s.ID) > 64 {
		return Errorf(EINVALID, "site id must be 1 to 64 characters")
	}
	if strings.TrimSpace(s.Name) == "" || len(s.Name) > 200 || len(s.Address) > 200 || len(s.City) > 100 {
		return Errorf(EINVALID, "site %s: name is required; name, address and city are bounded", s.ID)
	}
	if s.Lat < -90 || s.Lat > 90 || s.Lon < -180 || s.Lon > 180 || math.IsNaN(s.Lat) || math.IsNaN(s.Lon) {
		return Errorf(EINVALID, "site %s: coordinates out of range", s.ID)
	}
	if len(s.Landmarks) > 20 {
		return Errorf(EINVALID, "site %s: at most 20 landmarks", s.ID)
	}
	return nil
}

// ConnectorSpec is what the operator knows of a connector, as opposed to
// what the charger reports (Connector): its plug and its power rating.
type ConnectorSpec struct {
	ID         int           `json:"id"`
	Type       ConnectorType `json:"type"`
	MaxPowerKW float64       `json:"maxPowerKW"`
}

// DistanceKM is the great-circle distance between two points.
func DistanceKM(lat1, lon1, lat2, lon2 float64) float64 {
	const r = 6371.0
	rad := math.Pi / 180
	dLat, dLon := (lat2-lat1)*rad, (lon2-lon1)*rad
	a := math.Sin(dLat/2)*math.Sin(dLat/2) + math.Cos(lat1*rad)*math.Cos(lat2*rad)*math.Sin(dLon/2)*math.Sin(dLon/2)
	return 2 * r * math.Asin(math.Min(1, math.Sqrt(a)))
}

// ChargerLocation places a charger at a site, with its connectors' plugs and
// ratings as the operator knows them.
type ChargerLocation struct {
	ChargerID  string          `json:"chargerId"`
	SiteID     string          `json:"siteId"`
	Connectors []ConnectorSpec `json:"connectors"`
}

// Validate checks the location.
func (l *ChargerLocation) Validate() error {
	if err := ValidateChargerID(l.ChargerID); err != nil {
		return err
	}
	if l.SiteID == "" || len(l.Connectors) > 16 {
		return Errorf(EINVALID, "location of %s needs a site and at most 16 connectors", l.ChargerID)
	}
	for _, c := range l.Connectors {
		if c.ID < 1 || !c.Type.Valid() || c.MaxPowerKW <= 0 || c.MaxPowerKW > 1000 {
			return Errorf(EINVALID, "location of %s: connector %d needs an id, a plug type (CCS1, NACS, CHAdeMO, J1772) and a power of 0 to 1000 kW", l.ChargerID, c.ID)
		}
	}
	return nil
}

// SiteStore keeps sites and where chargers are.
type SiteStore interface {
	// PutSite creates or replaces a site. EINVALID.
	PutSite(ctx context.Context, s *Site) error
	// Site returns one site. ENOTFOUND.
	Site(ctx context.Context, id string) (*Site, error)
	// Sites lists every site in id order.
	Sites(ctx context.Context) ([]*Site, error)
	// PutChargerLocation places a charger at a site. ENOTFOUND when the
	// charger or the site does not exist, EINVALID.
	PutChargerLocation(ctx context.Context, l ChargerLocation) error
	// ChargerLocations lists every placed charger in charger id order.
	ChargerLocations(ctx context.Context) ([]ChargerLocation, error)
}
