package certify

import (
	"archive/tar"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/refreshsuite/refreshsuite/reports"
	"github.com/refreshsuite/refreshsuite/timeline"
)

// ManifestFile lists the SHA-256 of every other file of a bundle, in the
// format of sha256sum (so `sha256sum -c manifest.sha256` checks it).
const ManifestFile = "manifest.sha256"

// Outcome is a finished certification.
type Outcome struct {
	Verdicts []Verdict
	// Dir is the bundle folder, Archive the same as a .tar.gz.
	Dir, Archive string
	Duration     time.Duration
}

// Count returns how many verdicts are in a state.
func (o *Outcome) Count(s reports.State) int {
	n := 0
	for _, v := range o.Verdicts {
		if v.State == s {
			n++
		}
	}
	return n
}

// checkOut refuses to replace what is not an earlier bundle: the bundle
// folder is written afresh and <out>.tar.gz overwritten, and a mistyped --out
// must not cost files. The folder may be missing, empty or a bundle; the
// archive may be missing, or overwritten next to a bundle only.
func checkOut(out string) error {
	entries, err := os.ReadDir(out)
	empty := errors.Is(err, fs.ErrNotExist) || (err == nil && len(entries) == 0)
	switch {
	case empty:
	case err != nil:
		return fmt.Errorf("--out %s: %v", out, err)
	case !isBundle(out):
		return fmt.Errorf("--out %s exists and is not a certification bundle (a bundle has version.txt saying refreshsuite, config.json and %s): choose another folder", out, ManifestFile)
	}
	archive := archivePath(out)
	if _, err := os.Lstat(archive); err == nil && empty {
		return fmt.Errorf("--out %s: %s exists and is not next to a certification bundle: choose another folder, or move it", out, archive)
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("--out %s: %v", out, err)
	}
	return nil
}

// isBundle reports whether a folder is one this command wrote: version.txt
// saying refreshsuite, config.json and the manifest, all regular files.
func isBundle(dir string) bool {
	for _, f := range []string{"version.txt", "config.json", ManifestFile} {
		st, err := os.Lstat(filepath.Join(dir, f))
		if err != nil || !st.Mode().IsRegular() {
			return false
		}
	}
	v, err := os.ReadFile(filepath.Join(dir, "version.txt"))
	return err == nil && strings.HasPrefix(string(v), "refreshsuite ")
}

// archivePath is the bundle folder's archive, <out>.tar.gz.
func archivePath(out string) string {
	return strings.TrimSuffix(filepath.Clean(out), string(filepath.Separator)) + ".tar.gz"
}

// saveLoginShot keeps the page of a login that never came back, next to
// where the bundle would have been.
func saveLoginShot(out string, png []byte) (string, error) {
	path := strings.TrimSuffix(filepath.Clean(out), string(filepath.Separator)) + "-login-failure.png"
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return "", err
	}
	return path, os.WriteFile(path, png, 0o644)
}

// write produces the bundle: the reports, per-spec traces, the configuration,
// the version and the manifest, then the archive.
func (r *runner) write(verdicts []Verdict, took time.Duration) (*Outcome, error) {
	dir, err := filepath.Abs(r.cfg.Out)
	if err != nil {
		return nil, err
	}
	// Checked again right before: the folder may have changed during the run.
	if err := checkOut(dir); err != nil {
		return nil, err
	}
	if err := os.RemoveAll(dir); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(dir, "traces"), 0o755); err != nil {
		return nil, err
	}
	entries := r.tl.Entries()
	res := &reports.Results{Version: reports.Version, Started: r.started.UTC(), DurationMs: float64(took) / float64(time.Millisecond)}
	c := reports.Container{
		Scenario: "idp-certification[" + string(r.cfg.Profile) + "]", Client: idpName(r.cfg.Issuer),
		Library: r.cfg.Manifest.Library.Name + "@" + r.cfg.Manifest.Library.Version, Clock: "real", Timeline: entries,
	}
	c.Name = c.Client + "/" + c.Scenario
	for i, v := range verdicts {
		spec := Specs[i]
		slice, shot := r.slice(spec.Phases, entries)
		trace := filepath.Join(dir, "traces", spec.ID)
		if err := writeTrace(trace, slice, shot); err != nil {
			return nil, err
		}
		sp := reports.Spec{
			Expectation: spec.ID, Text: spec.ID + ": " + spec.Title(), Requirements: []string{spec.ID},
			State: v.State, Message: v.Message, Trace: trace, Started: r.started.UTC(),
		}
		if v.State != reports.Passed {
			sp.Failure = failureText(v, slice)
		}
		c.Specs = append(c.Specs, sp)
	}
	res.Containers = []reports.Container{c}
	if err := writeTrace(filepath.Join(dir, "traces", "run"), entries, nil); err != nil {
		return nil, err
	}
	for name, png := range r.shots {
		if err := os.WriteFile(filepath.Join(dir, "traces", "run", name+".png"), png, 0o644); err != nil {
			return nil, err
		}
	}
	if err := res.WriteFiles(dir); err != nil {
		return nil, err
	}
	cfgJSON, err := json.MarshalIndent(r.record(), "", "  ")
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "config.json"), append(cfgJSON, '\n'), 0o644); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "version.txt"), []byte("refreshsuite "+r.cfg.Version+"\n"), 0o644); err != nil {
		return nil, err
	}
	if err := writeManifest(dir); err != nil {
		return nil, err
	}
	archive := archivePath(dir)
	if err := writeArchive(dir, archive, r.started); err != nil {
		return nil, err
	}
	return &Outcome{Verdicts: verdicts, Dir: dir, Archive: archive, Duration: took}, nil
}

// idpName is how reports name the IdP: its host, and path if it has one.
func idpName(issuer string) string {
	u, err := url.Parse(issuer)
	if err != nil || u.Host == "" {
		return issuer
	}
	return strings.TrimSuffix(u.Host+u.Path, "/")
}

// slice is the entries of the given phases, and the screenshot of the first
// browser session among them.
func (r *runner) slice(ids []string, entries []timeline.Entry) ([]timeline.Entry, []byte) {
	var out []timeline.Entry
	var shot []byte
	for i, p := range r.phases {
		if !slices.Contains(ids, p.id) {
			continue
		}
		to := len(entries)
		if i+1 < len(r.phases) {
			to = r.phases[i+1].from
		}
		out = append(out, entries[p.from:to]...)
		if shot == nil && p.session != "" {
			shot = r.shots[p.session]
		}
	}
	return out, shot
}

func writeTrace(dir string, entries []timeline.Entry, shot []byte) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var b strings.Builder
	for _, e := range entries {
		b.WriteString(e.String() + "\n")
	}
	if err := os.WriteFile(filepath.Join(dir, "timeline.txt"), []byte(b.String()), 0o644); err != nil {
		return err
	}
	if entries == nil {
		entries = []timeline.Entry{}
	}
	js, err := json.MarshalIndent(entries, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "timeline.json"), append(js, '\n'), 0o644); err != nil {
		return err
	}
	if shot != nil {
		return os.WriteFile(filepath.Join(dir, "screenshot.png"), shot, 0o644)
	}
	return nil
}

// failureText is a verdict's message with the slice of the timeline it read,
// the way a scenario's failure reads.
func failureText(v Verdict, slice []timeline.Entry) string {
	var b strings.Builder
	b.WriteString(v.Message)
	b.WriteString("\n\ntimeline (real time; the phases this check reads):\n")
	if len(slice) > 60 {
		slice = append(append([]timeline.Entry{}, slice[:30]...), slice[len(slice)-30:]...)
	}
	for _, e := range slice {
		b.WriteString("  " + e.String() + "\n")
	}
	return b.String()
}

// files lists a folder's regular files, relative, with slashes, sorted.
func files(dir string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		out = append(out, filepath.ToSlash(rel))
		return err
	})
	slices.Sort(out)
	return out, err
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func writeManifest(dir string) error {
	names, err := files(dir)
	if err != nil {
		return err
	}
	var b strings.Builder
	for _, n := range names {
		if n == ManifestFile {
			continue
		}
		sum, err := fileSHA256(filepath.Join(dir, filepath.FromSlash(n)))
		if err != nil {
			return err
		}
		fmt.Fprintf(&b, "%s  %s\n", sum, n)
	}
	return os.WriteFile(filepath.Join(dir, ManifestFile), []byte(b.String()), 0o644)
}

// VerifyManifest checks every line of a bundle's manifest against the files,
// and that no file is missing from it.
func VerifyManifest(dir string) error {
	raw, err := os.ReadFile(filepath.Join(dir, ManifestFile))
	if err != nil {
		return err
	}
	listed := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		sum, name, ok := strings.Cut(line, "  ")
		if !ok {
			return fmt.Errorf("%s: malformed line %q", ManifestFile, line)
		}
		got, err := fileSHA256(filepath.Join(dir, filepath.FromSlash(name)))
		if err != nil {
			return err
		}
		if got != sum {
			return fmt.Errorf("%s: SHA-256 %s, the manifest says %s", name, got, sum)
		}
		listed[name] = true
	}
	names, err := files(dir)
	if err != nil {
		return err
	}
	for _, n := range names {
		if n != ManifestFile && !listed[n] {
			return fmt.Errorf("%s is not in %s", n, ManifestFile)
		}
	}
	return nil
}

// writeArchive packs the bundle folder, under its own name, into a .tar.gz.
func writeArchive(dir, archive string, mtime time.Time) error {
	names, err := files(dir)
	if err != nil {
		return err
	}
	f, err := os.Create(archive)
	if err != nil {
		return err
	}
	gz := gzip.NewWriter(f)
	tw := tar.NewWriter(gz)
	top := filepath.Base(dir)
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(n)))
		if err != nil {
			f.Close()
			return err
		}
		hdr := &tar.Header{Name: top + "/" + n, Mode: 0o644, Size: int64(len(b)), ModTime: mtime, Typeflag: tar.TypeReg}
		if err := tw.WriteHeader(hdr); err != nil {
			f.Close()
			return err
		}
		if _, err := tw.Write(b); err != nil {
			f.Close()
			return err
		}
	}
	return errors.Join(tw.Close(), gz.Close(), f.Close())
}
