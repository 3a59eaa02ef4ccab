package ratelimit

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/nexus-reussite/harden/ratelimit/store"
)

// DefaultRule is the rule a Limiter enforces when Config.Rule is empty: per client, a
// thousand requests a day, a hundred an hour and two a second.
const DefaultRule = "1000 per day;100 per hour;2 per second"

// Rule is a set of limits that are all enforced: a request is admitted only if every
// limit admits it, and a rejected request charges none of them. ParseRule reads the text
// form; Rule{{Count: 5, Period: time.Minute}} writes one in code.
type Rule = store.Rule

// parseError describes where a rule string stopped making sense: pos is a byte offset
// into input.
type parseError struct {
	input string
	pos   int
	msg   string
}

func (e *parseError) Error() string {
	return fmt.Sprintf("ratelimit: invalid rule %q at position %d: %s", e.input, e.pos, e.msg)
}

// Unwrap makes errors.Is(err, ErrInvalidRule) true.
func (e *parseError) Unwrap() error { return ErrInvalidRule }

// maxRuleLen bounds the input ParseRule accepts.
const maxRuleLen = 1024

// ParseRule parses the rule syntax of Flask-Limiter: limits separated by ";" or ",", each
// "<count> per <period>" or "<count>/<period>", where the period is an optional positive
// multiplier followed by second, minute, hour, day, month (30 days) or year (365 days),
// singular or plural: "1000 per day;100 per hour;2 per second", "10/minute",
// "5 per 30 seconds". Case and surrounding spaces are ignored. A rule holds at most 8
// limits, counts up to 10^12 and periods up to ten years. Errors give the byte position
// of the problem and wrap ErrInvalidRule.
func ParseRule(s string) (Rule, error) {
	if len(s) > maxRuleLen {
		return nil, &parseError{input: s[:32] + "...", pos: maxRuleLen, msg: fmt.Sprintf("longer than %d bytes", maxRuleLen)}
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
		if len(r) == store.MaxLimits {
			return nil, &parseError{input: s, pos: start, msg: fmt.Sprintf("more than %d limits", store.MaxLimits)}
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
	return &parseError{input: p.s, pos: p.i, msg: msg}
}

// failAt reports msg at byte offset pos.
func (p *ruleParser) failAt(pos int, msg string) error {
	p.i = pos
	return p.fail(msg)
}

func (p *ruleParser) space() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t') {
		p.i++
	}
}

// number reads a count or multiplier in 1..MaxCount.
func (p *ruleParser) number(what string) (uint64, error) {
	start := p.i
	for p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
		p.i++
	}
	if start == p.i {
		return 0, p.fail("expected " + what)
	}
	digits := p.s[start:p.i]
	n, err := strconv.ParseUint(digits, 10, 64)
	if err != nil || n == 0 || n > store.MaxCount {
		return 0, p.failAt(start, fmt.Sprintf("%s %.20s out of range 1..%d", what, digits, uint64(store.MaxCount)))
	}
	return n, nil
}

// limit reads "<count> per <period>" or "<count>/<period>".
func (p *ruleParser) limit() (store.Limit, error) {
	count, err := p.number("count")
	if err != nil {
		return store.Limit{}, err
	}
	if err := p.per(); err != nil {
		return store.Limit{}, err
	}
	period, err := p.period()
	if err != nil {
		return store.Limit{}, err
	}
	return store.Limit{Count: count, Period: period}, nil
}

// per reads the "per" or "/" between a count and its period, with the spaces around.
func (p *ruleParser) per() error {
	p.space()
	switch {
	case p.i < len(p.s) && p.s[p.i] == '/':
		p.i++
	case len(p.s)-p.i >= 3 && strings.EqualFold(p.s[p.i:p.i+3], "per"):
		p.i += 3
		if p.i < len(p.s) && p.s[p.i] != ' ' && p.s[p.i] != '\t' {
			return p.fail("expected a space after 'per'")
		}
	default:
		return p.fail("expected 'per' or '/' after the count")
	}
	p.space()
	return nil
}

// period reads an optional multiplier and a unit name, such as "30 seconds" or "hour".
func (p *ruleParser) period() (time.Duration, error) {
	mult := uint64(1)
	if p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
		var err error
		if mult, err = p.number("period multiplier"); err != nil {
			return 0, err
		}
		p.space()
	}
	start := p.i
	for p.i < len(p.s) && (p.s[p.i]|0x20) >= 'a' && (p.s[p.i]|0x20) <= 'z' {
		p.i++
	}
	word := strings.ToLower(p.s[start:p.i])
	if word == "" {
		return 0, p.failAt(start, "expected a period (second, minute, hour, day, month or year)")
	}
	unit := periodUnit(strings.TrimSuffix(word, "s"))
	if unit == 0 {
		return 0, p.failAt(start, fmt.Sprintf("unknown period %q", word))
	}
	if mult > uint64(store.MaxPeriod/unit) {
		return 0, p.failAt(start, "period longer than ten years")
	}
	return time.Duration(mult) * unit, nil
}

// periodUnit returns the duration of a singular unit name, or 0 for an unknown name. A
// month is 30 days and a year 365 days, as in Flask-Limiter.
func periodUnit(name string) time.Duration {
	switch name {
	case "second":
		return time.Second
	case "minute":
		return time.Minute
	case "hour":
		return time.Hour
	case "day":
		return 24 * time.Hour
	case "month":
		return 30 * 24 * time.Hour
	case "year":
		return 365 * 24 * time.Hour
	}
	return 0
}
