// Command refreshsuite runs the token-renewal conformance suite, validates and
// lists scenarios, and serves the embedded IdP on its own. The suite is
// compiled into it (see roles.go): go install gives the whole tool.
//
// Exit codes: 0 every spec passed or is a declared known deviation, 1 a spec
// failed (or the run was interrupted: no verdict), 2 a usage or configuration
// error, or a run that can give no verdict (no spec ran, or ginkgo and the
// report disagree).
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
)

const usage = `usage: refreshsuite <command> [flags]

commands:
  run        run the conformance suite against the shipped clients, or those -client names
  validate   check scenario files and a client manifest, exit 2 on the first error
  list       list scenarios, their specs and requirement IDs, and whether they apply
  idp        serve the embedded IdP alone, for developing against short-lived tokens
  certify    run the IdP profile against your identity provider and write a certification bundle
  schema     print the JSON Schema of the scenario format (-manifest: of client manifests)
  mutants    run the suite against deliberately broken clients and print the mutation score
  flake      run the suite many times under CPU load and count the specs that changed verdict
  report     report merge: combine the results of shards into one set of reports
  version    print this program's version and the client library versions it pins

'refreshsuite <command> -h' shows a command's flags.
`

// usageError is a problem with how the command was called or configured: exit 2.
type usageError struct{ err error }

func (u usageError) Error() string { return u.err.Error() }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// failedError means specs failed: exit 1.
var errFailed = errors.New("specs failed")

func main() {
	playRole()
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "run":
		err = cmdRun(args[1:], stdout, stderr)
	case "validate":
		err = cmdValidate(args[1:], stdout)
	case "list":
		err = cmdList(args[1:], stdout)
	case "idp":
		err = cmdIdP(args[1:], stdout)
	case "certify":
		err = cmdCertify(args[1:], stdout, stderr)
	case "schema":
		err = cmdSchema(args[1:], stdout)
	case "version", "-version", "--version":
		err = cmdVersion(args[1:], stdout)
	case "mutants":
		err = cmdMutants(args[1:], stdout, stderr)
	case "flake":
		err = cmdFlake(args[1:], stdout, stderr)
	case "report":
		err = cmdReport(args[1:], stdout, stderr)
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "refreshsuite: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errFailed):
		return 1
	default:
		fmt.Fprintln(stderr, "refreshsuite: "+err.Error())
		var u usageError
		if errors.As(err, &u) {
			return 2
		}
		return 1
	}
}

// newFlags makes a command's flag set that reports errors instead of exiting.
func newFlags(name string, out io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("refreshsuite "+name, flag.ContinueOnError)
	fs.SetOutput(out)
	return fs
}

func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err}
	}
	return nil
}
