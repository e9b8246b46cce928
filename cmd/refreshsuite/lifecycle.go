package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"github.com/refreshsuite/refreshsuite/internal/proc"
)

// runState is what a run owns from its start to its end: a temporary folder
// for everything it starts (the suite's link to this binary, Chromium's
// profiles, the progress socket), the report folder it writes, the reaper
// that cleans both up if the run's process is killed outright, and the
// context that SIGINT or SIGTERM ends.
type runState struct {
	ctx     context.Context
	cancel  context.CancelFunc
	tmp     string
	reports *reportDir
	reaper  *reaper

	mu     sync.Mutex
	signal os.Signal // the signal that ended ctx, if one did
	sigs   chan os.Signal

	bg        sync.WaitGroup
	bgErr     error
	published bool
}

func startRun(reports *reportDir) (*runState, error) {
	tmp, err := os.MkdirTemp("", "refreshsuite-")
	if err != nil {
		return nil, err
	}
	rp, err := startReaper()
	if err == nil {
		if err = rp.watch(tmp); err == nil {
			err = rp.watch(reports.staging)
		}
		if err != nil {
			rp.done()
		}
	}
	if err != nil {
		_ = os.RemoveAll(tmp)
		return nil, usageError{err}
	}
	r := &runState{tmp: tmp, reports: reports, reaper: rp, sigs: make(chan os.Signal, 1)}
	r.ctx, r.cancel = context.WithCancel(context.Background())
	signal.Notify(r.sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		select {
		case s := <-r.sigs:
			r.mu.Lock()
			r.signal = s
			r.mu.Unlock()
			r.cancel()
		case <-r.ctx.Done():
		}
	}()
	return r, nil
}

// background runs f beside the main line of the run; an error of f stops
// the run (the step under way is cancelled), and wait reports it.
func (r *runState) background(f func() error) {
	r.bg.Add(1)
	go func() {
		defer r.bg.Done()
		if err := f(); err != nil {
			r.mu.Lock()
			if r.bgErr == nil {
				r.bgErr = err
			}
			r.mu.Unlock()
			r.cancel()
		}
	}()
}

// wait turns err, the outcome of a step of the run, into the run's error: an
// interrupt first (whatever the step it cut short said, it is no result), then
// an error of the background work (which cancelled the step), then the step's
// own. After a step that failed it does not wait for the background work:
// close kills that work's processes first.
func (r *runState) wait(err error) error {
	if sig := r.interrupted(); sig != nil {
		return r.interruptError(sig)
	}
	if err == nil {
		r.bg.Wait()
		if sig := r.interrupted(); sig != nil {
			return r.interruptError(sig)
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.bgErr != nil {
		return r.bgErr
	}
	return err
}

func (r *runState) interrupted() os.Signal {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.signal
}

func (r *runState) interruptError(sig os.Signal) error {
	name := map[os.Signal]string{os.Interrupt: "SIGINT", syscall.SIGTERM: "SIGTERM"}[sig]
	where := "no reports written"
	if r.reports.previous {
		where = "no reports written (those in " + r.reports.final + " are the previous run's)"
	}
	// Exit status 1 as for certify: an interrupt is not a configuration
	// error, and a run cut short is no verdict.
	return interruptedError{fmt.Sprintf("run: interrupted by %s: nothing judged, %s", name, where)}
}

// interruptedError is a run that SIGINT or SIGTERM cut short.
type interruptedError struct{ msg string }

func (e interruptedError) Error() string { return e.msg }

// publish puts the reports in place, unless the run was interrupted.
func (r *runState) publish(stderr io.Writer) error {
	if sig := r.interrupted(); sig != nil {
		return r.interruptError(sig)
	}
	if err := r.reports.publish(stderr); err != nil {
		return err
	}
	r.published = true
	return nil
}

// close ends every process of the run that is left, removes the temporary
// folder and, unless they were published, the reports, and lets the reaper go.
func (r *runState) close() {
	signal.Stop(r.sigs)
	r.cancel()
	_ = proc.KillUsing(r.tmp, reaperLimit)
	_ = proc.KillUsing(r.reports.staging, reaperLimit)
	r.bg.Wait()
	_ = os.RemoveAll(r.tmp)
	if !r.published {
		r.reports.discard()
	}
	r.reaper.done()
}
