package suite

import "testing"

func TestConformance(t *testing.T) { Conformance(t) }
