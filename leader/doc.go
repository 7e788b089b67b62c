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
//     is lost, the store is closed, or [Term.Resign] is called; [Term.Context] is cancelled
//     while at least TTL/3 of the lease is certainly left, so work bound to it can stop before
//     another instance can take over. "Certainly left" is counted from when the acquire (or the
//     last successful extension) was sent, not from when its reply came, less a drift margin of
//     TTL/100 + 2 ms: it holds as long as Redis's clock runs at most that much faster than this
//     process's over one TTL, and as long as the process is not paused for longer than TTL/3
//     between noticing the cancelled context and its next write (a pause that long is what
//     [Term.Fence] is for). An acquire whose reply comes too late for that (a slow network, a
//     GC pause) is given back, not handed out: Campaign never returns a term whose lease may
//     already have expired. All of this holds while Redis keeps the lease: when Redis loses it
//     (a restart without persistence, a failover to a replica that had not received it,
//     FLUSHALL) another instance can win at once, while this term learns it only at its next
//     extension (due within TTL/3; at the latest when TTL/3 is certainly left), so two terms'
//     contexts can be live together; only the fence tells their writes apart then.
//   - [Term.Fence] is the lease's fencing token ([client.Lease.Fence]). Each term's fence is
//     larger than every earlier term's, across instances, expiry and restarts, as long as Redis
//     keeps the fence counter. When Redis loses it (a restart without persistence, a failover
//     to a replica that had not received it, FLUSHALL), the next fence comes from the Redis
//     server's clock (microseconds since the Unix epoch) and is still larger than every earlier
//     one unless that server's clock is behind the clock that issued the earlier fences by more
//     than the time between the two acquisitions (clock skew between Redis hosts, or a clock
//     stepped back). Pass the fence with every write the leader makes to storage that can
//     reject stale tokens, so a deposed leader that stalled past its term cannot overwrite its
//     successor's work.
//   - [Election.Leader] tells anyone (leader or not) who leads now and with which fence.
//   - [Election.Run] is the cron replacement: campaign, run a function for the whole term,
//     campaign again when the term is lost. However the function ends, the term ends and its
//     lease is released: on a panic Run resigns, then lets the panic go on (the function runs on
//     the caller's goroutine).
//
// Every goroutine this package starts that runs user code (the store's middleware, on the
// term's upkeep) recovers a panic: the term ends, its lease is released, and [Term.Err] is the
// STORE_CALLBACK_PANIC error.
//
// Keys (in the store's scope): the lease is the claim key <name> (namespace claim) with its
// fence counter beside it ([client.Lease.Fence]); the leader record, {"id","fence"} as JSON, is
// the kv key <name>:leader, written by the leader with the lease's TTL.
//
// # Constructor
//
// New follows the one convention of the recipe packages (cache, ratelimit, nearcache, leader,
// httpstore): New(store, …, Options) returns the value and an error. The zero Options is the
// default; a nil store or an option outside its documented limits is STORE_CONFIGURATION_INVALID,
// returned by New before any call to Redis, so the methods of a value New returned never fail
// for its options.
// An empty election name is STORE_CONFIGURATION_INVALID too.
package leader
