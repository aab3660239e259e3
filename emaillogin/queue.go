package emaillogin

import "context"

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
	f.jobs.Add(1)
	go func() {
		defer f.jobs.Done()
		defer func() { <-f.pending }()
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), jobTimeout)
		defer cancel()
		if err := job(ctx); err != nil {
			f.log.ErrorContext(ctx, "emaillogin: request not served", "kind", kind, "err", err)
		}
	}()
}

// Wait blocks until the requests accepted so far have been served (their
// mail queued, or dropped): for a host's shutdown before it closes the
// Manager, and for tests.
func (f *EmailLogin) Wait() { f.jobs.Wait() }
