package problem

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWrite(t *testing.T) {
	rec := httptest.NewRecorder()
	rec.Header().Set("Retry-After", "3")
	rec.Header().Set("Content-Encoding", "gzip")
	Write(rec, Problem{Status: http.StatusTooManyRequests, Detail: "slow down", Extensions: map[string]any{"limit": 5, "status": "ignored"}})

	assert.Equal(t, http.StatusTooManyRequests, rec.Code)
	assert.Equal(t, ContentType, rec.Header().Get("Content-Type"))
	assert.Equal(t, "3", rec.Header().Get("Retry-After"))
	assert.Empty(t, rec.Header().Get("Content-Encoding"))
	var got map[string]any
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &got))
	assert.Equal(t, "about:blank", got["type"])
	assert.Equal(t, "Too Many Requests", got["title"])
	assert.EqualValues(t, 429, got["status"])
	assert.Equal(t, "slow down", got["detail"])
	assert.EqualValues(t, 5, got["limit"])
	assert.NotContains(t, got, "instance")
}

func TestWriteUnencodableExtension(t *testing.T) {
	rec := httptest.NewRecorder()
	Write(rec, Problem{Status: 400, Extensions: map[string]any{"bad": make(chan int)}})
	var got map[string]any
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &got))
	assert.EqualValues(t, 400, got["status"])
	assert.NotContains(t, got, "bad")
}

func TestErrorDefaultsStatus(t *testing.T) {
	rec := httptest.NewRecorder()
	Write(rec, Problem{})
	assert.Equal(t, 500, rec.Code)
	rec = httptest.NewRecorder()
	Error(rec, 413, "body too large")
	assert.Equal(t, 413, rec.Code)
	assert.Contains(t, rec.Body.String(), `"detail":"body too large"`)
}

// The header values Write sets belong to its response: rewriting them in place afterwards
// (h["Content-Type"][0] = …) does not reach the next problem.
func TestWriteHeaderValuesAreNotShared(t *testing.T) {
	for range 3 {
		rec := httptest.NewRecorder()
		Error(rec, http.StatusTooManyRequests, "slow down")
		h := rec.Result().Header
		assert.Equal(t, ContentType, h.Get("Content-Type"))
		assert.Equal(t, "nosniff", h.Get("X-Content-Type-Options"))
		for _, v := range rec.Header() {
			for i := range v {
				v[i] = "mutated"
			}
		}
	}
}
