package history

// StreamCellLosing is [StreamCell] with a planted defect: every nth delivery is acked without
// being handled, as a handler that acks before its work and crashes.
func StreamCellLosing(n int) Cell { return streamCell{consumers: 2, losing: n} }
