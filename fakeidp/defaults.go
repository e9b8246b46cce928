package fakeidp

// ClientDefaults is c with the provider's defaults filled in (the lifetimes
// and policies it leaves empty), checked the way Start checks it: the suite
// plans a scenario's IdP client, and reads its effective lifetimes, before
// anything listens. The redirect URIs and origins are left as given: they
// depend on the port the app is served on, known only at start.
func ClientDefaults(c Client) (Client, error) {
	probe := c
	if len(probe.RedirectURIs) == 0 {
		probe.RedirectURIs = []string{"http://localhost/"}
	}
	if err := probe.withDefaults("idp", map[string]bool{}); err != nil {
		return c, err
	}
	probe.RedirectURIs, probe.PostLogoutRedirectURIs, probe.Origins = c.RedirectURIs, c.PostLogoutRedirectURIs, c.Origins
	return probe, nil
}
