package stack

import (
	"bytes"
	"fmt"
	"net/http"
	"strconv"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/stretchr/testify/require"
)

// hitFields are the fields of a defaults-cached hit beyond the four every compressed
// response has (Content-Type, Content-Encoding, Vary, Content-Length), as it sends them.
var hitFields = [][2]string{
	{"X-Content-Type-Options", "nosniff"},
	{"Strict-Transport-Security", "max-age=31536000; includeSubDomains"},
	{"Cross-Origin-Resource-Policy", "same-origin"},
	{"X-Request-Id", "93df15196e5f925086e7b345d18803f8"},
	{"Content-Security-Policy", "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"},
	{"Ratelimit", `"default-1s";r=999999999;t=1`},
	{"Ratelimit-Policy", `"default-1s";q=1000000000;w=1`},
	{"Etag", `"Jl8FLVwGvnyawMlL2Ttpxhko"`},
	{"Age", "0"},
}

// fieldsHandler answers with a stored gzip body and the four fields of any compressed
// response plus the first extra of hitFields: a handler that costs nothing but its header.
func fieldsHandler(z []byte, extra int) http.Handler {
	length := strconv.Itoa(len(z))
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		h := w.Header()
		h["Content-Type"] = []string{"application/json"}
		h["Content-Encoding"] = []string{"gzip"}
		h["Vary"] = []string{"Accept-Encoding"}
		h["Content-Length"] = []string{length}
		for _, f := range hitFields[:extra] {
			h[f[0]] = []string{f[1]}
		}
		_, _ = w.Write(z)
	})
}

// BenchmarkServedHeaderFields prices header fields through a real http.Server
// (replayConn): the same 523-byte gzip body with 4, 8, 9 and 13 fields in the header map
// (Date comes on top), served in turns. net/http grows the map of each response as fields
// are set and clones it when the header is written; a Go map holds up to 8 entries in one
// group and becomes a table at the 9th, for both maps, so the 9th field costs several
// times what the others do. Metrics: fields-<n>-ns/op and fields-<n>-allocs/op, and
// ninth-field-ns (fields-9 − fields-8) beside per-field-ns (the mean of the others).
func BenchmarkServedHeaderFields(b *testing.B) {
	var zb bytes.Buffer
	zw, err := gzip.NewWriterLevel(&zb, 6)
	require.NoError(b, err)
	_, err = zw.Write(Payload(3072))
	require.NoError(b, err)
	require.NoError(b, zw.Close())
	counts := []int{4, 8, 9, 13}
	var subjects []*served
	for _, n := range counts {
		subjects = append(subjects, serveHandler(b, fmt.Sprintf("fields-%d", n), fieldsHandler(zb.Bytes(), n-4)))
	}
	ns := servedTurns(b, subjects, servedRequest("gzip"))
	b.ReportMetric(ns["fields-9"]-ns["fields-8"], "ninth-field-ns")
	b.ReportMetric((ns["fields-8"]-ns["fields-4"]+ns["fields-13"]-ns["fields-9"])/8, "per-field-ns")
}
