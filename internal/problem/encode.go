package problem

// This file holds the problem body's encoder: the JSON object encoding/json writes for a
// map of the members, appended directly.
//
// Why: building the map and marshalling it costs about twenty allocations per problem
// instead of three (BenchmarkWrite), which a client answered with 429s at a high rate
// makes the server pay for every refusal. The whole-stack benchmark does not exercise
// it (it answers 200 throughout), so it has not shown the 5 % a hand-written encoder
// must earn; it stays while the rate limiter's allocation ceiling for a rejected
// request counts on it.
//
// Reference: encoding/json on a map of the members. TestEncodingMatchesEncodingJSON and
// FuzzEncodingMatchesEncodingJSON compare the two.

import (
	"cmp"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
)

// member is a standard member's key and string value; an empty key marks a member that
// is left out.
type member struct{ key, val string }

// standardMembers returns the standard members in key order. Status, the only number,
// is written from p.Status.
func (p *Problem) standardMembers() [5]member {
	std := [...]member{
		{"detail", p.Detail},
		{"instance", p.Instance},
		{"status", ""},
		{"title", cmp.Or(p.Title, http.StatusText(p.Status))},
		{"type", cmp.Or(p.Type, "about:blank")},
	}
	if p.Detail == "" {
		std[0].key = ""
	}
	if p.Instance == "" {
		std[1].key = ""
	}
	return std
}

// appendJSON appends the JSON object of p to b: the standard members (detail and
// instance only when set) and the extensions not named like one, in key order.
func (p *Problem) appendJSON(b []byte) ([]byte, error) {
	var keyBuf [8]string
	ext := keyBuf[:0]
	for k := range p.Extensions {
		if !standard(k) {
			ext = append(ext, k)
		}
	}
	slices.Sort(ext)

	std := p.standardMembers()

	b = append(b, '{')
	first := true
	sep := func() {
		if !first {
			b = append(b, ',')
		}
		first = false
	}
	var err error
	i := 0
	for _, s := range std {
		if s.key == "" {
			continue
		}
		for ; i < len(ext) && ext[i] < s.key; i++ {
			sep()
			b = appendString(b, ext[i])
			b = append(b, ':')
			if b, err = appendValue(b, p.Extensions[ext[i]]); err != nil {
				return b, err
			}
		}
		sep()
		b = append(b, '"')
		b = append(b, s.key...)
		b = append(b, '"', ':')
		if s.key == "status" {
			b = strconv.AppendInt(b, int64(p.Status), 10)
		} else {
			b = appendString(b, s.val)
		}
	}
	for ; i < len(ext); i++ {
		sep()
		b = appendString(b, ext[i])
		b = append(b, ':')
		if b, err = appendValue(b, p.Extensions[ext[i]]); err != nil {
			return b, err
		}
	}
	return append(b, '}'), nil
}

// appendValue appends the JSON encoding of v, as encoding/json writes it.
func appendValue(b []byte, v any) ([]byte, error) {
	switch v := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case string:
		return appendString(b, v), nil
	case bool:
		return strconv.AppendBool(b, v), nil
	case int:
		return strconv.AppendInt(b, int64(v), 10), nil
	case int64:
		return strconv.AppendInt(b, v, 10), nil
	case int32:
		return strconv.AppendInt(b, int64(v), 10), nil
	case uint:
		return strconv.AppendUint(b, uint64(v), 10), nil
	case uint64:
		return strconv.AppendUint(b, v, 10), nil
	case uint32:
		return strconv.AppendUint(b, uint64(v), 10), nil
	}
	data, err := json.Marshal(v)
	if err != nil {
		return b, err
	}
	return append(b, data...), nil
}

// appendString appends s as a JSON string. Printable ASCII without the characters
// encoding/json escapes is copied as is; anything else goes through encoding/json so
// the escaping (HTML characters, control characters, invalid UTF-8, U+2028) is its own.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			data, _ := json.Marshal(s)
			return append(b, data...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
