// Package doctest holds tests of the project's documentation: every Go block of the README is a
// whole program that builds as pasted. It has no code of its own.
package doctest
