package agent

import (
	"context"
	"testing"

	"github.com/chargedesk/chargedesk"
	"github.com/chargedesk/chargedesk/agent/nlu"
)

// ctxUnderstander records the context each message was understood with.
type ctxUnderstander struct {
	Understander
	got []any
}

type ctxKey struct{}

func (u *ctxUnderstander) UnderstandContext(ctx context.Context, text, langHint string) nlu.Result {
	u.got = append(u.got, ctx.Value(ctxKey{}))
	return u.Understand(text, langHint)
}

func TestHandleGivesItsContextToAContextUnderstander(t *testing.T) {
	st := newStack(t)
	_, offline := shared()
	u := &ctxUnderstander{Understander: offline}
	cfg := st.cfg
	cfg.NLU = u
	a, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.WithValue(context.Background(), ctxKey{}, "handle")
	c, err := a.Start(ctx, chargedesk.ChannelChat, "web-ctx", "en")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Handle(ctx, c.ID, "hello"); err != nil {
		t.Fatal(err)
	}
	if len(u.got) != 1 || u.got[0] != "handle" {
		t.Errorf("UnderstandContext saw %v, want the handler's context once", u.got)
	}
}
