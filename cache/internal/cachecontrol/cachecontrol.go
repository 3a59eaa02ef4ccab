// Package cachecontrol parses Cache-Control header fields (RFC 9111 §5.2) for the response
// cache of package cache.
package cachecontrol

import (
	"strconv"
	"strings"
)

// Directives holds the directives of Cache-Control header fields that the response cache
// acts on. Delta-seconds fields are -1 when absent.
type Directives struct {
	NoStore, NoCache, Private, Public    bool
	MustRevalidate, ProxyRevalidate      bool
	OnlyIfCached, NoTransform, Immutable bool
	MaxAge, SMaxAge, MaxStale, MinFresh  int64
	StaleWhileRevalidate, StaleIfError   int64
	// Invalid is set when a directive the cache relies on had a malformed argument; the
	// response is then not stored (and a request treated as no-cache).
	Invalid bool
}

// MaxDelta caps delta-seconds as RFC 9111 §1.2.2 allows (2^31).
const MaxDelta = 1 << 31

// Parse parses the values of Cache-Control header fields (one per field line). Directive
// names are case-insensitive; arguments may be tokens or quoted strings; unknown directives
// are ignored. When a delta-seconds directive repeats, the smallest value wins (the most
// restrictive reading); a qualified no-cache="…" or private="…" counts as the unqualified
// directive. Values above 2^31 are capped at 2^31.
func Parse(values []string) Directives {
	cc := Directives{MaxAge: -1, SMaxAge: -1, MaxStale: -1, MinFresh: -1, StaleWhileRevalidate: -1, StaleIfError: -1}
	for _, v := range values {
		for len(v) > 0 {
			var name, arg string
			var hasArg bool
			name, arg, hasArg, v = nextDirective(v)
			name = strings.ToLower(name)
			if f := cc.flag(name); f != nil {
				*f = true
				continue
			}
			d := cc.delta(name)
			switch {
			case d == nil:
				// unknown directive
			case name == "max-stale" && !hasArg:
				*d = MaxDelta // any staleness accepted
			default:
				*d = parseDelta(*d, arg, hasArg, &cc.Invalid)
			}
		}
	}
	return cc
}

// flag returns the field of a directive without argument, or nil.
func (cc *Directives) flag(name string) *bool {
	switch name {
	case "no-store":
		return &cc.NoStore
	case "no-cache":
		return &cc.NoCache
	case "private":
		return &cc.Private
	case "public":
		return &cc.Public
	case "must-revalidate":
		return &cc.MustRevalidate
	case "proxy-revalidate":
		return &cc.ProxyRevalidate
	case "only-if-cached":
		return &cc.OnlyIfCached
	case "no-transform":
		return &cc.NoTransform
	case "immutable":
		return &cc.Immutable
	}
	return nil
}

// delta returns the field of a delta-seconds directive, or nil.
func (cc *Directives) delta(name string) *int64 {
	switch name {
	case "max-age":
		return &cc.MaxAge
	case "s-maxage":
		return &cc.SMaxAge
	case "max-stale":
		return &cc.MaxStale
	case "min-fresh":
		return &cc.MinFresh
	case "stale-while-revalidate":
		return &cc.StaleWhileRevalidate
	case "stale-if-error":
		return &cc.StaleIfError
	}
	return nil
}

// parseDelta parses a delta-seconds argument and keeps the smaller of it and prev (-1:
// none).
func parseDelta(prev int64, arg string, hasArg bool, invalid *bool) int64 {
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
		if n < MaxDelta {
			n = n*10 + int64(c-'0')
		}
	}
	n = min(n, MaxDelta)
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
		arg, rest = quoted(s)
		return name, arg, true, rest
	}
	j := strings.IndexByte(s, ',')
	if j < 0 {
		return name, strings.TrimSpace(s), true, ""
	}
	return name, strings.TrimSpace(s[:j]), true, s[j:]
}

// quoted reads the quoted string s starts with and returns its unescaped content and the
// rest of s from the next comma.
func quoted(s string) (arg, rest string) {
	var b strings.Builder
	for j := 1; j < len(s); j++ {
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
				return b.String(), rest[k:]
			}
			return b.String(), ""
		}
		b.WriteByte(s[j])
	}
	return b.String(), ""
}

// String formats the directives in canonical form (lower case, fixed order), the form
// Parse reads back to the same value.
func (cc Directives) String() string {
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
