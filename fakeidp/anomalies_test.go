package fakeidp

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v3"

	"github.com/refreshsuite/refreshsuite/vocab"
)

// testKey is one signing key for the many providers these tests start (an
// RSA key takes a moment under -race).
var testKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

// answer is one response that carries tokens, as the client sees it: the
// token endpoint's JSON, or the parameters of an authorization response.
type answer struct {
	fields map[string]any
}

func (a answer) str(k string) string { s, _ := a.fields[k].(string); return s }

// postTokenRaw posts to the token endpoint and returns the JSON as sent.
func postTokenRaw(t *testing.T, s *Server, form url.Values) (answer, int) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, s.Endpoint(EndpointToken), strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := s.HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	a := answer{fields: map[string]any{}}
	if err := json.NewDecoder(resp.Body).Decode(&a.fields); err != nil {
		t.Fatal(err)
	}
	return a, resp.StatusCode
}

func exchange(t *testing.T, s *Server, code string) answer {
	t.Helper()
	a, status := postTokenRaw(t, s, url.Values{
		"grant_type": {"authorization_code"}, "code": {code}, "client_id": {"spa"},
		"redirect_uri": {redirect}, "code_verifier": {verifier},
	})
	if status != 200 {
		t.Fatalf("code exchange: %d %v", status, a.fields)
	}
	return a
}

func refreshRaw(t *testing.T, s *Server, rt string) answer {
	t.Helper()
	a, status := postTokenRaw(t, s, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {"spa"}})
	if status != 200 {
		t.Fatalf("refresh: %d %v", status, a.fields)
	}
	return a
}

func fromParams(p url.Values) answer {
	a := answer{fields: map[string]any{}}
	for k := range p {
		a.fields[k] = p.Get(k)
	}
	return a
}

// flow is one way a client gets an id_token, run twice on one provider
// whose clock stands still: the fault (with skip: 1) lets the first run
// through, so the second differs from it only by the anomaly.
type flow struct {
	name  string
	on    string
	when  map[string]string
	run   func(t *testing.T, s *Server, st *flowState) answer
	grant string // the grant of the token response that carries the id_token, "" for /authorize
}

// flowState is what the runs of one flow share: the browser with its
// login session, the refresh token to use next.
type flowState struct {
	hc *http.Client
	rt string
}

var flows = []flow{
	{name: "login-code-exchange", on: "token", when: map[string]string{"grant_type": "authorization_code"}, grant: "authorization_code",
		run: func(t *testing.T, s *Server, st *flowState) answer {
			p, _ := authorize(t, browserFor(t, s), s, nil)
			return exchange(t, s, p.Get("code"))
		}},
	{name: "login-authorize", on: "authorize", when: map[string]string{"response_type": "code"}, grant: "authorization_code",
		run: func(t *testing.T, s *Server, st *flowState) answer {
			p, _ := authorize(t, browserFor(t, s), s, nil)
			return exchange(t, s, p.Get("code"))
		}},
	{name: "refresh", on: "token", when: map[string]string{"grant_type": "refresh_token"}, grant: "refresh_token",
		run: func(t *testing.T, s *Server, st *flowState) answer {
			if st.rt == "" {
				_, tr := login(t, s, "openid offline_access")
				st.rt = tr.RefreshToken
			}
			a := refreshRaw(t, s, st.rt)
			st.rt = a.str("refresh_token")
			return a
		}},
	{name: "silent-renewal-code", on: "authorize", when: map[string]string{"prompt": "none"}, grant: "authorization_code",
		run: func(t *testing.T, s *Server, st *flowState) answer {
			if st.hc == nil {
				st.hc, _ = login(t, s, "openid offline_access")
			}
			p, _ := authorize(t, st.hc, s, url.Values{"prompt": {"none"}})
			if p.Get("code") == "" {
				t.Fatalf("prompt=none: %v", p)
			}
			return exchange(t, s, p.Get("code"))
		}},
	{name: "silent-renewal-implicit", on: "authorize", when: map[string]string{"prompt": "none"},
		run: func(t *testing.T, s *Server, st *flowState) answer {
			if st.hc == nil {
				st.hc, _ = login(t, s, "openid offline_access")
			}
			p, _ := authorize(t, st.hc, s, url.Values{
				"prompt": {"none"}, "response_type": {"id_token token"}, "code_challenge": nil, "code_challenge_method": nil,
			})
			if p.Get("id_token") == "" {
				t.Fatalf("prompt=none implicit: %v", p)
			}
			return fromParams(p)
		}},
}

// jwtParts decodes a JWT's header and claims without checking anything.
func jwtParts(t *testing.T, tok string) (header, claims map[string]any, sig string) {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", tok)
	}
	for i, v := range []*map[string]any{&header, &claims} {
		raw, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(raw, v); err != nil {
			t.Fatal(err)
		}
	}
	return header, claims, parts[2]
}

func jwsErr(set jose.JSONWebKeySet, tok string) error {
	_, _, err := verifyJWS(set, tok)
	return err
}

// atHash is OpenID Connect's at_hash of an RS256 id_token's access token.
func atHash(at string) string {
	sum := sha256.Sum256([]byte(at))
	return base64.RawURLEncoding.EncodeToString(sum[:16])
}

// idTokenCase says what an action does to the id_token of a flow: the
// header and claims a correct provider would have sent, changed as the
// action promises.
type idTokenCase struct {
	do     string
	want   func(s *Server, header, claims map[string]any)
	sig    string // why the signature fails against the JWKS, "" when it verifies
	skipIf func(f flow) bool
}

func TestIDTokenAnomalies(t *testing.T) {
	cases := []idTokenCase{
		{do: "id-token-wrong-iss", want: func(s *Server, h, c map[string]any) { c["iss"] = s.origin + "/another-issuer" }},
		{do: "id-token-wrong-sub", want: func(s *Server, h, c map[string]any) { c["sub"] = "another-alice" }},
		{do: "id-token-wrong-aud", want: func(s *Server, h, c map[string]any) { c["aud"] = []any{"another-spa"} }},
		{do: "id-token-wrong-azp", want: func(s *Server, h, c map[string]any) { c["azp"] = "another-spa" }},
		{do: "id-token-no-nonce", want: func(s *Server, h, c map[string]any) { delete(c, "nonce") },
			skipIf: func(f flow) bool { return f.grant == "refresh_token" }},
		{do: "id-token-wrong-nonce", want: func(s *Server, h, c map[string]any) { c["nonce"] = "another-nonce-12345678" }},
		{do: "id-token-wrong-at-hash", want: func(s *Server, h, c map[string]any) { c["at_hash"] = "(not the access token's)" }},
		{do: "id-token-expired", want: func(s *Server, h, c map[string]any) { c["exp"] = c["iat"].(float64) - 3600 }},
		{do: "id-token-future-iat", want: func(s *Server, h, c map[string]any) { c["iat"] = c["iat"].(float64) + 3600 }},
		{do: "id-token-unknown-kid", want: func(s *Server, h, c map[string]any) { h["kid"] = "refreshsuite-unknown" },
			sig: `kid "refreshsuite-unknown": 0 keys in the published set`},
		{do: "id-token-bad-signature", want: func(s *Server, h, c map[string]any) {}, sig: "signature: go-jose/go-jose: error in cryptographic primitive"},
		{do: "id-token-alg-none", want: func(s *Server, h, c map[string]any) { h["alg"] = "none" }, sig: "unsigned"},
		{do: "id-token-no-kid", want: func(s *Server, h, c map[string]any) { delete(h, "kid") }, sig: `kid "": 0 keys in the published set`},
	}
	if got, want := len(cases), len(vocab.IDTokenAnomalies); got != want {
		t.Fatalf("%d cases for %d id_token anomalies", got, want)
	}
	for _, tc := range cases {
		for _, fl := range flows {
			if tc.skipIf != nil && tc.skipIf(fl) {
				continue
			}
			t.Run(tc.do+"/"+fl.name, func(t *testing.T) {
				f := vocab.Fault{On: fl.on, When: fl.when, Do: tc.do, Skip: 1, Times: 1}
				if err := f.Validate(); err != nil {
					t.Fatalf("the fault is refused: %v", err)
				}
				s, _ := startOnClockWith(t, Config{Faults: []vocab.Fault{f}, SigningKey: testKey()}, Client{})
				st := &flowState{}
				base := fl.run(t, s, st)
				got := fl.run(t, s, st)
				checkIDTokenAnomaly(t, s, tc, fl, base, got)
				after := fl.run(t, s, st) // times: 1
				if h, _, _ := jwtParts(t, after.str("id_token")); h["alg"] != "RS256" || jwsErr(jwksOf(t, s), after.str("id_token")) != nil {
					t.Errorf("after its one time the fault still alters the id_token: %v", h)
				}
				checkFired(t, s, fl, tc.do, vocab.IDTokenAnomalies[tc.do].Altered, 3)
			})
		}
	}
}

func checkIDTokenAnomaly(t *testing.T, s *Server, tc idTokenCase, fl flow, base, got answer) {
	t.Helper()
	bh, bc, _ := jwtParts(t, base.str("id_token"))
	gh, gc, gsig := jwtParts(t, got.str("id_token"))
	set := jwksOf(t, s)
	if err := jwsErr(set, base.str("id_token")); err != nil || bc["at_hash"] != atHash(base.str("access_token")) {
		t.Fatalf("the unfaulted id_token: %v, at_hash %v", err, bc["at_hash"])
	}
	// jti is new for every id_token, and at_hash for every access token:
	// compared with what they must be, not with the first run's.
	if gc["jti"] == nil || gc["jti"] == bc["jti"] {
		t.Errorf("jti %v, want a fresh one (the first was %v)", gc["jti"], bc["jti"])
	}
	delete(bc, "jti")
	delete(gc, "jti")
	wantHash := atHash(got.str("access_token"))
	bc["at_hash"] = wantHash
	tc.want(s, bh, bc)
	if tc.do == "id-token-wrong-at-hash" {
		if h, _ := gc["at_hash"].(string); h == wantHash || len(h) != len(wantHash) {
			t.Errorf("at_hash %q: want another hash of the same length than the access token's %q", h, wantHash)
		}
		gc["at_hash"] = bc["at_hash"]
	}
	if !reflect.DeepEqual(gh, bh) {
		t.Errorf("header %v, want %v", gh, bh)
	}
	if !reflect.DeepEqual(gc, bc) {
		t.Errorf("claims differ beyond the anomaly:\n got %v\nwant %v", gc, bc)
	}
	switch err := jwsErr(set, got.str("id_token")); {
	case tc.sig == "unsigned":
		if gsig != "" {
			t.Errorf("alg none with a signature %q", gsig)
		}
		if err == nil {
			t.Errorf("an unsigned id_token verifies")
		}
	case tc.sig == "" && err != nil:
		t.Errorf("the id_token must be signed as always: %v", err)
	case tc.sig != "" && (err == nil || err.Error() != tc.sig):
		t.Errorf("verifying against the JWKS: %v, want %s", err, tc.sig)
	}
	if tc.do == "id-token-unknown-kid" || tc.do == "id-token-bad-signature" {
		// Not signed by any published key at all.
		for _, k := range set.Keys {
			obj, _ := jose.ParseSigned(got.str("id_token"))
			if _, err := obj.Verify(k.Key); err == nil {
				t.Errorf("the id_token verifies with published key %s", k.KeyID)
			}
		}
	}
	if tc.do == "id-token-no-kid" {
		obj, _ := jose.ParseSigned(got.str("id_token"))
		if _, err := obj.Verify(set.Keys[0].Key); err != nil {
			t.Errorf("no-kid must be signed with the current key: %v", err)
		}
	}
	// The rest of the response is as always.
	bf, gf := maps.Clone(base.fields), maps.Clone(got.fields)
	for _, k := range []string{"id_token", "access_token", "refresh_token", "code"} {
		if (bf[k] == nil) != (gf[k] == nil) {
			t.Errorf("%s: sent %v, want %v", k, gf[k] != nil, bf[k] != nil)
		}
		delete(bf, k)
		delete(gf, k)
	}
	if !reflect.DeepEqual(bf, gf) {
		t.Errorf("response differs beyond the id_token: %v, want %v", gf, bf)
	}
}

// checkFired checks that the fault fired once, recorded as idp.fault and in
// the entry of the request whose response it altered, and that its skip
// and times left the others alone.
func checkFired(t *testing.T, s *Server, fl flow, do, altered string, runs int) {
	t.Helper()
	var fired []string
	var carriers []map[string]string
	for _, e := range s.Timeline.Entries() {
		switch {
		case e.What == "idp.fault":
			fired = append(fired, e.Fields["on"]+":"+e.Fields["do"])
		case fl.grant != "" && e.What == "idp.token" && e.Fields["grant_type"] == fl.grant:
			carriers = append(carriers, e.Fields)
		case fl.grant == "" && e.What == "idp.authorize" && e.Fields["prompt"] == "none":
			carriers = append(carriers, e.Fields)
		}
	}
	if want := []string{fl.on + ":" + do}; !slices.Equal(fired, want) {
		t.Errorf("idp.fault entries %v, want %v", fired, want)
	}
	if len(carriers) < runs {
		t.Fatalf("%d entries for the flow's responses, want at least %d", len(carriers), runs)
	}
	carriers = carriers[len(carriers)-runs:]
	for i, f := range carriers {
		wantFault, wantAltered := "", ""
		if i == 1 {
			wantFault, wantAltered = do, altered
		}
		if f["fault"] != wantFault || f["altered"] != wantAltered {
			t.Errorf("run %d: fault %q altered %q, want %q and %q", i+1, f["fault"], f["altered"], wantFault, wantAltered)
		}
	}
}

// A request an action cannot alter is no match: a refresh between two code
// exchanges neither counts towards skip nor uses up times of a fault that
// only alters a code exchange's id_token.
func TestFaultSkipsRequestsItCannotAlter(t *testing.T) {
	s, _ := startOnClockWith(t, Config{SigningKey: testKey(), Faults: []vocab.Fault{{On: "token", Do: "id-token-no-nonce", Skip: 1, Times: 1}}}, Client{})
	hc, tr := login(t, s, "openid offline_access")
	if c := claimsOf(t, tr.IDToken); c["nonce"] != "nonce-12345678" {
		t.Fatalf("the login's exchange, skipped: nonce %v", c["nonce"])
	}
	refresh(t, s, tr.RefreshToken)
	if e := last(s, "idp.token"); e.Fields["fault"] != "" {
		t.Fatalf("the refresh counted as a match: %v", e)
	}
	p, _ := authorize(t, hc, s, url.Values{"prompt": {"none"}})
	a := exchange(t, s, p.Get("code"))
	if _, c, _ := jwtParts(t, a.str("id_token")); c["nonce"] != nil {
		t.Errorf("the silent renewal's exchange, the first match after the skip: nonce %v, want none", c["nonce"])
	}
	if e := last(s, "idp.token"); e.Fields["fault"] != "id-token-no-nonce" || e.Fields["altered"] != "id_token.nonce" {
		t.Errorf("entry %v", e)
	}
}

// wrong-state answers a login or a silent renewal with another state than
// the request's, success or error alike, and nothing else changed: the code
// still exchanges, the implicit response's tokens are the same kind.
func TestWrongState(t *testing.T) {
	s, _ := startOnClockWith(t, Config{SigningKey: testKey(), Faults: []vocab.Fault{
		{On: "authorize", When: map[string]string{"response_type": "code"}, Do: "wrong-state", Skip: 1, Times: 2},
		{On: "authorize", When: map[string]string{"response_type": "id_token token"}, Do: "wrong-state", Skip: 1},
	}}, Client{})
	hc := browserFor(t, s)
	ok, _ := authorize(t, hc, s, nil) // the login, skipped
	bad, _ := authorize(t, hc, s, url.Values{"prompt": {"none"}})
	if ok.Get("state") != "state-12345678" || bad.Get("state") != "another-state-12345678" {
		t.Fatalf("states: unfaulted %q, faulted %q", ok.Get("state"), bad.Get("state"))
	}
	if !slices.Equal(slices.Sorted(maps.Keys(ok)), slices.Sorted(maps.Keys(bad))) || bad.Get("code") == "" {
		t.Errorf("code flow response: %v, want the keys of %v", bad, ok)
	}
	if a := exchange(t, s, bad.Get("code")); a.str("id_token") == "" {
		t.Errorf("the code of a response with a wrong state does not exchange as always: %v", a.fields)
	}
	if e := last(s, "idp.authorize"); e.Fields["fault"] != "wrong-state" || e.Fields["altered"] != "state" {
		t.Errorf("entry %v", e)
	}

	implicit := url.Values{"prompt": {"none"}, "response_type": {"id_token token"}, "code_challenge": nil, "code_challenge_method": nil}
	ok, _ = authorize(t, hc, s, implicit)
	bad, _ = authorize(t, hc, s, implicit)
	if ok.Get("state") != "state-12345678" || bad.Get("state") != "another-state-12345678" {
		t.Fatalf("implicit states: %q, %q", ok.Get("state"), bad.Get("state"))
	}
	for _, k := range []string{"expires_in", "scope", "token_type"} {
		if ok.Get(k) != bad.Get(k) {
			t.Errorf("%s: %q, want %q", k, bad.Get(k), ok.Get(k))
		}
	}
	if err := jwsErr(jwksOf(t, s), bad.Get("id_token")); err != nil {
		t.Errorf("the id_token with the wrong state: %v", err)
	}

	// An error response (no session) carries the wrong state too.
	s.EndSessions()
	p, _ := authorize(t, hc, s, url.Values{"prompt": {"none"}})
	if p.Get("error") != "login_required" || p.Get("state") != "another-state-12345678" {
		t.Errorf("login_required: %v, want another state", p)
	}
	if e := last(s, "idp.authorize"); e.Fields["outcome"] != "error" || e.Fields["altered"] != "state" {
		t.Errorf("entry %v", e)
	}
	// times: 2 is spent.
	if p, _ := authorize(t, hc, s, url.Values{"prompt": {"none"}}); p.Get("state") != "state-12345678" {
		t.Errorf("after times: 2, state %q", p.Get("state"))
	}
	fired := 0
	for _, e := range s.Timeline.Entries() {
		if e.What == "idp.fault" && e.Fields["do"] == "wrong-state" {
			fired++
		}
	}
	if fired != 3 {
		t.Errorf("wrong-state fired %d times, want 3 (two code flow, one implicit)", fired)
	}
}

// Each refresh anomaly alters its field of the second refresh's response
// and nothing else; the login's code exchange before it is no match (the
// faults have no when), and times: 1 leaves the third refresh alone.
func TestRefreshResponseAnomalies(t *testing.T) {
	const scope = "openid profile offline_access"
	for _, tc := range []struct {
		do   string
		want func(fields map[string]any)
	}{
		{"refresh-no-refresh-token", func(f map[string]any) { delete(f, "refresh_token") }},
		{"refresh-no-id-token", func(f map[string]any) { delete(f, "id_token") }},
		{"refresh-narrower-scope", func(f map[string]any) { f["scope"] = "openid offline_access" }},
		{"refresh-wider-scope", func(f map[string]any) { f["scope"] = "openid profile offline_access email" }},
		{"refresh-no-expires-in", func(f map[string]any) { delete(f, "expires_in") }},
		{"refresh-expires-in-string", func(f map[string]any) { f["expires_in"] = "300" }},
	} {
		t.Run(tc.do, func(t *testing.T) {
			s, clock := startOnClockWith(t, Config{SigningKey: testKey(), Faults: []vocab.Fault{{On: "token", Do: tc.do, Skip: 1, Times: 1}}},
				Client{AccessTokenFormat: JWT})
			_, tr := login(t, s, scope)
			base := refreshRaw(t, s, tr.RefreshToken)
			got := refreshRaw(t, s, base.str("refresh_token"))
			want := maps.Clone(base.fields)
			tc.want(want)
			for _, k := range []string{"access_token", "refresh_token", "id_token"} {
				if _, ok := want[k]; ok {
					if _, ok := got.fields[k].(string); !ok {
						t.Errorf("%s missing: %v", k, got.fields)
					}
					want[k] = got.fields[k]
				}
			}
			if !reflect.DeepEqual(got.fields, want) {
				t.Errorf("response\n got %v\nwant %v", got.fields, want)
			}
			e := last(s, "idp.token")
			if e.Fields["fault"] != tc.do || e.Fields["altered"] != vocab.RefreshAnomalies[tc.do].Altered || e.Fields["granted_scope"] != scope {
				t.Errorf("entry %v", e)
			}
			if sc, ok := want["scope"].(string); ok && sc != scope && e.Fields["response_scope"] != sc {
				t.Errorf("response_scope %q, want %q", e.Fields["response_scope"], sc)
			}
			// The tokens carry the grant, whatever the response says.
			if c := claimsOf(t, got.str("access_token")); c["scope"] != scope {
				t.Errorf("access token scope %v, want the granted %q", c["scope"], scope)
			}
			// The access token lives its lifetime, said or not.
			clock.advance(5*time.Minute - time.Millisecond)
			if code := userinfoStatus(t, s, got.str("access_token")); code != 200 {
				t.Errorf("access token before its lifetime: userinfo %d", code)
			}
			clock.advance(time.Millisecond)
			if code := userinfoStatus(t, s, got.str("access_token")); code != 401 {
				t.Errorf("access token at its lifetime: userinfo %d", code)
			}
			rt := got.str("refresh_token")
			if rt == "" {
				rt = base.str("refresh_token") // what the client keeps
			}
			after := refreshRaw(t, s, rt)
			if !reflect.DeepEqual(slices.Sorted(maps.Keys(after.fields)), slices.Sorted(maps.Keys(base.fields))) || after.fields["scope"] != scope {
				t.Errorf("after times: 1, the refresh response %v", after.fields)
			}
		})
	}
}

// A refresh that hands out no refresh token rotates none: the token the
// client keeps stays valid and presenting it is no replay, with every
// rotation policy; the next refresh that rotates retires it, and its reuse
// then revokes the chain as always. The access token the faulted refresh
// replaced is revoked, as at any refresh.
func TestRefreshWithoutRefreshTokenKeepsThePresentedOne(t *testing.T) {
	for _, cl := range []Client{{}, {RotationGrace: 10 * time.Second}, {Rotation: Reuse}} {
		t.Run(fmt.Sprintf("%s-grace-%s", cl.Rotation, cl.RotationGrace), func(t *testing.T) {
			s, clock := startOnClockWith(t, Config{SigningKey: testKey(), Faults: []vocab.Fault{{On: "token", Do: "refresh-no-refresh-token", Times: 1}}}, cl)
			_, tr := login(t, s, "openid offline_access")
			kept := refreshRaw(t, s, tr.RefreshToken)
			if _, ok := kept.fields["refresh_token"]; ok {
				t.Fatalf("the faulted refresh sent a refresh token: %v", kept.fields)
			}
			if e := last(s, "idp.token"); e.Fields["refresh_token"] != "" || e.Fields["replay"] != "no" {
				t.Errorf("faulted refresh entry %v", e)
			}
			if code := userinfoStatus(t, s, tr.AccessToken); cl.Rotation != Reuse && code != 401 {
				t.Errorf("the access token the refresh replaced: userinfo %d, want 401", code)
			}
			if code := userinfoStatus(t, s, kept.str("access_token")); code != 200 {
				t.Errorf("the new access token: userinfo %d", code)
			}
			clock.advance(time.Minute) // past any grace
			next := refreshRaw(t, s, tr.RefreshToken)
			if e := last(s, "idp.token"); e.Fields["replay"] != "no" || next.str("refresh_token") == "" {
				t.Fatalf("the kept refresh token after the grace: %v, entry %v", next.fields, e)
			}
			if cl.Rotation == Reuse {
				return // the weakened IdP never retires it
			}
			if next.str("refresh_token") == tr.RefreshToken {
				t.Fatalf("the next refresh did not rotate: %v", next.fields)
			}
			clock.advance(time.Minute)
			r, status := postTokenRaw(t, s, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tr.RefreshToken}, "client_id": {"spa"}})
			if status != 400 || r.str("error") != "invalid_grant" || last(s, "idp.token").Fields["replay"] != "yes" {
				t.Errorf("reuse of the retired token: %d %v, entry %v", status, r.fields, last(s, "idp.token"))
			}
			if r, status := postTokenRaw(t, s, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {next.str("refresh_token")}, "client_id": {"spa"}}); status != 400 {
				t.Errorf("the chain after the reuse: %d %v, want it revoked", status, r.fields)
			}
		})
	}
}

// kidsOf is the kids a key set lists, newest first.
func kidsOf(set jose.JSONWebKeySet) string {
	var kids []string
	for _, k := range set.Keys {
		kids = append(kids, k.KeyID)
	}
	return strings.Join(kids, " ")
}

// rotate-signing-key-unannounced signs the faulted response's id_token with
// a new key that no key set fetched before lists: a client's cached JWKS
// fails on its kid, and a fetch after the token lists it. On a code flow's
// /authorize the key stays unlisted until the code's exchange, which is
// when the app (booted on the redirect, fetching its JWKS) gets the token.
func TestRotateSigningKeyUnannounced(t *testing.T) {
	for _, fl := range []flow{flows[2], flows[3]} { // refresh; silent renewal by the code flow
		t.Run(fl.name, func(t *testing.T) {
			f := vocab.Fault{On: fl.on, When: fl.when, Do: "rotate-signing-key-unannounced", Skip: 1, Times: 1}
			s, _ := startOnClockWith(t, Config{SigningKey: testKey(), Faults: []vocab.Fault{f}}, Client{})
			st := &flowState{}
			fl.run(t, s, st)
			cached := jwksOf(t, s)
			var got answer
			if fl.on == "authorize" {
				p, _ := authorize(t, st.hc, s, url.Values{"prompt": {"none"}})
				if e := last(s, "idp.key-rotated"); e.Fields["kid"] != "refreshsuite-2" || e.Fields["published"] != "after-first-token" {
					t.Fatalf("key-rotated entry %v", e)
				}
				if kids := kidsOf(jwksOf(t, s)); kids != "refreshsuite-1" {
					t.Errorf("between /authorize and the code's exchange the JWKS lists %q, want only the old key", kids)
				}
				got = exchange(t, s, p.Get("code"))
			} else {
				got = fl.run(t, s, st)
			}
			if h, _, _ := jwtParts(t, got.str("id_token")); h["kid"] != "refreshsuite-2" {
				t.Fatalf("id_token kid %v, want the new key", h["kid"])
			}
			if err := jwsErr(cached, got.str("id_token")); err == nil || !strings.Contains(err.Error(), `kid "refreshsuite-2": 0 keys`) {
				t.Errorf("with the JWKS fetched before: %v, want the kid unknown", err)
			}
			fresh := jwksOf(t, s)
			if kids := kidsOf(fresh); kids != "refreshsuite-2 refreshsuite-1" {
				t.Errorf("a fetch after the token lists %q", kids)
			}
			if err := jwsErr(fresh, got.str("id_token")); err != nil {
				t.Errorf("with the JWKS fetched after: %v", err)
			}
			if e := last(s, "idp.jwks"); e.Fields["kids"] != "refreshsuite-2 refreshsuite-1" {
				t.Errorf("idp.jwks entry %v", e)
			}
			// A real rotation: later tokens are signed with the new key, and
			// times: 1 rotates no further.
			later := fl.run(t, s, st)
			if h, _, _ := jwtParts(t, later.str("id_token")); h["kid"] != "refreshsuite-2" {
				t.Errorf("a later id_token's kid %v", h["kid"])
			}
			if fl.on == "authorize" {
				fl.grant = "" // the rotation is the /authorize entry's, no exchange carries it
			}
			checkFired(t, s, fl, "rotate-signing-key-unannounced", "", 3)
		})
	}
}

// The rotate-signing-key step lists the new key at once, before any token
// signed with it; it also lists a key rotated in unannounced.
func TestRotateSigningKeyStepPublishesAtOnce(t *testing.T) {
	s, _ := startOnClockWith(t, Config{SigningKey: testKey(), Faults: []vocab.Fault{{On: "token", When: map[string]string{"grant_type": "refresh_token"}, Do: "rotate-signing-key-unannounced"}}}, Client{})
	_, tr := login(t, s, "openid offline_access")
	if err := s.RotateSigningKey(); err != nil {
		t.Fatal(err)
	}
	if kids := kidsOf(jwksOf(t, s)); kids != "refreshsuite-2 refreshsuite-1" {
		t.Errorf("after the step, before any token, the JWKS lists %q", kids)
	}
	if e := last(s, "idp.key-rotated"); e.Fields["published"] != "at-once" {
		t.Errorf("entry %v", e)
	}
	tr = refresh(t, s, tr.RefreshToken) // rotates to refreshsuite-3, unannounced, and signs with it
	if kids := kidsOf(jwksOf(t, s)); kids != "refreshsuite-3 refreshsuite-2 refreshsuite-1" || kidOf(tr.IDToken) != "refreshsuite-3" {
		t.Fatalf("JWKS %q, id_token kid %q", kids, kidOf(tr.IDToken))
	}
	refresh(t, s, tr.RefreshToken) // refreshsuite-4, unannounced: the step lists it before its first token
	if err := s.RotateSigningKey(); err != nil {
		t.Fatal(err)
	}
	if kids := kidsOf(jwksOf(t, s)); kids != "refreshsuite-5 refreshsuite-4 refreshsuite-3 refreshsuite-2 refreshsuite-1" {
		t.Errorf("JWKS %q", kids)
	}
}

func TestRefreshCannotWidenTheGrant(t *testing.T) {
	s, _ := startOnClockWith(t, Config{SigningKey: testKey()}, Client{})
	_, tr := login(t, s, "openid offline_access")
	wider := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tr.RefreshToken}, "client_id": {"spa"}, "scope": {"openid offline_access profile"}}
	r, status := postTokenRaw(t, s, wider)
	if e := last(s, "idp.token"); status != 400 || r.str("error") != "invalid_scope" || e.Fields["error"] != "invalid_scope" {
		t.Fatalf("a refresh asking for a scope never granted: %d %v, entry %v", status, r.fields, e)
	}
	// The refused request consumed nothing: the same token refreshes, and a
	// scope within the grant is accepted.
	within := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tr.RefreshToken}, "client_id": {"spa"}, "scope": {"openid"}}
	if r, status := postTokenRaw(t, s, within); status != 200 || r.str("refresh_token") == "" {
		t.Fatalf("a refresh within the grant after the refusal: %d %v", status, r.fields)
	}
}

func TestRefreshMayAskForTheScopeTheIdPStated(t *testing.T) {
	s, _ := startOnClockWith(t, Config{SigningKey: testKey(), Faults: []vocab.Fault{{On: "token", Do: "refresh-wider-scope", Times: 1}}}, Client{})
	_, tr := login(t, s, "openid offline_access")
	first := refreshRaw(t, s, tr.RefreshToken)
	stated := first.str("scope")
	if len(strings.Fields(stated)) <= 2 {
		t.Fatalf("the wider-scope refresh stated scope %q", stated)
	}
	again := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {first.str("refresh_token")}, "client_id": {"spa"}, "scope": {stated}}
	next, status := postTokenRaw(t, s, again)
	if status != 200 {
		t.Fatalf("a refresh asking for the scope the IdP stated: %d %v", status, next.fields)
	}
	beyond := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {next.str("refresh_token")}, "client_id": {"spa"}, "scope": {stated + " admin"}}
	if r, status := postTokenRaw(t, s, beyond); status != 400 || r.str("error") != "invalid_scope" {
		t.Fatalf("a refresh asking beyond what the IdP stated: %d %v", status, r.fields)
	}
}
