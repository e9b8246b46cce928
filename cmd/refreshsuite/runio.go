package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"context"

	"github.com/onsi/ginkgo/v2/types"
	"golang.org/x/term"

	"github.com/refreshsuite/refreshsuite/internal/proc"
	"github.com/refreshsuite/refreshsuite/suite"
)

// child is a process of the run (ginkgo and, through it, the suite): a
// process group of its own that dies with this process, with tmp as its
// temporary folder, and killed, group and all, when ctx ends.
func child(ctx context.Context, dir, tmp, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "TMPDIR="+tmp)
	cmd.SysProcAttr = proc.Attr()
	cmd.Cancel = func() error {
		proc.KillGroup(cmd.Process.Pid)
		return nil
	}
	// Output pipes a killed process's children still hold must not keep
	// Wait from returning.
	cmd.WaitDelay = 10 * time.Second
	return cmd
}

// suiteLink names this binary as ginkgo wants a precompiled suite named.
func suiteLink(self, tmp string) (string, error) {
	link := filepath.Join(tmp, suiteName)
	if err := os.Symlink(self, link); err != nil {
		return "", fmt.Errorf("link the suite: %w", err)
	}
	return link, nil
}

// splitPassthrough cuts the arguments at the first --: what follows is for
// ginkgo.
func splitPassthrough(args []string) (own, ginkgo []string) {
	for i, a := range args {
		if a == "--" {
			return args[:i], args[i+1:]
		}
	}
	return args, nil
}

// runOwned are ginkgo flags the run sets itself, or that would give it more
// or less than one run's reports to judge.
var runOwned = map[string]string{
	"p": "use -procs", "procs": "use -procs", "nodes": "use -procs",
	"focus": "use -focus", "label-filter": "use -label-filter",
	"repeat": "the verdict is one run's", "until-it-fails": "the verdict is one run's",
	"dry-run": "a dry run judges nothing", "keep-going": "the run has one suite", "r": "the run has one suite",
}

// checkPassthrough parses the flags for ginkgo with ginkgo's own flag set,
// so that a misspelt one is a usage error here, not a failed run later.
func checkPassthrough(args []string) error {
	if len(args) == 0 {
		return nil
	}
	sc, rc, cc, gc := types.NewDefaultSuiteConfig(), types.NewDefaultReporterConfig(), types.NewDefaultCLIConfig(), types.NewDefaultGoFlagsConfig()
	flags, err := types.BuildRunCommandFlagSet(&sc, &rc, &cc, &gc)
	if err != nil {
		return err
	}
	rest, err := flags.Parse(args)
	if err != nil {
		return usagef("ginkgo flags after --: %s", oneLine(ansi.ReplaceAllString(err.Error(), "")))
	}
	if len(rest) > 0 {
		return usagef("ginkgo flags after --: %q is not a flag (the run names the suite itself)", rest[0])
	}
	for _, a := range args {
		name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if why, ok := runOwned[name]; ok && strings.HasPrefix(a, "-") {
			return usagef("ginkgo flags after --: %s is the run's own: %s", a, why)
		}
	}
	return nil
}

// showsGinkgo says whether the flags for ginkgo ask for its own output.
func showsGinkgo(args []string) bool {
	for _, a := range args {
		switch name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "="); name {
		case "v", "vv", "succinct", "github-output", "show-node-events":
			return true
		}
	}
	return false
}

// wantColour is true only for a terminal, and never with NO_COLOR set to
// anything (https://no-color.org).
func wantColour(w io.Writer) bool {
	if os.Getenv("NO_COLOR") != "" {
		return false
	}
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// ginkgoLog keeps ginkgo's output in the report folder (ginkgo.log) and,
// when asked, shows it as it comes.
type ginkgoLog struct {
	f    *os.File
	w    io.Writer
	path string
}

func newGinkgoLog(dir string, stdout io.Writer, show bool) (*ginkgoLog, error) {
	path := filepath.Join(dir, "ginkgo.log")
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	l := &ginkgoLog{f: f, w: f, path: path}
	if show {
		l.w = io.MultiWriter(f, stdout)
	}
	return l, nil
}

func (l *ginkgoLog) Write(b []byte) (int, error) { return l.w.Write(b) }

func (l *ginkgoLog) close() { l.f.Close() }

// tail prints ginkgo's last lines, for a run that gives no verdict: what
// ginkgo said is then the only account of what happened.
func (l *ginkgoLog) tail(w io.Writer) {
	b, err := os.ReadFile(l.path)
	if err != nil || len(bytes.TrimSpace(b)) == 0 {
		return
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > 30 {
		lines = lines[len(lines)-30:]
	}
	fmt.Fprintln(w, "ginkgo's last lines:")
	for _, line := range lines {
		fmt.Fprintln(w, "  "+line)
	}
}

// progressPrinter prints a line per finished container as the suite
// processes report them on a unix socket.
type progressPrinter struct {
	ln    net.Listener
	out   io.Writer
	start time.Time
	width int
	mu    sync.Mutex
	conns []net.Conn
	wg    sync.WaitGroup
}

func startProgress(tmp string, out io.Writer, sel *selection, start time.Time) *progressPrinter {
	p := &progressPrinter{out: out, start: start}
	for _, c := range sel.containers {
		p.width = max(p.width, len(c.Name()))
	}
	ln, err := net.Listen("unix", filepath.Join(tmp, "progress.sock"))
	if err != nil {
		// A socket path too long for the system: the run goes on without
		// progress lines.
		return p
	}
	p.ln = ln
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.mu.Lock()
			p.conns = append(p.conns, c)
			p.mu.Unlock()
			p.wg.Add(1)
			go p.read(c)
		}
	}()
	return p
}

func (p *progressPrinter) socket() string {
	if p.ln == nil {
		return ""
	}
	return p.ln.Addr().String()
}

func (p *progressPrinter) read(c net.Conn) {
	defer p.wg.Done()
	sc := bufio.NewScanner(c)
	for sc.Scan() {
		var pr suite.Progress
		if json.Unmarshal(sc.Bytes(), &pr) == nil {
			p.mu.Lock()
			fmt.Fprintln(p.out, p.line(pr, time.Since(p.start)))
			p.mu.Unlock()
		}
	}
}

// line is one container's progress: the run's time, a verdict word, the
// container and its counts, in columns that line up in a CI log.
func (p *progressPrinter) line(pr suite.Progress, at time.Duration) string {
	verdict := "ok"
	switch {
	case pr.Failed > 0:
		verdict = "FAIL"
	case pr.Passed+pr.Deviations == 0:
		verdict = "skip"
	}
	var counts []string
	for _, c := range []struct {
		n    int
		word string
	}{{pr.Passed, "passed"}, {pr.Failed, "failed"}, {pr.Deviations, "known deviations"}, {pr.Skipped, "skipped"}} {
		if c.n > 0 {
			counts = append(counts, fmt.Sprintf("%d %s", c.n, c.word))
		}
	}
	return fmt.Sprintf("%7.1fs  %-4s  %-*s  %s", at.Seconds(), verdict, p.width, pr.Container, strings.Join(counts, ", "))
}

// stop waits for the suite processes' last lines (ginkgo has ended, so
// they have too) and closes the socket.
func (p *progressPrinter) stop() {
	if p.ln == nil {
		return
	}
	p.ln.Close()
	p.mu.Lock()
	for _, c := range p.conns {
		// A suite process that outlived ginkgo must not hold the run.
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	}
	p.mu.Unlock()
	p.wg.Wait()
}
