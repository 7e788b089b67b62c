package doctest

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/igniter-go/store/internal/redistest"
)

// blockRun is one run of a block's program and what it must print.
type blockRun struct {
	page  string
	has   []string // strings that pick the block of the page
	redis bool     // the program needs a Redis (REDIS_ADDR: a redis-server the test starts)
	times int      // runs (default 1): more for a block whose output once depended on a race
	// want are regular expressions that lines of the output (stdout and stderr) must match, in
	// this order.
	want []string
	// interrupt, when set, is a regular expression: when a line matches it, the test sends
	// SIGINT (Ctrl-C), and the program must then finish what it prints and exit 0.
	interrupt string
}

var blockRuns = []blockRun{
	{page: "README.md", has: []string{"st.Ping(ctx)"}, redis: true,
		want: []string{`^map\[amount:990\] true <nil>$`, `^1 <nil>$`}},
	{page: "docs/getting-started.md", has: []string{"func main()", "BatchGetAs"}, redis: true,
		want: []string{`^\{in_42 990\} true <nil>$`, `^1 <nil>$`, `^true <nil>$`, `^\[\{invoice:41 \{ 0\} false\} \{invoice:42 \{in_42 990\} true\}\] <nil>$`,
			`^invoice:42 <nil>$`, `^rejected before any network call: .*STORE_TTL_INVALID`, `^bad input, not an outage$`}},
	{page: "docs/concepts.md", has: []string{"HandlerAdapter"},
		want: []string{`^use: kv\.set igniter:store:billing:organization:org_1:kv:invoice:42 1h0m0s <nil>$`, `^<nil>$`, `^STORE_SCOPE_REQUIRED true$`}},
	{page: "docs/kv-counters-batch.md", has: []string{"SetIfAbsentAs"}, redis: true,
		want: []string{`^exists: true <nil>$`, `^variant: B stored by this call: true <nil>$`, `^visits: 10 <nil>$`, `^price:3 0 false$`, `^2 price keys`}},
	// The events block printed its handler's line in 2 runs of 6 while main returned right
	// after Publish (issue 26): it must wait for the delivery.
	{page: "docs/events.md", has: []string{"InvoicePaid.Publish"}, redis: true, times: 5,
		want: []string{`^paid: in_1$`}},
	// The streams block consumes until Ctrl-C, then drains and returns.
	{page: "docs/streams.md", has: []string{"ConsumeAs"}, redis: true, interrupt: `^billed o_1$`,
		want: []string{`^appended \d+-\d+$`, `^1 orders in the stream$`, `^billed o_1$`, `^stopped: handlers drained$`}},
	{page: "docs/claims-and-leases.md", has: []string{"Claim.Acquire"}, redis: true,
		want: []string{`leased report:daily, fence \d+$`, `report written under a held lease$`}},
	// The leader block shows that it leads, and resigns on Ctrl-C.
	{page: "docs/recipes.md", has: []string{"leader.New"}, redis: true, interrupt: `cleanup ran with fence \d+$`,
		want: []string{`campaigns for the cleanup job`, `leads the cleanup job$`, `^cleanup ran with fence \d+$`, `resigned$`}},
	{page: "docs/recipes.md", has: []string{"cache.GetOrLoad"}, redis: true,
		want: []string{`^\{sku_1 990\} <nil>$`}},
	{page: "docs/recipes.md", has: []string{"ratelimit.New"}, redis: true,
		want: []string{`^request 1: allowed, 4 left$`, `^request 5: allowed, 0 left$`, `^request 6: 429, Retry-After \d+s$`}},
}

// TestBlocksRun runs the programs of the blocks above, on a redis-server of their own where
// they need one, and checks what they print: that a block builds says nothing of whether it
// shows what its page says.
func TestBlocksRun(t *testing.T) {
	dir, _, err := buildPrograms(t)
	if err != nil {
		t.Fatal("the Go blocks do not build: see TestGoBlocksBuild")
	}
	for _, r := range blockRuns {
		b := findBlock(t, r.page, r.has...)
		t.Run(b.Slug(), func(t *testing.T) {
			env := []string{"REDIS_ADDR=127.0.0.1:1"} // nothing listens: a block that needs no Redis must not dial
			if r.redis {
				srv := redistest.Start(t)
				env = []string{"REDIS_ADDR=" + srv.Addr}
			}
			for range max(r.times, 1) {
				out, err := runProgram(t, filepath.Join(dir, b.Slug()), env, r.interrupt)
				if err != nil {
					t.Fatalf("%s: %v\noutput:\n%s", b, err, out)
				}
				checkOutput(t, b, out, r.want)
			}
		})
	}
}

// runProgram runs bin and returns its output (stdout and stderr, interleaved as written). When
// interrupt is set, it sends SIGINT once a line matches it.
func runProgram(t *testing.T, bin string, env []string, interrupt string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // only a hang reaches it
	defer cancel()
	cmd := exec.CommandContext(ctx, bin)
	cmd.Env = append(os.Environ(), env...)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Start(); err != nil {
		_ = w.Close()
		t.Fatal(err)
	}
	_ = w.Close() // the child holds its copy; EOF comes when it exits
	var stop *regexp.Regexp
	if interrupt != "" {
		stop = regexp.MustCompile(interrupt)
	}
	var out strings.Builder
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		out.WriteString(line + "\n")
		if stop != nil && stop.MatchString(line) {
			stop = nil
			if err := cmd.Process.Signal(os.Interrupt); err != nil {
				t.Errorf("interrupt: %v", err)
			}
		}
	}
	err = cmd.Wait()
	if err == nil && stop != nil {
		err = errorString("it exited before printing a line matching " + interrupt + " (to interrupt it)")
	}
	return out.String(), err
}

type errorString string

func (e errorString) Error() string { return string(e) }

// checkOutput checks that lines of out match want, in order.
func checkOutput(t *testing.T, b block, out string, want []string) {
	t.Helper()
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	i := 0
	for _, w := range want {
		re := regexp.MustCompile(w)
		for i < len(lines) && !re.MatchString(lines[i]) {
			i++
		}
		if i == len(lines) {
			t.Errorf("%s printed no line matching %s (after the earlier expected lines); output:\n%s", b, w, out)
			return
		}
		i++
	}
}
