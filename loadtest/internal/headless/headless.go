package headless

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"time"
)

// Binary returns the path of a Chromium binary on the PATH, or "".
func Binary() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// Page is what loading one page showed.
type Page struct {
	// Console holds console messages, exceptions and browser log entries of level error or
	// warning, as "type: text".
	Console []string
	// Requests are the URLs the page requested, the page itself included.
	Requests []string
	// Value is the result of the expression given to Load, as JSON.
	Value json.RawMessage
	// Screenshot is a PNG of the whole page.
	Screenshot []byte
}

// browser is a Chromium process and its DevTools pipe.
type browser struct {
	cmd    *exec.Cmd
	in     *os.File // our end: commands
	out    *os.File // our end: responses and events
	mu     sync.Mutex
	nextID int
	wait   map[int]chan reply
	events chan event
	done   chan struct{}
	closed sync.Once
}

type reply struct {
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Message string `json:"message"`
	} `json:"error"`
}

type event struct {
	Method string          `json:"method"`
	Params json.RawMessage `json:"params"`
}

// Load opens url in a fresh headless Chromium (profile in userDataDir), waits for its load
// event and then for expr (a JavaScript expression) to be evaluated, takes a full-page
// screenshot width pixels wide, and closes the browser.
func Load(ctx context.Context, bin, userDataDir, url, expr string, width int) (*Page, error) {
	b, err := launch(bin, userDataDir)
	if err != nil {
		return nil, err
	}
	defer b.close()
	page := &Page{}
	var evMu sync.Mutex
	loaded := make(chan struct{})
	var loadOnce sync.Once
	evDone := make(chan struct{})
	go func() {
		defer close(evDone)
		for ev := range b.events {
			evMu.Lock()
			collect(page, ev, func() { loadOnce.Do(func() { close(loaded) }) })
			evMu.Unlock()
		}
	}()
	var target struct {
		TargetID string `json:"targetId"`
	}
	if err := b.call(ctx, "", "Target.createTarget", map[string]any{"url": "about:blank"}, &target); err != nil {
		return nil, err
	}
	var attached struct {
		SessionID string `json:"sessionId"`
	}
	if err := b.call(ctx, "", "Target.attachToTarget", map[string]any{"targetId": target.TargetID, "flatten": true}, &attached); err != nil {
		return nil, err
	}
	s := attached.SessionID
	for _, m := range []string{"Runtime.enable", "Log.enable", "Network.enable", "Page.enable"} {
		if err := b.call(ctx, s, m, nil, nil); err != nil {
			return nil, err
		}
	}
	metrics := map[string]any{"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": false}
	if err := b.call(ctx, s, "Emulation.setDeviceMetricsOverride", metrics, nil); err != nil {
		return nil, err
	}
	if err := b.call(ctx, s, "Page.navigate", map[string]any{"url": url}, nil); err != nil {
		return nil, err
	}
	select {
	case <-loaded:
	case <-ctx.Done():
		return nil, fmt.Errorf("waiting for the load event: %w", ctx.Err())
	}
	var eval struct {
		Result struct {
			Value json.RawMessage `json:"value"`
		} `json:"result"`
		ExceptionDetails json.RawMessage `json:"exceptionDetails"`
	}
	if err := b.call(ctx, s, "Runtime.evaluate", map[string]any{"expression": expr, "returnByValue": true, "awaitPromise": true}, &eval); err != nil {
		return nil, err
	}
	if len(eval.ExceptionDetails) > 0 {
		return nil, fmt.Errorf("evaluating the check: %s", eval.ExceptionDetails)
	}
	page.Value = eval.Result.Value
	var layout struct {
		CSSContentSize struct {
			Height float64 `json:"height"`
		} `json:"cssContentSize"`
	}
	if err := b.call(ctx, s, "Page.getLayoutMetrics", nil, &layout); err != nil {
		return nil, err
	}
	metrics["height"] = max(int(layout.CSSContentSize.Height), 100)
	if err := b.call(ctx, s, "Emulation.setDeviceMetricsOverride", metrics, nil); err != nil {
		return nil, err
	}
	var shot struct {
		Data string `json:"data"`
	}
	if err := b.call(ctx, s, "Page.captureScreenshot", map[string]any{"format": "png"}, &shot); err != nil {
		return nil, err
	}
	if page.Screenshot, err = base64.StdEncoding.DecodeString(shot.Data); err != nil {
		return nil, err
	}
	b.close()
	<-evDone
	evMu.Lock()
	defer evMu.Unlock()
	return page, nil
}

// collect records an event into page; loaded is called on the page's load event.
func collect(page *Page, ev event, loaded func()) {
	switch ev.Method {
	case "Page.loadEventFired":
		loaded()
	case "Network.requestWillBeSent":
		var p struct {
			Request struct {
				URL string `json:"url"`
			} `json:"request"`
		}
		if json.Unmarshal(ev.Params, &p) == nil {
			page.Requests = append(page.Requests, p.Request.URL)
		}
	case "Runtime.consoleAPICalled":
		var p struct {
			Type string `json:"type"`
			Args []struct {
				Value       any    `json:"value"`
				Description string `json:"description"`
			} `json:"args"`
		}
		if json.Unmarshal(ev.Params, &p) == nil {
			text := ""
			for _, a := range p.Args {
				text += fmt.Sprint(a.Value, a.Description) + " "
			}
			page.Console = append(page.Console, p.Type+": "+text)
		}
	case "Runtime.exceptionThrown":
		page.Console = append(page.Console, "exception: "+string(ev.Params))
	case "Log.entryAdded":
		var p struct {
			Entry struct {
				Level, Source, Text, URL string
			} `json:"entry"`
		}
		if json.Unmarshal(ev.Params, &p) == nil && (p.Entry.Level == "error" || p.Entry.Level == "warning") {
			page.Console = append(page.Console, "log "+p.Entry.Level+" ("+p.Entry.Source+"): "+p.Entry.Text+" "+p.Entry.URL)
		}
	}
}

func launch(bin, userDataDir string) (*browser, error) {
	cmdR, cmdW, err := os.Pipe() // commands: we write, Chromium reads fd 3
	if err != nil {
		return nil, err
	}
	resR, resW, err := os.Pipe() // responses: Chromium writes fd 4, we read
	if err != nil {
		return nil, errors.Join(err, cmdR.Close(), cmdW.Close())
	}
	cmd := exec.Command(bin, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
		"--hide-scrollbars", "--user-data-dir="+userDataDir, "--remote-debugging-pipe", "about:blank")
	cmd.ExtraFiles = []*os.File{cmdR, resW}
	if err := cmd.Start(); err != nil {
		return nil, errors.Join(err, cmdR.Close(), cmdW.Close(), resR.Close(), resW.Close())
	}
	_ = cmdR.Close()
	_ = resW.Close()
	b := &browser{cmd: cmd, in: cmdW, out: resR, wait: map[int]chan reply{}, events: make(chan event, 4096), done: make(chan struct{})}
	go b.read()
	return b, nil
}

// read dispatches NUL-separated messages until the pipe closes.
func (b *browser) read() {
	defer close(b.done)
	defer close(b.events)
	r := bufio.NewReaderSize(b.out, 1<<20)
	for {
		msg, err := r.ReadBytes(0)
		if err != nil {
			return
		}
		var m struct {
			ID int `json:"id"`
			reply
			event
		}
		if json.Unmarshal(msg[:len(msg)-1], &m) != nil {
			continue
		}
		if m.ID != 0 {
			b.mu.Lock()
			ch := b.wait[m.ID]
			delete(b.wait, m.ID)
			b.mu.Unlock()
			if ch != nil {
				ch <- m.reply
			}
			continue
		}
		select {
		case b.events <- m.event:
		default: // a test page never sends thousands of events; drop rather than block
		}
	}
}

// call sends method and waits for its reply, decoded into result when not nil.
func (b *browser) call(ctx context.Context, session, method string, params, result any) error {
	b.mu.Lock()
	b.nextID++
	id := b.nextID
	ch := make(chan reply, 1)
	b.wait[id] = ch
	b.mu.Unlock()
	msg := map[string]any{"id": id, "method": method}
	if session != "" {
		msg["sessionId"] = session
	}
	if params != nil {
		msg["params"] = params
	}
	data, err := json.Marshal(msg)
	if err != nil {
		return err
	}
	if _, err := b.in.Write(append(data, 0)); err != nil {
		return fmt.Errorf("%s: %w", method, err)
	}
	select {
	case r := <-ch:
		if r.Error != nil {
			return fmt.Errorf("%s: %s", method, r.Error.Message)
		}
		if result != nil {
			return json.Unmarshal(r.Result, result)
		}
		return nil
	case <-b.done:
		return fmt.Errorf("%s: the browser exited", method)
	case <-ctx.Done():
		return fmt.Errorf("%s: %w", method, ctx.Err())
	}
}

// close asks the browser to exit, kills it if it does not within 10 s, and waits for it.
func (b *browser) close() { b.closed.Do(b.shutdown) }

func (b *browser) shutdown() {
	select {
	case <-b.done:
	default:
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = b.call(ctx, "", "Browser.close", nil, nil)
		cancel()
	}
	_ = b.in.Close()
	exited := make(chan struct{})
	go func() { _ = b.cmd.Wait(); close(exited) }()
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		_ = b.cmd.Process.Kill()
		<-exited
	}
	_ = b.out.Close()
	<-b.done
}
