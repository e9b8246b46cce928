//go:build !linux

package main

// exchange puts fresh at final with two renames where the system has no
// atomic exchange; final is missing for a moment between them.
func exchange(fresh, final string) (string, error) { return renameTwice(fresh, final) }
