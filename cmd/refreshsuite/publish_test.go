package main

import (
	"bytes"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

func write(t *testing.T, path, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// listDir lists a folder, hidden entries included.
func listDir(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	sort.Strings(out)
	return out
}

// publishRun writes reports for a run into a new report folder at final and
// publishes them, the way a run does.
func publishRun(t *testing.T, final, junit string) (stderr string) {
	t.Helper()
	d, err := newReportDir(final)
	if err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(d.staging, "junit.xml"), junit)
	write(t, filepath.Join(d.staging, "traces", "c", "s", "timeline.txt"), junit)
	var errb bytes.Buffer
	if err := d.publish(&errb); err != nil {
		t.Fatal(err)
	}
	return errb.String()
}

// A run's reports reach -out whole or not at all: a new folder, an empty one
// and an earlier run's are taken (the earlier one replaced whole, files it
// had and this run has not included), and nothing is left beside them.
func TestPublishReplacesWhole(t *testing.T) {
	parent := t.TempDir()
	final := filepath.Join(parent, "out")
	publishRun(t, final, "first")
	write(t, filepath.Join(final, "report.html"), "only the first run wrote this")
	publishRun(t, final, "second")
	if got := read(t, filepath.Join(final, "junit.xml")); got != "second" {
		t.Errorf("junit.xml: %q after the second run", got)
	}
	if _, err := os.Stat(filepath.Join(final, "report.html")); err == nil {
		t.Error("a file of the first run survived the second")
	}
	if got := listDir(t, final); strings.Join(got, " ") != markerName+" junit.xml traces" {
		t.Errorf("the folder holds %v", got)
	}
	if got := listDir(t, parent); len(got) != 1 {
		t.Errorf("beside the report folder: %v, want nothing", got)
	}
	empty := filepath.Join(parent, "empty")
	if err := os.Mkdir(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	publishRun(t, empty, "into an empty folder")
	if got := read(t, filepath.Join(empty, "junit.xml")); got != "into an empty folder" {
		t.Errorf("an empty -out: junit.xml %q", got)
	}
}

// A folder refreshsuite did not write is never replaced: refused before the
// run, and refused at the end if files appeared in it during the run.
func TestPublishRefusesOtherFolders(t *testing.T) {
	parent := t.TempDir()
	mine := filepath.Join(parent, "mine")
	write(t, filepath.Join(mine, "notes.txt"), "the user's")
	if _, err := newReportDir(mine); err == nil || !strings.Contains(err.Error(), "did not write") {
		t.Errorf("a folder of the user's: %v, want a refusal", err)
	}
	file := filepath.Join(parent, "file")
	write(t, file, "a file")
	if _, err := newReportDir(file); err == nil {
		t.Error("an -out that is a file was taken")
	}
	// A folder a run wrote before folders were marked is taken, but not with
	// a file of the user's beside the reports.
	older := filepath.Join(parent, "older")
	write(t, filepath.Join(older, "junit.xml"), "an unmarked run's")
	write(t, filepath.Join(older, "traces", "c", "s", "timeline.txt"), "")
	publishRun(t, older, "this run's")
	write(t, filepath.Join(older, markerName), "")
	if _, err := newReportDir(older); err == nil {
		t.Error("a folder whose marker is empty was taken")
	}
	write(t, filepath.Join(mine, "junit.xml"), "the user's")
	if _, err := newReportDir(mine); err == nil {
		t.Error("a folder with a junit.xml and a file of the user's was taken")
	}
	// A forged marker does not count: its first line must be refreshsuite's.
	forged := filepath.Join(parent, "forged")
	write(t, filepath.Join(forged, markerName), "something else\n")
	if _, err := newReportDir(forged); err == nil {
		t.Error("a folder with another text in the marker file was taken")
	}

	late := filepath.Join(parent, "late")
	if err := os.Mkdir(late, 0o755); err != nil {
		t.Fatal(err)
	}
	d, err := newReportDir(late)
	if err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(d.staging, "junit.xml"), "the run's")
	write(t, filepath.Join(late, "notes.txt"), "written during the run")
	if err := d.publish(&bytes.Buffer{}); err == nil {
		t.Error("published over a folder that was given files during the run")
	}
	d.discard()
	if got := listDir(t, late); strings.Join(got, " ") != "notes.txt" {
		t.Errorf("the folder now holds %v", got)
	}
	if got := listDir(t, parent); strings.Join(got, " ") != "file forged late mine older" {
		t.Errorf("beside the folders: %v", got)
	}
	if got := read(t, filepath.Join(mine, "notes.txt")); got != "the user's" {
		t.Errorf("the user's file now says %q", got)
	}
}
