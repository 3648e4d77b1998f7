package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"time"
)

// Admin write visibility: gatehouse promises that an admin write reaches
// the decisions before the write is answered. Under the allow mix at the
// open-loop rate, a user is disabled (and next time enabled again) through
// the REST API, and the decision for that user is asked right after the
// write's answer, then every millisecond, until it flips. The figure is
// from sending the write to the first flipped decision: what an admin
// waits, under load, before the change is in force.

type visibilityResult struct {
	User    string    `json:"user"`
	Writes  int       `json:"writes"`
	Flipped int       `json:"flipped"` // writes whose flip was seen within the limit
	Visible []float64 `json:"visible_ms"`
	Write   []float64 `json:"write_ms"` // the write's own round trip
	Polls   []int     `json:"polls"`    // decisions asked until the flip, per write
	// VisibleP50/Max summarise Visible.
	VisibleP50 float64 `json:"visible_p50_ms"`
	VisibleMax float64 `json:"visible_max_ms"`
	WriteP50   float64 `json:"write_p50_ms"`
	WriteMax   float64 `json:"write_max_ms"`
	FirstError string  `json:"first_error,omitempty"`
}

// flipLimit is how long a probe waits for a flip before giving up on it.
const flipLimit = 5 * time.Second

// measureVisibility runs the visibility load (open loop) and, during it,
// the writes. It returns the load phase as well: the allow mix's latency
// while the directory changes under it.
func measureVisibility(ctx context.Context, srv *server, token string, m dirModel, w *workload, p plan) (*visibilityResult, phaseResult, error) {
	ui := m.regularUser(424242)
	vr := &visibilityResult{User: m.email(ui), Writes: p.Writes}
	probe := newConn(srv.addr, p.Timeout)
	defer probe.close()
	ask := executeQuery(m.trinoName(ui))
	allowed := func() (bool, error) {
		status, resp, err := probe.post(ask.path, ask.body)
		if err != nil {
			return false, err
		}
		if status != 200 {
			return false, fmt.Errorf("allow: status %d", status)
		}
		d, _, err := checkAnswer(ask.path, resp)
		return d == digestTrue, err
	}
	if ok, err := allowed(); err != nil || !ok {
		return vr, phaseResult{}, fmt.Errorf("write visibility: %s is not allowed ExecuteQuery before the writes (%v)", vr.User, err)
	}
	timer, err := newPreciseTimer()
	if err != nil {
		return vr, phaseResult{}, err
	}
	defer timer.close()
	admin := &http.Client{Timeout: p.Timeout}

	type loadOut struct {
		r   phaseResult
		err error
	}
	load := make(chan loadOut, 1)
	go func() {
		r, err := openLoop(ctx, srv.addr, w.visibility, p.Rate, p.OpenConns, p.Grace, p.Timeout)
		load <- loadOut{r, err}
	}()
	lead := min(time.Second, p.Visibility/4)
	spacing := (p.Visibility - lead) / time.Duration(p.Writes+1)
	began := time.Now()
	writes := p.Writes + p.Writes%2 // even: the user ends enabled, as OPA's copy of the directory has them
	for j := range writes {
		if err := timer.sleepUntil(began.Add(lead + time.Duration(j)*spacing)); err != nil {
			return vr, phaseResult{}, err
		}
		disable := j%2 == 0
		action := "enable"
		if disable {
			action = "disable"
		}
		t0 := time.Now()
		if err := adminPost(admin, srv.addr, token, "/api/v1/users/"+vr.User+":"+action); err != nil {
			vr.FirstError = err.Error()
			break
		}
		wrote := time.Since(t0)
		polls := 0
		for time.Since(t0) < flipLimit {
			polls++
			ok, err := allowed()
			if err != nil {
				if vr.FirstError == "" {
					vr.FirstError = err.Error()
				}
			} else if ok != disable {
				if j < p.Writes {
					vr.Visible = append(vr.Visible, ms(time.Since(t0)))
					vr.Write = append(vr.Write, ms(wrote))
					vr.Polls = append(vr.Polls, polls)
					vr.Flipped++
				}
				break
			}
			_ = timer.sleep(time.Millisecond)
		}
	}
	out := <-load
	vr.VisibleP50, vr.VisibleMax = medianMax(vr.Visible)
	vr.WriteP50, vr.WriteMax = medianMax(vr.Write)
	if vr.Flipped < vr.Writes && vr.FirstError == "" {
		vr.FirstError = fmt.Sprintf("%d of %d writes not visible within %s", vr.Writes-vr.Flipped, vr.Writes, flipLimit)
	}
	fmt.Fprintf(os.Stderr, "  gatehouse: write visibility: %d/%d flipped, p50 %.2f ms, max %.2f ms (write round trip p50 %.2f ms)\n",
		vr.Flipped, vr.Writes, vr.VisibleP50, vr.VisibleMax, vr.WriteP50)
	return vr, out.r, out.err
}

// adminPost calls a custom method of the admin REST API with the bootstrap token.
func adminPost(c *http.Client, addr, token, path string) error {
	req, err := http.NewRequest(http.MethodPost, "http://"+addr+path, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("POST %s: %s %.200s", path, resp.Status, b)
	}
	return nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// medianMax returns the median (the lower middle for an even count) and
// the maximum of xs.
func medianMax(xs []float64) (float64, float64) {
	if len(xs) == 0 {
		return 0, 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[(len(s)-1)/2], s[len(s)-1]
}
