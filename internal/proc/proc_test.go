package proc

import "testing"

func TestNames(t *testing.T) {
	for _, tc := range []struct {
		arg, path string
		want      bool
	}{
		{"/tmp/run-1", "/tmp/run-1", true},
		{"/tmp/run-1/suite.test", "/tmp/run-1", true},
		{"--user-data-dir=/tmp/run-1/chromium-9", "/tmp/run-1", true},
		{"-refreshsuite.out=/tmp/run-1", "/tmp/run-1", true},
		// Another run's folder whose name starts with this one's.
		{"/tmp/run-12/suite.test", "/tmp/run-1", false},
		{"/tmp/run-12/x:/tmp/run-1/y", "/tmp/run-1", true},
		{"/tmp/run-1x", "/tmp/run-1", false},
	} {
		if got := names(tc.arg, tc.path); got != tc.want {
			t.Errorf("names(%q, %q) = %v, want %v", tc.arg, tc.path, got, tc.want)
		}
	}
}
