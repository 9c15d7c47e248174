package server

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"
)

// Token is a shared secret that callers present with each request. It keeps
// only the secret's hash, and compares in constant time: both sides are
// hashed first, so the comparison takes as long whatever their lengths.
type Token struct {
	hash [sha256.Size]byte
	set  bool
}

// NewToken returns a token for secret. An empty secret makes a token that
// nothing matches.
func NewToken(secret string) Token {
	return Token{hash: sha256.Sum256([]byte(secret)), set: secret != ""}
}

// IsSet reports whether the token has a secret.
func (t Token) IsSet() bool { return t.set }

// Matches reports whether s is the secret.
func (t Token) Matches(s string) bool {
	got := sha256.Sum256([]byte(s))
	return subtle.ConstantTimeCompare(got[:], t.hash[:]) == 1 && t.set
}

// Bearer reports whether r carries the secret as "Authorization: Bearer".
func (t Token) Bearer(r *http.Request) bool {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	return t.Matches(strings.TrimSpace(token))
}

// BearerOrBasic reports whether r carries the secret as a bearer token or
// as the password of basic auth (the user name is ignored). Alertmanager's
// http_config and Grafana's contact points can send either.
func (t Token) BearerOrBasic(r *http.Request) bool {
	if _, password, ok := r.BasicAuth(); ok {
		return t.Matches(password)
	}
	return t.Bearer(r)
}
