package pagerduty

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func FuzzParseResponse(f *testing.F) {
	for _, s := range []string{
		`{"status":"success","message":"Event processed","dedup_key":"warroom-inc-1"}`,
		`{"status":"invalid event","message":"Event object is invalid","errors":["Length of 'routing_key' is incorrect (should be 32 characters)"]}`,
		`{"status":"Unrecognized object","message":"Event object format is unrecognized","errors":["JSON parse error"]}`,
		`{"errors":"not a list"}`, `[]`, `null`, `<html>502</html>`, "",
	} {
		f.Add([]byte(s), "R0UT1NGKEY0000000000000000000000")
	}
	f.Fuzz(func(t *testing.T, body []byte, key string) {
		r, err := ParseResponse(body)
		if err != nil && (r.Status != "" || r.Message != "" || r.DedupKey != "" || r.Errors != nil) {
			t.Fatalf("ParseResponse(%q) = %+v with error %v", body, r, err)
		}
		d := describe(body, key)
		if !utf8.ValidString(d) {
			t.Fatalf("describe(%q) = %q is not UTF-8", body, d)
		}
		if strings.ContainsAny(d, "\n\r\x00") {
			t.Fatalf("describe(%q) = %q has control characters", body, d)
		}
		if utf8.RuneCountInString(d) > 4000 {
			t.Fatalf("describe(%q) is %d characters long", body, utf8.RuneCountInString(d))
		}
	})
}
