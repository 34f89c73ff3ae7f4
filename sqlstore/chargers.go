package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/chargedesk/chargedesk"
)

// querier is what *sql.DB and *sql.Tx have in common.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

const chargerCols = `id, description, protocol, vendor, model, serial_number, firmware_version,
	boot_status, firmware_status, diagnostics_status, connected, node, connected_at,
	disconnected_at, last_boot_at, last_heartbeat_at, last_seen_at, registered_at`

type scanner interface{ Scan(dest ...any) error }

func scanCharger(row scanner) (*chargedesk.Charger, error) {
	var c chargedesk.Charger
	err := row.Scan(&c.ID, &c.Description, &c.Protocol, &c.Vendor, &c.Model, &c.SerialNumber,
		&c.FirmwareVersion, &c.BootStatus, &c.FirmwareStatus, &c.DiagnosticsStatus, &c.Connected,
		&c.Node, tc(&c.ConnectedAt), tc(&c.DisconnectedAt), tc(&c.LastBootAt),
		tc(&c.LastHeartbeatAt), tc(&c.LastSeenAt), tc(&c.RegisteredAt))
	if err != nil {
		return nil, err
	}
	c.Connectors = []chargedesk.Connector{}
	return &c, nil
}

const connectorCols = `charger_id, id, evse_connector_id, status, error_code, info, vendor_id,
	vendor_error_code, status_at, updated_at`

func scanConnector(row scanner) (chargedesk.Connector, error) {
	var c chargedesk.Connector
	err := row.Scan(&c.ChargerID, &c.ID, &c.EVSEConnectorID, &c.Status, &c.ErrorCode, &c.Info,
		&c.VendorID, &c.VendorErrorCode, tc(&c.StatusAt), tc(&c.UpdatedAt))
	return c, err
}

// RegisterCharger creates a charger with no connectors. BootStatus stays
// empty until the charger boots; the registration's BootStatus is what
// ChargerCredentials returns. ECONFLICT if the id exists, EINVALID if the
// registration does not validate.
func (s *Store) RegisterCharger(ctx context.Context, reg chargedesk.ChargerRegistration) (*chargedesk.Charger, error) {
	if err := reg.Validate(); err != nil {
		return nil, err
	}
	c := &chargedesk.Charger{
		ID:           reg.ID,
		Description:  reg.Description,
		RegisteredAt: micro(s.now()),
		Connectors:   []chargedesk.Connector{},
	}
	err := s.inWTx(ctx, func(tx wtx) error {
		_, err := tx.ExecContext(ctx, s.q(`INSERT INTO chargers
			(id, description, password_hash, registration_status, registered_at)
			VALUES (?, ?, ?, ?, ?)`),
			reg.ID, reg.Description, reg.PasswordHash, string(reg.BootStatus), s.ts(c.RegisteredAt))
		return err
	})
	if isUnique(err) {
		return nil, chargedesk.Errorf(chargedesk.ECONFLICT, "charger %q is already registered", reg.ID)
	}
	if err != nil {
		return nil, wrap("register charger", err)
	}
	return c, nil
}

// ChargerCredentials returns the password hash and the boot status to give.
// ENOTFOUND for an unregistered charger.
func (s *Store) ChargerCredentials(ctx context.Context, id string) (string, chargedesk.RegistrationStatus, error) {
	var hash, boot string
	err := s.read.QueryRowContext(ctx, s.q(`SELECT password_hash, registration_status FROM chargers WHERE id = ?`), id).
		Scan(&hash, &boot)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", chargedesk.Errorf(chargedesk.ENOTFOUND, "charger %q is not registered", id)
	}
	if err != nil {
		return "", "", wrap("charger credentials", err)
	}
	return hash, chargedesk.RegistrationStatus(boot), nil
}

// Charger returns a charger with its connectors in id order. ENOTFOUND.
func (s *Store) Charger(ctx context.Context, id string) (*chargedesk.Charger, error) {
	c, err := s.charger(ctx, s.read, id, "")
	return c, wrap("get charger", err)
}

func (s *Store) charger(ctx context.Context, q querier, id, suffix string) (*chargedesk.Charger, error) {
	c, err := scanCharger(q.QueryRowContext(ctx, s.q(`SELECT `+chargerCols+` FROM chargers WHERE id = ?`+suffix), id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, chargedesk.Errorf(chargedesk.ENOTFOUND, "charger %q is not registered", id)
	}
	if err != nil {
		return nil, err
	}
	if err := s.loadConnectors(ctx, q, map[string]*chargedesk.Charger{id: c}); err != nil {
		return nil, err
	}
	return c, nil
}

// loadConnectors fills the connectors of the given chargers.
func (s *Store) loadConnectors(ctx context.Context, q querier, byID map[string]*chargedesk.Charger) error {
	if len(byID) == 0 {
		return nil
	}
	ids := slices.Sorted(maps.Keys(byID))
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	rows, err := q.QueryContext(ctx, s.q(`SELECT `+connectorCols+` FROM connectors
		WHERE charger_id IN (`+placeholders(len(ids))+`) ORDER BY charger_id, id`), args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		c, err := scanConnector(rows)
		if err != nil {
			return err
		}
		ch := byID[c.ChargerID]
		ch.Connectors = append(ch.Connectors, c)
	}
	return rows.Err()
}

// Chargers lists chargers in id order with their connectors, at most
// f.Limit (default 100, at most 1000). Every filter is applied in SQL,
// walking the primary key in id order until the page is full: a site is
// looked up through charger_locations_site, a status kind through the
// connectors' primary key, a search is a case-insensitive LIKE on the id.
// EINVALID for a filter that does not validate.
func (s *Store) Chargers(ctx context.Context, f chargedesk.ChargerFilter) ([]*chargedesk.Charger, error) {
	if err := f.Validate(); err != nil {
		return nil, err
	}
	query := `SELECT ` + chargerCols + ` FROM chargers WHERE id > ?`
	args := []any{f.AfterID}
	if f.Connected != nil {
		query += ` AND connected = ?`
		args = append(args, *f.Connected)
	}
	if f.SiteID != "" {
		query += ` AND id IN (SELECT charger_id FROM charger_locations WHERE site_id = ?)`
		args = append(args, f.SiteID)
	}
	if f.IDContains != "" {
		// Charger ids are ASCII, so lower() is the same in both databases;
		// '_' is a wildcard of LIKE and is escaped.
		query += ` AND lower(id) LIKE ? ESCAPE '!'`
		args = append(args, "%"+likeEscaper.Replace(strings.ToLower(f.IDContains))+"%")
	}
	if f.Status != "" {
		statuses, whole := f.Status.Statuses()
		query += ` AND EXISTS (SELECT 1 FROM connectors k WHERE k.charger_id = chargers.id AND k.status IN (` +
			placeholders(len(statuses)) + `)`
		for _, st := range statuses {
			args = append(args, string(st))
		}
		if !whole {
			query += ` AND k.id > 0`
		}
		query += `)`
	}
	query += ` ORDER BY id LIMIT ?`
	args = append(args, limit(f.Limit))
	// One read transaction, so that chargers and connectors agree.
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, wrap("list chargers", err)
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, s.q(query), args...)
	if err != nil {
		return nil, wrap("list chargers", err)
	}
	defer rows.Close()
	out := []*chargedesk.Charger{}
	byID := map[string]*chargedesk.Charger{}
	for rows.Next() {
		c, err := scanCharger(rows)
		if err != nil {
			return nil, wrap("list chargers", err)
		}
		out = append(out, c)
		byID[c.ID] = c
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("list chargers", err)
	}
	rows.Close()
	if err := s.loadConnectors(ctx, tx, byID); err != nil {
		return nil, wrap("list chargers", err)
	}
	return out, nil
}

// likeEscaper escapes LIKE's wildcards and its escape character '!'.
var likeEscaper = strings.NewReplacer("!", "!!", "%", "!%", "_", "!_")

// UpdateCharger reads the charger, applies fn and writes back its
// charger-level fields (not connectors, not credentials, not RegisteredAt)
// in one transaction. fn runs while the write transaction is open and must
// not call the store. ENOTFOUND; EINVALID when fn changes the id or leaves a
// value out of range; fn's own error is returned as it is.
func (s *Store) UpdateCharger(ctx context.Context, id string, fn func(*chargedesk.Charger) error) (*chargedesk.Charger, error) {
	var c *chargedesk.Charger
	err := s.inWTx(ctx, func(tx wtx) error {
		var err error
		c, err = s.charger(ctx, tx, id, s.forUpdate())
		if err != nil {
			return err
		}
		return s.writeCharger(ctx, tx, c, fn)
	})
	if err != nil {
		return nil, wrap("update charger", err)
	}
	for _, t := range []*time.Time{&c.ConnectedAt, &c.DisconnectedAt, &c.LastBootAt, &c.LastHeartbeatAt, &c.LastSeenAt} {
		*t = micro(*t)
	}
	return c, nil
}

// UpdateChargers does what UpdateCharger does for many chargers in one
// transaction, so that their writes share one commit (one fsync): for each
// id it reads the charger, applies that id's fn and writes the
// charger-level fields back. The fns run while the write transaction is
// open, in id order, and must not call the store.
//
// An update that fails on its own (ENOTFOUND, EINVALID, or its fn's error,
// returned as it is) writes nothing and is reported in the map under its id;
// the others are committed all the same. An error of the database itself is
// returned as the second result: then nothing at all was written. The map
// is nil when every update was written.
func (s *Store) UpdateChargers(ctx context.Context, updates map[string]func(*chargedesk.Charger) error) (map[string]error, error) {
	if len(updates) == 0 {
		return nil, nil
	}
	// Sorted, so that two nodes updating overlapping sets lock rows in the
	// same order and cannot deadlock.
	ids := slices.Sorted(maps.Keys(updates))
	var failed map[string]error
	fail := func(id string, err error) {
		if failed == nil {
			failed = make(map[string]error)
		}
		failed[id] = err
	}
	err := s.inWTx(ctx, func(tx wtx) error {
		failed = nil // a retried transaction starts over
		var byID map[string]*chargedesk.Charger
		if s.pg {
			var err error
			if byID, err = s.lockChargers(ctx, tx, ids); err != nil {
				return err
			}
		}
		for _, id := range ids {
			var c *chargedesk.Charger
			if s.pg {
				c = byID[id]
			} else {
				var err error
				c, err = s.charger(ctx, tx, id, "")
				if err != nil && chargedesk.ErrorCode(err) != chargedesk.ENOTFOUND {
					return err
				}
			}
			if c == nil {
				fail(id, chargedesk.Errorf(chargedesk.ENOTFOUND, "charger %q is not registered", id))
				continue
			}
			err := s.writeCharger(ctx, tx, c, updates[id])
			var fnErr *updateError
			switch {
			case errors.As(err, &fnErr):
				fail(id, fnErr.err)
			case err != nil:
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, wrap("update chargers", err)
	}
	return failed, nil
}

// updateError carries the error of an update's fn, or of the checks of
// what it left, as opposed to an error of the database.
type updateError struct{ err error }

func (e *updateError) Error() string { return e.err.Error() }

// Unwrap returns the fn's or the check's error.
func (e *updateError) Unwrap() error { return e.err }

// lockChargers reads and locks (PostgreSQL) the chargers of ids, with their
// connectors, in two statements. Unknown ids are missing from the map.
func (s *Store) lockChargers(ctx context.Context, tx wtx, ids []string) (map[string]*chargedesk.Charger, error) {
	rows, err := tx.QueryContext(ctx, `SELECT `+chargerCols+` FROM chargers
		WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE`, ids)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	byID := make(map[string]*chargedesk.Charger, len(ids))
	for rows.Next() {
		c, err := scanCharger(rows)
		if err != nil {
			return nil, err
		}
		byID[c.ID] = c
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows.Close()
	crows, err := tx.QueryContext(ctx, `SELECT `+connectorCols+` FROM connectors
		WHERE charger_id = ANY($1::text[]) ORDER BY charger_id, id`, ids)
	if err != nil {
		return nil, err
	}
	defer crows.Close()
	for crows.Next() {
		conn, err := scanConnector(crows)
		if err != nil {
			return nil, err
		}
		if c := byID[conn.ChargerID]; c != nil {
			c.Connectors = append(c.Connectors, conn)
		}
	}
	return byID, crows.Err()
}

// writeCharger applies fn to c (as read in tx), checks what it left and
// writes c's charger-level fields back. An error of fn or of the checks
// comes back as an *updateError.
func (s *Store) writeCharger(ctx context.Context, tx wtx, c *chargedesk.Charger, fn func(*chargedesk.Charger) error) error {
	id, registered, wasConnected := c.ID, c.RegisteredAt, c.Connected
	if err := fn(c); err != nil {
		return &updateError{err}
	}
	if c.ID != id {
		return &updateError{chargedesk.Errorf(chargedesk.EINVALID, "the charger id cannot change")}
	}
	if c.Protocol != "" && !c.Protocol.Valid() {
		return &updateError{chargedesk.Errorf(chargedesk.EINVALID, "protocol %q is not one chargedesk speaks", c.Protocol)}
	}
	if len(c.Description) > 200 {
		return &updateError{chargedesk.Errorf(chargedesk.EINVALID, "description is longer than 200 characters")}
	}
	c.RegisteredAt = registered
	_, err := tx.ExecContext(ctx, s.q(`UPDATE chargers SET description = ?, protocol = ?,
		vendor = ?, model = ?, serial_number = ?, firmware_version = ?, boot_status = ?,
		firmware_status = ?, diagnostics_status = ?, connected = ?, node = ?,
		connected_at = ?, disconnected_at = ?, last_boot_at = ?, last_heartbeat_at = ?,
		last_seen_at = ? WHERE id = ?`),
		c.Description, string(c.Protocol), c.Vendor, c.Model, c.SerialNumber, c.FirmwareVersion,
		string(c.BootStatus), c.FirmwareStatus, c.DiagnosticsStatus, c.Connected, c.Node,
		s.ts(c.ConnectedAt), s.ts(c.DisconnectedAt), s.ts(c.LastBootAt),
		s.ts(c.LastHeartbeatAt), s.ts(c.LastSeenAt), id)
	if err != nil || c.Connected == wasConnected {
		return err
	}
	// The charger came online or went offline: a row of the port history.
	status, at := chargedesk.ConnectionOffline, c.DisconnectedAt
	if c.Connected {
		status, at = chargedesk.ConnectionOnline, c.ConnectedAt
	}
	if at.IsZero() {
		at = s.now()
	}
	return s.appendPortHistory(ctx, tx, id, chargedesk.PortHistoryConnection, at, status, true)
}

// appendPortHistory writes one row of the port history; availChange says
// whether it can change whether a port is up (see PortHistory).
func (s *Store) appendPortHistory(ctx context.Context, tx wtx, chargerID string, connector int, at time.Time,
	status chargedesk.ConnectorStatus, availChange bool) error {
	_, err := tx.ExecContext(ctx, s.q(`INSERT INTO port_history (charger_id, connector_id, at, status, avail_change)
		VALUES (?, ?, ?, ?, ?)`), chargerID, connector, s.ts(at), string(status), availChange)
	return err
}

// TouchChargers records, in one transaction, when each charger was last seen
// and, for those in heartbeats, when it last sent a Heartbeat (which also
// counts as being seen). A time never moves backwards; zero times and
// unknown ids are ignored.
func (s *Store) TouchChargers(ctx context.Context, seen map[string]time.Time, heartbeats map[string]time.Time) error {
	last := make(map[string]time.Time, len(seen)+len(heartbeats))
	for id, t := range seen {
		if !t.IsZero() {
			last[id] = t
		}
	}
	for id, t := range heartbeats {
		if !t.IsZero() && t.After(last[id]) {
			last[id] = t
		}
	}
	if len(last) == 0 {
		return nil
	}
	// Sorted, so that two nodes touching overlapping sets lock rows in the
	// same order and cannot deadlock.
	ids := slices.Sorted(maps.Keys(last))
	if s.pg {
		return wrap("touch chargers", s.touchPostgres(ctx, ids, last, heartbeats))
	}
	err := s.inWTx(ctx, func(tx wtx) error {
		args := make([]any, 0, 3*touchChunk)
		for start := 0; start < len(ids); start += touchChunk {
			chunk := ids[start:min(start+touchChunk, len(ids))]
			args = args[:0]
			for _, id := range chunk {
				var hb any
				if t := heartbeats[id]; !t.IsZero() {
					hb = s.ts(t)
				}
				args = append(args, id, s.ts(last[id]), hb)
			}
			// A short chunk repeats its last row: the statement is always
			// the same (prepared once), and a row joined twice is updated
			// once, to the same values.
			for len(args) < cap(args) {
				args = append(args, args[len(args)-3:len(args)]...)
			}
			if _, err := tx.ExecContextLong(ctx, s.touchQuery(), args...); err != nil {
				return err
			}
		}
		return nil
	})
	return wrap("touch chargers", err)
}

// touchChunk is how many chargers one UPDATE of TouchChargers (SQLite)
// touches.
const touchChunk = 250

// touchQuery returns the UPDATE of touchChunk chargers' last-seen and
// heartbeat times (SQLite): the rows are (id, seen, heartbeat or NULL), and
// a time only moves forwards. A charger whose times would not change is not
// written.
func (s *Store) touchQuery() string {
	s.touchOnce.Do(func() {
		s.touchSQL = `UPDATE chargers SET
			last_seen_at = CASE WHEN last_seen_at IS NULL OR last_seen_at < v.column2 THEN v.column2 ELSE last_seen_at END,
			last_heartbeat_at = CASE WHEN v.column3 IS NOT NULL AND (last_heartbeat_at IS NULL OR last_heartbeat_at < v.column3)
				THEN v.column3 ELSE last_heartbeat_at END
			FROM (VALUES ` + strings.TrimSuffix(strings.Repeat("(?, ?, ?), ", touchChunk), ", ") + `) AS v
			WHERE chargers.id = v.column1 AND (last_seen_at IS NULL OR last_seen_at < v.column2
				OR v.column3 IS NOT NULL AND (last_heartbeat_at IS NULL OR last_heartbeat_at < v.column3))`
	})
	return s.touchSQL
}

// touchPostgres does TouchChargers in two statements whatever the number
// of chargers, passing ids and times as arrays: one round trip per statement
// instead of one per charger. Should two nodes ever touch one charger at
// once and deadlock, PostgreSQL aborts one batch and the next second's batch
// carries the same information.
func (s *Store) touchPostgres(ctx context.Context, ids []string, last, heartbeats map[string]time.Time) error {
	times := make([]time.Time, len(ids))
	for i, id := range ids {
		times[i] = micro(last[id])
	}
	var hbIDs []string
	var hbTimes []time.Time
	for _, id := range ids {
		if t := heartbeats[id]; !t.IsZero() {
			hbIDs = append(hbIDs, id)
			hbTimes = append(hbTimes, micro(t))
		}
	}
	return s.inWTx(ctx, func(tx wtx) error {
		// The rows are locked in id order first, as UpdateChargers locks
		// them: an UPDATE ... FROM locks in whatever order its join
		// visits the table, which deadlocked against a charger update
		// of the same node at 3 x 10,000 chargers.
		if _, err := tx.ExecContext(ctx, `SELECT 1 FROM chargers WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE`, ids); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE chargers AS c SET last_seen_at = v.t
			FROM unnest($1::text[], $2::timestamptz[]) AS v(id, t)
			WHERE c.id = v.id AND (c.last_seen_at IS NULL OR c.last_seen_at < v.t)`, ids, times); err != nil {
			return err
		}
		if len(hbIDs) == 0 {
			return nil
		}
		_, err := tx.ExecContext(ctx, `UPDATE chargers AS c SET last_heartbeat_at = v.t
			FROM unnest($1::text[], $2::timestamptz[]) AS v(id, t)
			WHERE c.id = v.id AND (c.last_heartbeat_at IS NULL OR c.last_heartbeat_at < v.t)`, hbIDs, hbTimes)
		return err
	})
}

// DisconnectNode marks every charger held by node as disconnected at the
// given time and clears its node.
func (s *Store) DisconnectNode(ctx context.Context, node string, at time.Time) error {
	if node == "" {
		return chargedesk.Errorf(chargedesk.EINVALID, "node is empty")
	}
	if at.IsZero() {
		at = s.now()
	}
	err := s.inWTx(ctx, func(tx wtx) error {
		// The port history has the chargers offline from when they were
		// last heard, if that is later than their connection and before at:
		// a node that stopped without closing its connections left them
		// unreachable from then on.
		rows, err := tx.QueryContext(ctx, s.q(`SELECT id, connected_at, last_seen_at FROM chargers
			WHERE node = ? AND connected`), node)
		if err != nil {
			return err
		}
		type offline struct {
			id string
			at time.Time
		}
		var gone []offline
		for rows.Next() {
			var o offline
			var connected, seen time.Time
			if err := rows.Scan(&o.id, tc(&connected), tc(&seen)); err != nil {
				rows.Close()
				return err
			}
			o.at = at
			if seen.Before(at) && seen.After(connected) {
				o.at = seen
			}
			gone = append(gone, o)
		}
		if err := rows.Close(); err != nil {
			return err
		}
		if err := rows.Err(); err != nil {
			return err
		}
		for _, o := range gone {
			if err := s.appendPortHistory(ctx, tx, o.id, chargedesk.PortHistoryConnection, o.at, chargedesk.ConnectionOffline, true); err != nil {
				return err
			}
		}
		_, err = tx.ExecContext(ctx, s.q(`UPDATE chargers SET connected = ?, node = '', disconnected_at = ?
			WHERE node = ? AND connected`), false, s.ts(at), node)
		return err
	})
	return wrap("disconnect node", err)
}

// PutConnector creates or replaces a connector's status. A zero UpdatedAt
// is set to now. When the status differs from the one stored (or the
// connector is new), a row of the port history records it at UpdatedAt, in
// the same transaction. ENOTFOUND when the charger does not exist;
// EINVALID for a negative id or an empty status.
func (s *Store) PutConnector(ctx context.Context, c chargedesk.Connector) error {
	if c.ID < 0 || c.EVSEConnectorID < 0 {
		return chargedesk.Errorf(chargedesk.EINVALID, "connector id %d is negative", c.ID)
	}
	if c.Status == "" {
		return chargedesk.Errorf(chargedesk.EINVALID, "connector status is empty")
	}
	if c.UpdatedAt.IsZero() {
		c.UpdatedAt = s.now()
	}
	err := s.inWTx(ctx, func(tx wtx) error {
		var was string
		err := tx.QueryRowContext(ctx, s.q(`SELECT status FROM connectors WHERE charger_id = ? AND id = ?`+s.forUpdate()),
			c.ChargerID, c.ID).Scan(&was)
		known := err == nil
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		_, err = tx.ExecContext(ctx, s.q(`INSERT INTO connectors (`+connectorCols+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (charger_id, id) DO UPDATE SET
				evse_connector_id = excluded.evse_connector_id, status = excluded.status,
				error_code = excluded.error_code, info = excluded.info,
				vendor_id = excluded.vendor_id, vendor_error_code = excluded.vendor_error_code,
				status_at = excluded.status_at, updated_at = excluded.updated_at`),
			c.ChargerID, c.ID, c.EVSEConnectorID, string(c.Status), c.ErrorCode, c.Info, c.VendorID,
			c.VendorErrorCode, s.ts(c.StatusAt), s.ts(c.UpdatedAt))
		if err != nil || known && was == string(c.Status) {
			return err
		}
		avail := !known || c.ID == 0 || chargedesk.PortDown(chargedesk.ConnectorStatus(was)) != chargedesk.PortDown(c.Status)
		return s.appendPortHistory(ctx, tx, c.ChargerID, c.ID, c.UpdatedAt, c.Status, avail)
	})
	if isForeignKey(err) {
		return chargedesk.Errorf(chargedesk.ENOTFOUND, "charger %q is not registered", c.ChargerID)
	}
	return wrap("put connector", err)
}

// UpdateRegistration reads the charger's registration, applies fn and writes
// back the description, password hash and registration status after
// validating them. ENOTFOUND, EINVALID.
func (s *Store) UpdateRegistration(ctx context.Context, id string, fn func(*chargedesk.ChargerRegistration) error) error {
	err := s.inWTx(ctx, func(tx wtx) error {
		var reg chargedesk.ChargerRegistration
		var boot string
		err := tx.QueryRowContext(ctx, s.q(`SELECT id, description, password_hash, registration_status
			FROM chargers WHERE id = ?`+s.forUpdate()), id).Scan(&reg.ID, &reg.Description, &reg.PasswordHash, &boot)
		if errors.Is(err, sql.ErrNoRows) {
			return chargedesk.Errorf(chargedesk.ENOTFOUND, "charger %q is not registered", id)
		}
		if err != nil {
			return err
		}
		reg.BootStatus = chargedesk.RegistrationStatus(boot)
		if err := fn(&reg); err != nil {
			return err
		}
		if reg.ID != id {
			return chargedesk.Errorf(chargedesk.EINVALID, "the charger id cannot change")
		}
		if err := reg.Validate(); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, s.q(`UPDATE chargers SET description = ?, password_hash = ?,
			registration_status = ? WHERE id = ?`), reg.Description, reg.PasswordHash, string(reg.BootStatus), id)
		return err
	})
	if err != nil {
		return wrap("update registration", err)
	}
	return nil
}
