package testenv

import (
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync"
	"testing"
)

// FaultProxy stands between a client and a real server (the S3 server or
// the registry .ci/run starts) and makes the server fail the way real ones
// do: it can refuse chosen requests with an HTTP error, or stop dead at a
// chosen request, as a server that is killed or loses its network half-way
// through an upload. Requests are forwarded unchanged, Host header
// included, so S3 signatures and registry upload URLs stay valid.
type FaultProxy struct {
	// Addr is host:port to give the client instead of the server's.
	Addr string

	srv *http.Server
	ln  net.Listener

	mu      sync.Mutex
	rule    func(*http.Request) bool
	n       int // the rule's nth match fires
	matched int
	status  int // 0: stop the server; else answer with this status
	fired   int
	stopped bool
}

// NewFaultProxy forwards to target ("http://host:port") until told
// otherwise; it is closed when the test ends.
func NewFaultProxy(t testing.TB, target string) *FaultProxy {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(u)
	// Requests cut by a stop are expected: keep them out of the output.
	rp.ErrorLog = log.New(io.Discard, "", 0)
	p := &FaultProxy{Addr: ln.Addr().String(), ln: ln}
	p.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p.intercept(w, r) {
			return
		}
		rp.ServeHTTP(w, r)
	}), ErrorLog: log.New(io.Discard, "", 0)}
	go p.srv.Serve(ln)
	t.Cleanup(func() { p.srv.Close() })
	return p
}

// URL is the proxy's base URL.
func (p *FaultProxy) URL() string { return "http://" + p.Addr }

// StopAt makes the server stop at the nth request (1-based) that match
// accepts: that request's connection is cut without an answer and every
// later connection is refused, as when the server process dies.
func (p *FaultProxy) StopAt(match func(*http.Request) bool, n int) {
	p.set(match, n, 0)
}

// RefuseFrom answers the nth and every later request that match accepts
// with status and an S3-style error body; other requests go through.
func (p *FaultProxy) RefuseFrom(match func(*http.Request) bool, n, status int) {
	p.set(match, n, status)
}

func (p *FaultProxy) set(match func(*http.Request) bool, n, status int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rule, p.n, p.status, p.matched, p.fired = match, n, status, 0, 0
}

// Fired is how many requests the fault hit.
func (p *FaultProxy) Fired() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.fired
}

// Stopped reports whether the server was stopped.
func (p *FaultProxy) Stopped() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stopped
}

// intercept applies the fault to r; true when r was handled.
func (p *FaultProxy) intercept(w http.ResponseWriter, r *http.Request) bool {
	p.mu.Lock()
	if p.rule == nil || !p.rule(r) {
		p.mu.Unlock()
		return false
	}
	p.matched++
	if p.matched < p.n {
		p.mu.Unlock()
		return false
	}
	p.fired++
	status := p.status
	if status == 0 {
		p.stopped = true
	}
	p.mu.Unlock()
	if status == 0 {
		// Cut this connection mid-request, then refuse every other one.
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				conn.Close()
			}
		}
		go p.srv.Close()
		return true
	}
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>InternalError</Code><Message>refused by the test's fault proxy</Message></Error>`)
	return true
}
