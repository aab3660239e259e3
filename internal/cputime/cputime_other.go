//go:build !unix

// Package cputime reads the CPU time the process has used, for benchmarks
// on a shared machine, where wall time mostly measures the wait for a
// core.
package cputime

import "time"

// Process is not measured outside Unix: it returns false.
func Process() (time.Duration, bool) { return 0, false }
