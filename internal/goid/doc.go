// Package goid reads the calling goroutine's id, for the one thing that needs it: letting
// Store.Close skip waiting for the callback goroutine it is called from.
package goid
