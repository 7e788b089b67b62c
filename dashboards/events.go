package dashboards

import (
	"github.com/igniter-go/store/ops"
	"github.com/igniter-go/store/telemetry/opsprom"
)

func eventsAndStreams() Dashboard {
	okOf := func(k ops.Kind) string {
		return sel(opsprom.MetricOperations, serviceMatch, eq(opsprom.LabelOperation, k.Operation()), eq(opsprom.LabelOutcome, opsprom.OutcomeOK))
	}
	svc := func(metric string) string { return sel(metric, serviceMatch) }
	group := []string{opsprom.LabelStream, opsprom.LabelGroup}
	return Dashboard{UID: "igniter-store-events-streams", File: "events-streams.json", Title: "Igniter Store / Events & streams",
		Description: "Pub/sub events and Redis Streams consumer groups of Igniter Store services.",
		Panels: []Panel{
			{Title: "Events published and delivered", Unit: "ops",
				Description: "Events published per second (successful events.publish operations) and messages handed to subscription handlers per second. Delivered exceeds published when several handlers or services subscribe.",
				Targets: []Target{
					target(sumBy(rate(okOf(ops.EventsPublish))), "published"),
					target(sumBy(rate(svc(opsprom.MetricPubSubDelivered))), "delivered"),
				}},
			{Title: "Events dropped and invalid", Unit: "ops",
				Description: "Messages dropped because a subscription's buffer was full (a handler slower than the publish rate), and inbound messages or entries that could not be decoded, by source.",
				Targets: []Target{
					target(sumBy(rate(svc(opsprom.MetricPubSubDropped))), "dropped"),
					target(sumBy(rate(svc(opsprom.MetricMessagesInvalid)), opsprom.LabelSource), "invalid "+legend(opsprom.LabelSource)),
				}},
			{Title: "Subscriber reconnects", Unit: "short",
				Description: "Times a subscriber connection came back and resubscribed, in each interval.",
				Targets:     []Target{target(sumBy(increase(svc(opsprom.MetricPubSubReconnects))), "reconnects")}},
			{Title: "Handler errors and panics", Unit: "ops",
				Description: "Event and stream handlers that returned an error or panicked, per second, by source. The store recovers them; a stream entry is redelivered.",
				Targets:     []Target{target(sumBy(rate(svc(opsprom.MetricHandlerFailures)), opsprom.LabelSource), legend(opsprom.LabelSource))}},
			{Title: "Handler latency p50 / p99", Unit: "s",
				Description: "How long event and stream handlers ran, by source (failed runs included).",
				Targets: []Target{
					target(handlerLatency.quantile("0.5", []string{serviceMatch}, []string{opsprom.LabelSource}), "p50 "+legend(opsprom.LabelSource)),
					target(handlerLatency.quantile("0.99", []string{serviceMatch}, []string{opsprom.LabelSource}), "p99 "+legend(opsprom.LabelSource)),
				}},
			{Title: "Stream entries appended and consumed", Unit: "ops",
				Description: "Entries appended per second (successful stream.append operations) and entries handled and acknowledged per second by stream and consumer group.",
				Targets: []Target{
					target(sumBy(rate(okOf(ops.StreamAppend))), "appended"),
					target(sumBy(rate(svc(opsprom.MetricStreamConsumed)), group...), "consumed "+legend(group...)),
				}},
			{Title: "Consumer lag", Unit: "short",
				Description: "Entries of each stream not yet delivered to the group, as the consume loop last reported it (every 10s by default). A line that keeps rising means consumers fall behind.",
				Targets:     []Target{target(maxBy(svc(opsprom.MetricStreamConsumerLag), group...), legend(group...))}},
			{Title: "Pending entries", Unit: "short",
				Description: "Entries delivered to the group and not yet acknowledged: handlers in flight plus failed entries waiting for redelivery.",
				Targets:     []Target{target(maxBy(svc(opsprom.MetricStreamPending), group...), legend(group...))}},
			{Title: "Redelivered and claimed", Unit: "ops",
				Description: "Failed entries left pending for redelivery, and idle entries claimed (XAUTOCLAIM) from consumers that died, per second.",
				Targets: []Target{
					target(sumBy(rate(svc(opsprom.MetricStreamRedelivered)), group...), "redelivered "+legend(group...)),
					target(sumBy(rate(svc(opsprom.MetricStreamReclaimed)), group...), "claimed "+legend(group...)),
				}},
			{Title: "Dead-lettered", Unit: "short",
				Description: "Entries moved to the dead-letter stream (`<stream>:dead`) after MaxDeliveries failed attempts, in each interval. Any non-zero value needs a look.",
				Targets:     []Target{target(sumBy(increase(svc(opsprom.MetricStreamDeadLettered)), group...), legend(group...))}},
		}}
}
