package redistest

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Handover is what a failover of a [Cluster] or a [Sentinel] set-up did, with the times a
// history checker needs to say which acknowledged writes Redis may have lost.
type Handover struct {
	// From and To are the old and the new primary's addresses.
	From, To string
	// Synced is when every write the old primary had acknowledged was known to have reached the
	// replica that took over: the send time of a write of the failover's own, after which WAIT
	// saw a replica acknowledge it. Zero when the failover did not wait for it.
	Synced time.Time
	// Cut is when the replica's link was cut and the replica frozen, for a failover to a replica
	// lagging on purpose (KillPrimary with lag > 0): what the old primary acknowledged from then
	// on is lost. Zero otherwise.
	Cut time.Time
	// Killed is when the old primary was SIGKILLed; zero for a handover.
	Killed time.Time
	// Done is when the new primary served and the old one could acknowledge no more writes:
	// dead, or demoted to a replica, with the set-up naming the new one (the slot's owner in the
	// cluster, every sentinel's answer).
	Done time.Time
}

// syncKey is the key of the write a failover makes before WAIT: in key's hash slot (it carries
// key's hash tag, when key has one), so on the same primary.
func syncKey(key string) string { return "redistest:sync:" + key }

// syncPoint returns a time before which every write the primary at addr acknowledged has reached
// a replica: it writes key's sync key, then waits (WAIT 1) until a replica acknowledges that
// write, and returns when the write was sent. (WAIT waits for the caller's own last write only:
// a fresh connection that wrote nothing returns at once.) It tries again until ctx ends.
func syncPoint(ctx context.Context, addr, key string) (time.Time, error) {
	rdb := node(addr)
	defer rdb.Close()
	for {
		sent := time.Now()
		err := rdb.Set(ctx, syncKey(key), sent.UnixNano(), 0).Err()
		if err == nil {
			var n int64
			if n, err = rdb.Do(ctx, "WAIT", 1, 1000).Int64(); err == nil && n >= 1 {
				return sent, nil
			}
		}
		if ctx.Err() != nil {
			return time.Time{}, fmt.Errorf("redistest: no replica of %s acknowledged a write: %v", addr, err)
		}
	}
}

// node is a plain client of one node, retries off, ctx deadlines honoured.
func node(addr string) *redis.Client {
	return redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, DialTimeout: time.Second, ContextTimeoutEnabled: true})
}

// poll calls ok every 20ms until it returns nil or ctx ends, and returns its last error then.
// Polling is the only signal Redis gives of a promotion or a demotion.
func poll(ctx context.Context, what string, ok func() error) error {
	for {
		err := ok()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("redistest: %s: %w (%v)", what, err, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// lagBehind freezes replica, cuts its link from primary (CLIENT KILL TYPE replica) and waits
// lag: what primary acknowledges meanwhile never reaches replica. The caller thaws it.
func lagBehind(ctx context.Context, primary, replica *Server, lag time.Duration) (time.Time, error) {
	replica.Freeze()
	rdb := node(primary.Addr)
	defer rdb.Close()
	cut := time.Now()
	if err := rdb.Do(ctx, "CLIENT", "KILL", "TYPE", "replica").Err(); err != nil {
		replica.Thaw()
		return time.Time{}, fmt.Errorf("redistest: cut the replication link of %s: %w", primary.Addr, err)
	}
	select {
	case <-time.After(lag): // the fault itself: the old primary goes on alone this long
	case <-ctx.Done():
	}
	return cut, nil
}

// errNotYet is poll's "not there yet".
var errNotYet = errors.New("not yet")

// infoField returns field of INFO section on addr, or "".
func infoField(ctx context.Context, addr, section, field string) string {
	rdb := node(addr)
	defer rdb.Close()
	info, err := rdb.Info(ctx, section).Result()
	if err != nil {
		return ""
	}
	for line := range strings.SplitSeq(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), field+":"); ok {
			return v
		}
	}
	return ""
}

// replicaOf reports whether addr is a replica of primary with its link up.
func replicaOf(ctx context.Context, addr string, primary *Server) bool {
	return replicaUp(ctx, addr) && infoField(ctx, addr, "replication", "master_port") == strconv.Itoa(primary.Port)
}
