package scenarios

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/refreshsuite/refreshsuite/internal/strictyaml"
	"github.com/refreshsuite/refreshsuite/vocab"

	"gopkg.in/yaml.v3"
)

// Expr is a small arithmetic expression over durations, numbers and references,
// so that an expected time is written the way the requirement states it:
//
//	client.renewal-factor * since.expires_in_ms
//	client.silent-refresh-timeout
//	since.id_token_ttl_ms - 1s
//
// Operators are + - * and parentheses; a binary minus needs spaces around it
// because names may contain dashes. Duration literals carry a unit (150ms, 20s).
// References: client.<setting> and idp.<setting> (the effective configuration of
// the run) and since.<field> (a field of the timing's since entry; fields ending
// in _ms are durations). Functions: renewal(d), the offset at which the client
// under test renews a token with d left to live, by the rule its manifest
// declares (a fraction of d, or a fixed time before d runs out).
type Expr struct {
	Src  string
	root node
}

// Env resolves what an expression refers to.
type Env struct {
	// Ref resolves a reference, returning its value (milliseconds for durations).
	Ref func(name string) (v float64, isDuration bool, err error)
	// Call applies a function to a duration (milliseconds) and returns one.
	Call func(fn string, argMs float64) (float64, error)
}

// Functions an expression may call, each taking and returning a duration.
var Functions = map[string]string{
	"renewal": "the offset after storing a token at which the client renews it, by its manifest's renewal rule",
}

type value struct {
	v   float64 // milliseconds when dur
	dur bool
}

type node interface {
	eval(Env) (value, error)
	refs(func(string))
}

type lit value

func (l lit) eval(Env) (value, error) { return value(l), nil }
func (lit) refs(func(string))         {}

type ref string

func (r ref) eval(env Env) (value, error) {
	v, d, err := env.Ref(string(r))
	return value{v, d}, err
}
func (r ref) refs(f func(string)) { f(string(r)) }

type call struct {
	fn  string
	arg node
}

func (c call) eval(env Env) (value, error) {
	a, err := c.arg.eval(env)
	if err != nil {
		return value{}, err
	}
	if !a.dur {
		return value{}, fmt.Errorf("%s() takes a duration", c.fn)
	}
	if env.Call == nil {
		return value{}, fmt.Errorf("%s() is not available here", c.fn)
	}
	v, err := env.Call(c.fn, a.v)
	return value{v, true}, err
}
func (c call) refs(f func(string)) { f(c.fn + "()"); c.arg.refs(f) }

type binop struct {
	op   byte
	l, r node
}

func (b binop) refs(f func(string)) { b.l.refs(f); b.r.refs(f) }

func (b binop) eval(env Env) (value, error) {
	l, err := b.l.eval(env)
	if err != nil {
		return value{}, err
	}
	r, err := b.r.eval(env)
	if err != nil {
		return value{}, err
	}
	switch b.op {
	case '*':
		if l.dur && r.dur {
			return value{}, fmt.Errorf("cannot multiply two durations")
		}
		return value{l.v * r.v, l.dur || r.dur}, nil
	default:
		if l.dur != r.dur {
			return value{}, fmt.Errorf("cannot add or subtract a duration and a plain number")
		}
		if b.op == '-' {
			return value{l.v - r.v, l.dur}, nil
		}
		return value{l.v + r.v, l.dur}, nil
	}
}

// ParseExpr parses an expression.
func ParseExpr(src string) (*Expr, error) {
	p := &exprParser{src: src}
	n, err := p.expr()
	if err != nil {
		return nil, err
	}
	p.space()
	if p.pos < len(p.src) {
		return nil, fmt.Errorf("unexpected %q at column %d", p.src[p.pos:], p.pos+1)
	}
	return &Expr{Src: src, root: n}, nil
}

// Eval computes the expression, which must be a duration.
func (e *Expr) Eval(env Env) (time.Duration, error) {
	v, err := e.root.eval(env)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", e.Src, err)
	}
	if !v.dur {
		return 0, fmt.Errorf("%s: is a plain number, want a duration (multiply by a duration or give a unit)", e.Src)
	}
	return time.Duration(v.v * float64(time.Millisecond)), nil
}

// TypeCheck evaluates the expression with every reference standing for 1 of
// its kind, to find what only its shape can get wrong (a plain number where a
// duration is wanted, a duration times a duration) before any run.
func (e *Expr) TypeCheck() error {
	_, err := e.Eval(Env{
		Ref: func(name string) (float64, bool, error) {
			dur, ok := vocab.Settings[name]
			if !ok {
				dur = strings.HasSuffix(name, "_ms") || strings.HasSuffix(name, ".at_ms")
			}
			return 1, dur, nil
		},
		Call: func(string, float64) (float64, error) { return 1, nil },
	})
	return err
}

// Constant is the expression's value when it refers to nothing.
func (e *Expr) Constant() (time.Duration, bool) {
	if e == nil || len(e.Refs()) > 0 {
		return 0, false
	}
	d, err := e.Eval(Env{})
	return d, err == nil
}

// Refs lists the references the expression uses; function calls appear as
// "name()".
func (e *Expr) Refs() []string {
	var out []string
	e.root.refs(func(s string) { out = append(out, s) })
	return out
}

func (e *Expr) UnmarshalStrict(d *strictyaml.Decoder, n *yaml.Node, key string) error {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		return d.Errorf(n, key, "want an expression such as \"0.75 * since.expires_in_ms\", got %s", strictyaml.KindName(n))
	}
	x, err := ParseExpr(n.Value)
	if err != nil {
		return d.Errorf(n, key, "%v", err)
	}
	*e = *x
	return nil
}

type exprParser struct {
	src string
	pos int
}

func (p *exprParser) space() {
	for p.pos < len(p.src) && p.src[p.pos] == ' ' {
		p.pos++
	}
}

func (p *exprParser) expr() (node, error) {
	l, err := p.term()
	if err != nil {
		return nil, err
	}
	for {
		p.space()
		if p.pos >= len(p.src) || (p.src[p.pos] != '+' && p.src[p.pos] != '-') {
			return l, nil
		}
		op := p.src[p.pos]
		p.pos++
		r, err := p.term()
		if err != nil {
			return nil, err
		}
		l = binop{op, l, r}
	}
}

func (p *exprParser) term() (node, error) {
	l, err := p.factor()
	if err != nil {
		return nil, err
	}
	for {
		p.space()
		if p.pos >= len(p.src) || p.src[p.pos] != '*' {
			return l, nil
		}
		p.pos++
		r, err := p.factor()
		if err != nil {
			return nil, err
		}
		l = binop{'*', l, r}
	}
}

func isNameChar(c byte) bool {
	return c == '.' || c == '_' || c == '-' || unicode.IsLetter(rune(c)) || unicode.IsDigit(rune(c))
}

func (p *exprParser) factor() (node, error) {
	p.space()
	if p.pos >= len(p.src) {
		return nil, fmt.Errorf("expression ends early")
	}
	c := p.src[p.pos]
	switch {
	case c == '(':
		p.pos++
		n, err := p.expr()
		if err != nil {
			return nil, err
		}
		p.space()
		if p.pos >= len(p.src) || p.src[p.pos] != ')' {
			return nil, fmt.Errorf("missing )")
		}
		p.pos++
		return n, nil
	case c >= '0' && c <= '9' || c == '.':
		start := p.pos
		for p.pos < len(p.src) && (p.src[p.pos] >= '0' && p.src[p.pos] <= '9' || p.src[p.pos] == '.') {
			p.pos++
		}
		num := p.src[start:p.pos]
		ustart := p.pos
		for p.pos < len(p.src) && unicode.IsLetter(rune(p.src[p.pos])) {
			p.pos++
		}
		if unit := p.src[ustart:p.pos]; unit != "" {
			d, err := time.ParseDuration(num + unit)
			if err != nil {
				return nil, fmt.Errorf("bad duration %q", num+unit)
			}
			return lit{float64(d) / float64(time.Millisecond), true}, nil
		}
		f, err := strconv.ParseFloat(num, 64)
		if err != nil {
			return nil, fmt.Errorf("bad number %q", num)
		}
		return lit{f, false}, nil
	case unicode.IsLetter(rune(c)):
		start := p.pos
		for p.pos < len(p.src) && isNameChar(p.src[p.pos]) {
			p.pos++
		}
		name := strings.TrimRight(p.src[start:p.pos], "-")
		p.pos = start + len(name)
		if p.pos < len(p.src) && p.src[p.pos] == '(' {
			if _, ok := Functions[name]; !ok {
				return nil, fmt.Errorf("unknown function %s() (known: renewal)", name)
			}
			p.pos++
			arg, err := p.expr()
			if err != nil {
				return nil, err
			}
			p.space()
			if p.pos >= len(p.src) || p.src[p.pos] != ')' {
				return nil, fmt.Errorf("missing ) after %s(", name)
			}
			p.pos++
			return call{name, arg}, nil
		}
		if !strings.Contains(name, ".") {
			return nil, fmt.Errorf("unknown name %q (references look like client.renewal-factor, idp.access-token-lifetime or since.expires_in_ms)", name)
		}
		return ref(name), nil
	}
	return nil, fmt.Errorf("unexpected %q at column %d", string(c), p.pos+1)
}
