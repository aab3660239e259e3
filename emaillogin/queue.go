package emaillogin

import (
	"context"
	"time"
)

// enqueue runs job in the background, so that the request that asked for
// it answers at once, and in the same time whatever the job finds. At most
// Config.Pending jobs wait or run at once: beyond that the request is
// dropped and logged (its answer is the same). The job keeps the values
// of ctx (the client's IP, user agent and locale, for the mail) but not
// its cancellation, and is bounded by jobTimeout.
func (f *EmailLogin) enqueue(ctx context.Context, kind string, job func(ctx context.Context) error) {
	select {
	case f.pending <- struct{}{}:
	default:
		f.log.WarnContext(ctx, "emaillogin: too many pending requests; one dropped", "kind", kind)
		return
	}
	go func() {
		defer func() { <-f.pending }()
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), jobTimeout)
		defer cancel()
		if err := job(ctx); err != nil {
			f.log.ErrorContext(ctx, "emaillogin: request not served", "kind", kind, "err", err)
		}
		f.sweep(ctx)
	}()
}

// sweepEvery is how often the expired secrets are removed. A secret is
// removed when it is used, and replaced by the next one for its address,
// so only those never used wait for the sweep.
const sweepEvery = time.Minute

// sweep removes the expired secrets, at most once per sweepEvery (by the
// Manager's clock), from the job that finds the time come.
func (f *EmailLogin) sweep(ctx context.Context) {
	now := f.now()
	last := f.lastSweep.Load()
	if now.UnixNano()-last < int64(sweepEvery) || !f.lastSweep.CompareAndSwap(last, now.UnixNano()) {
		return
	}
	st, err := f.store()
	if err == nil {
		_, err = st.DeleteExpiredSecrets(ctx, now)
	}
	if err != nil {
		f.log.WarnContext(ctx, "emaillogin: expired secrets not removed", "err", err)
	}
}

// Wait blocks until the requests accepted so far have been served (their
// mail queued, or dropped): for a host's shutdown before it closes the
// Manager, and for tests. It takes every slot of the pending requests in
// turn, so a request that comes meanwhile may be dropped (and logged), as
// when too many are pending; it is safe to call from any goroutine, at
// any time.
func (f *EmailLogin) Wait() {
	f.waitMu.Lock()
	defer f.waitMu.Unlock()
	for range cap(f.pending) {
		f.pending <- struct{}{}
	}
	for range cap(f.pending) {
		<-f.pending
	}
}
