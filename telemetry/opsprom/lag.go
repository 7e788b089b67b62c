package opsprom

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/igniter-go/store/ops"
)

// lagGauges turns consumer-lag signals into the lag and pending gauges. Their labels (service,
// stream, group) do not tell tenants apart, and must not (no scope ids in telemetry), so two
// tenants with the same stream and group names share a series: each series is the sum over the
// group instances (ops.Signal.Source) that report to it, never the last one to report. A group
// instance is dropped at its ops.SignalConsumerStopped, and a series with none left is deleted,
// so ended loops leave no series behind.
type lagGauges struct {
	lag, pending *prometheus.GaugeVec

	mu  sync.Mutex
	all map[lagLabels]map[uint64]lagValue
}

type lagLabels struct{ service, stream, group string }

type lagValue struct{ lag, pending int64 }

func newLagGauges(lag, pending *prometheus.GaugeVec) *lagGauges {
	return &lagGauges{lag: lag, pending: pending, all: map[lagLabels]map[uint64]lagValue{}}
}

func (g *lagGauges) observe(s ops.Signal) {
	k := lagLabels{s.Service, s.Name, s.Group}
	g.mu.Lock()
	defer g.mu.Unlock()
	switch s.Kind {
	case ops.SignalConsumerLag:
		srcs := g.all[k]
		if srcs == nil {
			srcs = map[uint64]lagValue{}
			g.all[k] = srcs
		}
		srcs[s.Source] = lagValue{s.N, s.M}
	case ops.SignalConsumerStopped:
		srcs := g.all[k]
		delete(srcs, s.Source)
		if len(srcs) == 0 {
			delete(g.all, k)
			g.lag.DeleteLabelValues(k.service, k.stream, k.group)
			g.pending.DeleteLabelValues(k.service, k.stream, k.group)
			return
		}
	default:
		return
	}
	var lag, pending int64
	unknown := false
	for _, v := range g.all[k] {
		if v.lag < 0 { // Redis could not tell this group's lag
			unknown = true
		} else {
			lag += v.lag
		}
		pending += v.pending
	}
	if unknown && lag == 0 {
		lag = -1
	}
	g.lag.WithLabelValues(k.service, k.stream, k.group).Set(float64(lag))
	g.pending.WithLabelValues(k.service, k.stream, k.group).Set(float64(pending))
}
