package main

import (
	"fmt"
	"io"
	"path/filepath"

	"github.com/refreshsuite/refreshsuite/reports"
)

// cmdReport handles "report merge": the results of shards run on different
// machines become one junit.xml, results.json and report.html.
func cmdReport(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "merge" {
		return usagef("usage: refreshsuite report merge -out DIR SHARD/results.json...")
	}
	h, err := findHome()
	if err != nil {
		return err
	}
	fs := newFlags("report merge", stderr)
	out := fs.String("out", h.out("merged"), "where the merged reports go: a new or empty folder, or one refreshsuite wrote, which is replaced whole")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	if fs.NArg() < 1 {
		return usagef("report merge needs at least one results.json")
	}
	var parts []*reports.Results
	for _, f := range fs.Args() {
		r, err := reports.ReadResults(f)
		if err != nil {
			return usageError{fmt.Errorf("%s: %w", f, err)}
		}
		parts = append(parts, r)
	}
	merged, err := reports.Merge(parts...)
	if err != nil {
		return usageError{err}
	}
	dest, err := newReportDir(abs(*out))
	if err != nil {
		return err
	}
	published := false
	defer func() {
		if !published {
			dest.discard()
		}
	}()
	if err := merged.WriteFiles(dest.staging); err != nil {
		return err
	}
	if err := dest.publish(stderr); err != nil {
		return err
	}
	published = true
	junit := filepath.Join(dest.final, "junit.xml")
	sum, err := summarize(junit)
	if err != nil {
		return err
	}
	sum.print(stdout, 0, junit)
	if sum.failed > 0 {
		return errFailed
	}
	return nil
}
