package server

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestTokenBearerOrBasic(t *testing.T) {
	tok := NewToken("s3cret")
	cases := []struct {
		name string
		set  func(r *http.Request)
		want bool
	}{
		{"bearer", func(r *http.Request) { r.Header.Set("Authorization", "Bearer s3cret") }, true},
		{"bearer any case", func(r *http.Request) { r.Header.Set("Authorization", "bearer s3cret") }, true},
		{"basic password", func(r *http.Request) { r.SetBasicAuth("alertmanager", "s3cret") }, true},
		{"basic empty user", func(r *http.Request) { r.SetBasicAuth("", "s3cret") }, true},
		{"wrong bearer", func(r *http.Request) { r.Header.Set("Authorization", "Bearer s3cre") }, false},
		{"token as basic user", func(r *http.Request) { r.SetBasicAuth("s3cret", "") }, false},
		{"no header", func(r *http.Request) {}, false},
		{"other scheme", func(r *http.Request) { r.Header.Set("Authorization", "Token s3cret") }, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/hooks/generic", nil)
			c.set(r)
			if got := tok.BearerOrBasic(r); got != c.want {
				t.Errorf("BearerOrBasic = %v, want %v", got, c.want)
			}
		})
	}
	r := httptest.NewRequest("POST", "/", nil)
	r.Header.Set("Authorization", "Bearer ")
	if NewToken("").Bearer(r) || NewToken("").Matches("") {
		t.Error("an empty token must match nothing")
	}
}

func TestHandleLimitedHasItsOwnBodyLimit(t *testing.T) {
	s := New(Options{MaxBodyBytes: 10})
	echo := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := ReadBody(w, r)
		if err != nil {
			WriteError(w, r, err)
			return
		}
		WriteJSON(w, 200, map[string]int{"n": len(body)})
	})
	s.Handle("POST /small", echo)
	s.HandleLimited("POST /big", 100, echo)
	for _, c := range []struct {
		path string
		n    int
		code int
	}{
		{"/small", 10, 200}, {"/small", 11, 413}, {"/big", 100, 200}, {"/big", 101, 413}, {"/big", 0, 400},
	} {
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, httptest.NewRequest("POST", c.path, strings.NewReader(strings.Repeat("x", c.n))))
		if rec.Code != c.code {
			t.Errorf("POST %s with %d bytes: %d %s, want %d", c.path, c.n, rec.Code, rec.Body, c.code)
		}
		if c.code == 413 && !strings.Contains(rec.Body.String(), "larger than") {
			t.Errorf("413 body %s does not say why", rec.Body)
		}
	}
}
