// Package compress is net/http middleware that compresses responses with zstd or gzip
// and, optionally, decodes compressed request bodies under a hard size cap. It is built
// on github.com/klauspost/compress, and its defaults are those of Flask-Compress but for
// zstd's level, which is its fastest (see Defaults).
//
// # Usage
//
//	c, err := compress.New(compress.Config{Level: 6, MinSize: 500})
//	if err != nil {
//		return err
//	}
//	http.ListenAndServe(":5000", c.Handler(mux))
//
// # Defaults (the zero Config)
//
//   - Level 6 on the gzip 1–9 scale; zstd maps 1–6 to its fastest level, 7–8 to its
//     default level (zstd level 3, Flask-Compress's zstd default) and 9 to its
//     better-compression level. The pure-Go encoder at zstd's default level sends API
//     JSON in no fewer bytes than at its fastest, and text in 4–6 % fewer bytes at
//     1.4–1.8 times the time, so the zero Config sends zstd at its fastest, as gzhttp
//     does.
//   - MinSize 500 bytes: smaller bodies are sent as they are.
//   - Types: text/html, text/css, text/xml, text/javascript, application/json,
//     application/javascript, application/xml+rss, application/atom+xml, image/svg+xml
//     (parameters such as charset are ignored).
//   - Encodings preferred in the order zstd, gzip. Brotli is deliberately absent: the
//     pure-Go encoder takes several times the time of zstd for output of about the
//     same size on API JSON (benchmarks/README.md has the measurements), every client
//     that sends "br" also accepts gzip, and current Chromium and Firefox accept zstd.
//   - No BREACH padding, no request-body decoding, no metrics.
//
// What the defaults cost: the encoding itself is most of a compressed response's CPU,
// about 9 µs for a 3 KiB JSON body with gzip at level 6 and 7 µs with zstd, for about
// the same bytes; the middleware around it well under a microsecond. A compressed response
// carries two header fields more (Content-Encoding, Vary). Bodies under MinSize cost a
// Vary field and nothing else.
//
// Memory: each response being compressed holds an encoder, about 0.6 MiB for zstd at
// levels 1–6 (1.7 MiB at 7–8, 4.5 MiB at 9) and 0.7 MiB for gzip at level 6
// (BenchmarkEncoderMemory). Idle encoders wait in a pool that the garbage collector
// empties, so peak memory follows how many responses are compressed at the same moment.
//
// # Negotiation
//
// Accept-Encoding is parsed per RFC 9110: q-values (q=0 refuses a coding), "*",
// "identity;q=0", unknown codings, whitespace and letter case. The highest q wins;
// ties go to the server order in Config.Encodings. A client that sends no
// Accept-Encoding, or accepts none of the configured codings, gets identity (RFC 9110
// lets a server send identity even when "identity;q=0" asks otherwise, rather than
// answer 406).
//
// # What is never compressed
//
// A response is sent unchanged when it already has a Content-Encoding, when
// Cache-Control has no-transform, for HEAD requests, for requests with a Range header
// and 206 responses, for 1xx, 204 and 304 statuses, for types outside the allow-list
// and for bodies under MinSize. Every response that could have been compressed for
// some client, including 304s and small bodies, carries Vary: Accept-Encoding.
//
// # Streaming, ETags, sniffing
//
// Bodies are held back until MinSize bytes decide the matter, except when the handler
// declares Content-Length, flushes, or sends text/event-stream: server-sent events
// are never buffered, and when text/event-stream is added to ContentTypes each flush
// of the handler flushes the encoder too. Flush, Hijack and http.ResponseController
// work through the middleware's ResponseWriter (it implements Unwrap), and so does
// io.ReaderFrom: a response that goes out unchanged, such as an image served by
// http.FileServer, keeps net/http's sendfile path. Compressing
// removes Content-Length and Accept-Ranges and appends "-zstd" or "-gzip" to a strong
// ETag; the suffix is stripped from If-None-Match before the handler sees it, so
// conditional requests still match and the 304 carries the tag the client holds. A
// missing Content-Type is sniffed from the uncompressed bytes and set explicitly, so
// net/http never sniffs compressed ones. As with any net/http ResponseWriter, the
// handler must not use it after returning: it goes back to a pool.
//
// # BREACH
//
// Config.Padding adds a random-length padding (gzip header comment, zstd skippable
// frame) to each compressed response. Use it when a response mixes request-reflected
// input with secrets over TLS; it multiplies the requests a BREACH attack needs, and
// belongs alongside per-response secret masking, not instead of it.
//
// # Request bodies
//
// With DecompressRequests, bodies in gzip, x-gzip or zstd are decoded on the fly
// (zstd windows above 8 MiB are refused). Past MaxDecompressedSize (16 MiB by default)
// reads fail with an error matching ErrBodyTooLarge and *http.MaxBytesError and the
// client gets 413 application/problem+json (unless the handler already sent its
// headers). A decompression bomb therefore yields at most the cap to the handler,
// and decoding itself needs memory bounded by the window, not by the decoded size.
// Other codings get 415 with an Accept-Encoding header. Both answers
// are replaceable through TooLargeHandler and UnsupportedHandler.
//
// # Metrics
//
// With a Registerer, the Compressor registers harden_compress_responses_total,
// harden_compress_bytes_in_total, harden_compress_bytes_out_total and the
// harden_compress_ratio histogram (all by encoding), plus
// harden_compress_request_bodies_decoded_total{encoding} and
// harden_compress_request_bodies_rejected_total{reason}.
package compress
