package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/chargedesk/chargedesk"
)

// MaxAgentTurnLen bounds the text of an agent or action turn, in
// characters; a driver's turn is bounded by chargedesk.MaxMessageLen.
const MaxAgentTurnLen = 8000

const conversationCols = `id, channel, language, from_addr, driver_id, verified, charger_id,
	connector_id, category, playbook, state, data, status, ticket_id, flagged, operator, busy, busy_until,
	created_at, updated_at, active_at`

func scanConversation(row scanner) (*chargedesk.Conversation, error) {
	var c chargedesk.Conversation
	err := row.Scan(&c.ID, &c.Channel, &c.Language, &c.From, &c.DriverID, &c.Verified, &c.ChargerID,
		&c.ConnectorID, &c.Category, &c.Playbook, &c.State, jc(&c.Data), &c.Status, &c.TicketID,
		&c.Flagged, &c.Operator, &c.Busy, tc(&c.BusyUntil), tc(&c.CreatedAt), tc(&c.UpdatedAt), tc(&c.ActiveAt))
	if err != nil {
		return nil, err
	}
	return &c, nil
}

// validateConversation checks a conversation and compacts its Data in
// place: id 1 to 64 bytes, a known channel, language, status,
// verification and busy state, non-negative connector id and flag count,
// bounded text fields (an operator is a console username, at most 64
// bytes) and Data valid JSON of at most 64 KiB. EINVALID.
func validateConversation(c *chargedesk.Conversation) error {
	if c == nil {
		return chargedesk.Errorf(chargedesk.EINVALID, "conversation is nil")
	}
	if c.ID == "" || len(c.ID) > 64 {
		return chargedesk.Errorf(chargedesk.EINVALID, "conversation id must be 1 to 64 characters")
	}
	owner := "conversation " + c.ID
	if !c.Channel.Valid() {
		return chargedesk.Errorf(chargedesk.EINVALID, "%s: channel %q is not sms, voice, chat or api", owner, c.Channel)
	}
	if !slices.Contains(chargedesk.Languages, c.Language) {
		return chargedesk.Errorf(chargedesk.EINVALID, "%s: language %q is not en, fr or es", owner, c.Language)
	}
	switch c.Status {
	case chargedesk.ConversationOpen, chargedesk.ConversationResolved, chargedesk.ConversationEscalated, chargedesk.ConversationClosed:
	default:
		return chargedesk.Errorf(chargedesk.EINVALID, "%s: status %q is not open, resolved, escalated or closed", owner, c.Status)
	}
	switch c.Verified {
	case chargedesk.VerifiedNone, chargedesk.VerifiedPhone, chargedesk.VerifiedCard, chargedesk.VerifiedSession, chargedesk.VerifiedOperator:
	default:
		return chargedesk.Errorf(chargedesk.EINVALID, "%s: verification %q is not known", owner, c.Verified)
	}
	switch c.Busy {
	case "", chargedesk.BusyCharger, chargedesk.BusyReplying:
	default:
		return chargedesk.Errorf(chargedesk.EINVALID, "%s: busy %q is not charger or replying", owner, c.Busy)
	}
	if c.ConnectorID < 0 || c.Flagged < 0 {
		return chargedesk.Errorf(chargedesk.EINVALID, "%s: connector id and flagged count cannot be negative", owner)
	}
	if err := checkText(owner,
		textField{"id", c.ID, 64}, textField{"from", c.From, 200}, textField{"driver id", c.DriverID, 64},
		textField{"charger id", c.ChargerID, 64}, textField{"category", c.Category, 64},
		textField{"playbook", c.Playbook, 64}, textField{"state", c.State, 64},
		textField{"ticket id", c.TicketID, 64}, textField{"operator", c.Operator, 64}); err != nil {
		return err
	}
	data, err := compactJSON(owner+": data", c.Data, maxJSON)
	if err != nil {
		return err
	}
	c.Data = data
	return nil
}

// CreateConversation stores a new conversation after validating it (see
// validateConversation). UpdatedAt becomes now and a zero CreatedAt too;
// ActiveAt is the later of the two. c is updated to match what was
// stored, Data compacted. ECONFLICT if the id exists, EINVALID.
func (s *Store) CreateConversation(ctx context.Context, c *chargedesk.Conversation) error {
	if c == nil {
		return chargedesk.Errorf(chargedesk.EINVALID, "conversation is nil")
	}
	conv := *c
	if err := validateConversation(&conv); err != nil {
		return err
	}
	now := micro(s.now())
	conv.CreatedAt, conv.UpdatedAt = micro(conv.CreatedAt), now
	if conv.CreatedAt.IsZero() {
		conv.CreatedAt = now
	}
	conv.BusyUntil = micro(conv.BusyUntil)
	conv.ActiveAt = later(conv.CreatedAt, now)
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, s.q(`INSERT INTO conversations (`+conversationCols+`, resolved_at)
			VALUES (`+placeholders(22)+`)`),
			append(conversationArgs(s, &conv), s.resolvedAt(&conv, now))...)
		return err
	})
	if isUnique(err) {
		return chargedesk.Errorf(chargedesk.ECONFLICT, "conversation %q exists", conv.ID)
	}
	if isDataError(err) {
		return chargedesk.Errorf(chargedesk.EINVALID, "conversation %s: a value cannot be stored", conv.ID)
	}
	if err != nil {
		return wrap("create conversation", err)
	}
	*c = conv
	return nil
}

// resolvedAt is the resolved_at argument of a write of c at now: now when
// c is resolved (the column keeps the first time, see UpdateConversation),
// else NULL.
func (s *Store) resolvedAt(c *chargedesk.Conversation, now time.Time) any {
	if c.Status != chargedesk.ConversationResolved {
		return nil
	}
	return s.ts(now)
}

// conversationArgs lists c's values in conversationCols order.
func conversationArgs(s *Store, c *chargedesk.Conversation) []any {
	return []any{c.ID, string(c.Channel), c.Language, c.From, c.DriverID, string(c.Verified), c.ChargerID,
		c.ConnectorID, c.Category, c.Playbook, c.State, jsonArg(c.Data), string(c.Status), c.TicketID,
		c.Flagged, c.Operator, c.Busy, s.ts(c.BusyUntil), s.ts(c.CreatedAt), s.ts(c.UpdatedAt), s.ts(c.ActiveAt)}
}

// later returns the later of two times.
func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// Conversation returns one conversation. ENOTFOUND.
func (s *Store) Conversation(ctx context.Context, id string) (*chargedesk.Conversation, error) {
	c, err := s.conversation(ctx, s.r, id, "")
	return c, wrap("get conversation", err)
}

func (s *Store) conversation(ctx context.Context, q querier, id, suffix string) (*chargedesk.Conversation, error) {
	c, err := scanConversation(q.QueryRowContext(ctx, s.q(`SELECT `+conversationCols+` FROM conversations WHERE id = ?`+suffix), id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, chargedesk.Errorf(chargedesk.ENOTFOUND, "conversation %q is not known", id)
	}
	return c, err
}

// UpdateConversation reads the conversation, applies fn and writes it back
// after validating it, in one transaction. CreatedAt keeps the stored value
// and UpdatedAt becomes now; ActiveAt becomes now too unless it is later
// (fn cannot set it). fn runs while the write transaction is open
// and must not call the store. ENOTFOUND; EINVALID when fn changes the id
// or leaves the conversation invalid; fn's own error is returned as it is.
// The first write that leaves it resolved records when (for the time to
// resolution of the support figures); reopening it does not clear that.
func (s *Store) UpdateConversation(ctx context.Context, id string, fn func(*chargedesk.Conversation) error) (*chargedesk.Conversation, error) {
	var c *chargedesk.Conversation
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		c, err = s.conversation(ctx, tx, id, s.forUpdate())
		if err != nil {
			return err
		}
		created, active := c.CreatedAt, c.ActiveAt
		if err := fn(c); err != nil {
			return err
		}
		if c.ID != id {
			return chargedesk.Errorf(chargedesk.EINVALID, "the conversation id cannot change")
		}
		if err := validateConversation(c); err != nil {
			return err
		}
		c.CreatedAt, c.UpdatedAt = created, micro(s.now())
		c.ActiveAt, c.BusyUntil = later(active, c.UpdatedAt), micro(c.BusyUntil)
		_, err = tx.ExecContext(ctx, s.q(`UPDATE conversations SET channel = ?, language = ?,
			from_addr = ?, driver_id = ?, verified = ?, charger_id = ?, connector_id = ?,
			category = ?, playbook = ?, state = ?, data = ?, status = ?, ticket_id = ?,
			flagged = ?, operator = ?, busy = ?, busy_until = ?, updated_at = ?, active_at = ?,
			resolved_at = COALESCE(resolved_at, ?) WHERE id = ?`),
			string(c.Channel), c.Language, c.From, c.DriverID, string(c.Verified), c.ChargerID,
			c.ConnectorID, c.Category, c.Playbook, c.State, jsonArg(c.Data), string(c.Status),
			c.TicketID, c.Flagged, c.Operator, c.Busy, s.ts(c.BusyUntil), s.ts(c.UpdatedAt), s.ts(c.ActiveAt),
			s.resolvedAt(c, c.UpdatedAt), id)
		return err
	})
	if isDataError(err) {
		return nil, chargedesk.Errorf(chargedesk.EINVALID, "conversation %s: a value cannot be stored", id)
	}
	if err != nil {
		return nil, wrap("update conversation", err)
	}
	return c, nil
}

// Conversations lists conversations newest first: by CreatedAt, or by
// ActiveAt with f.ByActivity, then by id, descending. f.Status, DriverID,
// Channel, Language, Category and Phase narrow the list when set (Phase
// as chargedesk.Conversation.Phase says, at the store's now); f.After
// starts it after a cursor of the same ordering. At most f.Limit (default
// 100, at most 1000). EINVALID for an unknown phase.
func (s *Store) Conversations(ctx context.Context, f chargedesk.ConversationFilter) ([]*chargedesk.Conversation, error) {
	key := "created_at"
	if f.ByActivity {
		key = "active_at"
	}
	from := `conversations`
	if !s.pg && f.ByActivity {
		// SQLite, without statistics, would rather walk an index of an
		// equality it is given (a channel: thousands of rows) than the
		// small partial index of a rare phase, which is also in activity
		// order: it is told.
		switch f.Phase {
		case chargedesk.PhasePerson:
			from += ` INDEXED BY conversations_operator_active`
		case chargedesk.PhaseCharger:
			from += ` INDEXED BY conversations_charger_busy`
		}
	}
	query := `SELECT ` + conversationCols + ` FROM ` + from + ` WHERE 1 = 1`
	var args []any
	eq := func(col, v string) {
		if v != "" {
			query += ` AND ` + col + ` = ?`
			args = append(args, v)
		}
	}
	eq("status", string(f.Status))
	eq("driver_id", f.DriverID)
	eq("channel", string(f.Channel))
	eq("language", f.Language)
	eq("category", f.Category)
	if f.Phase != "" {
		// The constants are literals, not arguments, so that the
		// partial indexes on operator and busy apply.
		const charging = `busy = '` + chargedesk.BusyCharger + `' AND busy_until IS NOT NULL AND busy_until > ?`
		switch f.Phase {
		case chargedesk.PhasePerson:
			query += ` AND operator <> ''`
		case chargedesk.PhaseDone:
			// Resolved or closed, said as "not open nor escalated" (the
			// store knows no other status): most conversations are done,
			// and an IN would draw SQLite to the status index, then to
			// sorting them all; this walks them in activity order.
			query += ` AND operator = '' AND status NOT IN ('` + string(chargedesk.ConversationOpen) + `', '` + string(chargedesk.ConversationEscalated) + `')`
		case chargedesk.PhaseEscalated:
			query += ` AND operator = '' AND status = '` + string(chargedesk.ConversationEscalated) + `'`
		case chargedesk.PhaseCharger:
			query += ` AND operator = '' AND status = '` + string(chargedesk.ConversationOpen) + `' AND ` + charging
			args = append(args, s.ts(s.now()))
		case chargedesk.PhaseAgent:
			query += ` AND operator = '' AND status = '` + string(chargedesk.ConversationOpen) + `' AND NOT (` + charging + `)`
			args = append(args, s.ts(s.now()))
		default:
			return nil, chargedesk.Errorf(chargedesk.EINVALID, "phase %q is not one of agent, charger, escalated, person or done", f.Phase)
		}
	}
	if f.After != nil {
		query += ` AND (` + key + `, id) < (?, ?)`
		args = append(args, s.ts(f.After.At), f.After.ID)
	}
	query += ` ORDER BY ` + key + ` DESC, id DESC LIMIT ?`
	args = append(args, limit(f.Limit))
	rows, err := s.r.QueryContext(ctx, s.q(query), args...)
	if err != nil {
		return nil, wrap("list conversations", err)
	}
	defer rows.Close()
	out := []*chargedesk.Conversation{}
	for rows.Next() {
		c, err := scanConversation(rows)
		if err != nil {
			return nil, wrap("list conversations", err)
		}
		out = append(out, c)
	}
	return out, wrap("list conversations", rows.Err())
}

// validateTurn checks a turn and compacts its Meta in place: role driver,
// agent, operator or action; text UTF-8 of at most
// chargedesk.MaxMessageLen characters for a driver,
// chargedesk.MaxOperatorMessageLen for an operator, MaxAgentTurnLen for
// the others; Meta valid JSON of at most 64 KiB. EINVALID.
func validateTurn(t *chargedesk.Turn) error {
	bound := MaxAgentTurnLen
	switch t.Role {
	case chargedesk.RoleDriver:
		bound = chargedesk.MaxMessageLen
	case chargedesk.RoleOperatorTurn:
		bound = chargedesk.MaxOperatorMessageLen
	case chargedesk.RoleAgent, chargedesk.RoleAction:
	default:
		return chargedesk.Errorf(chargedesk.EINVALID, "turn role %q is not driver, agent, operator or action", t.Role)
	}
	// The byte bound (4 per character) only keeps checkText's length test
	// out of the way; the character count below is the real bound.
	if err := checkText("turn", textField{"text", t.Text, 4 * bound}); err != nil {
		return err
	}
	if n := utf8.RuneCountInString(t.Text); n > bound {
		return chargedesk.Errorf(chargedesk.EINVALID, "a %s turn is at most %d characters, not %d", t.Role, bound, n)
	}
	meta, err := compactJSON("turn meta", t.Meta, maxJSON)
	if err != nil {
		return err
	}
	t.Meta = meta
	return nil
}

// AppendTurn validates a turn (see validateTurn) and stores it, assigning
// Seq: 1 for a conversation's first turn, then each turn the previous one's
// plus one, without gaps, also under concurrent appends (the counter is
// incremented in the transaction that inserts the turn, which locks the
// conversation's row). A zero At becomes now. The turn is updated to match
// what was stored. The conversation's UpdatedAt does not change; its
// ActiveAt becomes the turn's At when that is later. EINVALID; ENOTFOUND
// for an unknown conversation.
func (s *Store) AppendTurn(ctx context.Context, t *chargedesk.Turn) error {
	if t == nil {
		return chargedesk.Errorf(chargedesk.EINVALID, "turn is nil")
	}
	turn := *t
	if err := validateTurn(&turn); err != nil {
		return err
	}
	if turn.At.IsZero() {
		turn.At = s.now()
	}
	turn.At = micro(turn.At)
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		at := s.ts(turn.At)
		err := tx.QueryRowContext(ctx, s.q(`UPDATE conversations SET last_seq = last_seq + 1,
			active_at = CASE WHEN active_at < ? THEN ? ELSE active_at END
			WHERE id = ? RETURNING last_seq`), at, at, turn.ConversationID).Scan(&turn.Seq)
		if errors.Is(err, sql.ErrNoRows) {
			return chargedesk.Errorf(chargedesk.ENOTFOUND, "conversation %q is not known", turn.ConversationID)
		}
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, s.q(`INSERT INTO turns (conversation_id, seq, at, role, body, meta)
			VALUES (?, ?, ?, ?, ?, ?)`),
			turn.ConversationID, turn.Seq, s.ts(turn.At), turn.Role, turn.Text, jsonArg(turn.Meta))
		return err
	})
	if err != nil {
		return wrap("append turn", err)
	}
	*t = turn
	return nil
}

// Turns returns all of a conversation's turns in Seq order. ENOTFOUND for
// an unknown conversation.
func (s *Store) Turns(ctx context.Context, conversationID string) ([]chargedesk.Turn, error) {
	// One read transaction, so that "no turns" and "no conversation" agree.
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, wrap("list turns", err)
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, s.q(`SELECT conversation_id, seq, at, role, body, meta
		FROM turns WHERE conversation_id = ? ORDER BY seq`), conversationID)
	if err != nil {
		return nil, wrap("list turns", err)
	}
	defer rows.Close()
	out := []chargedesk.Turn{}
	for rows.Next() {
		var t chargedesk.Turn
		if err := rows.Scan(&t.ConversationID, &t.Seq, tc(&t.At), &t.Role, &t.Text, jc(&t.Meta)); err != nil {
			return nil, wrap("list turns", err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("list turns", err)
	}
	rows.Close()
	if len(out) == 0 {
		if _, err := s.conversation(ctx, tx, conversationID, ""); err != nil {
			return nil, wrap("list turns", err)
		}
	}
	return out, nil
}

// AmendInterruptedTurn keeps in the transcript only what the driver heard
// of the agent's latest answer before speaking over it. In one
// transaction, which locks the conversation's row as AppendTurn does (so
// no turn is appended meanwhile), it takes the conversation's agent turn
// of the highest Seq and, when its text is in.Planned and its Meta does
// not already record a barge-in, sets its text to in.Heard and adds to its
// Meta chargedesk.MetaBargeIn (true), chargedesk.MetaPlanned (the text it
// had) and chargedesk.MetaInterruptMs (when in.DurationMs is not
// negative). The Meta's other keys stay; a Meta that is not a JSON object
// is kept under "meta". Seq, At and Role do not change, nor does the
// conversation. In.Heard is bounded as an agent turn's text (see
// validateTurn) and may be empty. ENOTFOUND for an unknown conversation
// or one without an agent turn; ECONFLICT when the latest agent turn's
// text is not in.Planned or it was amended already; EINVALID.
func (s *Store) AmendInterruptedTurn(ctx context.Context, conversationID string, in chargedesk.Interruption) (*chargedesk.Turn, error) {
	if err := validateTurn(&chargedesk.Turn{Role: chargedesk.RoleAgent, Text: in.Heard}); err != nil {
		return nil, err
	}
	var turn chargedesk.Turn
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var id string
		err := tx.QueryRowContext(ctx, s.q(`SELECT id FROM conversations WHERE id = ?`+s.forUpdate()), conversationID).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return chargedesk.Errorf(chargedesk.ENOTFOUND, "conversation %q is not known", conversationID)
		}
		if err != nil {
			return err
		}
		err = tx.QueryRowContext(ctx, s.q(`SELECT conversation_id, seq, at, role, body, meta FROM turns
			WHERE conversation_id = ? AND role = ? ORDER BY seq DESC LIMIT 1`), conversationID, chargedesk.RoleAgent).
			Scan(&turn.ConversationID, &turn.Seq, tc(&turn.At), &turn.Role, &turn.Text, jc(&turn.Meta))
		if errors.Is(err, sql.ErrNoRows) {
			return chargedesk.Errorf(chargedesk.ENOTFOUND, "conversation %q has no agent turn", conversationID)
		}
		if err != nil {
			return err
		}
		if turn.Text != in.Planned {
			return chargedesk.Errorf(chargedesk.ECONFLICT, "conversation %s: the latest agent turn (%d) is not the answer that was interrupted", conversationID, turn.Seq)
		}
		meta, err := interruptedMeta(turn.Meta, in)
		if err != nil {
			return chargedesk.Errorf(chargedesk.ECONFLICT, "conversation %s: agent turn %d: %v", conversationID, turn.Seq, err)
		}
		turn.Text, turn.Meta = in.Heard, meta
		if err := validateTurn(&turn); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, s.q(`UPDATE turns SET body = ?, meta = ? WHERE conversation_id = ? AND seq = ?`),
			turn.Text, jsonArg(turn.Meta), conversationID, turn.Seq)
		return err
	})
	if err != nil {
		return nil, wrap("amend interrupted turn", err)
	}
	return &turn, nil
}

// interruptedMeta returns an agent turn's Meta with the interruption
// recorded; an error when it records one already.
func interruptedMeta(old json.RawMessage, in chargedesk.Interruption) (json.RawMessage, error) {
	m := map[string]any{}
	if len(old) > 0 {
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(old, &obj); err != nil || obj == nil {
			m["meta"] = old // not an object: kept as it was
		} else {
			var amended bool
			if json.Unmarshal(obj[chargedesk.MetaBargeIn], &amended) == nil && amended {
				return nil, errors.New("it was amended after an interruption already")
			}
			for k, v := range obj {
				m[k] = v
			}
		}
	}
	m[chargedesk.MetaBargeIn] = true
	m[chargedesk.MetaPlanned] = in.Planned
	if in.DurationMs >= 0 {
		m[chargedesk.MetaInterruptMs] = in.DurationMs
	} else {
		delete(m, chargedesk.MetaInterruptMs)
	}
	return json.Marshal(m)
}
