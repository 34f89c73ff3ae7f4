package console

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/chargedesk/chargedesk/internal/textcut"

	"github.com/chargedesk/chargedesk"
)

// An operator's command from the charger page.
const (
	// maxReasonChars bounds the reason an operator gives (the audit log
	// keeps it with the command).
	maxReasonChars = 200
	// commandTimeout is how long the console waits for the charger's
	// answer: well inside the server's write timeout.
	commandTimeout = 30 * time.Second
	// maxFlash bounds the result message carried in the redirect.
	maxFlash = 400
)

// commandForm turns the charger page's form into a command for ch. The
// error is a message for the operator.
func commandForm(ch *chargedesk.Charger, form url.Values) (chargedesk.Command, string) {
	cmd := chargedesk.Command{ChargerID: ch.ID}
	reason := strings.TrimSpace(strings.Join(strings.Fields(form.Get("reason")), " "))
	switch {
	case reason == "":
		return cmd, "A reason is required: say why the command is sent (it goes to the audit log)."
	case !utf8.ValidString(reason):
		return cmd, "The reason is not valid text."
	case utf8.RuneCountInString(reason) > maxReasonChars:
		return cmd, fmt.Sprintf("The reason is %d characters long; at most %d are kept.", utf8.RuneCountInString(reason), maxReasonChars)
	case strings.IndexFunc(reason, unicode.IsControl) >= 0:
		return cmd, "The reason holds control characters."
	}
	cmd.Reason = reason
	connector := func(wholeAllowed bool) (int, string) {
		s := form.Get("connector")
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 || n > maxConnectorIDs || (n == 0 && !wholeAllowed) {
			if wholeAllowed {
				return 0, fmt.Sprintf("Connector %q is not a connector number (0 for the whole charger, or 1 to %d).", textcut.Marked(s, 12), maxConnectorIDs)
			}
			return 0, fmt.Sprintf("Connector %q is not a connector number (1 to %d).", textcut.Marked(s, 12), maxConnectorIDs)
		}
		if n > 0 && ch.Connector(n) == nil {
			return 0, fmt.Sprintf("Charger %s has not reported a connector %d.", ch.ID, n)
		}
		return n, ""
	}
	var problem string
	switch action := form.Get("action"); action {
	case "reset":
		cmd.Kind, cmd.ResetType = chargedesk.CmdReset, form.Get("type")
		if cmd.ResetType != chargedesk.ResetSoft && cmd.ResetType != chargedesk.ResetHard {
			return cmd, fmt.Sprintf("Reset type %q is neither Soft nor Hard.", textcut.Marked(cmd.ResetType, 20))
		}
	case "unlock":
		cmd.Kind = chargedesk.CmdUnlockConnector
		cmd.ConnectorID, problem = connector(false)
	case "availability":
		cmd.Kind, cmd.Availability = chargedesk.CmdChangeAvailability, form.Get("availability")
		if cmd.Availability != chargedesk.AvailabilityOperative && cmd.Availability != chargedesk.AvailabilityInoperative {
			return cmd, fmt.Sprintf("Availability %q is neither Operative nor Inoperative.", textcut.Marked(cmd.Availability, 20))
		}
		cmd.ConnectorID, problem = connector(true)
	case "trigger":
		cmd.Kind, cmd.Trigger = chargedesk.CmdTriggerMessage, form.Get("message")
		if !slices.Contains(triggers, cmd.Trigger) {
			return cmd, fmt.Sprintf("Message %q cannot be triggered from here: choose %s.", textcut.Marked(cmd.Trigger, 40), strings.Join(triggers, ", "))
		}
		if s := form.Get("connector"); s != "" && s != "0" {
			cmd.ConnectorID, problem = connector(true)
		}
	default:
		return cmd, fmt.Sprintf("Unknown command %q: choose reset, unlock, availability or trigger.", textcut.Marked(action, 20))
	}
	return cmd, problem
}

// chargerCommand sends an operator's command through the policy gateway,
// which decides and audits it, and shows the result on the charger page
// (Post/Redirect/Get).
func (c *Console) chargerCommand(w http.ResponseWriter, r *http.Request) {
	ch, ok := c.chargerOf(w, r)
	if !ok {
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		c.fail(w, r, http.StatusBadRequest, "The command form could not be read.")
		return
	}
	cmd, problem := commandForm(ch, r.PostForm)
	if problem != "" {
		c.fail(w, r, http.StatusBadRequest, problem)
		return
	}
	op := operatorOf(r.Context()).op
	cmd.ID, cmd.Actor, cmd.Timeout = chargedesk.NewCommandID(), chargedesk.ConsoleActorPrefix+op.Username, commandTimeout
	if err := cmd.Validate(); err != nil {
		c.fail(w, r, http.StatusBadRequest, "The command is not valid: "+chargedesk.ErrorMessage(err))
		return
	}
	res, err := c.cfg.Commands.Send(r.Context(), cmd)
	switch chargedesk.ErrorCode(err) {
	case "":
	case chargedesk.EINVALID:
		c.fail(w, r, http.StatusBadRequest, "The command is not valid: "+chargedesk.ErrorMessage(err))
		return
	case chargedesk.EUNAVAILABLE:
		c.log.Error("console: send a command", "charger_id", ch.ID, "operator", op.Username, "err", err)
		c.fail(w, r, http.StatusServiceUnavailable, "The command could not be sent: "+chargedesk.ErrorMessage(err))
		return
	default:
		c.failErr(w, r, err)
		return
	}
	c.log.Info("console: command sent", "charger_id", ch.ID, "operator", op.Username, "kind", cmd.Kind, "status", res.Status)
	http.Redirect(w, r, "/console/chargers/"+ch.ID+"?done="+url.QueryEscape(textcut.Marked(resultFlash(cmd, res), maxFlash)), http.StatusSeeOther)
}

// describe names a command as the operator chose it.
func describe(cmd chargedesk.Command) string {
	switch cmd.Kind {
	case chargedesk.CmdReset:
		return cmd.ResetType + " reset"
	case chargedesk.CmdUnlockConnector:
		return fmt.Sprintf("Unlock of connector %d", cmd.ConnectorID)
	case chargedesk.CmdChangeAvailability:
		if cmd.ConnectorID == 0 {
			return "Whole charger " + cmd.Availability
		}
		return fmt.Sprintf("Connector %d %s", cmd.ConnectorID, cmd.Availability)
	case chargedesk.CmdTriggerMessage:
		return "Trigger " + cmd.Trigger
	}
	return string(cmd.Kind)
}

// resultFlash says what came of a command, in a line.
func resultFlash(cmd chargedesk.Command, res chargedesk.Result) string {
	what := describe(cmd)
	var s string
	switch res.Status {
	case chargedesk.ResultRefused:
		s = fmt.Sprintf("%s refused by policy: %s. Nothing was sent.", what, res.Detail)
	case chargedesk.ResultTimeout:
		s = fmt.Sprintf("%s: the charger did not answer within %s (Timeout).", what, cmd.Timeout)
	case chargedesk.ResultChargerOffline:
		s = fmt.Sprintf("%s: the charger is offline; nothing was sent (ChargerOffline).", what)
	case chargedesk.ResultCallError:
		s = fmt.Sprintf("%s: the charger answered with an error: %s %s.", what, res.ErrorCode, res.Detail)
	default:
		s = fmt.Sprintf("%s: the charger answered %s.", what, res.Status)
		if res.Detail != "" {
			s = fmt.Sprintf("%s: the charger answered %s (%s).", what, res.Status, res.Detail)
		}
	}
	return s
}
