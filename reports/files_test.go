package reports

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Reports written in one folder for another, where they will be moved once
// complete, link the traces as they will be there.
func TestWriteFilesAs(t *testing.T) {
	res := FromReport(sampleReport(), Options{}) // its failed spec's trace is /tmp/out/traces/silent_code_
	staging := t.TempDir()
	if err := res.WriteFilesAs(staging, "/tmp/out"); err != nil {
		t.Fatal(err)
	}
	html, err := os.ReadFile(filepath.Join(staging, "report.html"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(html), `<a href="traces/silent_code_/">/tmp/out/traces/silent_code_</a>`) {
		t.Error("report.html does not link the trace relative to where the folder is published")
	}
	for _, f := range []string{"junit.xml", "results.json"} {
		if _, err := os.Stat(filepath.Join(staging, f)); err != nil {
			t.Errorf("no %s: %v", f, err)
		}
	}
	// Written where it stays, a trace outside the folder is named, not linked.
	here := t.TempDir()
	if err := res.WriteFiles(here); err != nil {
		t.Fatal(err)
	}
	if html, _ := os.ReadFile(filepath.Join(here, "report.html")); strings.Contains(string(html), `href="traces/silent_code_/"`) {
		t.Error("a trace outside the report folder is linked as if it were inside")
	}
}
