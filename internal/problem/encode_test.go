package problem

import (
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// referenceJSON is the body as encoding/json writes a map of the members: the shape
// problem details had before they were encoded directly, which they must keep.
func referenceJSON(p Problem) ([]byte, error) {
	m := make(map[string]any, 5+len(p.Extensions))
	for k, v := range p.Extensions {
		m[k] = v
	}
	m["type"] = p.Type
	if p.Type == "" {
		m["type"] = "about:blank"
	}
	m["title"] = p.Title
	if p.Title == "" {
		m["title"] = http.StatusText(p.Status)
	}
	m["status"] = p.Status
	if p.Detail != "" {
		m["detail"] = p.Detail
	} else {
		delete(m, "detail")
	}
	if p.Instance != "" {
		m["instance"] = p.Instance
	} else {
		delete(m, "instance")
	}
	return json.Marshal(m)
}

type textValue struct{ S string }

// MarshalJSON returns uncompacted JSON, which encoding/json compacts.
func (v textValue) MarshalJSON() ([]byte, error) {
	s, _ := json.Marshal(v.S)
	return []byte(` { "s" : ` + string(s) + ` } `), nil
}

func TestEncodingMatchesEncodingJSON(t *testing.T) {
	for _, p := range []Problem{
		{Status: 429},
		{Status: 999},
		{Status: 404, Type: "https://example.com/probs/x", Title: "Custom", Detail: "d", Instance: "/a/b"},
		{Status: 400, Detail: "<script>&\"quote\"\\ \n\t\x00\x1f \u2028\u2029 é \xff\xfe"},
		{Status: 400, Instance: "/p?q=<x>&y", Title: "ünïcode"},
		{Status: 429, Detail: "slow", Extensions: map[string]any{"retry_after": int64(3)}},
		{Status: 500, Extensions: map[string]any{"request_id": "abc-123"}},
		{Status: 400, Extensions: map[string]any{
			"status": "ignored", "type": 1, "title": nil, "detail": "dropped", "instance": "dropped",
			"a": 1, "zz": true, "m": map[string]any{"b": 1, "a": []int{1, 2}}, "f": 1.5e-7,
			"big": uint64(math.MaxUint64), "neg": int32(-7), "u": uint(7), "u32": uint32(9), "i": -4,
			"nil": nil, "str": "<>&", "Upper": "k", "": "empty key", "é": "non-ASCII key", "<k>": 1,
			"marshaler": textValue{"x<y"}, "raw": json.RawMessage(` [1, 2] `),
		}},
	} {
		want, err := referenceJSON(p)
		require.NoError(t, err)
		got, err := p.MarshalJSON()
		require.NoError(t, err)
		assert.Equal(t, string(want), string(got))
		viaJSON, err := json.Marshal(p)
		require.NoError(t, err)
		assert.Equal(t, string(want), string(viaJSON))

		rec := httptest.NewRecorder()
		if p.Status == 0 {
			p.Status = 500
		}
		Write(rec, p)
		assert.Equal(t, string(want), rec.Body.String())
	}
}

func TestUnencodableExtensionFallsBackToStandardMembers(t *testing.T) {
	p := Problem{Status: 400, Detail: "x", Extensions: map[string]any{"a": 1, "bad": math.NaN()}}
	_, err := p.MarshalJSON()
	require.Error(t, err)
	rec := httptest.NewRecorder()
	Write(rec, p)
	assert.Equal(t, `{"detail":"x","status":400,"title":"Bad Request","type":"about:blank"}`, rec.Body.String())
	assert.Equal(t, strconv.Itoa(rec.Body.Len()), rec.Header().Get("Content-Length"))
}

type sink struct {
	h    http.Header
	body []byte
}

func (s *sink) Header() http.Header { return s.h }
func (s *sink) WriteHeader(int)     {}
func (s *sink) Write(p []byte) (int, error) {
	s.body = append(s.body[:0], p...)
	return len(p), nil
}

// FuzzEncodingMatchesEncodingJSON checks the direct encoder against encoding/json for
// arbitrary member strings and extension keys.
func FuzzEncodingMatchesEncodingJSON(f *testing.F) {
	f.Add(429, "", "", "slow down", "", "retry_after", "x", int64(3))
	f.Add(0, "about:blank", "T", "<&>", "/i", "detail", "\xff", int64(-1))
	f.Add(999, "\u2028", "\x00", "", "\"", "", "é", int64(0))
	f.Fuzz(func(t *testing.T, status int, typ, title, detail, instance, k1, k2 string, n int64) {
		p := Problem{Status: status, Type: typ, Title: title, Detail: detail, Instance: instance,
			Extensions: map[string]any{k1: n, k2: detail + k1}}
		want, err := referenceJSON(p)
		require.NoError(t, err)
		got, err := p.MarshalJSON()
		require.NoError(t, err)
		require.Equal(t, string(want), string(got))
	})
}
