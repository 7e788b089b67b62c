package hist_test

import (
	"fmt"
	"time"

	"github.com/igniter-go/store/loadtest/internal/hist"
)

// Workers record into shards; a ticker folds them once a second; the run's summaries merge
// every second.
func ExampleSet() {
	set := hist.NewSet(4)
	for worker := range 4 {
		for i := 1; i <= 250; i++ {
			set.Record(worker, "kv.get", time.Duration(i)*4*time.Microsecond)
		}
	}
	set.Error(0, "kv.get", "STORE_TIMEOUT")
	set.Tick(time.Second)
	ops, _ := set.Summaries(time.Second)
	s := ops[0]
	fmt.Println(s.Op, s.Count, s.Errors, s.P50.Round(time.Microsecond), s.Max.Round(time.Microsecond))
	fmt.Println(len(set.Series()), "second(s)")
	// Output:
	// kv.get 1000 map[STORE_TIMEOUT:1] 500µs 1ms
	// 1 second(s)
}
