package compress_test

import (
	"bytes"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nexus-reussite/harden/compress"
)

func TestResponseDecisions(t *testing.T) {
	big := jsonBody(4 << 10)
	writeJSON := func(body []byte, extra ...string) http.HandlerFunc {
		return func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			for i := 0; i+1 < len(extra); i += 2 {
				w.Header().Set(extra[i], extra[i+1])
			}
			_, _ = w.Write(body)
		}
	}
	tests := []struct {
		name     string
		handler  http.Handler
		method   string
		accept   string
		reqHdr   http.Header
		wantEnc  string
		wantVary bool
		wantCode int
		wantBody []byte // nil: not checked
	}{
		{"zstd preferred", writeJSON(big), "GET", "gzip, zstd", nil, "zstd", true, 200, big},
		{"gzip by q", writeJSON(big), "GET", "zstd;q=0.1, gzip", nil, "gzip", true, 200, big},
		{"no accept-encoding", writeJSON(big), "GET", "", nil, "", true, 200, big},
		{"identity only", writeJSON(big), "GET", "identity", nil, "", true, 200, big},
		{"unknown coding only", writeJSON(big), "GET", "br", nil, "", true, 200, big},
		{"below min size", writeJSON(big[:499]), "GET", "zstd", nil, "", true, 200, big[:499]},
		{"at min size", writeJSON(big[:500]), "GET", "zstd", nil, "zstd", true, 200, big[:500]},
		{"charset and case ignored", writeJSON(big, "Content-Type", "Application/JSON; charset=utf-8"), "GET", "gzip", nil, "gzip", true, 200, big},
		{"type not allowed", writeJSON(big, "Content-Type", "image/png"), "GET", "zstd", nil, "", false, 200, big},
		{"already encoded", writeJSON(big, "Content-Encoding", "br"), "GET", "zstd", nil, "br", false, 200, big},
		{"no-transform", writeJSON(big, "Cache-Control", "public, No-Transform"), "GET", "zstd", nil, "", false, 200, big},
		{"range request", writeJSON(big), "GET", "zstd", http.Header{"Range": {"bytes=0-10"}}, "", true, 200, big},
		{"partial content", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Content-Range", "bytes 0-4095/9000")
			w.WriteHeader(http.StatusPartialContent)
			_, _ = w.Write(big)
		}), "GET", "zstd", nil, "", true, 206, big},
		{"head", writeJSON(big), "HEAD", "zstd", nil, "", true, 200, nil},
		{"no content", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(http.StatusNoContent)
		}), "GET", "zstd", nil, "", true, 204, []byte{}},
		{"not modified", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(http.StatusNotModified)
		}), "GET", "zstd", nil, "", true, 304, []byte{}},
		{"error status compressed", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write(big)
		}), "GET", "gzip", nil, "gzip", true, 404, big},
		{"empty body", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
		}), "GET", "zstd", nil, "", true, 200, []byte{}},
		{"many small writes", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			for i := 0; i < len(big); i += 7 {
				_, _ = w.Write(big[i:min(i+7, len(big))])
			}
		}), "GET", "zstd", nil, "zstd", true, 200, big},
		{"sniffed html", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			_, _ = w.Write([]byte("<!DOCTYPE html><html><body>" + strings.Repeat("<p>bonjour</p>", 100) + "</body></html>"))
		}), "GET", "gzip", nil, "gzip", true, 200, nil},
		{"sniffed binary", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			_, _ = w.Write(append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 2000)...))
		}), "GET", "gzip", nil, "", true, 200, nil},
		{"declared small length", writeJSON(big[:100], "Content-Length", "100"), "GET", "zstd", nil, "", true, 200, big[:100]},
		{"declared large length", writeJSON(big, "Content-Length", strconv.Itoa(len(big))), "GET", "zstd", nil, "zstd", true, 200, big},
	}
	c := mustNew(t, compress.Config{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := serve(c.Handler(tt.handler), tt.method, tt.accept, tt.reqHdr)
			res := rec.Result()
			if res.StatusCode != tt.wantCode {
				t.Fatalf("status %d, want %d", res.StatusCode, tt.wantCode)
			}
			gotEnc := res.Header.Get("Content-Encoding")
			if gotEnc != tt.wantEnc {
				t.Fatalf("Content-Encoding %q, want %q", gotEnc, tt.wantEnc)
			}
			if got := strings.Contains(strings.Join(res.Header.Values("Vary"), ","), "Accept-Encoding"); got != tt.wantVary {
				t.Errorf("Vary %q, want Accept-Encoding present=%v", res.Header.Values("Vary"), tt.wantVary)
			}
			if gotEnc == "zstd" || gotEnc == "gzip" {
				if cl := res.Header.Get("Content-Length"); cl != "" {
					t.Errorf("compressed response kept Content-Length %s", cl)
				}
				if res.Header.Get("Content-Type") == "" {
					t.Errorf("compressed response without Content-Type")
				}
			}
			body := rec.Body.Bytes()
			if gotEnc != "br" {
				body = decode(t, gotEnc, body)
			}
			if tt.wantBody != nil && !bytes.Equal(body, tt.wantBody) {
				t.Errorf("body differs: got %d bytes, want %d", len(body), len(tt.wantBody))
			}
		})
	}
}

func TestSniffedTypeIsSetBeforeCompressing(t *testing.T) {
	c := mustNew(t, compress.Config{})
	page := "<html><body>" + strings.Repeat("<p>cours de maths</p>", 60) + "</body></html>"
	rec := serve(c.Handler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(page))
	})), "GET", "zstd", nil)
	if got := rec.Header().Get("Content-Type"); got != "text/html; charset=utf-8" {
		t.Fatalf("Content-Type %q: sniffing must happen on the uncompressed bytes", got)
	}
	if got := string(decode(t, rec.Header().Get("Content-Encoding"), rec.Body.Bytes())); got != page {
		t.Fatalf("body mismatch")
	}
}

func TestMinSizeAndLevelSettings(t *testing.T) {
	body := jsonBody(300)
	h := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	})
	if enc := serve(mustNew(t, compress.Config{}).Handler(h), "GET", "gzip", nil).Header().Get("Content-Encoding"); enc != "" {
		t.Fatalf("default MinSize compressed a %d-byte body", len(body))
	}
	if enc := serve(mustNew(t, compress.Config{MinSize: 100}).Handler(h), "GET", "gzip", nil).Header().Get("Content-Encoding"); enc != "gzip" {
		t.Fatalf("MinSize 100 left a %d-byte body alone", len(body))
	}
	tiny := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte("{}"))
	})
	rec := serve(mustNew(t, compress.Config{MinSize: -1}).Handler(tiny), "GET", "gzip", nil)
	if rec.Header().Get("Content-Encoding") != "gzip" || string(decode(t, "gzip", rec.Body.Bytes())) != "{}" {
		t.Fatalf("MinSize -1 must compress every body")
	}

	large := jsonBody(64 << 10)
	bigH := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(large)
	})
	sizes := map[string]int{}
	for _, level := range []int{1, 9} {
		for _, enc := range []string{"gzip", "zstd"} {
			rec := serve(mustNew(t, compress.Config{Level: level}).Handler(bigH), "GET", enc, nil)
			if !bytes.Equal(decode(t, enc, rec.Body.Bytes()), large) {
				t.Fatalf("level %d %s: body mismatch", level, enc)
			}
			sizes[enc+strconv.Itoa(level)] = rec.Body.Len()
		}
	}
	if sizes["gzip9"] >= sizes["gzip1"] {
		t.Errorf("gzip level 9 (%d bytes) not smaller than level 1 (%d bytes)", sizes["gzip9"], sizes["gzip1"])
	}
	// zstd's faster levels can beat its slower ones on very regular JSON, so only
	// check that the level reaches the encoder.
	if sizes["zstd9"] == sizes["zstd1"] {
		t.Errorf("zstd levels 1 and 9 produced the same %d bytes", sizes["zstd1"])
	}
}

func TestServerEncodingList(t *testing.T) {
	c := mustNew(t, compress.Config{Encodings: []compress.Encoding{compress.Gzip}})
	h := c.Handler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(jsonBody(2000))
	}))
	for accept, want := range map[string]string{"zstd, gzip;q=0.1": "gzip", "zstd": "", "*": "gzip"} {
		if got := serve(h, "GET", accept, nil).Header().Get("Content-Encoding"); got != want {
			t.Errorf("gzip-only server, Accept-Encoding %q: got %q, want %q", accept, got, want)
		}
	}
}

func TestCustomContentTypes(t *testing.T) {
	c := mustNew(t, compress.Config{ContentTypes: []string{"text/*", "application/vnd.api+json"}})
	body := strings.Repeat("ligne de texte\n", 100)
	for ct, want := range map[string]string{
		"text/plain; charset=utf-8": "zstd",
		"TEXT/CSV":                  "zstd",
		"application/vnd.api+json":  "zstd",
		"application/json":          "",
	} {
		rec := serve(c.Handler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", ct)
			_, _ = w.Write([]byte(body))
		})), "GET", "zstd", nil)
		if got := rec.Header().Get("Content-Encoding"); got != want {
			t.Errorf("%s: Content-Encoding %q, want %q", ct, got, want)
		}
	}
}

func TestVaryMerging(t *testing.T) {
	c := mustNew(t, compress.Config{})
	for _, tc := range []struct {
		existing []string
		want     []string
	}{
		{nil, []string{"Accept-Encoding"}},
		{[]string{"Origin"}, []string{"Origin", "Accept-Encoding"}},
		{[]string{"origin, accept-encoding"}, []string{"origin, accept-encoding"}},
		{[]string{"*"}, []string{"*"}},
	} {
		rec := serve(c.Handler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			for _, v := range tc.existing {
				w.Header().Add("Vary", v)
			}
			_, _ = w.Write(jsonBody(1000))
		})), "GET", "gzip", nil)
		if got := rec.Header().Values("Vary"); strings.Join(got, "|") != strings.Join(tc.want, "|") {
			t.Errorf("Vary with %q = %q, want %q", tc.existing, got, tc.want)
		}
	}
}

func TestAcceptRangesRemovedWhenCompressing(t *testing.T) {
	c := mustNew(t, compress.Config{})
	body := jsonBody(2000)
	h := c.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		http.ServeContent(w, r, "data.json", time.Time{}, bytes.NewReader(body))
	}))
	rec := serve(h, "GET", "zstd", nil)
	if rec.Header().Get("Accept-Ranges") != "" || rec.Header().Get("Content-Encoding") != "zstd" {
		t.Fatalf("compressed: Accept-Ranges %q, Content-Encoding %q", rec.Header().Get("Accept-Ranges"), rec.Header().Get("Content-Encoding"))
	}
	// The same resource asked with a Range: identity bytes of the exact range.
	rec = serve(h, "GET", "zstd", http.Header{"Range": {"bytes=10-19"}})
	if rec.Code != http.StatusPartialContent || rec.Header().Get("Content-Encoding") != "" || !bytes.Equal(rec.Body.Bytes(), body[10:20]) {
		t.Fatalf("range: status %d, encoding %q, body %q", rec.Code, rec.Header().Get("Content-Encoding"), rec.Body.String())
	}
}

func TestPanicLeavesResponseToRecoverer(t *testing.T) {
	c := mustNew(t, compress.Config{})
	inner := c.Handler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"partial":`)) // held back: below MinSize
		panic("boom")
	}))
	recoverer := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if recover() != nil {
				w.Header().Set("Content-Type", "application/problem+json")
				w.WriteHeader(http.StatusInternalServerError)
				_, _ = w.Write([]byte(`{"status":500}`))
			}
		}()
		inner.ServeHTTP(w, r)
	})
	rec := serve(recoverer, "GET", "zstd", nil)
	if rec.Code != 500 || rec.Body.String() != `{"status":500}` {
		t.Fatalf("got %d %q: held-back bytes leaked after the panic", rec.Code, rec.Body.String())
	}
	// The pooled writer is reusable afterwards.
	rec = serve(c.Handler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(jsonBody(1000))
	})), "GET", "zstd", nil)
	if rec.Header().Get("Content-Encoding") != "zstd" {
		t.Fatalf("after a panic the next response was not compressed")
	}
}

func TestWritesAfterHeadersOnlyOnce(t *testing.T) {
	c := mustNew(t, compress.Config{})
	rec := serve(c.Handler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		w.WriteHeader(http.StatusTeapot) // ignored, as net/http does
		_, _ = w.Write(jsonBody(800))
	})), "GET", "gzip", nil)
	if rec.Code != http.StatusCreated {
		t.Fatalf("status %d, want 201", rec.Code)
	}
}

// The decision is made when the body starts, so header changes a handler makes after
// WriteHeader still count, as they did before the first body byte.
func TestHeadersChangedAfterWriteHeaderAreHonoured(t *testing.T) {
	big := jsonBody(4 << 10)
	page := []byte("<!DOCTYPE html><html><body>" + strings.Repeat("<p>bonjour</p>", 100) + "</body></html>")
	c := mustNew(t, compress.Config{})
	for _, tc := range []struct {
		name    string
		before  map[string]string // set before WriteHeader
		after   map[string]string // set between WriteHeader and Write
		body    []byte
		wantEnc string
		wantCT  string
	}{
		{"unchanged", map[string]string{"Content-Type": "application/json"}, nil, big, "gzip", "application/json"},
		{"encoded after", map[string]string{"Content-Type": "application/json"}, map[string]string{"Content-Encoding": "br"}, big, "br", "application/json"},
		{"no-transform after", map[string]string{"Content-Type": "application/json"}, map[string]string{"Cache-Control": "no-transform"}, big, "", "application/json"},
		{"type set after", nil, map[string]string{"Content-Type": "image/png"}, big, "", "image/png"},
		{"type emptied after", map[string]string{"Content-Type": "application/json"}, map[string]string{"Content-Type": ""}, big, "", ""},
		{"sniffed", nil, nil, page, "gzip", "text/html; charset=utf-8"},
		{"sniffed, not allowed", nil, nil, append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 2000)...), "", "image/png"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := serve(c.Handler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				for k, v := range tc.before {
					w.Header().Set(k, v)
				}
				w.WriteHeader(http.StatusOK)
				for k, v := range tc.after {
					w.Header().Set(k, v)
				}
				_, _ = w.Write(tc.body)
			})), "GET", "gzip", nil)
			if got := rec.Header().Get("Content-Encoding"); got != tc.wantEnc {
				t.Fatalf("Content-Encoding %q, want %q", got, tc.wantEnc)
			}
			if got := rec.Header().Get("Content-Type"); got != tc.wantCT {
				t.Errorf("Content-Type %q, want %q", got, tc.wantCT)
			}
			if tc.wantEnc != "br" && !bytes.Equal(decode(t, tc.wantEnc, rec.Body.Bytes()), tc.body) {
				t.Errorf("body differs")
			}
		})
	}
}

// Decision buffers stay with pooled writers: a buffer that grew large is dropped, and
// no response ever carries bytes of an earlier one.
func TestDecisionBufferReuse(t *testing.T) {
	c := mustNew(t, compress.Config{})
	huge := jsonBody(100 << 10)
	for i, body := range [][]byte{jsonBody(300)[:300], huge, []byte(`{"a":1}`), jsonBody(499)[:499], huge, {}} {
		for _, accept := range []string{"gzip", ""} {
			rec := serve(c.Handler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				_, _ = w.Write(body[:min(400, len(body))]) // buffered: under MinSize
				_, _ = w.Write(body[min(400, len(body)):])
			})), "GET", accept, nil)
			got := decode(t, rec.Header().Get("Content-Encoding"), rec.Body.Bytes())
			if !bytes.Equal(got, body) {
				t.Fatalf("response %d (Accept-Encoding %q): %d bytes, want %d", i, accept, len(got), len(body))
			}
		}
	}
}
