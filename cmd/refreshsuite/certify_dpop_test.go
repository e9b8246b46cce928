package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/refreshsuite/refreshsuite/reports"
)

// DPoP-bound refresh tokens as RFC 9700's alternative to rotation, on the
// embedded IdP run as its own process with the real oidc-client-ts and its
// own DPoP key in Chromium:
//   - an IdP that requires DPoP of public clients, demands its own nonce in
//     the proofs, and never rotates a bound refresh token (as node
//     oidc-provider does not) passes the strict profile with --dpop: IDP-RT-2
//     is met by the binding, idp-refresh's rotation and replay specs do not
//     apply to bound tokens, and the harness answers use_dpop_nonce as a
//     client does;
//   - an IdP that says DPoP but binds nothing fails exactly the binding
//     checks, and IDP-RT-2 as well unless it rotates.
func TestCertifyEmbeddedIdPDPoP(t *testing.T) {
	t.Parallel()
	t.Run("required and bound, not rotated", func(t *testing.T) {
		base := freeBase(t, "localhost")
		issuer := startIdP(t, base, "-dpop", "require", "-rotation", "unbound", "-dpop-nonce")
		bundle := filepath.Join(t.TempDir(), "bundle")
		code, out, errs := certifyCmd(t, append([]string{"-issuer", issuer, "-client-id", "spa", "-redirect-base", base, "-out", bundle, "-dpop"}, fastTimeouts...)...)
		if code != 0 {
			t.Fatalf("exit %d, want 0\n%s%s", code, out, errs)
		}
		want := map[string]reports.State{}
		for id := range dpopSpecs(t) {
			want[id] = reports.Passed
		}
		for _, id := range []string{"spa-refresh-rotates", "refresh-rotates", "replay-rejected", "family-revoked"} {
			want["idp-refresh/"+id] = reports.Skipped
		}
		expect(t, bundle, want)
		msgs := messages(t, bundle)
		if msg := msgs["idp-refresh-dpop/rotated-or-bound"]; !strings.Contains(msg, "any-of 2") {
			t.Errorf("IDP-RT-2 is not met by the binding: %s", msg)
		}
		if msg := msgs["idp-refresh/refresh-rotates"]; !strings.Contains(msg, "premise not-dpop-bound did not hold") {
			t.Errorf("idp-refresh/refresh-rotates is not skipped for bound tokens: %s", msg)
		}
		// The IdP demands its nonce (-dpop-nonce): the harness's own
		// refreshes with the SPA's proof were told use_dpop_nonce and sent
		// again with it, as a client does.
		asked := 0
		for _, e := range traceEntries(t, filepath.Join(bundle, "traces", "oidc-client-ts", "idp-refresh-dpop")) {
			if e.What == "harness.token" && e.Fields["dpop"] == "client" && e.Fields["dpop_nonce"] == "asked" && e.Fields["outcome"] == "ok" {
				asked++
			}
		}
		if asked != 2 {
			t.Errorf("%d refreshes with the SPA's proof were sent again with the IdP's nonce, want 2", asked)
		}
	})
	for _, tc := range []struct {
		name, rotation string
		fails          []string
	}{
		{"said, not bound, not rotated", "reuse", []string{"other-key-refused", "no-proof-refused", "rotated-or-bound"}},
		{"said, not bound, rotated", "rotate", []string{"other-key-refused", "no-proof-refused"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base := freeBase(t, "localhost")
			issuer := startIdP(t, base, "-dpop", "ignore", "-rotation", tc.rotation)
			bundle := filepath.Join(t.TempDir(), "bundle")
			code, out, errs := certifyCmd(t, append([]string{"-issuer", issuer, "-client-id", "spa", "-redirect-base", base, "-out", bundle, "-scenario", "idp-refresh-dpop"}, fastTimeouts...)...)
			if code != 1 {
				t.Fatalf("exit %d, want 1\n%s%s", code, out, errs)
			}
			got, msgs := verdicts(t, bundle), messages(t, bundle)
			failed := map[string]bool{}
			for _, id := range tc.fails {
				failed["idp-refresh-dpop/"+id] = true
			}
			if len(got) != len(dpopSpecs(t)) {
				t.Errorf("the bundle holds %d specs, want idp-refresh-dpop's %d", len(got), len(dpopSpecs(t)))
			}
			for id := range dpopSpecs(t) {
				if want := map[bool]reports.State{true: reports.Failed, false: reports.Passed}[failed[id]]; got[id] != want {
					t.Errorf("%s: %s, want %s\n    %s", id, got[id], want, msgs[id])
				}
			}
			if msg := msgs["idp-refresh-dpop/other-key-refused"]; !strings.Contains(msg, "a thief's own key unlocks it") {
				t.Errorf("other-key-refused does not say why: %s", msg)
			}
		})
	}
}
