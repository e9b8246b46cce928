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
