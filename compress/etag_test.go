package compress_test

import (
	"bytes"
	"net/http"
	"testing"
	"time"

	"github.com/nexus-reussite/harden/compress"
)

// etagHandler serves a JSON document with the given ETag through http.ServeContent,
// which evaluates If-None-Match itself.
func etagHandler(etag string, body []byte) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("ETag", etag)
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
	})
}

func TestStrongETagGetsEncodingSuffixAndStillMatches(t *testing.T) {
	c := mustNew(t, compress.Config{})
	body := jsonBody(3000)
	h := c.Handler(etagHandler(`"v42"`, body))
	for _, enc := range []string{"zstd", "gzip"} {
		rec := serve(h, "GET", enc, nil)
		etag := rec.Header().Get("ETag")
		if want := `"v42-` + enc + `"`; etag != want {
			t.Fatalf("%s: ETag %q, want %q", enc, etag, want)
		}
		// The client revalidates with the tag it got.
		rec = serve(h, "GET", enc, http.Header{"If-None-Match": {etag}})
		if rec.Code != http.StatusNotModified {
			t.Fatalf("%s: revalidation status %d, want 304", enc, rec.Code)
		}
		if got := rec.Header().Get("ETag"); got != etag {
			t.Fatalf("%s: 304 ETag %q, want the tag the client holds %q", enc, got, etag)
		}
		if rec.Header().Get("Vary") != "Accept-Encoding" {
			t.Fatalf("%s: 304 without Vary", enc)
		}
		// A list of tags, one of them ours.
		rec = serve(h, "GET", enc, http.Header{"If-None-Match": {`"other", ` + etag}})
		if rec.Code != http.StatusNotModified {
			t.Fatalf("%s: list revalidation status %d", enc, rec.Code)
		}
		// A stale tag does not match.
		rec = serve(h, "GET", enc, http.Header{"If-None-Match": {`"v41-` + enc + `"`}})
		if rec.Code != http.StatusOK || !bytes.Equal(decode(t, enc, rec.Body.Bytes()), body) {
			t.Fatalf("%s: stale tag answered %d", enc, rec.Code)
		}
	}
	// Uncompressed clients see the tag unchanged and can revalidate with it.
	rec := serve(h, "GET", "", nil)
	if rec.Header().Get("ETag") != `"v42"` {
		t.Fatalf("identity ETag %q", rec.Header().Get("ETag"))
	}
	rec = serve(h, "GET", "", http.Header{"If-None-Match": {`"v42"`}})
	if rec.Code != http.StatusNotModified || rec.Header().Get("ETag") != `"v42"` {
		t.Fatalf("identity revalidation: %d ETag %q", rec.Code, rec.Header().Get("ETag"))
	}
}

func TestWeakETagUnchanged(t *testing.T) {
	c := mustNew(t, compress.Config{})
	h := c.Handler(etagHandler(`W/"v7"`, jsonBody(3000)))
	rec := serve(h, "GET", "zstd", nil)
	if rec.Header().Get("ETag") != `W/"v7"` || rec.Header().Get("Content-Encoding") != "zstd" {
		t.Fatalf("weak ETag %q encoding %q", rec.Header().Get("ETag"), rec.Header().Get("Content-Encoding"))
	}
	rec = serve(h, "GET", "zstd", http.Header{"If-None-Match": {`W/"v7"`}})
	if rec.Code != http.StatusNotModified {
		t.Fatalf("weak revalidation %d", rec.Code)
	}
}

func TestETagOfSmallResponseUnchanged(t *testing.T) {
	c := mustNew(t, compress.Config{})
	rec := serve(c.Handler(etagHandler(`"s1"`, []byte(`{"ok":true}`))), "GET", "zstd", nil)
	if rec.Header().Get("ETag") != `"s1"` || rec.Header().Get("Content-Encoding") != "" {
		t.Fatalf("small response: ETag %q encoding %q", rec.Header().Get("ETag"), rec.Header().Get("Content-Encoding"))
	}
}

func TestIfNoneMatchWithoutSuffixIsUntouched(t *testing.T) {
	c := mustNew(t, compress.Config{})
	var seen string
	h := c.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = r.Header.Get("If-None-Match")
	}))
	serve(h, "GET", "zstd", http.Header{"If-None-Match": {`"a,b-zstd", "c"`}})
	if seen != `"a,b", "c"` {
		t.Fatalf("handler saw If-None-Match %q", seen)
	}
	serve(h, "GET", "zstd", http.Header{"If-None-Match": {`*`}})
	if seen != `*` {
		t.Fatalf("handler saw If-None-Match %q", seen)
	}
}
