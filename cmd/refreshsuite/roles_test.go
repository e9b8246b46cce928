package main

// The tests run the command in their own process, and a run starts its own
// executable as ginkgo and as the suite: this test binary, which then plays
// that part instead of running the tests (before any TestMain).
func init() { playRole() }
