package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

const usage = `chargedesk answers EV drivers when a charge fails and fixes it over OCPP.

Usage:
  chargedesk demo [flags]    run chargedesk with a simulated fleet (no configuration)
  chargedesk serve [flags]   run the OCPP central system and the operator API
  chargedesk sim [flags]     run simulated chargers against any OCPP central system
  chargedesk chat [flags]    talk to the support agent of a running chargedesk
  chargedesk call [flags]    phone the support agent of a running chargedesk (type what you'd say)
  chargedesk nlu [flags]     understand drivers' messages: JSON lines in, JSON lines out
  chargedesk bench [flags]   the support benchmark: simulated drivers with faults, graded on end state
  chargedesk user ...        manage the operator console's accounts (add, passwd, disable, enable, list)
  chargedesk version         print the version

Run "chargedesk serve -h" for the flags; every flag can also be set with the
CHARGEDESK_* environment variable named in its help.
`

// run is the whole program. args excludes the program name. Asking a
// command for its flags (-h) is not an error.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	err := dispatch(ctx, args, getenv, stdin, stdout, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	return err
}

func dispatch(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("no command given")
	}
	switch args[0] {
	case "serve":
		return serve(ctx, args[1:], getenv, stdout, stderr)
	case "demo":
		return demo(ctx, args[1:], getenv, stdout, stderr)
	case "sim":
		return simCommand(ctx, args[1:], getenv, stdin, stdout, stderr)
	case "chat":
		return chatCommand(ctx, args[1:], stdin, stdout, stderr)
	case "call":
		return callCommand(ctx, args[1:], getenv, stdin, stdout, stderr)
	case "nlu":
		return nluCommand(ctx, args[1:], getenv, stdin, stdout, stderr)
	case "bench":
		return benchCommand(ctx, args[1:], stdin, stdout, stderr)
	case "user":
		return userCommand(ctx, args[1:], getenv, stdin, stdout, stderr)
	case "version", "-version", "--version":
		fmt.Fprintln(stdout, "chargedesk", version)
		return nil
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", strings.Join(args[:1], ""))
}
