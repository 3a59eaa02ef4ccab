package cache

import (
	"strconv"
	"strings"
)

// CacheControl holds the directives of Cache-Control header fields (RFC 9111 §5.2) that
// the response cache acts on. Delta-seconds fields are -1 when absent.
type CacheControl struct {
	NoStore, NoCache, Private, Public    bool
	MustRevalidate, ProxyRevalidate      bool
	OnlyIfCached, NoTransform, Immutable bool
	MaxAge, SMaxAge, MaxStale, MinFresh  int64
	StaleWhileRevalidate, StaleIfError   int64
	// Invalid is set when a directive the cache relies on had a malformed argument; the
	// response is then not stored (and a request treated as no-cache).
	Invalid bool
}

// maxDelta caps delta-seconds as RFC 9111 §1.2.2 allows (2^31).
const maxDelta = 1 << 31

// ParseCacheControl parses the values of Cache-Control header fields (one per field line).
// Directive names are case-insensitive; arguments may be tokens or quoted strings; unknown
// directives are ignored. When a delta-seconds directive repeats, the smallest value wins
// (the most restrictive reading); a qualified no-cache="…" or private="…" counts as the
// unqualified directive. Values above 2^31 are capped at 2^31.
func ParseCacheControl(values []string) CacheControl {
	cc := CacheControl{MaxAge: -1, SMaxAge: -1, MaxStale: -1, MinFresh: -1, StaleWhileRevalidate: -1, StaleIfError: -1}
	for _, v := range values {
		for len(v) > 0 {
			var name, arg string
			var hasArg bool
			name, arg, hasArg, v = nextDirective(v)
			switch strings.ToLower(name) {
			case "no-store":
				cc.NoStore = true
			case "no-cache":
				cc.NoCache = true
			case "private":
				cc.Private = true
			case "public":
				cc.Public = true
			case "must-revalidate":
				cc.MustRevalidate = true
			case "proxy-revalidate":
				cc.ProxyRevalidate = true
			case "only-if-cached":
				cc.OnlyIfCached = true
			case "no-transform":
				cc.NoTransform = true
			case "immutable":
				cc.Immutable = true
			case "max-age":
				cc.MaxAge = delta(cc.MaxAge, arg, hasArg, &cc.Invalid)
			case "s-maxage":
				cc.SMaxAge = delta(cc.SMaxAge, arg, hasArg, &cc.Invalid)
			case "max-stale":
				if !hasArg { // any staleness accepted
					cc.MaxStale = maxDelta
					continue
				}
				cc.MaxStale = delta(cc.MaxStale, arg, hasArg, &cc.Invalid)
			case "min-fresh":
				cc.MinFresh = delta(cc.MinFresh, arg, hasArg, &cc.Invalid)
			case "stale-while-revalidate":
				cc.StaleWhileRevalidate = delta(cc.StaleWhileRevalidate, arg, hasArg, &cc.Invalid)
			case "stale-if-error":
				cc.StaleIfError = delta(cc.StaleIfError, arg, hasArg, &cc.Invalid)
			}
		}
	}
	return cc
}

// delta parses a delta-seconds argument and keeps the smaller of it and prev (-1: none).
func delta(prev int64, arg string, hasArg bool, invalid *bool) int64 {
	if !hasArg || arg == "" {
		*invalid = true
		return prev
	}
	var n int64
	for i := 0; i < len(arg); i++ {
		c := arg[i]
		if c < '0' || c > '9' {
			*invalid = true
			return prev
		}
		if n < maxDelta {
			n = n*10 + int64(c-'0')
		}
	}
	n = min(n, maxDelta)
	if prev >= 0 && prev < n {
		return prev
	}
	return n
}

// nextDirective splits the first directive off s: name, argument (unquoted), whether an
// argument was given, and the rest of s after the separating comma.
func nextDirective(s string) (name, arg string, hasArg bool, rest string) {
	s = strings.TrimLeft(s, " \t,")
	i := 0
	for i < len(s) && s[i] != '=' && s[i] != ',' {
		i++
	}
	name = strings.TrimSpace(s[:i])
	if i == len(s) || s[i] == ',' {
		return name, "", false, s[i:]
	}
	s = strings.TrimLeft(s[i+1:], " \t")
	if strings.HasPrefix(s, `"`) {
		var b strings.Builder
		j := 1
		for ; j < len(s); j++ {
			switch s[j] {
			case '\\':
				if j+1 < len(s) {
					j++
					b.WriteByte(s[j])
				}
				continue
			case '"':
				rest = s[j+1:]
				if k := strings.IndexByte(rest, ','); k >= 0 {
					rest = rest[k:]
				} else {
					rest = ""
				}
				return name, b.String(), true, rest
			}
			b.WriteByte(s[j])
		}
		return name, b.String(), true, ""
	}
	j := strings.IndexByte(s, ',')
	if j < 0 {
		return name, strings.TrimSpace(s), true, ""
	}
	return name, strings.TrimSpace(s[:j]), true, s[j:]
}

// String formats the directives in canonical form (lower case, fixed order), the form
// ParseCacheControl reads back to the same value.
func (cc CacheControl) String() string {
	var parts []string
	flag := func(on bool, name string) {
		if on {
			parts = append(parts, name)
		}
	}
	num := func(v int64, name string) {
		if v >= 0 {
			parts = append(parts, name+"="+strconv.FormatInt(v, 10))
		}
	}
	flag(cc.NoStore, "no-store")
	flag(cc.NoCache, "no-cache")
	flag(cc.Private, "private")
	flag(cc.Public, "public")
	flag(cc.MustRevalidate, "must-revalidate")
	flag(cc.ProxyRevalidate, "proxy-revalidate")
	flag(cc.OnlyIfCached, "only-if-cached")
	flag(cc.NoTransform, "no-transform")
	flag(cc.Immutable, "immutable")
	num(cc.MaxAge, "max-age")
	num(cc.SMaxAge, "s-maxage")
	num(cc.MaxStale, "max-stale")
	num(cc.MinFresh, "min-fresh")
	num(cc.StaleWhileRevalidate, "stale-while-revalidate")
	num(cc.StaleIfError, "stale-if-error")
	return strings.Join(parts, ", ")
}
