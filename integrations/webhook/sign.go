// Package webhook signs and verifies the JSON bodies that Warroom sends to,
// and accepts from, outside tools: pages sent to a generic webhook, rollback
// requests to a deploy tool, and the status callbacks that tool sends back.
//
// The signature is HMAC-SHA256 of the exact body with a shared secret, sent
// as the header X-Warroom-Signature: sha256=<lowercase hex>, the same scheme
// GitHub uses for X-Hub-Signature-256.
package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// SignatureHeader carries the body's signature.
const SignatureHeader = "X-Warroom-Signature"

// signaturePrefix starts a signature header's value.
const signaturePrefix = "sha256="

// Sign returns the signature header value for body: "sha256=<hex>".
func Sign(secret, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return signaturePrefix + hex.EncodeToString(m.Sum(nil))
}

// Verify reports whether header is body's signature under secret. It
// compares in constant time, and an empty secret verifies nothing.
func Verify(secret, body []byte, header string) bool {
	if len(secret) == 0 {
		return false
	}
	hexSig, ok := strings.CutPrefix(strings.TrimSpace(header), signaturePrefix)
	if !ok {
		return false
	}
	got, err := hex.DecodeString(hexSig)
	if err != nil || len(got) != sha256.Size {
		return false
	}
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return hmac.Equal(got, m.Sum(nil))
}
