// Package hist records a load run's latencies in HDR histograms (HdrHistogram), per operation:
// merged over the whole run, and summarised once a second for the over-time view.
//
// Recording goes to a few mutex-guarded shards, so concurrent workers rarely wait for each other
// and memory does not grow with the run: a [Set] holds a fixed number of histograms per
// operation (one per shard, one for the second being summarised, one for the run) plus one small
// [Second] summary per elapsed second.
package hist
