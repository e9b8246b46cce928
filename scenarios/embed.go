package scenarios

import "embed"

// Shipped are the shipped scenarios, compiled into the refreshsuite command so
// that an installed binary runs them without a checkout.
//
//go:embed *.yaml
var Shipped embed.FS
