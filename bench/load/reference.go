package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"text/tabwriter"
	"time"
)

// The reference scenario replays the Python service's k6 load test
// (seed-api.md section 9): each virtual user loops login (401: the user was
// deleted), register, logout, login, /user/me, the generated picture, the
// upload of a 400x400 PNG, the uploaded picture and the user's deletion,
// then sleeps. Its published figures: 1.8 requests/s at 442 ms average,
// one virtual user.
const (
	referencePassword   = "qwertyQWERTY1234!@#$"
	referenceReqPerSec  = 1.8
	referenceAvgLatency = 442 * time.Millisecond
)

// referenceStatuses are the statuses the reference answers, step by step.
var referenceStatuses = []int{401, 200, 200, 200, 200, 200, 200, 200, 200}

// referenceJSON is the scenario's JSON line.
type referenceJSON struct {
	Time           string        `json:"time"`
	Label          string        `json:"label,omitempty"`
	Scenario       string        `json:"scenario"`
	VUs            int           `json:"vus"`
	SleepS         float64       `json:"sleep_s"`
	Seconds        float64       `json:"seconds"`
	Iterations     int64         `json:"iterations"`
	IterationsPS   float64       `json:"iterations_per_s"`
	Requests       int64         `json:"requests"`
	RequestsPS     float64       `json:"requests_per_s"`
	AvgMs          float64       `json:"avg_ms"`
	P50Ms          float64       `json:"p50_ms"`
	P99Ms          float64       `json:"p99_ms"`
	MaxMs          float64       `json:"max_ms"`
	Statuses       map[int]int64 `json:"statuses"`
	Unexpected     int64         `json:"unexpected_statuses"`
	FirstError     string        `json:"first_error,omitempty"`
	ImageBytes     int           `json:"image_bytes"`
	ServerCPUs     float64       `json:"server_cpu_s"`
	RefRequestsPS  float64       `json:"reference_requests_per_s"`
	RefAvgMs       float64       `json:"reference_avg_ms"`
	SpeedupReqPS   float64       `json:"requests_per_s_vs_reference"`
	SpeedupLatency float64       `json:"avg_latency_vs_reference"`
}

// vuStats is what one virtual user measured.
type vuStats struct {
	iterations, unexpected int64
	statuses               map[int]int64
	lat                    []time.Duration
	firstErr               string
}

// runReference runs the reference scenario and prints its table and JSON
// line.
func runReference(ctx context.Context, o options, a *api, stdout io.Writer) error {
	pic, err := referencePNG()
	if err != nil {
		return err
	}
	id := make([]byte, 3)
	if _, err := rand.Read(id); err != nil {
		return err
	}
	run := hex.EncodeToString(id)
	cpu := cpuMeter{pid: o.serverPID}
	fmt.Fprintf(stdout, "scenario reference: %d VU(s) for %v, sleep %v per iteration, %d-byte PNG ...\n",
		o.refVUs, o.refDuration, o.refSleep, len(pic))
	c0 := cpu.read()
	start := time.Now()
	deadline := start.Add(o.refDuration)
	stats := make([]*vuStats, o.refVUs)
	var wg sync.WaitGroup
	for v := range o.refVUs {
		st := &vuStats{statuses: map[int]int64{}}
		stats[v] = st
		wg.Go(func() {
			user := fmt.Sprintf("ref_%s_%d", run, v+1)
			for ctx.Err() == nil && time.Now().Before(deadline) {
				referenceIteration(ctx, a, o.timeout, user, pic, st)
				st.iterations++
				select {
				case <-time.After(o.refSleep):
				case <-ctx.Done():
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("interrupted: %w", err)
	}

	rep := referenceJSON{
		Time: time.Now().UTC().Format(time.RFC3339), Label: o.label, Scenario: "reference",
		VUs: o.refVUs, SleepS: o.refSleep.Seconds(), Seconds: elapsed.Seconds(), Statuses: map[int]int64{},
		ImageBytes: len(pic), ServerCPUs: (cpu.read() - c0).Seconds(),
		RefRequestsPS: referenceReqPerSec, RefAvgMs: ms(referenceAvgLatency),
	}
	var lat []time.Duration
	for _, st := range stats {
		rep.Iterations += st.iterations
		rep.Unexpected += st.unexpected
		for s, n := range st.statuses {
			rep.Statuses[s] += n
		}
		lat = append(lat, st.lat...)
		if rep.FirstError == "" {
			rep.FirstError = st.firstErr
		}
	}
	slices.Sort(lat)
	rep.Requests = int64(len(lat))
	if len(lat) > 0 {
		var sum time.Duration
		for _, d := range lat {
			sum += d
		}
		r := &result{lat: lat}
		rep.AvgMs = ms(sum / time.Duration(len(lat)))
		rep.P50Ms, rep.P99Ms, rep.MaxMs = ms(r.Percentile(50)), ms(r.Percentile(99)), ms(r.Percentile(100))
	}
	rep.IterationsPS = float64(rep.Iterations) / elapsed.Seconds()
	rep.RequestsPS = float64(rep.Requests) / elapsed.Seconds()
	rep.SpeedupReqPS = rep.RequestsPS / referenceReqPerSec
	if rep.AvgMs > 0 {
		rep.SpeedupLatency = ms(referenceAvgLatency) / rep.AvgMs
	}

	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "\tVUs\tsleep s\tseconds\titerations\titer/s\trequests\treq/s\tavg ms\tp50 ms\tp99 ms\tunexpected\t")
	fmt.Fprintf(tw, "usermgmt\t%d\t%.1f\t%.1f\t%d\t%.2f\t%d\t%.2f\t%.1f\t%.1f\t%.1f\t%d\t\n", rep.VUs, rep.SleepS, rep.Seconds,
		rep.Iterations, rep.IterationsPS, rep.Requests, rep.RequestsPS, rep.AvgMs, rep.P50Ms, rep.P99Ms, rep.Unexpected)
	fmt.Fprintf(tw, "reference (k6 README)\t1\t1.0\t60\t13\t0.22\t117\t%.2f\t%.1f\t-\t-\t-\t\n", referenceReqPerSec, ms(referenceAvgLatency))
	_ = tw.Flush()
	fmt.Fprintf(stdout, "\nstatuses %v; %.1fx the reference's requests/s, %.1fx lower average latency\n\n",
		rep.Statuses, rep.SpeedupReqPS, rep.SpeedupLatency)
	enc := json.NewEncoder(stdout)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(rep); err != nil {
		return err
	}
	if o.strict && (rep.Unexpected > 0 || rep.Iterations == 0) {
		return fmt.Errorf("reference scenario: %d unexpected statuses (%s)", rep.Unexpected, rep.FirstError)
	}
	return nil
}

// referenceIteration is one k6 iteration. Every request is timed and its
// status checked against the reference's.
func referenceIteration(ctx context.Context, a *api, timeout time.Duration, user string, pic []byte, st *vuStats) {
	step := 0
	send := func(method, path, token, ctype string, body []byte, out any) int {
		rctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		var rd io.Reader
		if body != nil {
			rd = bytes.NewReader(body)
		}
		req, err := http.NewRequestWithContext(rctx, method, a.base+path, rd)
		if err != nil {
			return 0
		}
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		t0 := time.Now()
		status, err := a.do(req, out)
		st.lat = append(st.lat, time.Since(t0))
		st.statuses[status]++
		if err != nil && st.firstErr == "" {
			st.firstErr = err.Error()
		}
		if step < len(referenceStatuses) && status != referenceStatuses[step] {
			st.unexpected++
			if st.firstErr == "" {
				st.firstErr = fmt.Sprintf("step %d %s %s: status %d, want %d", step+1, method, path, status, referenceStatuses[step])
			}
		}
		step++
		return status
	}
	p := a.prefix
	form := "application/x-www-form-urlencoded"
	login := []byte("username=" + user + "&password=" + urlEscape(referencePassword) + "&grant_type=password")
	var tok tokens
	if send("POST", p+"/auth/login", "", form, login, &tok) != http.StatusOK {
		var reg tokens
		send("POST", p+"/auth/register", "", form, []byte("username="+user+"&email="+user+"%40example.com&password="+
			urlEscape(referencePassword)+"&confirm_password="+urlEscape(referencePassword)), &reg)
		send("POST", p+"/auth/logout", reg.AccessToken, "", nil, nil)
		send("POST", p+"/auth/login", "", form, login, &tok)
	}
	var me struct {
		UUID           string `json:"uuid"`
		ProfilePicture *struct {
			ID int64 `json:"id"`
		} `json:"profile_picture"`
	}
	send("GET", p+"/user/me", tok.AccessToken, "", nil, &me)
	if me.ProfilePicture != nil {
		step = len(referenceStatuses) // the optional steps are not in the table
		send("DELETE", p+"/file/"+strconv.FormatInt(me.ProfilePicture.ID, 10), tok.AccessToken, "", nil, nil)
		send("GET", p+"/user/me", tok.AccessToken, "", nil, &me)
		step = 5
	}
	send("GET", p+"/user/"+me.UUID+"/image", "", "", nil, nil)
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("file", "test.png")
	_, _ = fw.Write(pic)
	_ = mw.Close()
	send("PUT", p+"/user/"+me.UUID+"/image", tok.AccessToken, mw.FormDataContentType(), body.Bytes(), nil)
	send("GET", p+"/user/"+me.UUID+"/image", "", "", nil, nil)
	send("DELETE", p+"/user/"+me.UUID, tok.AccessToken, "", nil, nil)
}

// urlEscape escapes a form value.
func urlEscape(s string) string {
	var b bytes.Buffer
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// referencePNG draws a 400x400 PNG (the reference's asset is one of 81,796
// bytes; this one is of the same order).
func referencePNG() ([]byte, error) {
	img := image.NewRGBA(image.Rect(0, 0, 400, 400))
	for y := range 400 {
		for x := range 400 {
			img.Set(x, y, color.RGBA{uint8(x * y >> 3), uint8(x + 3*y), uint8((x ^ y) & 0xf0), 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
