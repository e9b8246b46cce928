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
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/refreshsuite/refreshsuite/reports"
)

// ManifestFile lists the SHA-256 of every other file of a bundle, in the
// format of sha256sum (so `sha256sum -c manifest.sha256` checks it).
const ManifestFile = "manifest.sha256"

// Outcome is a finished certification.
type Outcome struct {
	Verdicts []Verdict
	// Dir is the bundle folder, Archive the same as a .tar.gz.
	Dir, Archive string
}

// Verdict is one spec of the bundle: an expectation of an idp scenario.
type Verdict struct {
	// Spec is <scenario>/<expectation>.
	Spec         string
	Requirements []string
	State        reports.State
	Message      string
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

// CheckOut refuses, before anything runs, to replace what is not an earlier
// bundle.
func CheckOut(out string) error { return checkOut(out) }

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

// LoginShot is where the page of a first login that never came back is kept:
// next to where the bundle would have been, never in it (the page is the
// IdP's and may show what the login file typed).
func LoginShot(out string) string {
	return strings.TrimSuffix(filepath.Clean(out), string(filepath.Separator)) + "-login-failure.png"
}

// bundled are the files and folders of the suite's report folder that go
// into the bundle.
var bundled = []string{"junit.xml", "results.json", "report.html", "traces"}

// WriteBundle makes the bundle from the suite's report folder (written with
// the bundle's path as where it is published, so the reports name their
// traces by it): the reports and traces, the configuration, the version and
// the manifest, then the archive.
func WriteBundle(out, reportDir string, rec Record, started time.Time) (*Outcome, error) {
	dir, err := filepath.Abs(out)
	if err != nil {
		return nil, err
	}
	// Checked again right before: the folder may have changed during the run.
	if err := checkOut(dir); err != nil {
		return nil, err
	}
	res, err := reports.ReadResults(filepath.Join(reportDir, "results.json"))
	if err != nil {
		return nil, err
	}
	if err := os.RemoveAll(dir); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	for _, name := range bundled {
		if err := os.Rename(filepath.Join(reportDir, name), filepath.Join(dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
	}
	cfgJSON, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "config.json"), append(cfgJSON, '\n'), 0o644); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "version.txt"), []byte("refreshsuite "+rec.Version+"\n"), 0o644); err != nil {
		return nil, err
	}
	if err := writeManifest(dir); err != nil {
		return nil, err
	}
	archive := archivePath(dir)
	if err := writeArchive(dir, archive, started); err != nil {
		return nil, err
	}
	o := &Outcome{Dir: dir, Archive: archive}
	for _, c := range res.Containers {
		for _, sp := range c.Specs {
			o.Verdicts = append(o.Verdicts, Verdict{Spec: c.Scenario + "/" + sp.Expectation, Requirements: sp.Requirements, State: sp.State, Message: sp.Message})
		}
	}
	return o, nil
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
