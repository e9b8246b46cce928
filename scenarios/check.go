package scenarios

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/refreshsuite/refreshsuite/timeline"
	"github.com/refreshsuite/refreshsuite/vocab"
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

// Result is the verdict of one expectation over one run: it passed, it
// failed, or it does not apply because its premise did not happen (an anchor
// entry it measures from is missing, a premise check of the scenario failed,
// the client declares no value an expression needs). A missing premise is
// never a pass: the spec is skipped with Message as the reason.
type Result struct {
	Pass          bool
	NotApplicable bool
	Message       string
	Measurements  []Measurement
	// Relevant is the slice of the timeline a reader needs to understand a failure.
	Relevant []timeline.Entry
	// Final says the verdict could not change had the run gone on: evidence
	// found is final for "at least", a bound exceeded is final for "at most".
	// When a step could not be performed, only final verdicts are reported;
	// the others fail with the step's error.
	Final bool
}

func notApplicable(format string, args ...any) Result {
	return Result{NotApplicable: true, Message: fmt.Sprintf(format, args...)}
}

// absent is an anchor that picked nothing: the entry an expectation measures
// from, counts after or compares with never happened.
type absent struct {
	role string
	sel  Selector
}

// result turns a missing anchor into the expectation's verdict: not
// applicable, or a failure when the scenario says the anchor must exist.
func (a *absent) result() Result {
	if a.sel.Required {
		return Result{Message: fmt.Sprintf("no %s entry (%s), which this expectation requires", a.role, a.sel)}
	}
	return notApplicable("not applicable: its %s entry never happened in this run (%s)", a.role, a.sel)
}

// isSetting: a client.* or idp.* reference (not since.*, token.*, a function).
func isSetting(ref string) bool {
	_, ok := vocab.Settings[ref]
	return ok
}

// unset is a reference to a value the client does not declare.
type unset struct{ name string }

func (u *unset) Error() string { return u.name + " is not declared for this client" }

// Client is what expectations know of the client under test in a run.
type Client struct {
	// Settings resolve client.* and idp.* references (durations in milliseconds).
	Settings map[string]float64
	// Renewal is the client's renewal rule for renewal(): the offset after
	// storing a token with remainingMs to live at which it renews it.
	Renewal func(remainingMs float64) (float64, error)
	// Unobservable says why the client's run cannot show entries of a kind
	// (an app that forwards no events has no client.* entries), or "": an
	// any-of alternative that reads one does not apply, and the others are
	// judged.
	Unobservable func(kind string) string
}

// hidden is why the query cannot be observed for this client, or "".
func (c Client) hidden(q Query) string {
	if c.Unobservable == nil {
		return ""
	}
	for _, k := range q.Kinds() {
		if why := c.Unobservable(k); why != "" {
			return why
		}
	}
	return ""
}

// Judge is the verdict of an expectation of scenario s: not applicable when a
// premise it rests on did not hold, else its own check.
func Judge(s *Scenario, x Expectation, entries []timeline.Entry, c Client) Result {
	for _, p := range s.Premises {
		if !x.RestsOn(p.ID) {
			continue
		}
		pr := Check(Expectation{ID: p.ID, Query: p.Query, AnyOf: p.AnyOf}, entries, c)
		switch {
		case pr.Pass:
			continue
		case pr.NotApplicable:
			pr.Message = fmt.Sprintf("not applicable: premise %s (%s) could not be checked: %s", p.ID, p.Title, pr.Message)
		default:
			pr = Result{NotApplicable: true, Final: pr.Final, Relevant: pr.Relevant,
				Message: fmt.Sprintf("not applicable: premise %s did not hold: %s\n%s", p.ID, p.Title, pr.Message)}
		}
		pr.Pass = false
		return pr
	}
	r := Check(x, entries, c)
	if !r.Pass && !r.NotApplicable {
		r.Message = diagnose(x, entries, r.Message)
	}
	return r
}

// diagnose puts the first diagnosis that matches at the head of a failure's
// message, with the entry that shows it.
func diagnose(x Expectation, entries []timeline.Entry, msg string) string {
	for _, d := range x.Diagnose {
		found, miss := resolve(*d.Find, entries)
		if miss != nil {
			continue
		}
		if e, ok := pick(found, d.Find.Nth); ok {
			return fmt.Sprintf("%s (%s)\n%s", d.Says, e, msg)
		}
	}
	return msg
}

// Check evaluates an expectation's own query (or any-of) against a run's
// timeline.
func Check(x Expectation, entries []timeline.Entry, c Client) Result {
	byTime := append([]timeline.Entry(nil), entries...)
	sort.SliceStable(byTime, func(i, j int) bool { return byTime[i].At < byTime[j].At })
	var r Result
	if len(x.AnyOf) == 0 {
		r = query(x.Query, byTime, c)
	} else {
		r = anyOf(x.AnyOf, byTime, c)
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

// anyOf passes with the first alternative that passes. It fails when one
// alternative applies and none passes, and does not apply when none applies.
func anyOf(qs []Query, entries []timeline.Entry, c Client) Result {
	var failed, na []string
	final := true
	var ms []Measurement
	for i, q := range qs {
		qr := query(q, entries, c)
		if why := c.hidden(q); why != "" {
			qr = Result{NotApplicable: true, Message: "not applicable: " + why}
		}
		line := fmt.Sprintf("any-of %d: %s", i+1, strings.ReplaceAll(qr.Message, "\n", "\n  "))
		switch {
		case qr.Pass:
			return Result{Pass: true, Measurements: qr.Measurements, Final: qr.Final, Message: line}
		case qr.NotApplicable:
			na = append(na, line)
		default:
			failed = append(failed, line)
			ms = append(ms, qr.Measurements...)
		}
		final = final && qr.Final
	}
	if len(failed) == 0 {
		return Result{NotApplicable: true, Message: "not applicable: no alternative applies:\n" + strings.Join(na, "\n")}
	}
	// The first line stands alone (a console summary, JUnit's message
	// attribute): each alternative's own first line, the failing ones first.
	all := append(failed, na...)
	var heads []string
	for _, l := range all {
		head, _, _ := strings.Cut(l, "\n")
		heads = append(heads, head)
	}
	return Result{Measurements: ms, Final: final && len(na) == 0,
		Message: fmt.Sprintf("none of the %d alternatives holds: %s\n%s", len(qs), strings.Join(heads, "; "), strings.Join(all, "\n"))}
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
	found, miss := resolve(*x.Find, entries)
	if miss != nil {
		return miss.result()
	}
	switch {
	case x.Count != "" && x.Per != nil:
		return countPer(x, found, entries)
	case x.Count != "":
		op, want, _ := parseComparison(x.Count)
		if isSetting(want) {
			// A bound the client declares (client.network-attempts).
			v, ok := c.Settings[want]
			if !ok {
				return notApplicable("not applicable: %s", &unset{want})
			}
			want = strconv.FormatFloat(v, 'f', -1, 64)
		}
		n := strconv.Itoa(len(found))
		pass := compare(n, op, want)
		r := Result{Pass: pass, Final: countFinal(op, pass, len(found), want)}
		if pass {
			r.Message = fmt.Sprintf("%d entries match %s", len(found), x.Find)
		} else {
			r.Message = fmt.Sprintf("want %s entries matching %s, found %d", x.Count, x.Find, len(found))
		}
		return r
	case x.At != nil:
		return checkTiming(x, found, entries, c)
	case x.Same != nil:
		return checkSame(x, found, entries)
	}
	e, ok := pick(found, x.Find.Nth)
	if !ok {
		return Result{Message: fmt.Sprintf("no entry matches %s (%d match without nth)", x.Find, len(found))}
	}
	return Result{Pass: true, Final: x.Find.Nth >= 0, Message: fmt.Sprintf("found at %.0fms: %s", e.Ms(), e)}
}

// countFinal: more entries can only come, so reaching a lower bound and
// exceeding an upper one are final; the rest could still change.
func countFinal(op string, pass bool, n int, want string) bool {
	w, _ := strconv.Atoi(want)
	switch op {
	case ">=", ">":
		return pass
	case "<=", "<":
		return !pass
	case "=":
		return !pass && n > w
	}
	return false
}

// sameWindow: Per entries closer than this open one window. A client that
// armed two timers for one token fires its event twice within milliseconds;
// real windows last seconds.
const sameWindow = 50 * time.Millisecond

// countPer applies the count to each window between consecutive Per entries
// (the last, still open window is not judged: the run ended inside it).
func countPer(x Query, found, entries []timeline.Entry) Result {
	per, miss := resolve(*x.Per, entries)
	if miss != nil {
		return miss.result()
	}
	var bounds []timeline.Entry
	for _, b := range per {
		if len(bounds) == 0 || b.At-bounds[len(bounds)-1].At >= sameWindow {
			bounds = append(bounds, b)
		}
	}
	if len(bounds) < 2 {
		return notApplicable("not applicable: it counts per window between two %s entries, and the run has %d", x.Per, len(bounds))
	}
	op, want, _ := parseComparison(x.Count)
	var bad, good []string
	for i := 0; i+1 < len(bounds); i++ {
		n := 0
		for _, e := range found {
			if later(e, bounds[i]) && !later(e, bounds[i+1]) {
				n++
			}
		}
		msg := fmt.Sprintf("window %d (%.0fms..%.0fms): %d entries match %s, want %s", i+1, bounds[i].Ms(), bounds[i+1].Ms(), n, x.Find, x.Count)
		if compare(strconv.Itoa(n), op, want) {
			good = append(good, msg)
		} else {
			bad = append(bad, msg)
		}
	}
	// A closed window's count cannot change: a failing one is final.
	return Result{Pass: len(bad) == 0, Final: len(bad) > 0, Message: strings.Join(append(bad, good...), "\n")}
}

func checkTiming(x Query, found, entries []timeline.Entry, c Client) Result {
	// A timing that needs a value the client does not declare cannot apply,
	// whether or not what it times happened.
	exprs := append([]Expr(nil), x.At.Between...)
	if x.At.Is != nil {
		exprs = append(exprs, *x.At.Is, *x.At.Within)
	}
	for _, e := range exprs {
		for _, r := range e.Refs() {
			if _, declared := c.Settings[r]; !declared && isSetting(r) {
				return notApplicable("not applicable: %s", &unset{r})
			}
		}
	}
	var targets []timeline.Entry
	final := true
	switch {
	case x.Cycles == AllCycles:
		// Every one of them, and there are none: nothing to time, which is
		// neither a pass nor a failure ("no renewal comes early" when none came).
		if len(found) == 0 {
			return notApplicable("not applicable: no entry matches %s, so there is nothing to time", x.Find)
		}
		targets, final = found, false // more could come, each to be checked
	case x.Cycles > 0:
		if len(found) < int(x.Cycles) {
			return Result{Message: fmt.Sprintf("want %d cycles of %s, found %d", x.Cycles, x.Find, len(found))}
		}
		targets = found[:x.Cycles]
	default:
		e, ok := pick(found, x.Find.Nth)
		if !ok {
			return Result{Message: fmt.Sprintf("no entry matches %s, so its time cannot be checked", x.Find)}
		}
		targets, final = []timeline.Entry{e}, x.Find.Nth >= 0
	}
	sinces, miss := resolve(x.At.Since, entries)
	if miss != nil {
		return miss.result()
	}
	var tokens []timeline.Entry
	if x.At.Token != nil {
		if tokens, miss = resolve(*x.At.Token, entries); miss != nil {
			return miss.result()
		}
	}
	res := Result{Pass: true}
	var bad, good []string
	for i, t := range targets {
		since, ok := anchor(sinces, x.At.Since.Nth, t)
		if !ok {
			return (&absent{fmt.Sprintf("since (before the %s at %.0fms, cycle %d)", x.Find.What, t.Ms(), i+1), x.At.Since}).result()
		}
		var token timeline.Entry
		if x.At.Token != nil {
			if token, ok = anchor(tokens, x.At.Token.Nth, since); !ok {
				return (&absent{fmt.Sprintf("token (before the since entry at %.0fms, cycle %d)", since.Ms(), i+1), *x.At.Token}).result()
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
					return 0, false, &unset{name}
				}
				return v, vocab.Settings[name], nil
			},
			Call: func(fn string, arg float64) (float64, error) {
				if c.Renewal == nil {
					return 0, &unset{"a renewal rule"}
				}
				return c.Renewal(arg)
			},
		}
		eval := func(e *Expr) (float64, *Result) {
			d, err := e.Eval(env)
			if err != nil {
				var u *unset
				if errors.As(err, &u) {
					r := notApplicable("not applicable: %s", u)
					return 0, &r
				}
				return 0, &Result{Message: err.Error()}
			}
			return ms(d), nil
		}
		measured := float64(t.At-since.At) / float64(time.Millisecond)
		m := Measurement{Cycle: i + 1, MeasuredMs: measured}
		var msg string
		if x.At.Is != nil {
			exp, r := eval(x.At.Is)
			if r != nil {
				return *r
			}
			tol, r := eval(x.At.Within)
			if r != nil {
				return *r
			}
			m.ExpectedMs, m.ToleranceMs = exp, tol
			m.ErrorMs = measured - m.ExpectedMs
			m.Pass = math.Abs(m.ErrorMs) <= m.ToleranceMs
			msg = fmt.Sprintf("cycle %d: expected %.0fms +-%.0fms after %s, measured %.0fms (error %+.0fms)",
				i+1, m.ExpectedMs, m.ToleranceMs, x.At.Since.What, measured, m.ErrorMs)
		} else {
			lo, r := eval(&x.At.Between[0])
			if r != nil {
				return *r
			}
			hi, r := eval(&x.At.Between[1])
			if r != nil {
				return *r
			}
			m.EarliestMs, m.LatestMs = lo, hi
			m.ExpectedMs = (m.EarliestMs + m.LatestMs) / 2
			m.Pass = measured >= m.EarliestMs && measured <= m.LatestMs
			switch {
			case measured < m.EarliestMs:
				m.ErrorMs = measured - m.EarliestMs
			case measured > m.LatestMs:
				m.ErrorMs = measured - m.LatestMs
			}
			msg = fmt.Sprintf("cycle %d: expected between %.0fms and %.0fms after %s, measured %.0fms",
				i+1, m.EarliestMs, m.LatestMs, x.At.Since.What, measured)
		}
		if m.Pass {
			good = append(good, msg)
		} else {
			bad = append(bad, msg)
		}
		res.Pass = res.Pass && m.Pass
		res.Measurements = append(res.Measurements, m)
	}
	// A measured cycle cannot change; with cycles: all a failure is final,
	// and a pass only covers the entries so far.
	res.Final = final || !res.Pass
	res.Message = strings.Join(append(bad, good...), "\n")
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
	other, miss := pickAnchor(x.Same.As, entries, "as")
	if miss != nil {
		return miss.result()
	}
	final := x.Find.Nth >= 0 && x.Same.As.Nth >= 0
	af := x.Same.AsField
	if af == "" {
		af = x.Same.Field
	}
	a, b := e.Fields[x.Same.Field], other.Fields[af]
	if a == "" || b == "" {
		return Result{Final: final, Message: fmt.Sprintf("cannot compare: %s of %s is %q and %s of %s is %q", x.Same.Field, x.Find, a, af, x.Same.As, b)}
	}
	if (a == b) != x.Same.Not {
		rel := "equals"
		if x.Same.Not {
			rel = "differs from"
		}
		return Result{Pass: true, Final: final, Message: fmt.Sprintf("%s %s (%s) %s %s of %s", x.Same.Field, x.Find, a, rel, af, x.Same.As)}
	}
	if x.Same.Not {
		return Result{Final: final, Message: fmt.Sprintf("%s of %s should differ from %s of %s, both are %s", x.Same.Field, x.Find, af, x.Same.As, a)}
	}
	return Result{Final: final, Message: fmt.Sprintf("%s of %s is %s, want %s (%s of %s)", x.Same.Field, x.Find, a, b, af, x.Same.As)}
}

// Matches returns the entries a selector matches, ignoring Nth; none when an
// anchor (after, before) picks nothing.
func Matches(s Selector, entries []timeline.Entry) []timeline.Entry {
	out, _ := resolve(s, entries)
	return out
}

// resolve returns the entries a selector matches, ignoring Nth, or the anchor
// that picked nothing.
func resolve(s Selector, entries []timeline.Entry) ([]timeline.Entry, *absent) {
	var after, before *timeline.Entry
	if s.After != nil {
		a, miss := pickAnchor(*s.After, entries, "after")
		if miss != nil {
			return nil, miss
		}
		after = &a
	}
	if s.Before != nil {
		b, miss := pickAnchor(*s.Before, entries, "before")
		if miss != nil {
			return nil, miss
		}
		before = &b
	}
	var out []timeline.Entry
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
	return out, nil
}

// pickAnchor is the entry an anchor selector picks, or why there is none.
func pickAnchor(s Selector, entries []timeline.Entry, role string) (timeline.Entry, *absent) {
	found, miss := resolve(s, entries)
	if miss != nil {
		return timeline.Entry{}, miss
	}
	e, ok := pick(found, s.Nth)
	if !ok {
		return timeline.Entry{}, &absent{role, s}
	}
	return e, nil
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
	if word, ok := strings.CutPrefix(v, "lacks "); ok {
		return "lacks", strings.TrimSpace(word), nil
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
			if (o != "!=") && !isNumber(rest) && !isSetting(rest) {
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
	case "lacks":
		return !slices.Contains(strings.Fields(got), want)
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
