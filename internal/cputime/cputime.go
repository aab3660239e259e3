//go:build unix

// Package cputime reads the CPU time the process has used, for benchmarks
// on a shared machine, where wall time mostly measures the wait for a
// core.
package cputime

import (
	"syscall"
	"time"
)

// Process returns the CPU time (user and system, every thread) the
// process has used so far; false when it cannot be read.
func Process() (time.Duration, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
