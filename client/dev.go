package client

import (
	"context"
	"iter"
	"strconv"
	"strings"

	"github.com/igniter-go/store/internal/keyspace"
	"github.com/igniter-go/store/ops"
)

// MaxScanCount is the largest COUNT hint Dev.Scan sends: a larger ScanOptions.Count is lowered
// to it, so one call cannot make Redis walk (and return) an unbounded part of the keyspace.
const MaxScanCount = 1000

// Dev holds development helpers: a key scan of this store's kv namespace.
type Dev struct{ s *Store }

// ScanOptions page a scan.
type ScanOptions struct {
	// Cursor continues a scan: pass the Cursor of the previous page. "" or "0" starts one.
	// Treat it as opaque: on a Redis Cluster it also names the node being scanned (cluster_scan.go).
	Cursor string
	// Count is the SCAN COUNT hint. Default: 10, as the original; at most [MaxScanCount] (a
	// larger Count is lowered to it).
	Count int64
}

// ScanPage is one page of a scan.
type ScanPage struct {
	// Cursor continues the scan; "0" means it is complete, as in the original.
	Cursor string
	// Keys are the matching kv keys, without the store's prefix (usable with [KV.Get]). The
	// original returns the full Redis keys; [Store.Prefix] rebuilds them. SCAN may return a key
	// more than once.
	Keys []string
}

// Scan runs one SCAN iteration over this store's kv keys that match pattern (Redis glob syntax):
// SCAN cursor MATCH <prefix>:kv:<pattern> COUNT n. The prefix is glob-free by construction, so
// a scan never leaves its scope. An empty pattern is STORE_SCAN_PATTERN_REQUIRED.
func (d Dev) Scan(ctx context.Context, pattern string, opts ScanOptions) (ScanPage, error) {
	s := d.s
	op := s.op(ops.DevScan)
	op.N = opts.Count
	if op.N <= 0 {
		op.N = 10
	}
	op.N = min(op.N, MaxScanCount)
	var err error
	if op.Cursor, err = parseCursor(opts.Cursor); err != nil {
		_, err = s.reject(ctx, op, err)
		return ScanPage{}, err
	}
	if pattern == "" {
		_, err := s.reject(ctx, op, ops.Invalid(ops.CodeScanPatternRequired, ops.DevScan.Operation(), "Scan pattern is required", nil))
		return ScanPage{}, err
	}
	op.Key = s.prefix.Key(keyspace.NamespaceKV, pattern)
	res, err := s.do(ctx, op)
	if err != nil {
		return ScanPage{}, err
	}
	prefix := s.prefix.Namespace(keyspace.NamespaceKV)
	keys := make([]string, 0, len(res.Strings))
	for _, k := range res.Strings {
		if rest, ok := strings.CutPrefix(k, prefix); ok {
			keys = append(keys, rest)
		}
	}
	return ScanPage{Cursor: strconv.FormatUint(res.Cursor, 10), Keys: keys}, nil
}

func parseCursor(c string) (uint64, error) {
	if c == "" {
		return 0, nil
	}
	n, err := strconv.ParseUint(c, 10, 64)
	if err != nil {
		return 0, ops.NewError(ops.CodeScanCursorInvalid, ops.DevScan.Operation(), "Scan cursor must be one returned by a previous scan", err)
	}
	return n, nil
}

// Keys iterates over every kv key of this store that matches pattern, page by page (count is
// the SCAN COUNT hint, as in [ScanOptions]). It holds one page at a time, so its memory does not
// grow with the number of keys; in exchange it passes on SCAN's guarantee as is: every key that
// exists for the whole iteration is yielded at least once, and a key may be yielded more than once
// (when Redis rehashes the keyspace during the iteration). A caller that needs each key once
// dedupes what it keeps. It stops at the first error, which it yields.
func (d Dev) Keys(ctx context.Context, pattern string, count int64) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		opts := ScanOptions{Count: count}
		for {
			page, err := d.Scan(ctx, pattern, opts)
			if err != nil {
				yield("", err)
				return
			}
			for _, k := range page.Keys {
				if !yield(k, nil) {
					return
				}
			}
			if page.Cursor == "0" {
				return
			}
			opts.Cursor = page.Cursor
		}
	}
}
