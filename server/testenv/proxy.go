package testenv

import (
	"io"
	"net"
	"sync"
	"testing"
)

// Proxy is a cuttable TCP proxy: a real network fault between a client and
// the server (connections cut like a pulled cable, new ones refused).
type Proxy struct {
	ln net.Listener

	mu       sync.Mutex
	target   string
	down     bool // refuse connections (close them at once)
	conns    map[net.Conn]struct{}
	accepted int
}

// NewProxy forwards 127.0.0.1 connections to target until the test ends.
func NewProxy(t testing.TB, target string) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &Proxy{ln: ln, target: target, conns: map[net.Conn]struct{}{}}
	go p.serve()
	t.Cleanup(func() { ln.Close(); p.Cut() })
	return p
}

// URL is the base URL a client uses to reach the server through the proxy.
func (p *Proxy) URL() string { return "http://" + p.ln.Addr().String() }

// SetTarget sends new connections elsewhere (existing ones are kept).
func (p *Proxy) SetTarget(addr string) {
	p.mu.Lock()
	p.target = addr
	p.mu.Unlock()
}

// SetDown cuts every connection and refuses new ones until SetDown(false).
func (p *Proxy) SetDown(down bool) {
	p.mu.Lock()
	p.down = down
	p.mu.Unlock()
	if down {
		p.Cut()
	}
}

// Accepted counts the client connections accepted so far.
func (p *Proxy) Accepted() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.accepted
}

// Cut closes every open connection on both sides, like a pulled cable.
func (p *Proxy) Cut() {
	p.mu.Lock()
	conns := make([]net.Conn, 0, len(p.conns))
	for c := range p.conns {
		conns = append(conns, c)
	}
	p.mu.Unlock()
	for _, c := range conns {
		c.Close()
	}
	p.untrack(conns...)
}

func (p *Proxy) serve() {
	for {
		in, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		p.accepted++
		down := p.down
		if !down {
			p.conns[in] = struct{}{} // a Cut from now on closes it
		}
		target := p.target
		p.mu.Unlock()
		if down {
			in.Close()
			continue
		}
		go p.pipe(in, target)
	}
}

func (p *Proxy) untrack(cs ...net.Conn) {
	p.mu.Lock()
	for _, c := range cs {
		delete(p.conns, c)
	}
	p.mu.Unlock()
}

func (p *Proxy) pipe(in net.Conn, target string) {
	out, err := net.Dial("tcp", target)
	if err != nil {
		in.Close()
		p.untrack(in)
		return
	}
	p.mu.Lock()
	_, live := p.conns[in]
	if live {
		p.conns[out] = struct{}{}
	}
	p.mu.Unlock()
	if !live { // cut while dialling
		in.Close()
		out.Close()
		return
	}
	var once sync.Once
	closeBoth := func() { once.Do(func() { in.Close(); out.Close(); p.untrack(in, out) }) }
	go func() { _, _ = io.Copy(out, in); closeBoth() }()
	_, _ = io.Copy(in, out)
	closeBoth()
}
