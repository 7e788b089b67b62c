package nearcache_test

import (
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/igniter-go/store/nearcache"
	"github.com/igniter-go/store/ops"
	"github.com/igniter-go/store/storetest"
)

func TestInvalidOptions(t *testing.T) {
	st := storetest.New(t)
	for name, o := range map[string]nearcache.Options{
		"no redis options": {},
		"db 1":             {Redis: &redis.Options{Addr: st.Redis.Addr(), DB: 1}},
	} {
		if _, err := nearcache.New(st.Store, o); !ops.HasCode(err, ops.CodeConfigurationInvalid) {
			t.Errorf("%s: %v", name, err)
		}
	}
	n, err := nearcache.New(st.Store, nearcache.Options{Redis: &redis.Options{Addr: st.Redis.Addr()}})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	if _, err := n.Get(t.Context(), "", new(any)); !ops.HasCode(err, ops.CodeKeyRequired) {
		t.Fatalf("empty key: %v", err)
	}
}
