package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// A report folder is written whole somewhere else and then put in place in one
// step, so that it always holds the reports of one run: never a junit.xml of
// this run beside a report.html of the last, never a half-written file. The
// marker says that refreshsuite wrote the folder; a later run replaces a
// folder only when it carries the marker (or is empty), never a folder of the
// user's that -out names by mistake.
const (
	markerName  = ".refreshsuite-reports"
	markerFirst = "refreshsuite reports"
	markerText  = markerFirst + "\nThis folder holds the reports of one refreshsuite run; the next run into it replaces it whole.\n"
)

// reportDir is where a run's reports go: written in staging, a fresh folder
// next to final, and moved to final once the run is judged.
type reportDir struct {
	final, staging string
	// previous says that final held reports when the run began.
	previous bool
}

// newReportDir checks that final may take a run's reports and makes the
// folder they are written in, so that an -out that cannot be written is found
// before anything runs.
func newReportDir(final string) (*reportDir, error) {
	d := &reportDir{final: final}
	switch marked, empty, err := replaceable(final); {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return nil, usagef("-out %s: %v", final, err)
	case !marked && !empty:
		return nil, usagef("-out %s is a folder refreshsuite did not write (it has files and no %s): name a new or empty folder, or remove this one", final, markerName)
	default:
		d.previous = marked
	}
	parent := filepath.Dir(final)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return nil, usagef("-out %s: %v", final, err)
	}
	staging, err := os.MkdirTemp(parent, "."+filepath.Base(final)+".new-")
	if err != nil {
		return nil, usagef("-out %s: cannot write there: %v", final, err)
	}
	// MkdirTemp makes it private; a report folder is as readable as any.
	if err := os.Chmod(staging, 0o755); err != nil {
		_ = os.RemoveAll(staging)
		return nil, usagef("-out %s: %v", final, err)
	}
	d.staging = staging
	return d, nil
}

// replaceable says whether dir is a folder refreshsuite marked, or an empty
// one; a path that is not a folder is an error. A folder that holds nothing
// but what refreshsuite wrote before it marked its folders counts as marked.
func replaceable(dir string) (marked, empty bool, err error) {
	st, err := os.Lstat(dir)
	if err != nil {
		return false, false, err
	}
	if !st.IsDir() {
		return false, false, errors.New("not a folder")
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return false, false, err
	}
	if len(entries) == 0 {
		return false, true, nil
	}
	f, err := os.Open(filepath.Join(dir, markerName))
	if err != nil {
		return unmarkedReports(entries), false, nil
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	return sc.Scan() && sc.Text() == markerFirst, false, nil
}

// unmarkedReports says whether a folder's entries are all files that runs
// wrote before report folders were marked.
func unmarkedReports(entries []fs.DirEntry) bool {
	for _, e := range entries {
		switch e.Name() {
		case "junit.xml", "results.json", "report.html", "mutation.txt":
			if !e.Type().IsRegular() {
				return false
			}
		case "traces":
			if !e.IsDir() {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// publish marks the staging folder and puts it at final in one rename: the
// old folder, if any, is swapped out whole and then removed. An old folder
// that cannot be removed is a warning on stderr: the reports are in place.
func (d *reportDir) publish(stderr io.Writer) error {
	if err := os.WriteFile(filepath.Join(d.staging, markerName), []byte(markerText), 0o644); err != nil {
		return fmt.Errorf("mark the reports: %w", err)
	}
	marked, empty, err := replaceable(d.final)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		// syscall.Rename, not os.Rename: os.Rename refuses any existing
		// folder at the destination, and a folder made there meanwhile must
		// fail here too, which rename(2) does unless that folder is empty.
		if err := syscall.Rename(d.staging, d.final); err != nil {
			return fmt.Errorf("put the reports at %s: %w", d.final, err)
		}
		return nil
	case err != nil:
		return fmt.Errorf("put the reports at %s: %w", d.final, err)
	case !marked && !empty:
		return fmt.Errorf("put the reports at %s: the folder was given other files during the run; the reports are not written", d.final)
	}
	old, err := exchange(d.staging, d.final)
	if err != nil {
		return fmt.Errorf("put the reports at %s: %w", d.final, err)
	}
	if err := os.RemoveAll(old); err != nil {
		fmt.Fprintf(stderr, "refreshsuite: warning: the reports are at %s, but the previous ones, moved to %s, could not be removed: %v\n", d.final, old, err)
	}
	return nil
}

// renameTwice moves final aside and fresh to final, returning where the old
// folder went.
func renameTwice(fresh, final string) (string, error) {
	old, err := os.MkdirTemp(filepath.Dir(final), "."+filepath.Base(final)+".old-")
	if err != nil {
		return "", err
	}
	if err := os.Remove(old); err != nil { // the name is what is wanted: rename(2) needs it free
		return "", err
	}
	if err := os.Rename(final, old); err != nil {
		return "", err
	}
	if err := os.Rename(fresh, final); err != nil {
		_ = os.Rename(old, final)
		return "", err
	}
	return old, nil
}

// discard removes what the run wrote, leaving final as it was.
func (d *reportDir) discard() { _ = os.RemoveAll(d.staging) }
