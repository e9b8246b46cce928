package scenarios

import (
	"strings"
	"testing"
	"time"

	"github.com/refreshsuite/refreshsuite/timeline"
)

var seq int

func entry(at time.Duration, what string, kv ...string) timeline.Entry {
	seq++
	f := timeline.Fields{}
	for i := 0; i+1 < len(kv); i += 2 {
		f[kv[i]] = kv[i+1]
	}
	return timeline.Entry{Seq: seq, At: at, What: what, Fields: f}
}

func expectation(t *testing.T, y string) Expectation {
	t.Helper()
	src := "version: 1\nid: s\ntitle: t\nsteps: [login]\nexpect:\n" + y
	ss, err := Parse("x.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return ss[0].Expect[0]
}

func TestTimingWithCycles(t *testing.T) {
	x := expectation(t, `  - id: e
    title: t
    requirements: [TF-1]
    find: {what: client.event, where: {type: token_expires}}
    at: {since: {what: idp.token, where: {outcome: ok}}, is: client.renewal-factor * since.expires_in_ms, within: 50ms}
    cycles: 2
`)
	tl := []timeline.Entry{
		entry(0, "idp.token", "outcome", "ok", "expires_in_ms", "4000"),
		entry(3010*time.Millisecond, "client.event", "type", "token_expires"),
		entry(4000*time.Millisecond, "idp.token", "outcome", "ok", "expires_in_ms", "4000"),
		entry(7100*time.Millisecond, "client.event", "type", "token_expires"),
	}
	r := Check(x, tl, Client{Settings: map[string]float64{"client.renewal-factor": 0.75}})
	if r.Pass {
		t.Fatalf("cycle 2 is 100ms late with 50ms tolerance, want a failure: %s", r.Message)
	}
	if len(r.Measurements) != 2 || r.Measurements[0].ErrorMs != 10 || !r.Measurements[0].Pass || r.Measurements[1].ErrorMs != 100 {
		t.Errorf("measurements = %+v", r.Measurements)
	}
	if !strings.Contains(r.Message, "expected 3000ms +-50ms") || !strings.Contains(r.Message, "measured 3100ms") {
		t.Errorf("message does not give expected and measured times: %s", r.Message)
	}
	if len(r.Relevant) == 0 {
		t.Error("a failure carries no timeline slice")
	}
}

func TestCountSameAndOperators(t *testing.T) {
	tl := []timeline.Entry{
		entry(0, "idp.token", "grant_type", "authorization_code", "refresh_token", "fp:1", "scope", "openid offline_access"),
		entry(1, "idp.token", "grant_type", "refresh_token", "presented_refresh_token", "fp:1", "refresh_token", "fp:2"),
		entry(2, "idp.token", "grant_type", "refresh_token", "presented_refresh_token", "fp:1"),
	}
	for _, tc := range []struct {
		y    string
		pass bool
	}{
		{"    find: {what: idp.token, where: {grant_type: refresh_token}}\n    count: 2\n", true},
		{"    find: {what: idp.token, where: {grant_type: refresh_token}}\n    count: \"<=1\"\n", false},
		{"    find: {what: idp.token, where: {scope: has offline_access}}\n", true},
		{"    find: {what: idp.token, where: {scope: has offline}}\n", false},
		{"    find: {what: idp.token, where: {grant_type: \"~^refresh\"}}\n    count: 2\n", true},
		{"    find: {what: idp.token, where: {refresh_token: absent}}\n    count: 1\n", true},
		// The second refresh replays fp:1 instead of the rotated fp:2.
		{"    find: {what: idp.token, where: {grant_type: refresh_token}, nth: 2}\n    same: {field: presented_refresh_token, as: {what: idp.token, where: {grant_type: refresh_token}, nth: 1}, as-field: refresh_token}\n", false},
		{"    find: {what: idp.token, where: {grant_type: refresh_token}, nth: 1}\n    same: {field: presented_refresh_token, as: {what: idp.token}, as-field: refresh_token}\n", true},
		{"    find: {what: idp.token, nth: 3}\n    same: {field: presented_refresh_token, as: {what: idp.token, nth: 2}, not: true}\n", false},
		{"    find: {what: idp.token, nth: 4}\n", false},
	} {
		x := expectation(t, "  - id: e\n    title: t\n    requirements: [CF-1]\n"+tc.y)
		if r := Check(x, tl, Client{}); r.Pass != tc.pass {
			t.Errorf("%s: pass = %v, want %v (%s)", tc.y, r.Pass, tc.pass, r.Message)
		}
	}
}

func TestExpr(t *testing.T) {
	refs := Env{
		Ref: func(n string) (float64, bool, error) {
			return map[string]float64{"client.renewal-factor": 0.5, "since.ttl_ms": 4000}[n], strings.HasSuffix(n, "_ms"), nil
		},
		Call: func(fn string, ms float64) (float64, error) { return ms - 1000, nil },
	}
	for src, want := range map[string]time.Duration{
		"client.renewal-factor * since.ttl_ms":        2 * time.Second,
		"since.ttl_ms - 1s":                           3 * time.Second,
		"(since.ttl_ms + 1s) * client.renewal-factor": 2500 * time.Millisecond,
		"20s":                        20 * time.Second,
		"renewal(since.ttl_ms) + 1s": 4 * time.Second,
		"150ms":                      150 * time.Millisecond,
	} {
		e, err := ParseExpr(src)
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		got, err := e.Eval(refs)
		if err != nil || got != want {
			t.Errorf("%s = %v, %v; want %v", src, got, err, want)
		}
	}
	for _, bad := range []string{"0.5", "1s * 1s", "1s + 2", "(1s", "x", "1s )", "later(1s)", "renewal(2)", "renewal(1s"} {
		e, err := ParseExpr(bad)
		if err == nil {
			_, err = e.Eval(refs)
		}
		if err == nil {
			t.Errorf("%q: want an error", bad)
		}
	}
}

func TestAnyOfAndPer(t *testing.T) {
	tl := []timeline.Entry{
		entry(0, "client.event", "type", "token_expires"),
		entry(100*time.Millisecond, "idp.token", "grant_type", "refresh_token"),
		entry(200*time.Millisecond, "idp.token", "grant_type", "refresh_token"),
		entry(1000*time.Millisecond, "client.event", "type", "token_expires"),
		entry(1100*time.Millisecond, "idp.token", "grant_type", "refresh_token"),
		entry(2000*time.Millisecond, "client.event", "type", "token_expires"),
		entry(2500*time.Millisecond, "harness.call", "function", "silentRefresh", "outcome", "rejected"),
	}
	for _, tc := range []struct {
		y    string
		pass bool
	}{
		// Two renewals in the first window, one in the second.
		{"    find: {what: idp.token}\n    count: 1\n    per: {what: client.event, where: {type: token_expires}}\n", false},
		{"    find: {what: idp.token}\n    count: \"<=2\"\n    per: {what: client.event, where: {type: token_expires}}\n", true},
		{"    any-of:\n      - {find: {what: client.event, where: {type: silent_refresh_error}}}\n      - {find: {what: harness.call, where: {outcome: rejected}}}\n", true},
		{"    any-of:\n      - {find: {what: client.event, where: {type: silent_refresh_error}}}\n      - {find: {what: harness.call, where: {outcome: resolved}}}\n", false},
	} {
		x := expectation(t, "  - id: e\n    title: t\n    requirements: [TF-4]\n"+tc.y)
		if r := Check(x, tl, Client{}); r.Pass != tc.pass {
			t.Errorf("%s: pass = %v, want %v (%s)", tc.y, r.Pass, tc.pass, r.Message)
		}
	}
}

// An anchor that picks nothing makes the expectation not applicable, never a
// pass: "no event after the forged message" proves nothing when no message
// was forged. A required anchor makes it a failure instead.
func TestMissingAnchorIsNotApplicable(t *testing.T) {
	tl := []timeline.Entry{
		entry(0, "idp.token", "grant_type", "authorization_code", "outcome", "ok", "expires_in_ms", "6000"),
		entry(time.Second, "client.event", "type", "token_received"),
	}
	for _, tc := range []struct {
		name, y string
		na      bool
	}{
		{"count 0 after", "    find: {what: client.event, after: {what: harness.forged-message}}\n    count: 0\n", true},
		{"count 0 before", "    find: {what: client.event, before: {what: harness.network, where: {state: online}}}\n    count: 0\n", true},
		{"since", "    find: {what: client.event}\n    at: {since: {what: harness.forged-message}, is: 1s, within: 1s}\n", true},
		{"token", "    find: {what: client.event}\n    at: {since: {what: idp.token}, token: {what: idp.authorize}, is: 1s, within: 1s}\n", true},
		{"same as", "    find: {what: idp.token}\n    same: {field: access_token, as: {what: harness.tokens}}\n", true},
		{"per", "    find: {what: idp.token}\n    count: 1\n    per: {what: client.event, where: {type: token_expires}}\n", true},
		{"required", "    find: {what: client.event, after: {what: harness.forged-message, required: true}}\n    count: 0\n", false},
	} {
		x := expectation(t, "  - id: e\n    title: t\n    requirements: [SR-3]\n"+tc.y)
		r := Check(x, tl, Client{})
		if r.Pass || r.NotApplicable != tc.na {
			t.Errorf("%s: pass %v, not applicable %v, want not applicable %v: %s", tc.name, r.Pass, r.NotApplicable, tc.na, r.Message)
		}
		if tc.na && !strings.HasPrefix(r.Message, "not applicable") {
			t.Errorf("%s: the reason does not say why: %s", tc.name, r.Message)
		}
	}
}

// A premise that fails makes every expectation resting on it not applicable,
// with the premise's own words; an expectation that rests on none is judged.
func TestPremises(t *testing.T) {
	src := `version: 1
id: s
title: t
steps: [login]
premises:
  - id: asked-without-offline-access
    title: the client asked for no offline_access
    find: {what: idp.authorize, where: {scope: lacks offline_access}}
expect:
  - {id: a, title: t, requirements: [OA-2], find: {what: idp.token, where: {refresh_token: present}}, count: 0}
  - {id: b, title: t, requirements: [OA-2], premises: [], find: {what: idp.token}, count: 1}
`
	ss, err := Parse("p.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	s := ss[0]
	tl := []timeline.Entry{
		entry(0, "idp.authorize", "scope", "openid offline_access"),
		entry(time.Second, "idp.token", "refresh_token", "fp:1"),
	}
	if r := Judge(s, s.Expect[0], tl, Client{}); r.Pass || !r.NotApplicable || !strings.Contains(r.Message, "the client asked for no offline_access") {
		t.Errorf("premise failed: want not applicable with the premise's title, got %+v", r)
	}
	if r := Judge(s, s.Expect[1], tl, Client{}); !r.Pass {
		t.Errorf("an expectation resting on no premise is judged: %+v", r)
	}
	tl[0].Fields["scope"] = "openid profile"
	if r := Judge(s, s.Expect[0], tl, Client{}); r.Pass || r.NotApplicable {
		t.Errorf("premise held: want the expectation judged (and failed), got %+v", r)
	}
}

// cycles: all checks every found entry, so a storm of early renewals after
// the third cannot hide; a value the client does not declare makes a timing
// not applicable.
func TestCyclesAllAndUnsetSettings(t *testing.T) {
	var tl []timeline.Entry
	for i, at := range []int{0, 4500, 9000, 13500, 13600} {
		tl = append(tl, entry(time.Duration(at)*time.Millisecond, "idp.token", "grant_type", map[bool]string{true: "authorization_code", false: "refresh_token"}[i == 0], "outcome", "ok", "expires_in_ms", "6000"))
	}
	y := "    find: {what: idp.token, where: {grant_type: refresh_token}}\n    at: {since: {what: idp.token, where: {outcome: ok}}, between: [\"client.renewal-factor * since.expires_in_ms - 100ms\", since.expires_in_ms]}\n"
	c := Client{Settings: map[string]float64{"client.renewal-factor": 0.75}}
	if r := Check(expectation(t, "  - id: e\n    title: t\n    requirements: [TF-4]\n"+y+"    cycles: 3\n"), tl, c); !r.Pass {
		t.Fatalf("three cycles at 4500 ms each: %s", r.Message)
	}
	r := Check(expectation(t, "  - id: e\n    title: t\n    requirements: [TF-4]\n"+y+"    cycles: all\n"), tl, c)
	if r.Pass || len(r.Measurements) != 4 || !strings.HasPrefix(r.Message, "cycle 4") {
		t.Fatalf("the fourth renewal came 100 ms after the third: want a failure listed first, got %s", r.Message)
	}
	if r := Check(expectation(t, "  - id: e\n    title: t\n    requirements: [TF-4]\n"+y+"    cycles: all\n"), tl, Client{}); !r.NotApplicable {
		t.Fatalf("client.renewal-factor is not declared: want not applicable, got %+v", r)
	}
}

// A verdict is final when the steps that did not run could not have changed
// it: found evidence for "at least", an exceeded bound for "at most".
func TestFinal(t *testing.T) {
	tl := []timeline.Entry{entry(0, "idp.token"), entry(1, "idp.token")}
	for _, tc := range []struct {
		count       string
		pass, final bool
	}{
		{">=1", true, true}, {">=3", false, false}, {"<=1", false, true}, {"<=2", true, false}, {"0", false, true}, {"2", true, false}, {"1", false, true},
	} {
		x := expectation(t, "  - id: e\n    title: t\n    requirements: [CF-1]\n    find: {what: idp.token}\n    count: \""+tc.count+"\"\n")
		if r := Check(x, tl, Client{}); r.Pass != tc.pass || r.Final != tc.final {
			t.Errorf("count %s over 2 entries: pass %v final %v, want %v %v", tc.count, r.Pass, r.Final, tc.pass, tc.final)
		}
	}
}

// An any-of failure's first line names every alternative: the console
// summary and JUnit's message attribute show only that line.
func TestAnyOfFirstLineStandsAlone(t *testing.T) {
	x := expectation(t, "  - id: e\n    title: t\n    requirements: [SR-5]\n    any-of:\n      - {find: {what: client.event, where: {type: silent_refresh_error}}}\n      - {find: {what: harness.call, where: {outcome: rejected}}}\n")
	r := Check(x, nil, Client{})
	first, _, _ := strings.Cut(r.Message, "\n")
	if r.Pass || !strings.Contains(first, "any-of 1: no entry matches client.event type=silent_refresh_error") || !strings.Contains(first, "any-of 2: no entry matches harness.call outcome=rejected") {
		t.Fatalf("first line %q does not spell out both alternatives", first)
	}
}

// An any-of alternative the client's run cannot show (no events forwarded)
// does not apply; the others are judged, and the spec with them.
func TestAnyOfLeavesOutUnobservableAlternatives(t *testing.T) {
	x := expectation(t, "  - id: e\n    title: t\n    requirements: [NET-1]\n    any-of:\n      - {find: {what: client.event, where: {type: token_refresh_error}}}\n      - {find: {what: harness.call, where: {outcome: rejected}}}\n")
	silent := Client{Unobservable: func(k string) string {
		if strings.HasPrefix(k, "client.") {
			return "the app forwards no events"
		}
		return ""
	}}
	tl := []timeline.Entry{entry(0, "harness.call", "outcome", "rejected"), entry(1, "client.event", "type", "token_refresh_error")}
	if r := Check(x, tl, silent); !r.Pass {
		t.Errorf("the observable alternative holds: %s", r.Message)
	}
	if r := Check(x, tl[1:], silent); r.Pass || r.NotApplicable || !strings.Contains(r.Message, "the app forwards no events") {
		t.Errorf("the event cannot count for a client that forwards none, and the other alternative fails: %+v", r)
	}
}
