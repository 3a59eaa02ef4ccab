package compress

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Reasons a request body is refused, as the reason label of
// harden_compress_request_bodies_rejected_total.
const (
	reasonTooLarge    = "too_large"
	reasonUnsupported = "unsupported_encoding"
)

// metrics is the Prometheus collector of one Compressor. Every child series is
// resolved in New so that observing a response does not allocate. A nil *metrics
// records nothing.
type metrics struct {
	responses   *prometheus.CounterVec
	bytesIn     *prometheus.CounterVec
	bytesOut    *prometheus.CounterVec
	ratio       *prometheus.HistogramVec
	decoded     *prometheus.CounterVec
	rejectedVec *prometheus.CounterVec

	perEnc     [3]encMetrics // by encIndex: looked up on every response
	perDecoded map[Encoding]prometheus.Counter
	perReason  map[string]prometheus.Counter
}

type encMetrics struct {
	responses prometheus.Counter
	in, out   prometheus.Counter
	ratio     prometheus.Observer
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	if reg == nil {
		return nil, nil
	}
	m := &metrics{
		responses: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "harden", Subsystem: "compress", Name: "responses_total",
			Help: "Responses seen by the compression middleware, by content coding sent (identity = not compressed).",
		}, []string{"encoding"}),
		bytesIn: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "harden", Subsystem: "compress", Name: "bytes_in_total",
			Help: "Uncompressed body bytes of compressed responses, by content coding.",
		}, []string{"encoding"}),
		bytesOut: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "harden", Subsystem: "compress", Name: "bytes_out_total",
			Help: "Compressed body bytes sent, by content coding.",
		}, []string{"encoding"}),
		ratio: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "harden", Subsystem: "compress", Name: "ratio",
			Help:    "Compressed size divided by uncompressed size, per compressed response.",
			Buckets: []float64{0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.7, 0.9, 1, 1.5},
		}, []string{"encoding"}),
		decoded: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "harden", Subsystem: "compress", Name: "request_bodies_decoded_total",
			Help: "Compressed request bodies decoded, by content coding.",
		}, []string{"encoding"}),
		rejectedVec: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "harden", Subsystem: "compress", Name: "request_bodies_rejected_total",
			Help: "Compressed request bodies refused, by reason (too_large, unsupported_encoding).",
		}, []string{"reason"}),
		perDecoded: map[Encoding]prometheus.Counter{},
		perReason:  map[string]prometheus.Counter{},
	}
	for _, e := range []Encoding{Zstd, Gzip, Identity} {
		em := encMetrics{responses: m.responses.WithLabelValues(string(e))}
		if e != Identity {
			em.in = m.bytesIn.WithLabelValues(string(e))
			em.out = m.bytesOut.WithLabelValues(string(e))
			em.ratio = m.ratio.WithLabelValues(string(e))
			m.perDecoded[e] = m.decoded.WithLabelValues(string(e))
		}
		m.perEnc[encIndex(e)] = em
	}
	for _, r := range []string{reasonTooLarge, reasonUnsupported} {
		m.perReason[r] = m.rejectedVec.WithLabelValues(r)
	}
	if err := reg.Register(m); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			return nil, fmt.Errorf("%w: metrics already registered (one Compressor per registry): %w", ErrInvalidConfig, err)
		}
		return nil, fmt.Errorf("compress: registering metrics: %w", err)
	}
	return m, nil
}

// Describe implements prometheus.Collector.
func (m *metrics) Describe(ch chan<- *prometheus.Desc) {
	m.responses.Describe(ch)
	m.bytesIn.Describe(ch)
	m.bytesOut.Describe(ch)
	m.ratio.Describe(ch)
	m.decoded.Describe(ch)
	m.rejectedVec.Describe(ch)
}

// Collect implements prometheus.Collector.
func (m *metrics) Collect(ch chan<- prometheus.Metric) {
	m.responses.Collect(ch)
	m.bytesIn.Collect(ch)
	m.bytesOut.Collect(ch)
	m.ratio.Collect(ch)
	m.decoded.Collect(ch)
	m.rejectedVec.Collect(ch)
}

// observe records one response; in and out are body sizes before and after coding.
func (m *metrics) observe(enc Encoding, in, out int64) {
	if m == nil {
		return
	}
	em := &m.perEnc[encIndex(enc)]
	em.responses.Inc()
	if enc == Identity {
		return
	}
	em.in.Add(float64(in))
	em.out.Add(float64(out))
	if in > 0 {
		em.ratio.Observe(float64(out) / float64(in))
	}
}

// encIndex is the position of enc's series in metrics.perEnc.
func encIndex(enc Encoding) int {
	switch enc {
	case Zstd:
		return 1
	case Gzip:
		return 2
	}
	return 0
}

func (m *metrics) decodedBody(enc Encoding) {
	if m == nil {
		return
	}
	m.perDecoded[enc].Inc()
}

func (m *metrics) rejected(reason string) {
	if m == nil {
		return
	}
	m.perReason[reason].Inc()
}
