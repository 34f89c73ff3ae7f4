package sqlstore

import (
	"context"
	"testing"
	"time"

	"github.com/chargedesk/chargedesk"
)

func TestSQLiteOperators(t *testing.T) { runOperatorConformance(t, sqliteBackend) }

func TestPostgresOperators(t *testing.T) { runOperatorConformance(t, postgresBackend(t)) }

// runOperatorConformance checks the OperatorStore methods of a backend.
func runOperatorConformance(t *testing.T, b backend) {
	ctx := context.Background()
	t0 := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

	t.Run("accounts", func(t *testing.T) {
		t.Parallel()
		s := openStore(t, b.newDSN(t), WithClock(stepClock(t0)))
		if _, err := s.Operator(ctx, "ada"); chargedesk.ErrorCode(err) != chargedesk.ENOTFOUND {
			t.Fatalf("unknown operator: %v", err)
		}
		for _, bad := range []*chargedesk.Operator{
			{Username: "A", Role: chargedesk.RoleAdmin, PasswordHash: "h"},
			{Username: "ada", Role: "root", PasswordHash: "h"},
			{Username: "ada", Role: chargedesk.RoleAdmin},
			{Username: "ada lovelace", Role: chargedesk.RoleAdmin, PasswordHash: "h"},
		} {
			if err := s.PutOperator(ctx, bad); chargedesk.ErrorCode(err) != chargedesk.EINVALID {
				t.Errorf("PutOperator(%+v) = %v, want EINVALID", bad, err)
			}
		}
		ada := &chargedesk.Operator{Username: "ada", Name: "Ada L.", Role: chargedesk.RoleAdmin, PasswordHash: "hash1"}
		must(t, s.PutOperator(ctx, ada))
		must(t, s.PutOperator(ctx, &chargedesk.Operator{Username: "bob", Role: chargedesk.RoleViewer, PasswordHash: "hash2"}))
		got, err := s.Operator(ctx, "ada")
		must(t, err)
		if got.Name != "Ada L." || got.Role != chargedesk.RoleAdmin || got.PasswordHash != "hash1" || got.Disabled || got.CreatedAt.IsZero() {
			t.Fatalf("stored %+v", got)
		}
		created := got.CreatedAt
		got.Name = "Ada"
		must(t, s.PutOperator(ctx, got))
		got, err = s.Operator(ctx, "ada")
		must(t, err)
		if got.Name != "Ada" || !got.CreatedAt.Equal(created) || !got.UpdatedAt.After(created) {
			t.Fatalf("updated %+v (created %v)", got, created)
		}
		all, err := s.Operators(ctx)
		must(t, err)
		if len(all) != 2 || all[0].Username != "ada" || all[1].Username != "bob" {
			t.Fatalf("Operators = %+v", all)
		}
	})

	t.Run("sessions", func(t *testing.T) {
		t.Parallel()
		s := openStore(t, b.newDSN(t))
		ada := &chargedesk.Operator{Username: "ada", Role: chargedesk.RoleOperator, PasswordHash: "hash1"}
		must(t, s.PutOperator(ctx, ada))
		if err := s.CreateOperatorSession(ctx, &chargedesk.OperatorSession{ID: "x", Username: "nobody", CSRF: "c",
			ExpiresAt: t0.Add(time.Hour)}); chargedesk.ErrorCode(err) != chargedesk.ENOTFOUND {
			t.Fatalf("session of an unknown operator: %v", err)
		}
		if err := s.CreateOperatorSession(ctx, &chargedesk.OperatorSession{ID: "x", Username: "ada"}); chargedesk.ErrorCode(err) != chargedesk.EINVALID {
			t.Fatalf("session without csrf and expiry: %v", err)
		}
		sess := &chargedesk.OperatorSession{ID: "s1", Username: "ada", CSRF: "csrf1", CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
		must(t, s.CreateOperatorSession(ctx, sess))
		got, err := s.OperatorSession(ctx, "s1", t0.Add(time.Minute))
		must(t, err)
		if got.Username != "ada" || got.CSRF != "csrf1" || !got.ExpiresAt.Equal(t0.Add(time.Hour)) {
			t.Fatalf("session %+v", got)
		}
		if _, err := s.OperatorSession(ctx, "s1", t0.Add(2*time.Hour)); chargedesk.ErrorCode(err) != chargedesk.ENOTFOUND {
			t.Fatalf("expired session: %v", err)
		}
		// A session created later sweeps the expired ones.
		must(t, s.CreateOperatorSession(ctx, &chargedesk.OperatorSession{ID: "s2", Username: "ada", CSRF: "csrf2",
			CreatedAt: t0.Add(3 * time.Hour), ExpiresAt: t0.Add(4 * time.Hour)}))
		if _, err := s.OperatorSession(ctx, "s1", t0); chargedesk.ErrorCode(err) != chargedesk.ENOTFOUND {
			t.Fatalf("expired session kept: %v", err)
		}
		// A name change keeps the sessions; a new password ends them.
		ada.Name = "Ada"
		must(t, s.PutOperator(ctx, ada))
		if _, err := s.OperatorSession(ctx, "s2", t0.Add(3*time.Hour)); err != nil {
			t.Fatalf("session ended by a name change: %v", err)
		}
		ada.PasswordHash = "hash2"
		must(t, s.PutOperator(ctx, ada))
		if _, err := s.OperatorSession(ctx, "s2", t0.Add(3*time.Hour)); chargedesk.ErrorCode(err) != chargedesk.ENOTFOUND {
			t.Fatalf("session kept after a password change: %v", err)
		}
		// Disabling ends them too; signing out ends one.
		must(t, s.CreateOperatorSession(ctx, &chargedesk.OperatorSession{ID: "s3", Username: "ada", CSRF: "c3", CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}))
		must(t, s.CreateOperatorSession(ctx, &chargedesk.OperatorSession{ID: "s4", Username: "ada", CSRF: "c4", CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}))
		must(t, s.DeleteOperatorSession(ctx, "s3"))
		must(t, s.DeleteOperatorSession(ctx, "s3"))
		if _, err := s.OperatorSession(ctx, "s3", t0); chargedesk.ErrorCode(err) != chargedesk.ENOTFOUND {
			t.Fatalf("signed-out session: %v", err)
		}
		ada.Disabled = true
		must(t, s.PutOperator(ctx, ada))
		if _, err := s.OperatorSession(ctx, "s4", t0); chargedesk.ErrorCode(err) != chargedesk.ENOTFOUND {
			t.Fatalf("session of a disabled operator: %v", err)
		}
	})
}
