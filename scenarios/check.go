package scenarios

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/refreshsuite/refreshsuite/timeline"
)

// Measurement is one timing observation, kept for the report whether or not it
// passed.
type Measurement struct {
	Cycle       int     `json:"cycle"`
	ExpectedMs  float64 `json:"expected_ms"`           // for is: the expected offset from since
	EarliestMs  float64 `json:"earliest_ms,omitempty"` // for between
	LatestMs    float64 `json:"latest_ms,omitempty"`
	MeasuredMs  float64 `json:"measured_ms"`
	ErrorMs     float64 `json:"error_ms"`
	ToleranceMs float64 `json:"tolerance_ms,omitempty"`
	Pass        bool    `json:"pass"`
}

// Result is the verdict of one expectation over one run.
type Result struct {
	Pass         bool
	Message      string
	Measurements []Measurement
	// Relevant is the slice of the timeline a reader needs to understand a failure.
	Relevant []timeline.Entry
}

// Client is what expectations know of the client under test in a run.
type Client struct {
	// Settings resolve client.* and idp.* references (durations in milliseconds).
	Settings map[string]float64
	// Renewal is the client's renewal rule for renewal(): the offset after
	// storing a token with remainingMs to live at which it renews it.
	Renewal func(remainingMs float64) (float64, error)
}

// Check evaluates an expectation against a run's timeline.
func Check(x Expectation, entries []timeline.Entry, c Client) Result {
	byTime := append([]timeline.Entry(nil), entries...)
	sort.SliceStable(byTime, func(i, j int) bool { return byTime[i].At < byTime[j].At })
	var r Result
	if len(x.AnyOf) == 0 {
		r = query(x.Query, byTime, c)
	} else {
		var msgs []string
		for i, q := range x.AnyOf {
			qr := query(q, byTime, c)
			msgs = append(msgs, fmt.Sprintf("any-of %d: %s", i+1, strings.ReplaceAll(qr.Message, "\n", "\n  ")))
			if qr.Pass {
				r = Result{Pass: true, Measurements: qr.Measurements}
				break
			}
			r.Measurements = append(r.Measurements, qr.Measurements...)
		}
		r.Message = strings.Join(msgs, "\n")
		if !r.Pass {
			r.Message = "none of the alternatives holds:\n" + r.Message
		}
	}
	if !r.Pass {
		kinds := map[string]bool{"harness.step": true, "harness.call": true, "harness.wait": true}
		for _, k := range x.Kinds() {
			kinds[k] = true
		}
		r.Relevant = Slice(byTime, kinds)
	}
	return r
}

// Slice keeps the entries of the given kinds, at most 60 (the first and last 30).
func Slice(entries []timeline.Entry, kinds map[string]bool) []timeline.Entry {
	var out []timeline.Entry
	for _, e := range entries {
		if kinds[e.What] {
			out = append(out, e)
		}
	}
	if len(out) > 60 {
		out = append(out[:30:30], out[len(out)-30:]...)
	}
	return out
}

func query(x Query, entries []timeline.Entry, c Client) Result {
	found := Matches(*x.Find, entries)
	switch {
	case x.Count != "" && x.Per != nil:
		return countPer(x, found, entries)
	case x.Count != "":
		op, want, _ := parseComparison(x.Count)
		n := strconv.Itoa(len(found))
		if compare(n, op, want) {
			return Result{Pass: true, Message: fmt.Sprintf("%d entries match %s", len(found), x.Find)}
		}
		return Result{Message: fmt.Sprintf("want %s entries matching %s, found %d", x.Count, x.Find, len(found))}
	case x.At != nil:
		return checkTiming(x, found, entries, c)
	case x.Same != nil:
		return checkSame(x, found, entries)
	}
	e, ok := pick(found, x.Find.Nth)
	if !ok {
		return Result{Message: fmt.Sprintf("no entry matches %s (%d match without nth)", x.Find, len(found))}
	}
	return Result{Pass: true, Message: fmt.Sprintf("found at %.0fms: %s", e.Ms(), e)}
}

// sameWindow: Per entries closer than this open one window. A client that
// armed two timers for one token fires its event twice within milliseconds;
// real windows last seconds.
const sameWindow = 50 * time.Millisecond

// countPer applies the count to each window between consecutive Per entries
// (the last, still open window is not judged: the run ended inside it).
func countPer(x Query, found, entries []timeline.Entry) Result {
	var bounds []timeline.Entry
	for _, b := range Matches(*x.Per, entries) {
		if len(bounds) == 0 || b.At-bounds[len(bounds)-1].At >= sameWindow {
			bounds = append(bounds, b)
		}
	}
	if len(bounds) < 2 {
		return Result{Message: fmt.Sprintf("want at least two %s entries to make a window, found %d", x.Per, len(bounds))}
	}
	op, want, _ := parseComparison(x.Count)
	var msgs []string
	pass := true
	for i := 0; i+1 < len(bounds); i++ {
		n := 0
		for _, e := range found {
			if later(e, bounds[i]) && !later(e, bounds[i+1]) {
				n++
			}
		}
		ok := compare(strconv.Itoa(n), op, want)
		pass = pass && ok
		msgs = append(msgs, fmt.Sprintf("window %d (%.0fms..%.0fms): %d entries match %s, want %s", i+1, bounds[i].Ms(), bounds[i+1].Ms(), n, x.Find, x.Count))
	}
	return Result{Pass: pass, Message: strings.Join(msgs, "\n")}
}

func checkTiming(x Query, found, entries []timeline.Entry, c Client) Result {
	var targets []timeline.Entry
	if x.Cycles > 0 {
		if len(found) < x.Cycles {
			return Result{Message: fmt.Sprintf("want %d cycles of %s, found %d", x.Cycles, x.Find, len(found))}
		}
		targets = found[:x.Cycles]
	} else {
		e, ok := pick(found, x.Find.Nth)
		if !ok {
			return Result{Message: fmt.Sprintf("no entry matches %s, so its time cannot be checked", x.Find)}
		}
		targets = []timeline.Entry{e}
	}
	sinces := Matches(x.At.Since, entries)
	res := Result{Pass: true}
	var msgs []string
	for i, t := range targets {
		since, ok := anchor(sinces, x.At.Since.Nth, t)
		if !ok {
			return Result{Message: fmt.Sprintf("cycle %d: no %s entry before the %s at %.0fms", i+1, x.At.Since, x.Find.What, t.Ms()), Measurements: res.Measurements}
		}
		var token timeline.Entry
		if x.At.Token != nil {
			if token, ok = anchor(Matches(*x.At.Token, entries), x.At.Token.Nth, since); !ok {
				return Result{Message: fmt.Sprintf("cycle %d: no %s entry before the since entry at %.0fms", i+1, x.At.Token, since.Ms()), Measurements: res.Measurements}
			}
		}
		env := Env{
			Ref: func(name string) (float64, bool, error) {
				for prefix, e := range map[string]timeline.Entry{"since.": since, "token.": token} {
					if f, ok := strings.CutPrefix(name, prefix); ok {
						return fieldValue(e, prefix, f)
					}
				}
				v, ok := c.Settings[name]
				if !ok {
					return 0, false, fmt.Errorf("%s is not set for this run", name)
				}
				return v, Settings[name], nil
			},
			Call: func(fn string, arg float64) (float64, error) {
				if c.Renewal == nil {
					return 0, fmt.Errorf("the client declares no renewal rule")
				}
				return c.Renewal(arg)
			},
		}
		measured := float64(t.At-since.At) / float64(time.Millisecond)
		m := Measurement{Cycle: i + 1, MeasuredMs: measured}
		if x.At.Is != nil {
			exp, err := x.At.Is.Eval(env)
			if err != nil {
				return Result{Message: err.Error()}
			}
			tol, err := x.At.Within.Eval(env)
			if err != nil {
				return Result{Message: err.Error()}
			}
			m.ExpectedMs = ms(exp)
			m.ToleranceMs = ms(tol)
			m.ErrorMs = measured - m.ExpectedMs
			m.Pass = math.Abs(m.ErrorMs) <= m.ToleranceMs
			msgs = append(msgs, fmt.Sprintf("cycle %d: expected %.0fms +-%.0fms after %s, measured %.0fms (error %+.0fms)",
				i+1, m.ExpectedMs, m.ToleranceMs, x.At.Since.What, measured, m.ErrorMs))
		} else {
			lo, err := x.At.Between[0].Eval(env)
			if err != nil {
				return Result{Message: err.Error()}
			}
			hi, err := x.At.Between[1].Eval(env)
			if err != nil {
				return Result{Message: err.Error()}
			}
			m.EarliestMs, m.LatestMs = ms(lo), ms(hi)
			m.ExpectedMs = (m.EarliestMs + m.LatestMs) / 2
			m.Pass = measured >= m.EarliestMs && measured <= m.LatestMs
			switch {
			case measured < m.EarliestMs:
				m.ErrorMs = measured - m.EarliestMs
			case measured > m.LatestMs:
				m.ErrorMs = measured - m.LatestMs
			}
			msgs = append(msgs, fmt.Sprintf("cycle %d: expected between %.0fms and %.0fms after %s, measured %.0fms",
				i+1, m.EarliestMs, m.LatestMs, x.At.Since.What, measured))
		}
		res.Pass = res.Pass && m.Pass
		res.Measurements = append(res.Measurements, m)
	}
	res.Message = strings.Join(msgs, "\n")
	return res
}

// anchor picks the nth candidate, or by default the latest one at or before e
// (e itself excluded): "since the token this timer was armed for was issued".
func anchor(candidates []timeline.Entry, nth int, e timeline.Entry) (timeline.Entry, bool) {
	if nth != 0 {
		return pick(candidates, nth)
	}
	var out timeline.Entry
	ok := false
	for _, c := range candidates {
		if c.At <= e.At && !(c.Seq == e.Seq && c.What == e.What) {
			out, ok = c, true
		}
	}
	return out, ok
}

// fieldValue reads a numeric field for an expression; at_ms is the entry's own
// scenario time.
func fieldValue(e timeline.Entry, prefix, f string) (float64, bool, error) {
	if f == "at_ms" {
		return e.Ms(), true, nil
	}
	v, err := strconv.ParseFloat(e.Fields[f], 64)
	if err != nil {
		return 0, false, fmt.Errorf("%s%s is %q, not a number", prefix, f, e.Fields[f])
	}
	return v, strings.HasSuffix(f, "_ms"), nil
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func checkSame(x Query, found, entries []timeline.Entry) Result {
	e, ok := pick(found, x.Find.Nth)
	if !ok {
		return Result{Message: fmt.Sprintf("no entry matches %s", x.Find)}
	}
	other, ok := pick(Matches(x.Same.As, entries), x.Same.As.Nth)
	if !ok {
		return Result{Message: fmt.Sprintf("no entry matches %s to compare with", x.Same.As)}
	}
	af := x.Same.AsField
	if af == "" {
		af = x.Same.Field
	}
	a, b := e.Fields[x.Same.Field], other.Fields[af]
	if a == "" || b == "" {
		return Result{Message: fmt.Sprintf("cannot compare: %s of %s is %q and %s of %s is %q", x.Same.Field, x.Find, a, af, x.Same.As, b)}
	}
	if (a == b) != x.Same.Not {
		rel := "equals"
		if x.Same.Not {
			rel = "differs from"
		}
		return Result{Pass: true, Message: fmt.Sprintf("%s %s (%s) %s %s of %s", x.Same.Field, x.Find, a, rel, af, x.Same.As)}
	}
	if x.Same.Not {
		return Result{Message: fmt.Sprintf("%s of %s should differ from %s of %s, both are %s", x.Same.Field, x.Find, af, x.Same.As, a)}
	}
	return Result{Message: fmt.Sprintf("%s of %s is %s, want %s (%s of %s)", x.Same.Field, x.Find, a, b, af, x.Same.As)}
}

// Matches returns the entries a selector matches, ignoring Nth.
func Matches(s Selector, entries []timeline.Entry) []timeline.Entry {
	var out []timeline.Entry
	var after, before *timeline.Entry
	if s.After != nil {
		a, ok := Pick(*s.After, entries)
		if !ok {
			return nil
		}
		after = &a
	}
	if s.Before != nil {
		b, ok := Pick(*s.Before, entries)
		if !ok {
			return nil
		}
		before = &b
	}
	for _, e := range entries {
		if e.What != s.What || (after != nil && !later(e, *after)) || (before != nil && !later(*before, e)) {
			continue
		}
		ok := true
		for k, v := range s.Where {
			op, operand, _ := parseComparison(v)
			if !compare(e.Fields[k], op, operand) {
				ok = false
				break
			}
		}
		if ok {
			out = append(out, e)
		}
	}
	return out
}

func later(e, than timeline.Entry) bool {
	return e.At > than.At || (e.At == than.At && e.Seq > than.Seq)
}

// Pick returns the entry a selector picks: its nth match, or the first.
func Pick(s Selector, entries []timeline.Entry) (timeline.Entry, bool) {
	return pick(Matches(s, entries), s.Nth)
}

func pick(es []timeline.Entry, nth int) (timeline.Entry, bool) {
	switch {
	case nth == 0 && len(es) > 0:
		return es[0], true
	case nth > 0 && nth <= len(es):
		return es[nth-1], true
	case nth < 0 && -nth <= len(es):
		return es[len(es)+nth], true
	}
	return timeline.Entry{}, false
}

// parseComparison splits a where value or count into an operator and operand.
func parseComparison(v string) (op, operand string, err error) {
	switch v {
	case "present", "absent":
		return v, "", nil
	}
	if word, ok := strings.CutPrefix(v, "has "); ok {
		return "has", strings.TrimSpace(word), nil
	}
	if re, ok := strings.CutPrefix(v, "~"); ok {
		if _, err := regexp.Compile(strings.TrimSpace(re)); err != nil {
			return "", "", fmt.Errorf("%q: bad regular expression: %v", v, err)
		}
		return "~", strings.TrimSpace(re), nil
	}
	for _, o := range []string{">=", "<=", "!=", ">", "<"} {
		if rest, ok := strings.CutPrefix(v, o); ok {
			rest = strings.TrimSpace(rest)
			if (o != "!=") && !isNumber(rest) {
				return "", "", fmt.Errorf("%q compares with a non-number", v)
			}
			return o, rest, nil
		}
	}
	return "=", v, nil
}

func isNumber(s string) bool {
	_, err := strconv.ParseFloat(s, 64)
	return err == nil
}

func compare(got, op, want string) bool {
	switch op {
	case "present":
		return got != ""
	case "absent":
		return got == ""
	case "=":
		return got == want
	case "!=":
		return got != want
	case "has":
		return slices.Contains(strings.Fields(got), want)
	case "~":
		return regexp.MustCompile(want).MatchString(got)
	}
	g, err1 := strconv.ParseFloat(got, 64)
	w, err2 := strconv.ParseFloat(want, 64)
	if err1 != nil || err2 != nil {
		return false
	}
	switch op {
	case ">=":
		return g >= w
	case "<=":
		return g <= w
	case ">":
		return g > w
	case "<":
		return g < w
	}
	return false
}
