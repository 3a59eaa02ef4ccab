package security

import (
	"context"
	"crypto/rand"
	"encoding/base64"
)

type ctxKey struct{}

// Nonce returns the CSP nonce of the request whose context is ctx, or "" when the
// middleware did not run or the policy has no NonceSource. Put it in the nonce attribute
// of inline <script> and <style> elements:
//
//	<script nonce="{{.Nonce}}">boot()</script>
func Nonce(ctx context.Context) string {
	if st, ok := ctx.Value(ctxKey{}).(*reqState); ok {
		return st.nonce
	}
	return ""
}

// nonceLen is the length of a nonce: 128 bits in base64.
const nonceLen = 24

// newNonce returns 128 random bits, base64-encoded (24 characters).
func newNonce() string {
	var b [nonceLen]byte
	fillNonce(&b)
	return string(b[:])
}

// fillNonce writes 128 random bits, base64-encoded, to dst.
func fillNonce(dst *[nonceLen]byte) {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	base64.StdEncoding.Encode(dst[:], b[:])
}
