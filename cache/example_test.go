package cache_test

import (
	"context"
	"fmt"
	"time"

	"github.com/igniter-go/store/cache"
	"github.com/igniter-go/store/storetest"
)

type Price struct {
	SKU   string `json:"sku"`
	Cents int    `json:"cents"`
}

func ExampleGetOrLoad() {
	st, _ := storetest.Open()
	defer st.Close()
	ctx := context.Background()
	prices, err := cache.New(st.MustScope("organization", "org_1"), cache.Options{NegativeTTL: time.Minute})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer prices.Close()

	fromDB := func(sku string) func(context.Context) (Price, error) {
		return func(context.Context) (Price, error) {
			fmt.Println("query database for", sku)
			if sku == "gone" {
				return Price{}, cache.ErrNotFound
			}
			return Price{SKU: sku, Cents: 1999}, nil
		}
	}
	for range 2 {
		p, err := cache.GetOrLoad(ctx, prices, "price:sku_1", 5*time.Minute, fromDB("sku_1"))
		fmt.Println(p, err)
	}
	for range 2 {
		_, err := cache.GetOrLoad(ctx, prices, "price:gone", 5*time.Minute, fromDB("gone"))
		fmt.Println(err)
	}
	// Output:
	// query database for sku_1
	// {sku_1 1999} <nil>
	// {sku_1 1999} <nil>
	// query database for gone
	// cache: not found
	// cache: not found
}
