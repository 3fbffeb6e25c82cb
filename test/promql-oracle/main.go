// The PromQL oracle of the differential test tier (test/differential/): it loads a data set
// into a real Prometheus TSDB (in a temporary folder), evaluates a query corpus with the real
// Prometheus engine, and prints every answer as JSON, so the TypeScript test can compare them
// with what Sextant answers for the same data and queries.
//
//	promql-oracle < input.json > output.json
//	promql-oracle -bench 5 < input.json > timings.json   (median evaluation time per query)
//
// Input: {"series":[{"labels":{…},"samples":[[tMs,"1.5"|"NaN"|"+Inf"|"-Inf"|"stale"],…]}],
//
//	"queries":[{"id":"…","query":"…","time":tMs} or {"id","query","start","end","step"} (ms)]}
//
// Output: [{"id":"…","status":"success","resultType":"vector","result":[…]} or
//
//	{"id":"…","status":"error","errorType":"bad_data"|"execution","error":"…"}]
//
// Results carry times in milliseconds and values as Prometheus' API formats them.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"sort"
	"strconv"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb"
)

type inputSeries struct {
	Labels  map[string]string `json:"labels"`
	Samples [][2]any          `json:"samples"`
}

type inputQuery struct {
	ID    string `json:"id"`
	Query string `json:"query"`
	Time  *int64 `json:"time,omitempty"`
	Start int64  `json:"start"`
	End   int64  `json:"end"`
	Step  int64  `json:"step"`
}

type input struct {
	Series  []inputSeries `json:"series"`
	Queries []inputQuery  `json:"queries"`
}

type sample struct {
	Metric map[string]string `json:"metric"`
	T      int64             `json:"t,omitempty"`
	V      string            `json:"v,omitempty"`
	Values [][2]any          `json:"values,omitempty"`
}

type output struct {
	ID         string `json:"id"`
	Status     string `json:"status"`
	ResultType string `json:"resultType,omitempty"`
	Result     any    `json:"result,omitempty"`
	ErrorType  string `json:"errorType,omitempty"`
	Error      string `json:"error,omitempty"`
	// Median evaluation time in nanoseconds (bench mode only).
	Nanos int64 `json:"nanos,omitempty"`
}

func main() {
	benchRuns := flag.Int("bench", 0, "evaluate each query this many times and report the median time")
	flag.Parse()
	if err := run(*benchRuns); err != nil {
		fmt.Fprintln(os.Stderr, "promql-oracle:", err)
		os.Exit(1)
	}
}

func run(benchRuns int) error {
	var in input
	dec := json.NewDecoder(os.Stdin)
	dec.UseNumber()
	if err := dec.Decode(&in); err != nil {
		return fmt.Errorf("reading input: %w", err)
	}
	dir, err := os.MkdirTemp("", "promql-oracle-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	opts := tsdb.DefaultOptions()
	opts.OutOfOrderTimeWindow = math.MaxInt64 / 4
	db, err := tsdb.Open(dir, nil, nil, opts, nil)
	if err != nil {
		return fmt.Errorf("opening tsdb: %w", err)
	}
	defer db.Close()
	if err := load(db, in.Series); err != nil {
		return err
	}
	engine := promql.NewEngine(promql.EngineOpts{
		MaxSamples:           50_000_000,
		Timeout:              2 * time.Minute,
		LookbackDelta:        5 * time.Minute,
		EnableAtModifier:     true,
		EnableNegativeOffset: true,
		// A subquery without a step uses the global evaluation interval (default 1m).
		NoStepSubqueryIntervalFn: func(int64) int64 { return 60_000 },
	})
	out := make([]output, 0, len(in.Queries))
	for _, q := range in.Queries {
		o := evaluate(engine, db, q)
		if benchRuns > 0 && o.Status == "success" {
			o.Nanos = bench(engine, db, q, benchRuns)
			o.Result = nil
		}
		out = append(out, o)
	}
	enc := json.NewEncoder(os.Stdout)
	return enc.Encode(out)
}

func parseValue(raw any) (float64, error) {
	switch v := raw.(type) {
	case json.Number:
		return v.Float64()
	case string:
		switch v {
		case "stale":
			return math.Float64frombits(value.StaleNaN), nil
		case "NaN":
			return math.NaN(), nil
		case "+Inf", "Inf":
			return math.Inf(1), nil
		case "-Inf":
			return math.Inf(-1), nil
		}
		return strconv.ParseFloat(v, 64)
	}
	return 0, fmt.Errorf("bad sample value %v", raw)
}

func load(db *tsdb.DB, series []inputSeries) error {
	app := db.Appender(context.Background())
	for _, s := range series {
		lset := labels.FromMap(s.Labels)
		var ref storage.SeriesRef
		for _, pair := range s.Samples {
			t, err := pair[0].(json.Number).Int64()
			if err != nil {
				return fmt.Errorf("bad timestamp in %s: %w", lset, err)
			}
			v, err := parseValue(pair[1])
			if err != nil {
				return fmt.Errorf("bad value in %s: %w", lset, err)
			}
			r, err := app.Append(ref, lset, t, v)
			if err != nil {
				return fmt.Errorf("appending to %s at %d: %w", lset, t, err)
			}
			ref = r
		}
	}
	return app.Commit()
}

func newQuery(engine *promql.Engine, db *tsdb.DB, q inputQuery) (promql.Query, error) {
	ctx := context.Background()
	if q.Time != nil {
		return engine.NewInstantQuery(ctx, db, nil, q.Query, time.UnixMilli(*q.Time))
	}
	return engine.NewRangeQuery(ctx, db, nil, q.Query, time.UnixMilli(q.Start), time.UnixMilli(q.End), time.Duration(q.Step)*time.Millisecond)
}

func evaluate(engine *promql.Engine, db *tsdb.DB, q inputQuery) output {
	query, err := newQuery(engine, db, q)
	if err != nil {
		// Prometheus' API answers every error of creating the query (parse and type errors) as
		// bad_data (invalidParamError).
		return output{ID: q.ID, Status: "error", ErrorType: "bad_data", Error: err.Error()}
	}
	defer query.Close()
	res := query.Exec(context.Background())
	if res.Err != nil {
		return output{ID: q.ID, Status: "error", ErrorType: errorType(res.Err), Error: res.Err.Error()}
	}
	o := output{ID: q.ID, Status: "success", ResultType: string(res.Value.Type())}
	switch v := res.Value.(type) {
	case promql.Scalar:
		o.Result = sample{T: v.T, V: formatFloat(v.V)}
	case promql.String:
		o.Result = sample{T: v.T, V: v.V}
	case promql.Vector:
		list := make([]sample, 0, len(v))
		for _, s := range v {
			list = append(list, sample{Metric: s.Metric.Map(), T: s.T, V: formatFloat(s.F)})
		}
		o.Result = list
	case promql.Matrix:
		sort.Sort(v)
		list := make([]sample, 0, len(v))
		for _, s := range v {
			points := make([][2]any, 0, len(s.Floats))
			for _, p := range s.Floats {
				points = append(points, [2]any{p.T, formatFloat(p.F)})
			}
			list = append(list, sample{Metric: s.Metric.Map(), Values: points})
		}
		o.Result = list
	}
	return o
}

func bench(engine *promql.Engine, db *tsdb.DB, q inputQuery, runs int) int64 {
	times := make([]int64, 0, runs)
	for i := 0; i < runs; i++ {
		started := time.Now()
		query, err := newQuery(engine, db, q)
		if err != nil {
			return 0
		}
		query.Exec(context.Background())
		query.Close()
		times = append(times, time.Since(started).Nanoseconds())
	}
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	return times[len(times)/2]
}

// errorType maps an evaluation error to the errorType Prometheus' HTTP API reports for it.
func errorType(err error) string {
	switch {
	case errors.As(err, new(promql.ErrQueryTimeout)):
		return "timeout"
	case errors.As(err, new(promql.ErrQueryCanceled)):
		return "canceled"
	}
	return "execution"
}

// formatFloat is how Prometheus' API writes sample values.
func formatFloat(f float64) string {
	return strconv.FormatFloat(f, 'f', -1, 64)
}
