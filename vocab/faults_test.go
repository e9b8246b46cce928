package vocab

import (
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

// faultErr is the KeyError Validate gives for f, or a test failure.
func faultErr(t *testing.T, f Fault) *KeyError {
	t.Helper()
	err := f.Validate()
	if err == nil {
		t.Fatalf("Validate(%+v) accepted it", f)
	}
	return err
}

// A when key an endpoint never reads would never match: a typo such as
// promt is refused with the key and the names the endpoint does read.
func TestFaultWhenKeysAreTheEndpointsParameters(t *testing.T) {
	for _, tc := range []struct {
		f         Fault
		key, want string
	}{
		{Fault{On: "authorize", When: map[string]string{"promt": "none"}, Do: "page-without-redirect"}, "when.promt",
			`authorize reads no parameter "promt" (known: client_id, prompt, response_type, response_mode, redirect_uri, scope, state, nonce, code_challenge_method, max_age, id_token_hint)`},
		{Fault{On: "token", When: map[string]string{"grant": "refresh_token"}, Do: "server-error"}, "when.grant",
			`token reads no parameter "grant" (known: grant_type, client_id, scope, refresh_token, code, code_verifier, redirect_uri)`},
		{Fault{On: "token", When: map[string]string{"prompt": "none"}, Do: "server-error"}, "when.prompt", `token reads no parameter "prompt"`},
		{Fault{On: "revoke", When: map[string]string{"grant_type": "refresh_token"}, Do: "server-error"}, "when.grant_type",
			`revoke reads no parameter "grant_type" (known: token, token_type_hint, client_id)`},
		{Fault{On: "userinfo", When: map[string]string{"access_token": "x"}, Do: "server-error"}, "when.access_token",
			"userinfo reads no request parameter a fault could match: leave when out"},
	} {
		ce := faultErr(t, tc.f)
		if ce.Key != tc.key || !strings.Contains(ce.Msg, tc.want) {
			t.Errorf("%+v: %s: %s, want %s: ...%s...", tc.f, ce.Key, ce.Msg, tc.key, tc.want)
		}
	}
	for _, f := range []Fault{
		{On: "authorize", When: map[string]string{"prompt": "none", "client_id": "spa", "id_token_hint": "x", "max_age": "0"}, Do: "page-without-redirect"},
		{On: "token", When: map[string]string{"grant_type": "refresh_token", "scope": "openid"}, Do: "invalid-grant"},
		{On: "revoke", When: map[string]string{"token_type_hint": "refresh_token"}, Do: "server-error"},
		{On: "userinfo", Do: "server-error"},
	} {
		if err := f.Validate(); err != nil {
			t.Errorf("Validate(%+v) = %v, want it accepted", f, err)
		}
	}
}

// An action is refused where it can alter nothing: on an endpoint whose
// responses do not carry what it alters, or with a when that only requests
// it cannot alter satisfy (such a fault would never fire).
func TestFaultActionsApplyWhereTheyAlterSomething(t *testing.T) {
	for _, tc := range []struct {
		f         Fault
		key, want string
	}{
		{Fault{On: "userinfo", Do: "id-token-wrong-iss"}, "do", `"id-token-wrong-iss" applies to authorize and token only`},
		{Fault{On: "revoke", Do: "id-token-alg-none"}, "do", "applies to authorize and token only"},
		{Fault{On: "token", When: map[string]string{"grant_type": "client_credentials"}, Do: "id-token-wrong-sub"}, "when.grant_type",
			`do: id-token-wrong-sub alters the responses to grant_type authorization_code and refresh_token only, never "client_credentials"`},
		{Fault{On: "token", When: map[string]string{"grant_type": "refresh_token"}, Do: "id-token-no-nonce"}, "when.grant_type",
			`alters the responses to grant_type authorization_code only, never "refresh_token"`},
		{Fault{On: "token", When: map[string]string{"refresh_token": "x"}, Do: "id-token-no-nonce"}, "when.refresh_token",
			"do: id-token-no-nonce alters authorization_code requests, which carry no refresh_token"},
		{Fault{On: "authorize", When: map[string]string{"response_type": "token"}, Do: "id-token-expired"}, "when.response_type",
			`do: id-token-expired alters nothing in the response to response_type "token"`},
		{Fault{On: "authorize", When: map[string]string{"response_type": "id_token"}, Do: "id-token-wrong-at-hash"}, "when.response_type",
			`alters nothing in the response to response_type "id_token"`},
		{Fault{On: "authorize", When: map[string]string{"scope": "profile offline_access"}, Do: "id-token-wrong-aud"}, "when.scope",
			`do: id-token-wrong-aud alters an id_token, and scope "profile offline_access" asks for none (no openid)`},
		{Fault{On: "authorize", Do: "refresh-no-id-token"}, "do", `"refresh-no-id-token" applies to token only`},
		{Fault{On: "token", When: map[string]string{"grant_type": "authorization_code"}, Do: "refresh-wider-scope"}, "when.grant_type",
			`alters the responses to grant_type refresh_token only, never "authorization_code"`},
		{Fault{On: "token", When: map[string]string{"code_verifier": "x"}, Do: "refresh-no-refresh-token"}, "when.code_verifier",
			"do: refresh-no-refresh-token alters refresh_token requests, which carry no code_verifier"},
		{Fault{On: "authorize", Do: "invalid-grant"}, "do", `"invalid-grant" applies to token only`},
		{Fault{On: "token", Do: "wrong-state"}, "do", `"wrong-state" applies to authorize only`},
	} {
		ce := faultErr(t, tc.f)
		if ce.Key != tc.key || !strings.Contains(ce.Msg, tc.want) {
			t.Errorf("%+v: %s: %s, want %s: ...%s...", tc.f, ce.Key, ce.Msg, tc.key, tc.want)
		}
	}
	for _, f := range []Fault{
		{On: "token", When: map[string]string{"grant_type": "refresh_token", "scope": "openid"}, Do: "refresh-expires-in-string"},
		{On: "token", Do: "refresh-no-expires-in"},
		{On: "authorize", When: map[string]string{"prompt": "none", "response_mode": "web_message"}, Do: "wrong-state"},
		{On: "authorize", When: map[string]string{"prompt": "none"}, Do: "id-token-wrong-iss"},
		{On: "authorize", When: map[string]string{"response_type": "id_token token", "scope": "openid profile"}, Do: "id-token-wrong-at-hash"},
		{On: "authorize", When: map[string]string{"response_type": "code"}, Do: "id-token-wrong-at-hash"},
		{On: "token", When: map[string]string{"grant_type": "authorization_code", "code_verifier": "x"}, Do: "id-token-no-nonce"},
		{On: "token", When: map[string]string{"scope": "openid"}, Do: "id-token-bad-signature"},
		{On: "token", Do: "id-token-unknown-kid", Times: 1, Skip: 2},
	} {
		if err := f.Validate(); err != nil {
			t.Errorf("Validate(%+v) = %v, want it accepted", f, err)
		}
	}
}

// Every action is documented, has a rule, and the reverse.
func TestEveryActionHasARule(t *testing.T) {
	for do := range Actions {
		if _, ok := rules[do]; !ok {
			t.Errorf("action %s has no rule", do)
		}
	}
	for do := range rules {
		if _, ok := Actions[do]; !ok {
			t.Errorf("rule %s has no documentation in Actions", do)
		}
	}
}

// Every action has its row in the faults tables of the scenario format.
func TestEveryActionIsInTheFaultsTable(t *testing.T) {
	doc, err := os.ReadFile("../docs/scenarios.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, do := range ActionNames() {
		if !regexp.MustCompile("(?m)^\\| [^|\\n]* \\| `" + regexp.QuoteMeta(do) + "`[^|\\n]* \\| .").Match(doc) {
			t.Errorf("docs/scenarios.md has no faults table row for %s", do)
		}
	}
}

// A hold takes no delay: the harness ends it, not a guess.
func TestHoldTakesNoDelay(t *testing.T) {
	err := Fault{On: "token", Do: "hold", Delay: time.Second}.Validate()
	if err == nil || !strings.Contains(err.Error(), "release step") {
		t.Fatalf("hold with a delay: %v", err)
	}
}
