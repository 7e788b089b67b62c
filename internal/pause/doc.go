// Package pause holds the two helpers every polling or retrying loop in the module shares: a
// ctx-bounded sleep ([For]) and a jittered interval ([Jitter]), so that instances backing off
// together do not retry in step.
package pause
