package reports

import (
	"path/filepath"

	"github.com/onsi/ginkgo/v2/types"
)

// Results is the model every report is written from: built from a finished
// ginkgo run, read back from results.json, and merged across shards.
// (Being written: today it wraps the ginkgo report.)
type Results struct {
	report types.Report
	opt    Options
}

// FromReport builds the results of a finished run.
func FromReport(r types.Report, opt Options) *Results { return &Results{report: r, opt: opt} }

// WriteFiles writes junit.xml, results.json and report.html into dir.
func (r *Results) WriteFiles(dir string) error {
	return WriteJUnit(filepath.Join(dir, "junit.xml"), r.report, r.opt)
}
