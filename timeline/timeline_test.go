package timeline

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestEntryJSONRoundTrip(t *testing.T) {
	e := Entry{Seq: 3, At: 1234567 * time.Microsecond, What: "idp.token", Fields: Fields{"grant_type": "refresh_token"}}
	b, err := json.Marshal(e)
	if err != nil || !strings.Contains(string(b), `"at_ms":1234.567`) {
		t.Fatalf("marshal: %s %v", b, err)
	}
	var back Entry
	if err := json.Unmarshal(b, &back); err != nil || back.At != e.At || back.Seq != 3 || back.Fields["grant_type"] != "refresh_token" {
		t.Fatalf("round trip: %+v %v", back, err)
	}
}

func TestRedact(t *testing.T) {
	in := "#access_token=abc.def&state=xyz&id_token=eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhIn0.sig&code=c0de"
	out := Redact(in)
	for _, secret := range []string{"abc.def", "eyJhbGciOiJSUzI1NiJ9", "c0de"} {
		if strings.Contains(out, secret) {
			t.Errorf("Redact(%q) = %q still holds %q", in, out, secret)
		}
	}
	if !strings.Contains(out, "state=xyz") || !strings.Contains(out, "access_token=fp:") {
		t.Errorf("Redact(%q) = %q", in, out)
	}
	if Redact(out) != out {
		t.Errorf("Redact is not idempotent: %q", Redact(out))
	}
}

// Every shape a secret reaches the timeline in: query and fragment, form and
// percent-encoded inside another URL, JSON objects (nested, with the quotes
// escaped once when the JSON is itself inside a string), JS object text, a
// printed map, an Authorization header, a JWT, fosite's opaque tokens and free
// error text quoting them. What is not a secret stays readable.
func TestRedactShapes(t *testing.T) {
	const jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhIn0.c2lnbmF0dXJl"
	for _, tc := range []struct {
		in      string
		secrets []string
		keep    []string
	}{
		{"https://app/cb?code=c0de-123&state=st4te", []string{"c0de-123"}, []string{"state=st4te"}},
		{"#access_token=at-secret&token_type=bearer&expires_in=60", []string{"at-secret"}, []string{"token_type=bearer", "expires_in=60"}},
		{"grant_type=refresh_token&refresh_token=rt-secret&client_id=spa", []string{"rt-secret"}, []string{"grant_type=refresh_token", "client_id=spa"}},
		{"code_verifier=verifier-0123456789&code_challenge=chal", []string{"verifier-0123456789"}, []string{"code_challenge=chal"}},
		{"redirect=https%3A%2F%2Fapp%2Fcb%23code%3Dc0de-enc%26state%3Dst", []string{"c0de-enc"}, []string{"%26state%3Dst"}},
		{`{"access_token":"at-json","token_type":"Bearer","expires_in":3600}`, []string{"at-json"}, []string{`"token_type":"Bearer"`, `"expires_in":3600`}},
		{`{"type":"authorization_response","response":{"code":"c0de-nested","state":"st"}}`, []string{"c0de-nested"}, []string{`"state":"st"`, "authorization_response"}},
		{`"{\"refresh_token\": \"rt-escaped\"}"`, []string{"rt-escaped"}, nil},
		{`{ id_token: 'idt-js-0123456789', scope: 'openid' }`, []string{"idt-js-0123456789"}, []string{"scope: 'openid'"}},
		{`map[code_verifier:verifier-map-0123 grant_type:authorization_code]`, []string{"verifier-map-0123"}, []string{"grant_type:authorization_code"}},
		{"Authorization: Bearer opaque-token-0123456789", []string{"opaque-token-0123456789"}, []string{"Authorization: Bearer"}},
		{"id_token " + jwt + " failed validation", []string{jwt, "c2lnbmF0dXJl"}, []string{"failed validation"}},
		{"invalid_grant: ory_rt_AbCdEf0123.SiGnAtUrE-_x is revoked", []string{"ory_rt_AbCdEf0123", "SiGnAtUrE-_x"}, []string{"invalid_grant", "is revoked"}},
		{`Error: token request failed: {"error":"invalid_grant","refresh_token":"rt-in-error"}`, []string{"rt-in-error"}, []string{`"error":"invalid_grant"`}},
		{"status code: 500, error_code=E42", nil, []string{"code: 500", "error_code=E42"}},
		{"http://localhost:4200/silent-refresh.html", nil, []string{"http://localhost:4200/silent-refresh.html"}},
	} {
		out := Redact(tc.in)
		for _, secret := range tc.secrets {
			if strings.Contains(out, secret) {
				t.Errorf("Redact(%q) = %q still holds %q", tc.in, out, secret)
			}
		}
		if len(tc.secrets) > 0 && !strings.Contains(out, "fp:") {
			t.Errorf("Redact(%q) = %q has no fingerprint", tc.in, out)
		}
		for _, k := range tc.keep {
			if !strings.Contains(out, k) {
				t.Errorf("Redact(%q) = %q lost %q", tc.in, out, k)
			}
		}
		if Redact(out) != out {
			t.Errorf("Redact is not idempotent on %q: %q", out, Redact(out))
		}
	}
	// A query value is fingerprinted decoded, as the IdP fingerprints it.
	if out := Redact("?code=a%2Fb"); out != "?code="+Fingerprint("a/b") {
		t.Errorf("Redact(?code=a%%2Fb) = %q, want the fingerprint of a/b", out)
	}
}

func TestValidate(t *testing.T) {
	if err := Validate([]Entry{{What: "idp.token", Fields: Fields{"grant_type": "x"}}}); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []Entry{
		{What: "idp.nope"},
		{What: "idp.token", Fields: Fields{"colour": "x"}},
		{What: "idp.token", Fields: Fields{"refresh_token": "absent"}},
	} {
		if Validate([]Entry{bad}) == nil {
			t.Errorf("Validate(%+v) = nil, want an error", bad)
		}
	}
}
