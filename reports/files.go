package reports

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// WriteFiles writes junit.xml, results.json and report.html into dir. It writes
// all three even when one fails, so CI keeps its JUnit file whatever happens
// to the others.
func (r *Results) WriteFiles(dir string) error { return r.WriteFilesAs(dir, dir) }

// WriteFilesAs writes the files into dir for a folder that is moved to
// published once it is complete: report.html links the traces, which r names
// by their published paths, relative to published.
func (r *Results) WriteFilesAs(dir, published string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return errors.Join(
		writeJUnit(filepath.Join(dir, "junit.xml"), r),
		writeJSON(filepath.Join(dir, "results.json"), r),
		writeHTML(filepath.Join(dir, "report.html"), published, r),
	)
}

func writeJSON(path string, r *Results) error {
	b, err := json.MarshalIndent(r, "", " ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// ReadResults reads a results.json this package wrote.
func ReadResults(path string) (*Results, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r Results
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if r.Version != Version {
		return nil, fmt.Errorf("%s: results version %d, this refreshsuite reads version %d", path, r.Version, Version)
	}
	return &r, nil
}
