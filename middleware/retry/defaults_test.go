package retry_test

import (
	"context"
	"testing"
	"time"

	"github.com/igniter-go/store/middleware/retry"
	"github.com/igniter-go/store/ops"
)

// Zero fields mean their defaults, whatever else is set; each part turns off explicitly.
func TestPolicyZeroFieldsMeanDefaults(t *testing.T) {
	own := retry.NewBudget(0, 4)
	for _, tc := range []struct {
		name       string
		p          retry.Policy
		attempts   int
		backoff    bool // the default backoff (waits up to 10ms, then more)
		noWait     bool // NoBackoff
		budgetToks int  // -1: no budget
		enabled    bool
	}{
		{"zero value", retry.Policy{}, 3, true, false, 10, true},
		{"MaxAttempts only", retry.Policy{MaxAttempts: 5}, 5, true, false, 10, true},
		{"Backoff only", retry.Policy{Backoff: retry.NoBackoff}, 3, false, true, 10, true},
		{"Budget only", retry.Policy{Budget: own}, 3, true, false, 4, true},
		{"NoBudget", retry.Policy{MaxAttempts: 4, NoBudget: true}, 4, true, false, -1, true},
		{"NoBudget overrides Budget", retry.Policy{Budget: own, NoBudget: true}, 3, true, false, -1, true},
		{"one attempt is off", retry.Policy{MaxAttempts: 1}, 1, true, false, 10, false},
		{"negative is off", retry.Policy{MaxAttempts: -1}, -1, true, false, 10, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.p.Enabled() != tc.enabled {
				t.Fatalf("Enabled = %v", tc.p.Enabled())
			}
			p := tc.p.WithDefaults()
			if p.MaxAttempts != tc.attempts {
				t.Errorf("MaxAttempts = %d, want %d", p.MaxAttempts, tc.attempts)
			}
			if p.Backoff == nil || p.Retryable == nil {
				t.Fatal("Backoff or Retryable left nil")
			}
			if tc.noWait && p.Backoff(5) != 0 {
				t.Errorf("NoBackoff waits %v", p.Backoff(5))
			}
			if tc.backoff {
				var longest time.Duration
				for range 200 {
					if d := p.Backoff(1); d > 10*time.Millisecond {
						t.Fatalf("first backoff %v > 10ms", d)
					}
					longest = max(longest, p.Backoff(20))
				}
				if longest == 0 || longest > 250*time.Millisecond {
					t.Errorf("backoff before retry 20 reached %v, want (0, 250ms]", longest)
				}
			}
			switch {
			case tc.budgetToks < 0 && p.Budget != nil:
				t.Errorf("budget %d tokens, want none", p.Budget.Tokens())
			case tc.budgetToks >= 0 && (p.Budget == nil || p.Budget.Tokens() != tc.budgetToks):
				t.Errorf("budget %v, want %d tokens", p.Budget, tc.budgetToks)
			}
		})
	}
	a, b := retry.Policy{}.WithDefaults(), retry.Policy{}.WithDefaults()
	if a.Budget == b.Budget {
		t.Fatal("two WithDefaults share a default budget")
	}
}

// The default budget is really applied by New: Policy{MaxAttempts: 5} with NoBackoff, against a
// handler that always fails, stops retrying when the 10 tokens of the default burst are spent.
func TestNewAppliesDefaultBudget(t *testing.T) {
	s := &script{errs: errs(1000, down)}
	h := retry.New(retry.Policy{MaxAttempts: 5, Backoff: retry.NoBackoff})(s.handle)
	var err error
	for range 3 {
		_, err = h(context.Background(), read)
	}
	// 4 + 4 retries, then 2 left for the third request: 3 + 5 + 5 + 3 calls in all
	if s.calls != 5+5+3 || !ops.HasCode(err, ops.CodeRetryBudgetExhausted) {
		t.Fatalf("calls = %d, err = %v", s.calls, err)
	}
	s2 := &script{errs: errs(1000, down)}
	h2 := retry.New(retry.Policy{MaxAttempts: 5, Backoff: retry.NoBackoff, NoBudget: true})(s2.handle)
	for range 3 {
		_, err = h2(context.Background(), read)
	}
	if s2.calls != 15 || ops.HasCode(err, ops.CodeRetryBudgetExhausted) {
		t.Fatalf("NoBudget: calls = %d, err = %v", s2.calls, err)
	}
}

// A panic below retry reaches the caller at once: no further attempt, and the budget holds
// exactly the tokens the retries that ran took; the next call retries normally.
func TestPanicBelowRetryIsReraisedAndBudgetStaysExact(t *testing.T) {
	b := retry.NewBudget(0, 3)
	calls := 0
	h := retry.New(retry.Policy{MaxAttempts: 5, Backoff: retry.NoBackoff, Budget: b})(
		func(context.Context, ops.Op) (ops.Result, error) {
			calls++
			if calls == 2 {
				panic("boom")
			}
			return ops.Result{}, down
		})
	func() {
		defer func() {
			if r := recover(); r != "boom" {
				t.Fatalf("recovered %v", r)
			}
		}()
		_, _ = h(context.Background(), read)
	}()
	if calls != 2 || b.Tokens() != 2 {
		t.Fatalf("after the panic: calls = %d, tokens = %d; want 2, 2", calls, b.Tokens())
	}
	_, err := h(context.Background(), read)
	if calls != 5 || b.Tokens() != 0 || !ops.HasCode(err, ops.CodeRetryBudgetExhausted) {
		t.Fatalf("next call: calls = %d, tokens = %d, err = %v", calls, b.Tokens(), err)
	}
}
