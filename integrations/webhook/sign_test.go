package webhook

import (
	"strings"
	"testing"
)

func TestSignKnownVector(t *testing.T) {
	// GitHub's documented example for X-Hub-Signature-256 (same scheme).
	got := Sign([]byte("It's a Secret to Everybody"), []byte("Hello, World!"))
	want := "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
	if got != want {
		t.Fatalf("Sign = %s, want %s", got, want)
	}
}

func TestVerify(t *testing.T) {
	secret, body := []byte("s3cret"), []byte(`{"a":1}`)
	good := Sign(secret, body)
	cases := []struct {
		name   string
		secret []byte
		body   []byte
		header string
		want   bool
	}{
		{"good", secret, body, good, true},
		{"good with spaces", secret, body, " " + good + " ", true},
		{"other body", secret, []byte(`{"a":2}`), good, false},
		{"other secret", []byte("other"), body, good, false},
		{"empty secret", nil, body, Sign(nil, body), false},
		{"no prefix", secret, body, strings.TrimPrefix(good, "sha256="), false},
		{"sha1 prefix", secret, body, "sha1=" + strings.TrimPrefix(good, "sha256="), false},
		{"not hex", secret, body, "sha256=zz", false},
		{"truncated", secret, body, good[:len(good)-2], false},
		{"empty", secret, body, "", false},
	}
	for _, c := range cases {
		if got := Verify(c.secret, c.body, c.header); got != c.want {
			t.Errorf("%s: Verify = %v, want %v", c.name, got, c.want)
		}
	}
}

func FuzzVerify(f *testing.F) {
	f.Add([]byte("k"), []byte("body"), "sha256=00")
	f.Fuzz(func(t *testing.T, secret, body []byte, header string) {
		if Verify(secret, body, header) && len(secret) > 0 && header != Sign(secret, body) &&
			strings.TrimSpace(header) != Sign(secret, body) && !strings.EqualFold(strings.TrimSpace(header), Sign(secret, body)) {
			t.Fatalf("Verify accepted %q, which is not the signature", header)
		}
		if len(secret) > 0 && !Verify(secret, body, Sign(secret, body)) {
			t.Fatal("Verify refused a signature made by Sign")
		}
	})
}
