package reports

import (
	"errors"
	"fmt"
	"time"
)

// Merge combines the results of shards of one run (or runs against different
// clients) into one: every container of every input, in input order. A
// container is its client and its name; the same one in two inputs means the
// shards overlapped, which is an error rather than a silent pick.
func Merge(rs ...*Results) (*Results, error) {
	if len(rs) == 0 {
		return nil, errors.New("merge: no results")
	}
	out := &Results{Version: Version, Options: rs[0].Options}
	seen := map[[2]string]int{}
	var end time.Time
	for i, r := range rs {
		if r.Version != Version {
			return nil, fmt.Errorf("merge: input %d has version %d, want %d", i+1, r.Version, Version)
		}
		if r.Options != out.Options {
			return nil, fmt.Errorf("merge: input %d was written with options %+v, input 1 with %+v", i+1, r.Options, out.Options)
		}
		for _, c := range r.Containers {
			key := [2]string{c.Client, c.Name}
			if j, ok := seen[key]; ok {
				return nil, fmt.Errorf("merge: container %s (client %s) is in inputs %d and %d", c.Name, c.Client, j, i+1)
			}
			seen[key] = i + 1
			out.Containers = append(out.Containers, c)
		}
		out.Errors = append(out.Errors, r.Errors...)
		// The duration is the span from the earliest start to the latest end:
		// shards usually run side by side, and a sum would count that time
		// twice (for shards run one after another the span includes the gaps).
		if out.Started.IsZero() || r.Started.Before(out.Started) {
			out.Started = r.Started
		}
		if e := r.Started.Add(time.Duration(r.DurationMs * float64(time.Millisecond))); e.After(end) {
			end = e
		}
	}
	out.DurationMs = ms(end.Sub(out.Started))
	out.sort()
	return out, nil
}
