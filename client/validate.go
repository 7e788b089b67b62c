package client

import (
	"fmt"
	"math"
	"time"

	"github.com/igniter-go/store/internal/codec"
	"github.com/igniter-go/store/ops"
)

func errKeyRequired(kind ops.Kind) error {
	return ops.Invalid(ops.CodeKeyRequired, kind.Operation(), "Key is required", nil)
}

// MaxTTL is the largest TTL the store accepts: the largest whole number of milliseconds a
// time.Duration holds (about 292 years). Redis counts expiries in milliseconds, so a TTL is
// rounded up to the next millisecond; a larger TTL could not be rounded without overflowing into
// a negative number, which PEXPIRE takes as "delete now". A TTL above MaxTTL is
// STORE_TTL_INVALID, with no call to Redis.
const MaxTTL = time.Duration(math.MaxInt64 / int64(time.Millisecond) * int64(time.Millisecond))

// ttlOf checks a TTL: negative or above MaxTTL is STORE_TTL_INVALID; a positive TTL with a sub-millisecond part
// is rounded up to the next millisecond (Redis counts in whole milliseconds); 0 means no expiry.
func ttlOf(kind ops.Kind, ttl time.Duration) (time.Duration, error) {
	if ttl < 0 {
		return 0, ops.Invalid(ops.CodeTTLInvalid, kind.Operation(),
			fmt.Sprintf("TTL must be 0 (no expiry) or positive, got %s", ttl), map[string]any{"ttl": ttl.String()})
	}
	if ttl > MaxTTL {
		return 0, ops.Invalid(ops.CodeTTLInvalid, kind.Operation(),
			fmt.Sprintf("TTL must be at most %s (whole milliseconds), got %s", MaxTTL, ttl), map[string]any{"ttl": ttl.String()})
	}
	if rem := ttl % time.Millisecond; rem != 0 {
		ttl += time.Millisecond - rem
	}
	return ttl, nil
}

// encode returns v as the original's JSON bytes, or STORE_SERIALIZATION_FAILED.
func encode(kind ops.Kind, v any) ([]byte, error) { return codec.EncodeFor(kind, v) }

// decode stores data into dst, or returns STORE_DESERIALIZATION_FAILED.
func decode(kind ops.Kind, data []byte, dst any) error { return codec.DecodeFor(kind, data, dst) }
