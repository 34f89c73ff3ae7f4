package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/chargedesk/chargedesk"
)

// SMSMessageRetention is how long the id of a handled SMS is remembered:
// far longer than the carrier ever retries a webhook.
const SMSMessageRetention = 7 * 24 * time.Hour

var _ chargedesk.SMSStore = (*Store)(nil)

const smsThreadCols = `phone, conversation_id, language, stopped, last_at, updated_at`

// ClaimMessage records the carrier's id of an incoming message and reports
// whether it was new. Ids older than SMSMessageRetention are deleted in the
// same transaction. EINVALID for an empty or too long id.
func (s *Store) ClaimMessage(ctx context.Context, sid, phone string, at time.Time) (bool, error) {
	if sid == "" {
		return false, chargedesk.Errorf(chargedesk.EINVALID, "message id is empty")
	}
	if err := checkText("sms message", textField{"id", sid, 64}, textField{"phone", phone, 64}); err != nil {
		return false, err
	}
	if at.IsZero() {
		at = s.now()
	}
	claimed := false
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM sms_messages WHERE received_at < ?`),
			s.ts(at.Add(-SMSMessageRetention))); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, s.q(`INSERT INTO sms_messages (sid, phone, received_at) VALUES (?, ?, ?)
			ON CONFLICT (sid) DO NOTHING`), sid, phone, s.ts(at))
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		claimed = n == 1
		return err
	})
	if err != nil {
		return false, wrap("claim sms message", err)
	}
	return claimed, nil
}

// AnswerMessage marks message sid answered at at, if it was not, and
// reports whether this call did.
func (s *Store) AnswerMessage(ctx context.Context, sid string, at time.Time) (bool, error) {
	if at.IsZero() {
		at = s.now()
	}
	done := false
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q(`UPDATE sms_messages SET answered_at = ? WHERE sid = ? AND answered_at IS NULL`), s.ts(at), sid)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		done = n == 1
		return err
	})
	if err != nil {
		return false, wrap("answer sms message", err)
	}
	return done, nil
}

// UnansweredMessages lists, oldest first, at most limit (default 100, at
// most 1000) messages from a known number received before before and never
// answered.
func (s *Store) UnansweredMessages(ctx context.Context, before time.Time, n int) ([]chargedesk.SMSMessage, error) {
	rows, err := s.r.QueryContext(ctx, s.q(`SELECT sid, phone, received_at FROM sms_messages
		WHERE answered_at IS NULL AND phone <> '' AND received_at < ? ORDER BY received_at, sid LIMIT ?`), s.ts(before), limit(n))
	if err != nil {
		return nil, wrap("unanswered sms messages", err)
	}
	defer rows.Close()
	var out []chargedesk.SMSMessage
	for rows.Next() {
		var m chargedesk.SMSMessage
		if err := rows.Scan(&m.SID, &m.Phone, tc(&m.ReceivedAt)); err != nil {
			return nil, wrap("unanswered sms messages", err)
		}
		out = append(out, m)
	}
	return out, wrap("unanswered sms messages", rows.Err())
}

// SMSThread returns a phone number's SMS thread. ENOTFOUND.
func (s *Store) SMSThread(ctx context.Context, phone string) (*chargedesk.SMSThread, error) {
	var t chargedesk.SMSThread
	err := s.r.QueryRowContext(ctx, s.q(`SELECT `+smsThreadCols+` FROM sms_threads WHERE phone = ?`), phone).
		Scan(&t.Phone, &t.ConversationID, &t.Language, &t.Stopped, tc(&t.LastAt), tc(&t.UpdatedAt))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, chargedesk.Errorf(chargedesk.ENOTFOUND, "no sms thread for %s", phone)
	}
	if err != nil {
		return nil, wrap("get sms thread", err)
	}
	return &t, nil
}

// PutSMSThread creates or replaces a phone number's SMS thread; UpdatedAt
// becomes now and t is updated to match what was stored. EINVALID.
func (s *Store) PutSMSThread(ctx context.Context, t *chargedesk.SMSThread) error {
	if t == nil || t.Phone == "" {
		return chargedesk.Errorf(chargedesk.EINVALID, "sms thread needs a phone number")
	}
	if err := checkText("sms thread", textField{"phone", t.Phone, 64},
		textField{"conversation id", t.ConversationID, 64}, textField{"language", t.Language, 8}); err != nil {
		return err
	}
	now := micro(s.now())
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, s.q(`INSERT INTO sms_threads (`+smsThreadCols+`) VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (phone) DO UPDATE SET conversation_id = excluded.conversation_id,
				language = excluded.language, stopped = excluded.stopped,
				last_at = excluded.last_at, updated_at = excluded.updated_at`),
			t.Phone, t.ConversationID, t.Language, t.Stopped, s.ts(t.LastAt), s.ts(now))
		return err
	})
	if err != nil {
		return wrap("put sms thread", err)
	}
	t.LastAt, t.UpdatedAt = micro(t.LastAt), now
	return nil
}

// SwapSMSConversation sets the thread's conversation to next if it is
// still prev (creating the thread for prev ""), in one statement, and
// returns the thread's conversation afterwards.
func (s *Store) SwapSMSConversation(ctx context.Context, phone, prev, next string, at time.Time) (string, error) {
	if phone == "" || next == "" {
		return "", chargedesk.Errorf(chargedesk.EINVALID, "sms conversation swap needs a phone number and a conversation")
	}
	if err := checkText("sms thread", textField{"phone", phone, 64},
		textField{"conversation id", prev, 64}, textField{"conversation id", next, 64}); err != nil {
		return "", err
	}
	now := micro(s.now())
	var cur string
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, s.q(`INSERT INTO sms_threads (`+smsThreadCols+`) VALUES (?, ?, '', ?, ?, ?)
			ON CONFLICT (phone) DO UPDATE SET conversation_id = excluded.conversation_id,
				last_at = excluded.last_at, updated_at = excluded.updated_at
			WHERE sms_threads.conversation_id = ?`),
			phone, next, false, s.ts(micro(at)), s.ts(now), prev)
		if err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, s.q(`SELECT conversation_id FROM sms_threads WHERE phone = ?`), phone).Scan(&cur)
	})
	if err != nil {
		return "", wrap("swap sms conversation", err)
	}
	return cur, nil
}
