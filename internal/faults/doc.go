// Package faults holds the fault-injection test of the whole stack
// (issue 14): a Manager on a PostgreSQL and a Redis of the test's own,
// served by httpadapter, while the test stops Redis, stops PostgreSQL and
// fills the file storage, and checks what clients get and what the log
// says (docs/failure-modes.md). It has no code of its own.
package faults
