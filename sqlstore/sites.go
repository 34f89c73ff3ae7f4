package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/chargedesk/chargedesk"
)

const siteCols = `id, name, address, city, region, country, lat, lon, landmarks`

func scanSite(row scanner) (*chargedesk.Site, error) {
	var s chargedesk.Site
	var landmarks string
	if err := row.Scan(&s.ID, &s.Name, &s.Address, &s.City, &s.Region, &s.Country, &s.Lat, &s.Lon, &landmarks); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(landmarks), &s.Landmarks); err != nil {
		return nil, fmt.Errorf("site %s: landmarks: %w", s.ID, err)
	}
	if len(s.Landmarks) == 0 {
		s.Landmarks = nil
	}
	return &s, nil
}

// validateSite runs Site.Validate and bounds what it leaves open: region
// and country, and each landmark (1 to 200 bytes).
func validateSite(site *chargedesk.Site) error {
	if site == nil {
		return chargedesk.Errorf(chargedesk.EINVALID, "site is nil")
	}
	if err := site.Validate(); err != nil {
		return err
	}
	fields := []textField{
		{"id", site.ID, 64}, {"name", site.Name, 200}, {"address", site.Address, 200},
		{"city", site.City, 100}, {"region", site.Region, 64}, {"country", site.Country, 64},
	}
	for _, l := range site.Landmarks {
		if l == "" {
			return chargedesk.Errorf(chargedesk.EINVALID, "site %s: a landmark is empty", site.ID)
		}
		fields = append(fields, textField{"landmark", l, 200})
	}
	return checkText("site "+site.ID, fields...)
}

// PutSite creates or replaces a site after validating it. Landmarks are
// kept in order; no landmarks read back as nil. EINVALID.
func (s *Store) PutSite(ctx context.Context, site *chargedesk.Site) error {
	if err := validateSite(site); err != nil {
		return err
	}
	landmarks := site.Landmarks
	if landmarks == nil {
		landmarks = []string{}
	}
	lm, err := json.Marshal(landmarks)
	if err != nil {
		return wrap("put site", err)
	}
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, s.q(`INSERT INTO sites (`+siteCols+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET name = excluded.name, address = excluded.address,
				city = excluded.city, region = excluded.region, country = excluded.country,
				lat = excluded.lat, lon = excluded.lon, landmarks = excluded.landmarks`),
			site.ID, site.Name, site.Address, site.City, site.Region, site.Country, site.Lat, site.Lon, string(lm))
		return err
	})
	if isDataError(err) {
		return chargedesk.Errorf(chargedesk.EINVALID, "site %s: a value cannot be stored", site.ID)
	}
	return wrap("put site", err)
}

// Site returns one site. ENOTFOUND.
func (s *Store) Site(ctx context.Context, id string) (*chargedesk.Site, error) {
	site, err := scanSite(s.r.QueryRowContext(ctx, s.q(`SELECT `+siteCols+` FROM sites WHERE id = ?`), id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, chargedesk.Errorf(chargedesk.ENOTFOUND, "site %q is not known", id)
	}
	if err != nil {
		return nil, wrap("get site", err)
	}
	return site, nil
}

// Sites lists every site in id order.
func (s *Store) Sites(ctx context.Context) ([]*chargedesk.Site, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+siteCols+` FROM sites ORDER BY id`)
	if err != nil {
		return nil, wrap("list sites", err)
	}
	defer rows.Close()
	out := []*chargedesk.Site{}
	for rows.Next() {
		site, err := scanSite(rows)
		if err != nil {
			return nil, wrap("list sites", err)
		}
		out = append(out, site)
	}
	return out, wrap("list sites", rows.Err())
}

// PutChargerLocation places a charger at a site, replacing where it was
// before, after validating the location; connector ids must be distinct.
// Connectors are kept in the order given; none read back as an empty,
// non-nil slice. ENOTFOUND when the charger or the site does not exist,
// EINVALID.
func (s *Store) PutChargerLocation(ctx context.Context, l chargedesk.ChargerLocation) error {
	if err := l.Validate(); err != nil {
		return err
	}
	if err := checkText("location of "+l.ChargerID, textField{"site id", l.SiteID, 64}); err != nil {
		return err
	}
	seen := make(map[int]bool, len(l.Connectors))
	for _, c := range l.Connectors {
		if seen[c.ID] {
			return chargedesk.Errorf(chargedesk.EINVALID, "location of %s: connector %d is listed twice", l.ChargerID, c.ID)
		}
		seen[c.ID] = true
	}
	conns := l.Connectors
	if conns == nil {
		conns = []chargedesk.ConnectorSpec{}
	}
	doc, err := json.Marshal(conns)
	if err != nil {
		return wrap("put charger location", err)
	}
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		var one int
		err := tx.QueryRowContext(ctx, s.q(`SELECT 1 FROM chargers WHERE id = ?`), l.ChargerID).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return chargedesk.Errorf(chargedesk.ENOTFOUND, "charger %q is not registered", l.ChargerID)
		}
		if err != nil {
			return err
		}
		err = tx.QueryRowContext(ctx, s.q(`SELECT 1 FROM sites WHERE id = ?`), l.SiteID).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return chargedesk.Errorf(chargedesk.ENOTFOUND, "site %q is not known", l.SiteID)
		}
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, s.q(`INSERT INTO charger_locations (charger_id, site_id, connectors)
			VALUES (?, ?, ?)
			ON CONFLICT (charger_id) DO UPDATE SET site_id = excluded.site_id, connectors = excluded.connectors`),
			l.ChargerID, l.SiteID, string(doc))
		return err
	})
	if isForeignKey(err) {
		// The charger or the site went away between the check and the insert.
		return chargedesk.Errorf(chargedesk.ENOTFOUND, "charger %q or site %q does not exist", l.ChargerID, l.SiteID)
	}
	return wrap("put charger location", err)
}

// ChargerLocations lists every placed charger in charger id order.
func (s *Store) ChargerLocations(ctx context.Context) ([]chargedesk.ChargerLocation, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT charger_id, site_id, connectors FROM charger_locations ORDER BY charger_id`)
	if err != nil {
		return nil, wrap("list charger locations", err)
	}
	defer rows.Close()
	out := []chargedesk.ChargerLocation{}
	for rows.Next() {
		var l chargedesk.ChargerLocation
		var doc string
		if err := rows.Scan(&l.ChargerID, &l.SiteID, &doc); err != nil {
			return nil, wrap("list charger locations", err)
		}
		if err := json.Unmarshal([]byte(doc), &l.Connectors); err != nil {
			return nil, wrap("list charger locations", fmt.Errorf("charger %s: connectors: %w", l.ChargerID, err))
		}
		if l.Connectors == nil {
			l.Connectors = []chargedesk.ConnectorSpec{}
		}
		out = append(out, l)
	}
	return out, wrap("list charger locations", rows.Err())
}
