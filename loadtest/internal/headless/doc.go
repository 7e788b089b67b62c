// Package headless opens a page in headless Chromium over the DevTools protocol (on a pipe,
// --remote-debugging-pipe, so no port and no WebSocket) and reports what a test needs to know:
// console messages and exceptions, every network request the page made, values computed in
// the page, and a full-page screenshot. The load test's HTML report test uses it.
package headless
