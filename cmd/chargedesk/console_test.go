package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/chargedesk/chargedesk"
	"github.com/chargedesk/chargedesk/sqlstore"
	"golang.org/x/crypto/bcrypt"
)

func TestUserCommand(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	user := func(stdin string, args ...string) (string, error) {
		var out, errb bytes.Buffer
		err := run(ctx, append([]string{"user", args[0], "-data", dir}, args[1:]...), func(string) string { return "" },
			strings.NewReader(stdin), &out, &errb)
		return out.String(), err
	}
	if _, err := user("a fine long password\n", "add", "-role", "admin", "-name", "Ada L.", "Ada"); err != nil {
		t.Fatal(err)
	}
	if _, err := user("x\n", "add", "ada"); err == nil {
		t.Fatal("an existing account added twice")
	}
	if _, err := user("short\n", "add", "bob"); chargedesk.ErrorCode(err) != chargedesk.EINVALID {
		t.Fatalf("short password: %v", err)
	}
	if _, err := user("x\n", "add", "-role", "root", "carl"); err == nil {
		t.Fatal("unknown role accepted")
	}
	out, err := user("", "add", "-role", "viewer", "dee")
	if err != nil || !strings.HasPrefix(out, "password: ") {
		t.Fatalf("generated password: %q %v", out, err)
	}
	if _, err := user("another long password\n", "passwd", "ada"); err != nil {
		t.Fatal(err)
	}
	if _, err := user("", "disable", "dee"); err != nil {
		t.Fatal(err)
	}
	out, err = user("", "list")
	if err != nil || !strings.Contains(out, "ada") || !strings.Contains(out, "Ada L.") || !strings.Contains(out, "disabled") {
		t.Fatalf("list: %q %v", out, err)
	}
	st, err := sqlstore.Open(ctx, "sqlite://"+dir+"/chargedesk.db")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	o, err := st.Operator(ctx, "ada")
	if err != nil {
		t.Fatal(err)
	}
	if o.Role != chargedesk.RoleAdmin || bcrypt.CompareHashAndPassword([]byte(o.PasswordHash), []byte("another long password")) != nil {
		t.Fatalf("ada: %+v", o)
	}
}
