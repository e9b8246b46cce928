package main

import (
	"errors"

	"golang.org/x/sys/unix"
)

// exchange swaps the folders fresh and final in one step (renameat2 with
// RENAME_EXCHANGE), so that final is never missing, and returns where the
// folder that was at final is now. A file system without the exchange gets
// two renames, with final missing for a moment between them.
func exchange(fresh, final string) (string, error) {
	err := unix.Renameat2(unix.AT_FDCWD, fresh, unix.AT_FDCWD, final, unix.RENAME_EXCHANGE)
	if err == nil {
		return fresh, nil
	}
	if !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOSYS) {
		return "", err
	}
	return renameTwice(fresh, final)
}
