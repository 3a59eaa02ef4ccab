package clientip

import "strings"

// Element is one forwarded-element of an RFC 7239 Forwarded header.
type Element struct {
	For, By, Host, Proto string
}

// ParseForwarded parses a Forwarded header value (several header lines joined by
// commas). Parameters are case-insensitive; quoted strings are unquoted. Malformed pairs
// are skipped rather than failing the whole header; an element without any known
// parameter is kept empty so positions in the chain are preserved.
func ParseForwarded(v string) []Element {
	var out []Element
	for _, raw := range splitQuoted(v, ',') {
		var e Element
		for _, pair := range splitQuoted(raw, ';') {
			k, val, ok := strings.Cut(pair, "=")
			if !ok {
				continue
			}
			k = strings.ToLower(strings.TrimSpace(k))
			val = unquote(strings.TrimSpace(val))
			switch k {
			case "for":
				e.For = val
			case "by":
				e.By = val
			case "host":
				e.Host = val
			case "proto":
				e.Proto = val
			}
		}
		out = append(out, e)
	}
	return out
}

// splitQuoted splits s on sep outside double quotes.
func splitQuoted(s string, sep byte) []string {
	var parts []string
	inQuote, escaped := false, false
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case escaped:
			escaped = false
		case c == '\\' && inQuote:
			escaped = true
		case c == '"':
			inQuote = !inQuote
		case c == sep && !inQuote:
			parts = append(parts, s[start:i])
			start = i + 1
		}
	}
	return append(parts, s[start:])
}

func unquote(s string) string {
	if len(s) < 2 || s[0] != '"' || s[len(s)-1] != '"' {
		return s
	}
	s = s[1 : len(s)-1]
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
