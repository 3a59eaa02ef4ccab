package observe

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A client behind a trusted proxy sends every forwarding header it likes; the proxy
// sets one family. Only that family names the client in the access log, and no client
// address reaches the metrics.
func TestClientIPComesOnlyFromTheConfiguredHeader(t *testing.T) {
	const (
		proxy  = "10.0.0.1"
		client = "203.0.113.9" // what the proxy says
		forged = "6.6.6.6"     // what the client says
	)
	for _, tc := range []struct {
		name   string
		header string            // ClientIPHeader
		sent   map[string]string // request headers as they reach the Observer
		want   string
	}{
		{"default family ignores Forwarded", "", map[string]string{
			"Forwarded": "for=" + forged, "X-Forwarded-For": client}, client},
		{"default family ignores X-Real-IP", "", map[string]string{
			"X-Real-Ip": forged, "X-Forwarded-For": client}, client},
		{"default family without X-Forwarded-For is the peer", "", map[string]string{
			"Forwarded": "for=" + forged, "X-Real-Ip": forged, "True-Client-Ip": forged}, proxy},
		{"default family takes the hop the proxy appended", "", map[string]string{
			"X-Forwarded-For": forged + ", " + client}, client},
		{"Forwarded family", "Forwarded", map[string]string{
			"Forwarded": "for=" + client, "X-Forwarded-For": forged, "X-Real-Ip": forged}, client},
		{"Forwarded family takes the element the proxy appended", "Forwarded", map[string]string{
			"Forwarded": "for=" + forged + ", for=" + client}, client},
		{"X-Real-IP family", "X-Real-IP", map[string]string{
			"X-Real-Ip": client, "X-Forwarded-For": forged, "Forwarded": "for=" + forged}, client},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sink, logger := newSinkLogger(slog.LevelInfo)
			reg := newRegistry()
			o := mustNew(t, Config{
				Logger: logger, Registerer: reg,
				TrustedProxies: []string{"10.0.0.0/8"}, ClientIPHeader: tc.header,
			})
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.RemoteAddr = proxy + ":40000"
			for k, v := range tc.sent {
				r.Header.Set(k, v)
			}
			o.Handler(http.NotFoundHandler()).ServeHTTP(httptest.NewRecorder(), r)

			lines := sink.lines(t)
			require.Len(t, lines, 1)
			assert.Equal(t, tc.want, lines[0]["client_ip"])
			metrics := httptest.NewRecorder()
			o.MetricsHandler().ServeHTTP(metrics, httptest.NewRequest(http.MethodGet, "/metrics", nil))
			require.Equal(t, http.StatusOK, metrics.Code)
			assert.False(t, strings.Contains(metrics.Body.String(), forged), "forged address in the metrics")
		})
	}
}

// From a peer that is not a trusted proxy, no forwarding header is believed.
func TestClientIPFromUntrustedPeerIgnoresEveryFamily(t *testing.T) {
	for _, header := range []string{"", "Forwarded", "X-Real-IP"} {
		sink, logger := newSinkLogger(slog.LevelInfo)
		o := mustNew(t, Config{Logger: logger, TrustedProxies: []string{"10.0.0.0/8"}, ClientIPHeader: header})
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.RemoteAddr = "198.51.100.7:40000"
		r.Header.Set("X-Forwarded-For", "6.6.6.6")
		r.Header.Set("Forwarded", "for=6.6.6.6")
		r.Header.Set("X-Real-Ip", "6.6.6.6")
		o.Handler(http.NotFoundHandler()).ServeHTTP(httptest.NewRecorder(), r)
		assert.Equal(t, "198.51.100.7", sink.lines(t)[0]["client_ip"], "ClientIPHeader %q", header)
	}
}
