package client_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/igniter-go/store/client"
	"github.com/igniter-go/store/internal/redistest"
)

// On a real Redis Cluster, one subscriber connection receives channels and patterns whatever
// node each publish lands on (classic pub/sub is cluster-wide).
func TestEventsCluster(t *testing.T) {
	c := redistest.StartCluster(t, 3)
	st, err := client.New().WithService("api").WithAdapter(client.Redis(c.Client(t))).Build()
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	pattern := newInbox()
	if _, err := st.Events.Subscribe(ctx, "order:*", pattern.handler); err != nil {
		t.Fatal(err)
	}
	const n = 12 // channels spread over the slots of all three masters
	boxes := make([]*inbox, n)
	for i := range boxes {
		boxes[i] = newInbox()
		if _, err := st.Events.Subscribe(ctx, fmt.Sprintf("order:%d", i), boxes[i].handler); err != nil {
			t.Fatal(err)
		}
	}
	for i := range n {
		if err := st.Events.Publish(ctx, fmt.Sprintf("order:%d", i), i); err != nil {
			t.Fatal(err)
		}
	}
	seen := map[string]bool{}
	for i, box := range boxes {
		if m := box.next(t); string(m.Data) != fmt.Sprint(i) {
			t.Fatalf("order:%d received %s", i, m.Data)
		}
		seen[pattern.next(t).Event] = true
	}
	if len(seen) != n {
		t.Fatalf("pattern saw %d distinct events, want %d", len(seen), n)
	}
}
