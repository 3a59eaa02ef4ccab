package observe

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/getsentry/sentry-go"
)

// Filtered replaces scrubbed values in Sentry events.
const Filtered = "[Filtered]"

// Always scrubbed, whatever the configuration.
func defaultScrubHeaders() []string {
	return []string{"Authorization", "Proxy-Authorization", "Cookie", "Set-Cookie", "X-Api-Key"}
}

func defaultScrubParams() []string {
	return []string{"password", "token", "access_token", "refresh_token", "api_key", "secret", "code"}
}

// scrubber removes secrets from Sentry events before they leave the process.
type scrubber struct {
	headers map[string]bool // lower-case header names
	params  map[string]bool // lower-case query parameter names
	values  []string
}

func newScrubber(cfg *Config) *scrubber {
	s := &scrubber{headers: map[string]bool{}, params: map[string]bool{}}
	for _, h := range append(defaultScrubHeaders(), cfg.ScrubHeaders...) {
		s.headers[strings.ToLower(strings.TrimSpace(h))] = true
	}
	for _, p := range append(defaultScrubParams(), cfg.ScrubQueryParams...) {
		s.params[strings.ToLower(strings.TrimSpace(p))] = true
	}
	for _, v := range cfg.ScrubValues {
		if v != "" {
			s.values = append(s.values, v)
		}
	}
	return s
}

func (s *scrubber) event(e *sentry.Event, _ *sentry.EventHint) *sentry.Event {
	if e == nil {
		return nil
	}
	if rq := e.Request; rq != nil {
		// Bodies (login forms, tokens) are never sent, cookies neither.
		rq.Data = ""
		rq.Cookies = ""
		for k, v := range rq.Headers {
			if s.headers[strings.ToLower(k)] {
				rq.Headers[k] = Filtered
			} else {
				rq.Headers[k] = s.value(v)
			}
		}
		rq.QueryString = s.value(s.query(rq.QueryString))
		rq.URL = s.value(rq.URL)
	}
	e.Message = s.value(e.Message)
	for i := range e.Exception {
		e.Exception[i].Value = s.value(e.Exception[i].Value)
	}
	for _, b := range e.Breadcrumbs {
		if b != nil {
			b.Message = s.value(b.Message)
		}
	}
	return e
}

func (s *scrubber) value(v string) string {
	for _, secret := range s.values {
		if strings.Contains(v, secret) {
			v = strings.ReplaceAll(v, secret, Filtered)
		}
	}
	return v
}

// query replaces the values of sensitive parameters in a raw query string, keeping the
// order and encoding of the others.
func (s *scrubber) query(q string) string {
	if q == "" {
		return q
	}
	parts := strings.Split(q, "&")
	for i, p := range parts {
		k, _, _ := strings.Cut(p, "=")
		name, err := url.QueryUnescape(k)
		if err != nil {
			name = k
		}
		if s.params[strings.ToLower(name)] {
			parts[i] = k + "=" + url.QueryEscape(Filtered)
		}
	}
	return strings.Join(parts, "&")
}

func newSentryClient(cfg *Config, sc *scrubber) (*sentry.Client, error) {
	c, err := sentry.NewClient(sentry.ClientOptions{
		Dsn:                   cfg.SentryDSN,
		Environment:           cfg.Environment,
		Release:               cfg.Release,
		EnableTracing:         cfg.TracesSampleRate > 0,
		TracesSampleRate:      cfg.TracesSampleRate,
		BeforeSend:            sc.event,
		BeforeSendTransaction: sc.event,
	})
	if err != nil {
		return nil, fmt.Errorf("%w: SentryDSN: %w", ErrInvalidConfig, err)
	}
	return c, nil
}

// sentryRequest is the Sentry state of one request.
type sentryRequest struct {
	hub *sentry.Hub
	tx  *sentry.Span
}

// startSentry binds a fresh hub to the request and, when tracing is on, starts a
// transaction continuing the caller's trace (sentry-trace, or W3C traceparent).
func (o *Observer) startSentry(ctx context.Context, r *http.Request, id string, tp traceParent, hasTP bool) (context.Context, sentryRequest) {
	hub := sentry.NewHub(o.sentry, sentry.NewScope())
	// The scope keeps the request for events; it gets a copy without the body so the SDK
	// neither buffers nor reports it.
	rc := *r
	rc.Body = nil
	hub.Scope().SetRequest(&rc)
	hub.Scope().SetTag("request_id", id)
	ctx = sentry.SetHubOnContext(ctx, hub)
	sr := sentryRequest{hub: hub}
	if o.cfg.TracesSampleRate <= 0 {
		return ctx, sr
	}
	trace := r.Header.Get(sentry.SentryTraceHeader)
	if trace == "" && hasTP {
		trace = tp.traceID + "-" + tp.spanID
		if tp.sampled {
			trace += "-1"
		}
	}
	sr.tx = sentry.StartTransaction(ctx, r.Method+" "+o.cfg.UnmatchedRoute,
		sentry.ContinueTrace(hub, trace, r.Header.Get(sentry.SentryBaggageHeader)),
		sentry.WithOpName("http.server"),
		sentry.WithTransactionSource(sentry.SourceRoute),
	)
	sr.tx.SetData("http.request.method", r.Method)
	return sr.tx.Context(), sr
}

// finish names the transaction after the route pattern and sends it.
func (sr sentryRequest) finish(route string, status int) {
	if sr.tx == nil {
		return
	}
	sr.tx.Name = route
	sr.tx.Source = sentry.SourceRoute
	sr.tx.Status = sentry.HTTPtoSpanStatus(status)
	sr.tx.SetData("http.response.status_code", status)
	sr.tx.Finish()
}

// recovered reports a panic value to Sentry as an unhandled exception (mechanism
// "panic") with the stack of the panicking goroutine.
func (sr sentryRequest) recovered(ctx context.Context, route string, rec any) {
	if sr.hub == nil {
		return
	}
	err, ok := rec.(error)
	if !ok {
		err = panicValue{rec}
	}
	event := sr.hub.Client().EventFromException(err, sentry.LevelFatal)
	if n := len(event.Exception); n > 0 {
		m := &sentry.Mechanism{Type: "panic"}
		m.SetUnhandled()
		event.Exception[n-1].Mechanism = m
		if !ok {
			event.Exception[n-1].Type = "panic"
		}
	}
	scope := sr.hub.Scope()
	scope.SetTag("route", route)
	scope.AddEventProcessor(func(e *sentry.Event, _ *sentry.EventHint) *sentry.Event {
		if e.Type == "" { // an error event, not a transaction
			e.Transaction = route
		}
		return e
	})
	sr.hub.CaptureEventWithHint(event, &sentry.EventHint{Context: ctx, RecoveredException: rec})
}

// panicValue reports a non-error panic value as an exception of type "panic".
type panicValue struct{ v any }

func (p panicValue) Error() string {
	if s, ok := p.v.(string); ok {
		return s
	}
	return fmt.Sprintf("%#v", p.v)
}

// Shutdown sends the Sentry events still buffered and releases the Sentry client,
// waiting at most FlushTimeout or until ctx is done, whichever comes first. It returns
// ErrFlushTimeout when events were left unsent, and nil when Sentry is off. Later calls
// return the first call's result. The Observer must not serve requests after Shutdown.
func (o *Observer) Shutdown(ctx context.Context) error {
	if o.sentry == nil {
		return nil
	}
	o.shutdownOnce.Do(func() { o.shutdownErr = o.flushAndClose(ctx) })
	return o.shutdownErr
}

func (o *Observer) flushAndClose(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, o.cfg.FlushTimeout)
	defer cancel()
	flushed := o.sentry.FlushWithContext(ctx)
	done := make(chan struct{})
	go func() {
		o.sentry.Close()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
	}
	if !flushed {
		return ErrFlushTimeout
	}
	return nil
}
