package fakeidp

// ClientDefaults is c with the provider's defaults filled in (the lifetimes
// and policies it leaves empty), checked the way Start checks it: the suite
// plans a scenario's IdP client, and reads its effective lifetimes, before
// anything listens.
func ClientDefaults(c Client) (Client, error) {
	cfg := Config{Clients: []Client{c}}
	out, err := cfg.withDefaults()
	if err != nil {
		return c, err
	}
	return out.Clients[0], nil
}
