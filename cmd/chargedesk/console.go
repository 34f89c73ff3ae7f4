package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/chargedesk/chargedesk"
	"github.com/chargedesk/chargedesk/agent"
	"github.com/chargedesk/chargedesk/console"
	"github.com/chargedesk/chargedesk/sqlstore"
	"github.com/chargedesk/chargedesk/twilio"
)

// withConsole serves the operator console under /console beside next.
// Its live views are fed from the bus; an operator takes conversations
// over through the agent and reaches drivers on their channel.
func (s *server) withConsole(next http.Handler) (http.Handler, error) {
	log := s.log.With("component", "console")
	out := &channelOutbound{threads: s.store, human: s.cfg.Voice.HumanNumber, public: s.cfg.Twilio.PublicURL, log: log}
	if tw := s.cfg.Twilio; tw.on() {
		out.client = twilio.NewClient(twilio.Config{AccountSID: tw.AccountSID, AuthToken: tw.AuthToken, PublicBaseURL: tw.PublicURL,
			From: tw.From, APIURL: tw.APIURL}, nil)
	}
	cfg := console.Config{Store: s.convs, Operators: s.store, Commands: s.gateway, Agent: s.rules, Events: s.bus,
		Assistant: s.agent, Outbound: out, Feed: s.bus,
		Switches: s.switches, Playbooks: agent.Playbooks, Limits: s.rules.AgentLimits, Comments: s.store, Reports: s.store,
		Secure: s.cfg.ConsoleSecure, Logger: log}
	if s.cfg.Upstream != "" {
		cfg.Upstream = s.store
	}
	c, err := console.New(cfg)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/console", c)
	mux.Handle("/console/", c)
	mux.Handle("/", next)
	return mux, nil
}

const userUsage = `chargedesk user manages the operator console's accounts.

Usage:
  chargedesk user add [-role admin|operator|viewer] [-name "Full Name"] USERNAME
  chargedesk user passwd USERNAME
  chargedesk user disable USERNAME
  chargedesk user enable USERNAME
  chargedesk user list

add and passwd read the password from the first line of standard input
(12 to 72 bytes); with nothing there, a random one is made and printed.
The database is the one serve uses (-data or -db, or their CHARGEDESK_*
variables).
`

// userCommand runs "chargedesk user".
func userCommand(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "help" {
		fmt.Fprint(stdout, userUsage)
		if len(args) == 0 {
			return errors.New("no user command given")
		}
		return nil
	}
	verb := args[0]
	fs := flag.NewFlagSet("user "+verb, flag.ContinueOnError)
	fs.SetOutput(stderr)
	vals, err := registerSettings(fs, slices.DeleteFunc(slices.Clone(settings), func(s envVar) bool {
		return s.flag != "data" && s.flag != "db"
	}), getenv)
	if err != nil {
		return err
	}
	role := fs.String("role", "operator", "the account's role: admin, operator or viewer")
	name := fs.String("name", "", "the person's full name")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	cfg := &config{DataDir: *vals["data"], DatabaseURL: *vals["db"]}
	dsn, err := cfg.databaseDSN()
	if err != nil {
		return err
	}
	st, err := sqlstore.Open(ctx, dsn)
	if err != nil {
		return fmt.Errorf("open store: %w", err)
	}
	defer st.Close()
	if verb == "list" {
		ops, err := st.Operators(ctx)
		if err != nil {
			return err
		}
		for _, o := range ops {
			state := "active"
			if o.Disabled {
				state = "disabled"
			}
			fmt.Fprintf(stdout, "%-24s %-8s %-8s %s\n", o.Username, o.Role, state, o.Name)
		}
		return nil
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("user %s needs one USERNAME", verb)
	}
	username := strings.ToLower(fs.Arg(0))
	switch verb {
	case "add":
		if _, err := st.Operator(ctx, username); err == nil {
			return fmt.Errorf("operator %q exists; use passwd, enable or disable", username)
		}
		hash, err := passwordFrom(stdin, stdout)
		if err != nil {
			return err
		}
		o := &chargedesk.Operator{Username: username, Name: *name, Role: chargedesk.Role(*role), PasswordHash: hash}
		if err := st.PutOperator(ctx, o); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "operator %s added (%s)\n", username, o.Role)
		return nil
	case "passwd", "disable", "enable":
		o, err := st.Operator(ctx, username)
		if err != nil {
			return err
		}
		switch verb {
		case "passwd":
			if o.PasswordHash, err = passwordFrom(stdin, stdout); err != nil {
				return err
			}
		case "disable":
			o.Disabled = true
		case "enable":
			o.Disabled = false
		}
		if err := st.PutOperator(ctx, o); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "operator %s: %s done\n", username, verb)
		return nil
	}
	return fmt.Errorf("unknown user command %q", verb)
}

// passwordFrom reads a password from the first line of r and hashes it;
// with an empty line it makes one and prints it.
func passwordFrom(r io.Reader, stdout io.Writer) (string, error) {
	line, err := bufio.NewReader(io.LimitReader(r, 1024)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	pw := strings.TrimRight(line, "\r\n")
	if pw == "" {
		pw = console.NewPassword()
		fmt.Fprintf(stdout, "password: %s\n", pw)
	}
	return console.HashPassword(pw, 0)
}
