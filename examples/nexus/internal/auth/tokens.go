package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/nexus-reussite/harden/examples/nexus/internal/config"
	"github.com/nexus-reussite/harden/examples/nexus/internal/domain"
)

// Token lifetimes and issuer.
const (
	AccessTTL  = time.Hour
	RefreshTTL = 30 * 24 * time.Hour
	Issuer     = "nexus-reussite"
)

// Token types, in the "typ" claim.
const (
	typAccess  = "access"
	typRefresh = "refresh"
)

// claims are the JWT claims of both token types.
type claims struct {
	jwt.RegisteredClaims
	Type string      `json:"typ"`
	Role domain.Role `json:"role,omitempty"`
	SID  string      `json:"sid"`
}

// TokenPair is the body of the login and refresh responses.
type TokenPair struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int    `json:"expires_in"`
}

func (s *Service) sign(c claims) (string, error) {
	return jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString([]byte(s.cfg.JWTSecretKey))
}

// parseToken verifies the signature (HS256 only), issuer, expiry and type of raw.
func (s *Service) parseToken(raw, typ string) (*claims, error) {
	c := &claims{}
	_, err := jwt.ParseWithClaims(raw, c, func(*jwt.Token) (any, error) {
		return []byte(s.cfg.JWTSecretKey), nil
	},
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithIssuer(Issuer),
		jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(s.now),
		jwt.WithLeeway(5*time.Second),
	)
	if err != nil || c.Type != typ || c.SID == "" || c.Subject == "" {
		return nil, ErrTokenInvalid
	}
	return c, nil
}

// refreshDigest is what the database stores of a refresh token: HMAC(SECRET_KEY, jti).
func (s *Service) refreshDigest(jti string) string {
	m := hmac.New(sha256.New, []byte(s.cfg.SecretKey))
	m.Write([]byte(jti))
	return hex.EncodeToString(m.Sum(nil))
}

// newPair signs an access and a refresh token of session sid; the refresh token's
// digest is to be recorded with its expiry.
func (s *Service) newPair(userID int64, role domain.Role, sid string) (pair *TokenPair, digest string, expires time.Time, err error) {
	now := s.now()
	sub := strconv.FormatInt(userID, 10)
	access, err := s.sign(claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer: Issuer, Subject: sub, ID: config.RandomHex(16),
			IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(AccessTTL)),
		},
		Type: typAccess, Role: role, SID: sid,
	})
	if err != nil {
		return nil, "", time.Time{}, err
	}
	jti := config.RandomHex(16)
	expires = now.Add(RefreshTTL)
	refresh, err := s.sign(claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer: Issuer, Subject: sub, ID: jti,
			IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(expires),
		},
		Type: typRefresh, SID: sid,
	})
	if err != nil {
		return nil, "", time.Time{}, err
	}
	pair = &TokenPair{AccessToken: access, RefreshToken: refresh, TokenType: "Bearer", ExpiresIn: int(AccessTTL / time.Second)}
	return pair, s.refreshDigest(jti), expires, nil
}
