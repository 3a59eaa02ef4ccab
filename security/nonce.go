package security

import (
	"context"
	"crypto/rand"
	"encoding/base64"
)

type ctxKey struct{}

// Nonce returns the CSP nonce of the request whose context is ctx, drawing it on the
// first call, or "" when the middleware did not run, the policy has no NonceSource, or the
// response's header was already written. Put it in the nonce attribute of inline <script>
// and <style> elements:
//
//	<script nonce="{{.Nonce}}">boot()</script>
//
// A response whose handler never calls Nonce is sent the policy without its nonce (see
// CSPConfig.Policy), so only pages that use one pay for drawing it and carry it. Call it
// from the handler's goroutine before writing the response: it sets the policy header.
func Nonce(ctx context.Context) string {
	if st, ok := ctx.Value(ctxKey{}).(*reqState); ok {
		return st.drawNonce()
	}
	return ""
}

// drawNonce draws the request's nonce on first use and sends the policy rendered with
// it in place of the one without.
func (st *reqState) drawNonce() string {
	if st.nonce != "" || st.wroteHeader || st.policy == nil || !st.policy.usesNonce() {
		return st.nonce
	}
	var value string
	value, st.nonce = st.policy.renderNewNonce()
	st.w.Header()[st.s.cspHeader] = []string{value}
	return st.nonce
}

// nonceLen is the length of a nonce: 128 bits in base64.
const nonceLen = 24

// fillNonce writes 128 random bits, base64-encoded, to dst.
func fillNonce(dst *[nonceLen]byte) {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	base64.StdEncoding.Encode(dst[:], b[:])
}
