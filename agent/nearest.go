package agent

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/chargedesk/chargedesk"
)

// Alternative is an available, compatible charger near the one that
// failed.
type Alternative struct {
	ChargerID   string                   `json:"chargerId"`
	ConnectorID int                      `json:"connectorId"`
	Type        chargedesk.ConnectorType `json:"type"`
	PowerKW     float64                  `json:"powerKW"`
	SiteName    string                   `json:"siteName"`
	Address     string                   `json:"address"`
	DistanceKM  float64                  `json:"distanceKm"`
	// Country is the origin site's country, which decides miles or km.
	Country string `json:"country"`
}

// Distance formats the distance in miles in the US and in km elsewhere.
func (alt Alternative) Distance() string {
	if alt.Country == "US" {
		return fmt.Sprintf("%.1f mi", alt.DistanceKM*0.621371)
	}
	return fmt.Sprintf("%.1f km", alt.DistanceKM)
}

// CompatiblePlugs returns the plugs a vehicle can use. Vehicle names are
// canonical make and model ("Tesla Model 3", "Nissan Leaf"); when unknown,
// the plug the driver was using (current) says it, and a CCS1 car also
// takes J1772 (the AC pins of the same inlet). A simplification, stated:
// Teslas are taken to use NACS and J1772 (the J1772 adapter ships with the
// car), not CCS1 (that adapter is an extra); the Leaf uses CHAdeMO and
// J1772; other current models CCS1 and J1772.
func CompatiblePlugs(vehicle string, current chargedesk.ConnectorType) []chargedesk.ConnectorType {
	v := strings.ToLower(vehicle)
	switch {
	case strings.Contains(v, "tesla"):
		return []chargedesk.ConnectorType{chargedesk.ConnectorNACS, chargedesk.ConnectorJ1772}
	case strings.Contains(v, "leaf"):
		return []chargedesk.ConnectorType{chargedesk.ConnectorCHAdeMO, chargedesk.ConnectorJ1772}
	case v != "":
		return []chargedesk.ConnectorType{chargedesk.ConnectorCCS1, chargedesk.ConnectorJ1772}
	}
	switch current {
	case chargedesk.ConnectorCCS1:
		return []chargedesk.ConnectorType{chargedesk.ConnectorCCS1, chargedesk.ConnectorJ1772}
	case "":
		return []chargedesk.ConnectorType{chargedesk.ConnectorCCS1, chargedesk.ConnectorJ1772}
	}
	return []chargedesk.ConnectorType{current}
}

// dcPowerKW is the power above which a connector counts as fast (DC): a
// driver at a fast charger is sent to another fast one.
const dcPowerKW = 50

// sameSiteKM is the distance under which an alternative is at the same
// site as the failed charger.
const sameSiteKM = 0.05

// nearest returns the closest charger to fromCharger's site that is
// connected, has an Available connector of a plug the driver can use and
// at least the power they need, in the same country and within the
// agent's radius (Config.NearestRadiusKM), or nil when there is none.
func (a *Agent) nearest(ctx context.Context, fromCharger string, connectorID int, vehicle string) (*Alternative, error) {
	locs, err := a.store.ChargerLocations(ctx)
	if err != nil {
		return nil, fmt.Errorf("agent: charger locations: %w", err)
	}
	var from *chargedesk.ChargerLocation
	for i := range locs {
		if locs[i].ChargerID == fromCharger {
			from = &locs[i]
		}
	}
	if from == nil {
		return nil, nil
	}
	origin, err := a.store.Site(ctx, from.SiteID)
	if err != nil {
		return nil, fmt.Errorf("agent: site: %w", err)
	}
	var current chargedesk.ConnectorType
	need := 0.0
	for _, k := range from.Connectors {
		if k.ID == connectorID || connectorID == 0 && current == "" {
			current = k.Type
			if k.MaxPowerKW >= dcPowerKW {
				need = dcPowerKW
			}
		}
	}
	plugs := CompatiblePlugs(vehicle, current)
	sites := map[string]*chargedesk.Site{origin.ID: origin}
	var out []Alternative
	for _, l := range locs {
		if l.ChargerID == fromCharger {
			continue
		}
		st := sites[l.SiteID]
		if st == nil {
			if st, err = a.store.Site(ctx, l.SiteID); err != nil {
				continue
			}
			sites[l.SiteID] = st
		}
		if st.Country != origin.Country || chargedesk.DistanceKM(origin.Lat, origin.Lon, st.Lat, st.Lon) > a.radiusKM {
			// Farther than a driver would go for a charge now, or across a
			// border: "none nearby" is the honest answer.
			continue
		}
		ch, err := a.store.Charger(ctx, l.ChargerID)
		if err != nil || !ch.Connected || ch.BootStatus != chargedesk.RegistrationAccepted {
			continue
		}
		for _, spec := range l.Connectors {
			k := ch.Connector(spec.ID)
			if k == nil || k.Status != chargedesk.StatusAvailable || !slices.Contains(plugs, spec.Type) || spec.MaxPowerKW < need {
				continue
			}
			out = append(out, Alternative{ChargerID: l.ChargerID, ConnectorID: spec.ID, Type: spec.Type, PowerKW: spec.MaxPowerKW,
				SiteName: st.Name, Address: st.Address, Country: origin.Country,
				DistanceKM: chargedesk.DistanceKM(origin.Lat, origin.Lon, st.Lat, st.Lon)})
			break
		}
	}
	if len(out) == 0 {
		return nil, nil
	}
	slices.SortStableFunc(out, func(x, y Alternative) int {
		switch {
		case x.DistanceKM < y.DistanceKM:
			return -1
		case x.DistanceKM > y.DistanceKM:
			return 1
		}
		return strings.Compare(x.ChargerID, y.ChargerID)
	})
	return &out[0], nil
}

// sendToNearest tells the driver the nearest alternative, if any.
func (a *Agent) sendToNearest(ctx context.Context, s *session) error {
	alt, err := a.nearest(ctx, s.c.ChargerID, s.c.ConnectorID, s.d.Vehicle)
	if err != nil {
		return err
	}
	if alt == nil {
		s.say(keyNoAlternative)
		return nil
	}
	s.d.Nearest = alt.ChargerID
	if alt.DistanceKM < sameSiteKM {
		s.say(keyNearestHere, alt.ChargerID, alt.ConnectorID, string(alt.Type), alt.PowerKW)
		return nil
	}
	s.say(keyNearest, alt.SiteName, alt.Address, alt.Distance(), alt.ChargerID, alt.ConnectorID, string(alt.Type), alt.PowerKW)
	return nil
}
