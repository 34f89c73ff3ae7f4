// Command chargedesk runs the chargedesk central system and its tools.
//
//	chargedesk serve   the OCPP central system and the operator API
//	chargedesk version print the version
//
// main only calls run; everything is wired there so that tests can start the
// whole program with :0 ports and a temporary directory.
package main

import (
	"fmt"
	"os"
)

func main() {
	ctx, stop := signalContext()
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "chargedesk:", err)
		os.Exit(1)
	}
}
