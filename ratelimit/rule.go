package ratelimit

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// DefaultRule is the rule a Limiter enforces when Config.Rule is empty: the production
// limits of the original deployment.
const DefaultRule = "1000 per day;100 per hour;2 per second"

// MaxLimits is the largest number of limits one Rule may hold.
const MaxLimits = 8

// MaxCount is the largest count a Limit may allow per period.
const MaxCount = 1_000_000_000_000

// Limit admits Count units (requests, by default) per Period.
type Limit struct {
	Count  uint64
	Period time.Duration
}

// Rule is a set of limits that are all enforced: a request is admitted only if every limit
// admits it, and a rejected request charges none of them.
type Rule []Limit

// String formats l in the rule syntax, e.g. "100 per hour" or "5 per 30 seconds".
func (l Limit) String() string {
	var buf [64]byte
	return string(l.appendText(buf[:0]))
}

// appendText appends the String form of l to b.
func (l Limit) appendText(b []byte) []byte {
	b = strconv.AppendUint(b, l.Count, 10)
	b = append(b, " per "...)
	for _, u := range units() {
		if l.Period == u.d {
			return append(b, u.name...)
		}
	}
	for _, u := range units() {
		if l.Period%u.d == 0 {
			b = strconv.AppendInt(b, int64(l.Period/u.d), 10)
			b = append(b, ' ')
			b = append(b, u.name...)
			return append(b, 's')
		}
	}
	return append(b, l.Period.String()...)
}

// String formats r in the rule syntax, limits separated by ";".
func (r Rule) String() string {
	parts := make([]string, len(r))
	for i, l := range r {
		parts[i] = l.String()
	}
	return strings.Join(parts, ";")
}

// Validate reports whether r can be enforced: 1 to MaxLimits limits, each with a count in
// 1..MaxCount and a period of at least one millisecond, in whole milliseconds.
func (r Rule) Validate() error {
	if len(r) == 0 {
		return fmt.Errorf("%w: no limits", ErrInvalidRule)
	}
	if len(r) > MaxLimits {
		return fmt.Errorf("%w: %d limits, at most %d", ErrInvalidRule, len(r), MaxLimits)
	}
	for _, l := range r {
		if l.Count == 0 || l.Count > MaxCount {
			return fmt.Errorf("%w: count %d out of range 1..%d", ErrInvalidRule, l.Count, uint64(MaxCount))
		}
		if l.Period < time.Millisecond || l.Period%time.Millisecond != 0 || l.Period > maxPeriod {
			return fmt.Errorf("%w: period %v must be whole milliseconds between 1ms and %v", ErrInvalidRule, l.Period, maxPeriod)
		}
	}
	return nil
}

// maxPeriod bounds a period to ten years, far inside every store's arithmetic.
const maxPeriod = 10 * 365 * 24 * time.Hour

type unit struct {
	name string
	d    time.Duration
}

// units returns the period names of Flask-Limiter, longest first; a month is 30 days
// and a year 365 days.
func units() [6]unit {
	return [...]unit{
		{"year", 365 * 24 * time.Hour},
		{"month", 30 * 24 * time.Hour},
		{"day", 24 * time.Hour},
		{"hour", time.Hour},
		{"minute", time.Minute},
		{"second", time.Second},
	}
}

// ParseError describes where a rule string stopped making sense. Pos is a byte offset
// into Input.
type ParseError struct {
	Input string
	Pos   int
	Msg   string
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("ratelimit: invalid rule %q at position %d: %s", e.Input, e.Pos, e.Msg)
}

// Unwrap makes errors.Is(err, ErrInvalidRule) true.
func (e *ParseError) Unwrap() error { return ErrInvalidRule }

// maxRuleLen bounds the input ParseRule accepts.
const maxRuleLen = 1024

// ParseRule parses the rule syntax of Flask-Limiter: limits separated by ";" or ",", each
// "<count> per <period>" or "<count>/<period>", where the period is an optional positive
// multiplier followed by second, minute, hour, day, month (30 days) or year (365 days),
// singular or plural: "1000 per day;100 per hour;2 per second", "10/minute",
// "5 per 30 seconds". Case and surrounding spaces are ignored. Errors are *ParseError
// values giving the byte position, and wrap ErrInvalidRule.
func ParseRule(s string) (Rule, error) {
	if len(s) > maxRuleLen {
		return nil, &ParseError{Input: s[:32] + "...", Pos: maxRuleLen, Msg: fmt.Sprintf("longer than %d bytes", maxRuleLen)}
	}
	p := ruleParser{s: s}
	var r Rule
	for {
		p.space()
		if p.eof() {
			if len(r) == 0 {
				return nil, p.fail("empty rule")
			}
			return r, nil
		}
		start := p.i
		l, err := p.limit()
		if err != nil {
			return nil, err
		}
		if len(r) == MaxLimits {
			return nil, &ParseError{Input: s, Pos: start, Msg: fmt.Sprintf("more than %d limits", MaxLimits)}
		}
		r = append(r, l)
		p.space()
		if p.eof() {
			return r, nil
		}
		if c := p.s[p.i]; c != ';' && c != ',' {
			return nil, p.fail(fmt.Sprintf("expected ';' or ',' between limits, found %q", c))
		}
		p.i++
	}
}

// MustParseRule is ParseRule that panics on error, for rules written in source code.
func MustParseRule(s string) Rule {
	r, err := ParseRule(s)
	if err != nil {
		panic(err)
	}
	return r
}

type ruleParser struct {
	s string
	i int
}

func (p *ruleParser) eof() bool { return p.i >= len(p.s) }

func (p *ruleParser) fail(msg string) error {
	return &ParseError{Input: p.s, Pos: p.i, Msg: msg}
}

func (p *ruleParser) space() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t') {
		p.i++
	}
}

func (p *ruleParser) number(what string) (uint64, error) {
	start := p.i
	for p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
		p.i++
	}
	if start == p.i {
		p.i = start
		return 0, p.fail("expected " + what)
	}
	digits := p.s[start:p.i]
	n, err := strconv.ParseUint(digits, 10, 64)
	if err != nil || n == 0 || n > MaxCount {
		p.i = start
		return 0, p.fail(fmt.Sprintf("%s %.20s out of range 1..%d", what, digits, uint64(MaxCount)))
	}
	return n, nil
}

func (p *ruleParser) limit() (Limit, error) {
	count, err := p.number("count")
	if err != nil {
		return Limit{}, err
	}
	p.space()
	switch {
	case p.i < len(p.s) && p.s[p.i] == '/':
		p.i++
	case len(p.s)-p.i >= 3 && strings.EqualFold(p.s[p.i:p.i+3], "per"):
		p.i += 3
		if p.i < len(p.s) && p.s[p.i] != ' ' && p.s[p.i] != '\t' {
			return Limit{}, p.fail("expected a space after 'per'")
		}
	default:
		return Limit{}, p.fail("expected 'per' or '/' after the count")
	}
	p.space()
	mult := uint64(1)
	if p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
		if mult, err = p.number("period multiplier"); err != nil {
			return Limit{}, err
		}
		p.space()
	}
	start := p.i
	for p.i < len(p.s) && (p.s[p.i]|0x20) >= 'a' && (p.s[p.i]|0x20) <= 'z' {
		p.i++
	}
	word := strings.ToLower(p.s[start:p.i])
	if word == "" {
		p.i = start
		return Limit{}, p.fail("expected a period (second, minute, hour, day, month or year)")
	}
	for _, u := range units() {
		if word == u.name || word == u.name+"s" {
			if mult > uint64(maxPeriod/u.d) {
				p.i = start
				return Limit{}, p.fail("period longer than ten years")
			}
			return Limit{Count: count, Period: time.Duration(mult) * u.d}, nil
		}
	}
	p.i = start
	return Limit{}, p.fail(fmt.Sprintf("unknown period %q", word))
}
