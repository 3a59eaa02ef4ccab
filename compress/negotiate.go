package compress

import "strings"

// qUnset marks a coding the Accept-Encoding header did not mention.
const qUnset = -1

// negotiate picks the response coding for the Accept-Encoding field values (all lines
// of the header) given the server preference order prefs (at most 2 entries,
// lower-case as Zstd and Gzip are).
//
// Rules (RFC 9110 §12.5.3): codings are matched case-insensitively, "x-gzip" is gzip,
// q-values range 0–1 with up to three decimals, a coding with q=0 is refused, "*"
// stands for every coding not named, and identity is acceptable unless excluded by
// "identity;q=0" or "*;q=0". Unknown codings and malformed elements are ignored; when a
// coding is listed twice its first occurrence counts. Among acceptable codings the
// highest q wins and ties go to the earlier entry of prefs; an explicitly listed
// identity with a strictly higher q beats them all. An absent or empty header yields
// Identity. negotiate does not allocate.
func negotiate(values []string, prefs []Encoding) Encoding {
	if len(values) == 1 {
		// A lone coding spelled as the server spells it ("gzip") needs no parsing.
		for _, p := range prefs {
			if values[0] == string(p) {
				return p
			}
		}
	}
	return parseAcceptEncoding(values, prefs).choose(prefs)
}

// qvalues holds the q-values, in thousandths, that an Accept-Encoding header gives the
// server's codings, "*" and identity; qUnset for those it does not mention.
type qvalues struct {
	prefs    [2]int // by position in the server preference order
	star     int
	identity int
}

// parseAcceptEncoding reads the q-values of every element of the header lines.
func parseAcceptEncoding(values []string, prefs []Encoding) qvalues {
	q := qvalues{prefs: [2]int{qUnset, qUnset}, star: qUnset, identity: qUnset}
	for _, v := range values {
		for len(v) > 0 {
			var elem string
			if i := strings.IndexByte(v, ','); i >= 0 {
				elem, v = v[:i], v[i+1:]
			} else {
				elem, v = v, ""
			}
			if coding, qv, ok := parseElement(elem); ok {
				q.set(coding, qv, prefs)
			}
		}
	}
	return q
}

// set records the q-value v of coding, unless the coding was listed before.
func (q *qvalues) set(coding string, v int, prefs []Encoding) {
	switch {
	case coding == "*":
		if q.star == qUnset {
			q.star = v
		}
	case tokenIs(coding, "identity"):
		if q.identity == qUnset {
			q.identity = v
		}
	default:
		for i, p := range prefs[:min(len(prefs), len(q.prefs))] {
			if matches(coding, p) && q.prefs[i] == qUnset {
				q.prefs[i] = v
			}
		}
	}
}

// choose returns the acceptable coding with the highest q-value, the earlier in prefs
// on a tie, or identity when it has a strictly higher q-value or nothing else is
// acceptable.
func (q qvalues) choose(prefs []Encoding) Encoding {
	best, bestQ := Identity, 0
	for i, p := range prefs[:min(len(prefs), len(q.prefs))] {
		v := q.prefs[i]
		if v == qUnset {
			v = q.star
		}
		if v > bestQ {
			best, bestQ = p, v
		}
	}
	if best != Identity && q.identity > bestQ {
		return Identity
	}
	return best
}

// matches reports whether the Accept-Encoding token names e.
func matches(token string, e Encoding) bool {
	return tokenIs(token, string(e)) || e == Gzip && tokenIs(token, "x-gzip")
}

// tokenIs is strings.EqualFold for a token, ASCII by definition, and a lower-case
// ASCII name: lengths first, then bytes folded inline instead of a call per name.
func tokenIs(token, lower string) bool {
	if len(token) != len(lower) {
		return false
	}
	for i := 0; i < len(token); i++ {
		c := token[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

// parseElement splits one Accept-Encoding list element `coding *( OWS ";" OWS param )`
// and returns the coding and its q-value in thousandths (1000 when absent). ok is
// false for an empty or malformed element.
func parseElement(elem string) (coding string, q int, ok bool) {
	coding, params, _ := strings.Cut(elem, ";")
	coding = trimOWS(coding)
	if coding == "" || !isToken(coding) {
		return "", 0, false
	}
	q = 1000
	for params != "" {
		var p string
		if i := strings.IndexByte(params, ';'); i >= 0 {
			p, params = params[:i], params[i+1:]
		} else {
			p, params = params, ""
		}
		name, value, found := strings.Cut(p, "=")
		name = trimOWS(name)
		if !found || !strings.EqualFold(name, "q") {
			continue
		}
		var valid bool
		q, valid = parseQ(trimOWS(value))
		if !valid {
			return "", 0, false
		}
	}
	return coding, q, true
}

// parseQ parses an RFC 9110 qvalue: "0" [ "." 0*3DIGIT ] / "1" [ "." 0*3("0") ].
func parseQ(s string) (int, bool) {
	if s == "" || len(s) > 5 || (s[0] != '0' && s[0] != '1') {
		return 0, false
	}
	q := int(s[0]-'0') * 1000
	if len(s) == 1 {
		return q, true
	}
	if s[1] != '.' {
		return 0, false
	}
	scale := 100
	for i := 2; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		q += int(c-'0') * scale
		scale /= 10
	}
	if q > 1000 {
		return 0, false
	}
	return q, true
}

func trimOWS(s string) string {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}

// isToken reports whether s is an RFC 9110 token (tchar+).
func isToken(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}
