package main

import (
	"regexp"
	"testing"
)

// -listed must select exactly the containers a mutant's caught-by names: not
// the same scenario of another mutant, not a scenario whose id merely starts
// with a listed one, and every spec of a selected container.
func TestListedContainers(t *testing.T) {
	focus := regexp.MustCompile(listedContainers(mutantList{Mutants: []mutant{
		{ID: "late", CaughtBy: []string{"renewal[factor-050]/at-factor", "two-tabs/one-refresh"}},
		{ID: "other-late", CaughtBy: []string{"logout/revoked"}},
	}}))
	for text, want := range map[string]bool{
		"mutant-late/renewal[factor-050] at-factor: fires at the factor": true,
		"mutant-late/renewal[factor-050] unlisted: still judged":         true,
		"mutant-late/two-tabs one-refresh: one refresh":                  true,
		"mutant-late/two-tabs-shared one-refresh: one refresh":           false,
		"mutant-late/renewal[factor-033] at-factor: fires at the factor": false,
		"mutant-other-late/renewal[factor-050] at-factor: x":             false,
		"mutant-other-late/logout revoked: x":                            true,
		"mutant-late/logout revoked: x":                                  false,
	} {
		if got := focus.MatchString(text); got != want {
			t.Errorf("%q: selected %v, want %v", text, got, want)
		}
	}
}
