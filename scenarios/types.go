package scenarios

import "github.com/refreshsuite/refreshsuite/internal/strictyaml"

// Error is a problem in an input file, reported as file:line: key: message.
type Error = strictyaml.Error

// Duration is a YAML duration with a unit.
type Duration = strictyaml.Duration
