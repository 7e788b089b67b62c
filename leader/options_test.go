package leader_test

import (
	"testing"

	"github.com/igniter-go/store/leader"
	"github.com/igniter-go/store/ops"
	"github.com/igniter-go/store/storetest"
)

func TestNewRejectsBadConfiguration(t *testing.T) {
	st := storetest.New(t)
	cases := map[string]func() error{
		"nil store":    func() error { _, err := leader.New(nil, "x", leader.Options{}); return err },
		"empty name":   func() error { _, err := leader.New(st.Store, "", leader.Options{}); return err },
		"negative TTL": func() error { _, err := leader.New(st.Store, "x", leader.Options{TTL: -1}); return err },
		"TTL below MinTTL": func() error {
			_, err := leader.New(st.Store, "x", leader.Options{TTL: leader.MinTTL - 1})
			return err
		},
		"negative retry": func() error {
			_, err := leader.New(st.Store, "x", leader.Options{RetryInterval: -1})
			return err
		},
	}
	for name, f := range cases {
		if err := f(); !ops.HasCode(err, ops.CodeConfigurationInvalid) {
			t.Errorf("%s: want STORE_CONFIGURATION_INVALID, got %v", name, err)
		}
	}
	el, err := leader.New(st.Store, "x", leader.Options{})
	if err != nil || len(el.ID()) != 10 {
		t.Fatalf("defaults: id %q err %v", el.ID(), err)
	}
}
