package loadtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"time"
)

// incidentList is the part of GET /api/incidents that the poll reads.
type incidentList struct {
	Incidents []struct {
		ID      string `json:"id"`
		Title   string `json:"title"`
		Channel *struct {
			ID string `json:"id"`
		} `json:"channel"`
	} `json:"incidents"`
}

// poll reads the incident list every Poll until every group answered 2xx
// has an incident with a channel, or Wait after the last firing body, or
// until ctx ends, and returns how long each group took.
func (r *loadRun) poll(ctx context.Context) *Channels {
	out := &Channels{PollMS: float64(r.o.Poll.Microseconds()) / 1000}
	title := regexp.MustCompile(`^Load test ` + regexp.QuoteMeta(r.o.RunID) + ` group (\d+)$`) // as Title makes it
	incident := make([]time.Time, r.o.Groups)
	channel := make([]time.Time, r.o.Groups)
	for {
		list, err := r.incidents(ctx)
		now := r.clk.Now()
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			out.Error = err.Error()
			if permanent(err) {
				break
			}
		}
		if list != nil {
			for _, inc := range list.Incidents {
				m := title.FindStringSubmatch(inc.Title)
				if m == nil {
					continue
				}
				g, err := strconv.Atoi(m[1])
				if err != nil || g >= r.o.Groups {
					continue
				}
				if incident[g].IsZero() {
					incident[g] = now
				}
				if inc.Channel != nil && inc.Channel.ID != "" && channel[g].IsZero() {
					channel[g] = now
				}
			}
		}
		r.mu.Lock()
		done, deadline := !r.fireDone.IsZero(), r.fireDone.Add(r.o.Wait)
		all := true
		for g := range r.fired {
			if len(r.fired[g]) > 0 && channel[g].IsZero() {
				all = false
			}
		}
		r.mu.Unlock()
		if done && (all || !now.Before(deadline)) {
			break
		}
		if r.clk.SleepUntil(ctx, now.Add(r.o.Poll)) != nil {
			break
		}
	}

	r.mu.Lock()
	defer r.mu.Unlock()
	var toInc, toChan []time.Duration
	for g := range r.fired {
		if len(r.fired[g]) == 0 {
			continue
		}
		out.Groups++
		if !incident[g].IsZero() {
			toInc = append(toInc, incident[g].Sub(r.firstSent[g]))
		}
		if !channel[g].IsZero() {
			toChan = append(toChan, channel[g].Sub(r.firstSent[g]))
		}
	}
	out.Incidents, out.WithChannel = len(toInc), len(toChan)
	out.ToIncident, out.ToChannel = spread(toInc), spread(toChan)
	return out
}

func spread(ds []time.Duration) Spread {
	slices.Sort(ds)
	return Spread{P50: ms(percentile(ds, 0.5)), Max: ms(percentile(ds, 1))}
}

// apiError is an answer other than 200 from the API.
type apiError struct {
	status int
	body   string
}

func (e *apiError) Error() string {
	return fmt.Sprintf("GET /api/incidents: %d %s", e.status, e.body)
}

// permanent reports whether err will not go away by asking again: a wrong
// or missing API token, or an API that is off.
func permanent(err error) bool {
	var ae *apiError
	return errors.As(err, &ae) && ae.status >= 400 && ae.status < 500 && ae.status != http.StatusTooManyRequests
}

func (r *loadRun) incidents(ctx context.Context) (*incidentList, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.o.URL+"/api/incidents?status=all&limit=1000", nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+r.o.APIToken)
	resp, err := r.o.Client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return nil, &apiError{status: resp.StatusCode, body: string(b)}
	}
	var list incidentList
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
		return nil, fmt.Errorf("GET /api/incidents: %w", err)
	}
	return &list, nil
}
