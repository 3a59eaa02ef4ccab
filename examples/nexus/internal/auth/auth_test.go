package auth

import (
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

// FuzzAuthorizationHeader: no Authorization header value authenticates without a token
// signed with the key, and none panics. (A forged token fails before any session lookup,
// so the Service needs no database here.)
func FuzzAuthorizationHeader(f *testing.F) {
	for _, s := range []string{"Bearer x.y.z", "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.", "bearer  ", "Basic Zm9vOmJhcg==", strings.Repeat("A", 5000)} {
		f.Add(s)
	}
	s, err := New(nil, Config{JWTSecretKey: "fuzz-key-fuzz-key-fuzz-key-fuzz-key", BcryptCost: bcrypt.MinCost})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, h string) {
		if p, err := s.Authenticate(t.Context(), h); err == nil || p != nil {
			t.Fatalf("header %q authenticated as %+v", h, p)
		}
	})
}
