// Package compressbench compares harden/compress with the middleware a user would
// otherwise pick: klauspost gzhttp used directly, NYTimes gziphandler (stdlib gzip),
// and no compression at all, on 1, 10 and 100 KiB JSON responses, and (BenchmarkSmall)
// on a 200-byte one that no variant compresses, for the per-request overhead alone.
//
//	go test -run '^$' -bench . -benchtime=200ms ./benchmarks/compress/
//
// wire-B/op is the compressed size sent per response; BenchmarkRatios reports the
// targets as ratios measured in the same run.
package compressbench
