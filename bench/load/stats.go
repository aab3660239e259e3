package main

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// call performs one request and reports its HTTP status (0 when it failed
// before a response arrived).
type call func(ctx context.Context, worker int) (status int, err error)

// result is what one phase measured.
type result struct {
	Name     string
	Workers  int
	Elapsed  time.Duration
	OK       int64
	Non2xx   map[int]int64
	Errors   int64
	FirstErr string
	// lat holds the latency of every completed request, sorted.
	lat []time.Duration
	// ServerCPU and ClientCPU are the CPU time of the server (when known)
	// and of this program during the phase; Machine is the whole box's.
	ServerCPU, ClientCPU time.Duration
	Machine              machine
}

// BusyPct is how busy the box's CPUs were during the phase, in percent.
func (r *result) BusyPct() float64 {
	if r.Machine.total <= 0 {
		return 0
	}
	return 100 * float64(r.Machine.busy) / float64(r.Machine.total)
}

// OtherCPU is the CPU time used during the phase by processes other than
// the server and this program (the database, and anything else running).
func (r *result) OtherCPU() time.Duration {
	if r.ServerCPU == 0 {
		return 0
	}
	return max(r.Machine.busy-r.ServerCPU-r.ClientCPU, 0)
}

// Rate is successful requests per second.
func (r *result) Rate() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.OK) / r.Elapsed.Seconds()
}

// Failed counts requests that did not get a 2xx answer.
func (r *result) Failed() int64 {
	n := r.Errors
	for _, c := range r.Non2xx {
		n += c
	}
	return n
}

// Percentile returns the p-th percentile latency (0 < p <= 100).
func (r *result) Percentile(p float64) time.Duration {
	if len(r.lat) == 0 {
		return 0
	}
	i := int(float64(len(r.lat))*p/100+0.5) - 1
	return r.lat[min(max(i, 0), len(r.lat)-1)]
}

// CPUPerRequest is the server's CPU time per successful request.
func (r *result) CPUPerRequest() time.Duration {
	if r.OK == 0 {
		return 0
	}
	return r.ServerCPU / time.Duration(r.OK)
}

// recorder accumulates one goroutine's outcomes; merge them at the end.
type recorder struct {
	ok       int64
	non2xx   map[int]int64
	errs     int64
	firstErr string
	lat      []time.Duration
}

func (rec *recorder) add(status int, err error, d time.Duration) {
	switch {
	case err != nil:
		rec.errs++
		if rec.firstErr == "" {
			rec.firstErr = err.Error()
		}
	case status >= 200 && status < 300:
		rec.ok++
		rec.lat = append(rec.lat, d)
	default:
		if rec.non2xx == nil {
			rec.non2xx = map[int]int64{}
		}
		rec.non2xx[status]++
		rec.lat = append(rec.lat, d)
	}
}

func merge(name string, workers int, elapsed time.Duration, recs []*recorder) *result {
	r := &result{Name: name, Workers: workers, Elapsed: elapsed, Non2xx: map[int]int64{}}
	for _, rec := range recs {
		r.OK += rec.ok
		r.Errors += rec.errs
		if r.FirstErr == "" {
			r.FirstErr = rec.firstErr
		}
		for s, c := range rec.non2xx {
			r.Non2xx[s] += c
		}
		r.lat = append(r.lat, rec.lat...)
	}
	slices.Sort(r.lat)
	return r
}

// limits bound every phase in time and in count.
type limits struct {
	duration    time.Duration
	maxRequests int64
	timeout     time.Duration // per request
}

// closedLoop runs workers that each send a request as soon as the previous
// one answered, until the duration has passed or maxRequests were sent. A
// request in flight at the deadline is allowed to finish (within its own
// timeout) and counted; the rate is over the time until the last finished.
func closedLoop(ctx context.Context, name string, workers int, lim limits, fn call) *result {
	var (
		sent     atomic.Int64
		wg       sync.WaitGroup
		recs     = make([]*recorder, workers)
		start    = time.Now()
		deadline = start.Add(lim.duration)
	)
	for w := range workers {
		rec := &recorder{}
		recs[w] = rec
		wg.Go(func() {
			for ctx.Err() == nil && time.Now().Before(deadline) && sent.Add(1) <= lim.maxRequests {
				rctx, cancel := context.WithTimeout(ctx, lim.timeout)
				t0 := time.Now()
				status, err := fn(rctx, w)
				rec.add(status, err, time.Since(t0))
				cancel()
			}
		})
	}
	wg.Wait()
	return merge(name, workers, time.Since(start), recs)
}

// openLoop sends requests at a fixed rate, each in its own goroutine, so a
// slow answer does not delay the next request (no coordinated omission).
// Latency is measured from each request's scheduled start. At most
// maxInFlight requests run at once; a request that would exceed it is
// counted as an error rather than delayed.
func openLoop(ctx context.Context, name string, rate float64, maxInFlight int, lim limits, fn call) *result {
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		rec      = &recorder{}
		inFlight atomic.Int64
		start    = time.Now()
		interval = time.Duration(float64(time.Second) / rate)
	)
	for i := int64(0); i < lim.maxRequests && ctx.Err() == nil; i++ {
		at := start.Add(time.Duration(i) * interval)
		if at.Sub(start) >= lim.duration {
			break
		}
		if d := time.Until(at); d > 0 {
			select {
			case <-time.After(d):
			case <-ctx.Done():
			}
		}
		if inFlight.Add(1) > int64(maxInFlight) {
			inFlight.Add(-1)
			mu.Lock()
			rec.add(0, errors.New("client overloaded: too many requests in flight"), 0)
			mu.Unlock()
			continue
		}
		wg.Go(func() {
			defer inFlight.Add(-1)
			rctx, cancel := context.WithTimeout(ctx, lim.timeout)
			defer cancel()
			status, err := fn(rctx, 0)
			d := time.Since(at)
			mu.Lock()
			rec.add(status, err, d)
			mu.Unlock()
		})
	}
	wg.Wait()
	return merge(name, 1, time.Since(start), []*recorder{rec})
}

// isOK reports a 2xx status.
func isOK(status int) bool { return status >= http.StatusOK && status < http.StatusMultipleChoices }
