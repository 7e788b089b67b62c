// Package leader elects one leader among the instances of a service, on the store's leases.
//
// The original's cron recipe takes a claim once per run (claim.once("cron:cleanup", HOSTNAME,
// {ttl: 55}), then runs the job if it got it). That pattern has three holes: a job that
// outlives the claim's TTL runs twice at once; a holder that stalls (GC pause, partition)
// keeps writing after its claim expired and a new holder took over; and nobody can ask who is
// running the job. An [Election] closes them:
//
//   - [Election.Campaign] waits until this instance leads and returns a [Term]. The term keeps
//     its lease alive (extending it every TTL/3, [client.Lease.Hold]) and ends when the lease
//     is lost, the store is closed, or [Term.Resign] is called; [Term.Context] is cancelled at
//     once, before another instance can take over (the watchdog gives up while at least TTL/3
//     of the lease may be left).
//   - [Term.Fence] is the lease's fencing token: it strictly increases from term to term, across
//     instances, restarts and expiry. Pass it with every write the leader makes to storage that
//     can reject stale tokens, so a deposed leader that stalled past its term cannot overwrite
//     its successor's work.
//   - [Election.Leader] tells anyone (leader or not) who leads now and with which fence.
//   - [Election.Run] is the cron replacement: campaign, run a function for the whole term,
//     campaign again when the term is lost.
//
// Keys (in the store's scope): the lease is the claim key <name> (namespace claim) with its
// fence counter beside it ([client.Lease.Fence]); the leader record, {"id","fence"} as JSON, is
// the kv key <name>:leader, written by the leader with the lease's TTL.
package leader
