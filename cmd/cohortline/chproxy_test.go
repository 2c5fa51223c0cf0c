package main

import (
	"bytes"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// chProxy stands between `run` and the real ClickHouse, so that a test can
// take ClickHouse away without touching the shared server, and can see the
// flush protocol on the wire: when a partials or window_progress INSERT
// starts and when the server answers it.
//
// It is modelled on the proxy of sinks/clickhouse's tests (test files cannot
// be imported), plus the insert watcher. The native protocol sends a query's
// text uncompressed, so "INSERT INTO db.table" can be found in the client's
// bytes; an INSERT then goes: query → server's header block → client's data
// → server's answer, which ClickHouse sends only after writing the data.
type chProxy struct {
	target string
	db     string // the database whose tables are watched
	l      net.Listener
	addr   string

	hook    atomic.Pointer[proxyHook]
	down    atomic.Bool
	refused atomic.Int64 // connections accepted and closed while down
	hung    atomic.Bool
	held    atomic.Int64 // connections accepted while hung, never answered

	mu    sync.Mutex
	conns map[net.Conn]bool
	wg    sync.WaitGroup // accept loop and copying goroutines
}

// insertPhase is a step of one INSERT seen on the wire.
type insertPhase int

const (
	// insertSent: the client sent the INSERT query, no data yet.
	insertSent insertPhase = iota
	// insertAnswered: the server answered after the client's data, so the
	// rows are stored; the client has not seen the answer yet.
	insertAnswered
	// resumeRead: not an INSERT, the query that reads a partition's last
	// flush, which a partition worker sends when it starts.
	resumeRead
)

// proxyEvent is what a hook is told.
type proxyEvent struct {
	Table string // cohort_partials or window_progress; empty for resumeRead
	Phase insertPhase
}

// proxyHook is called on a copying goroutine before the bytes that show ev
// are forwarded. It may block (holding that connection); returning false
// drops the connection without forwarding them.
type proxyHook func(ev proxyEvent) bool

func startCHProxy(t testing.TB, target, db string) *chProxy {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &chProxy{target: target, db: db, l: l, addr: l.Addr().String(), conns: map[net.Conn]bool{}}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(func() {
		l.Close()
		p.hung.Store(false) // the pipes held by a hang return once their connections close
		p.closeAll()
		p.wg.Wait()
	})
	return p
}

// setHook replaces the hook; nil forwards everything.
func (p *chProxy) setHook(h proxyHook) {
	if h == nil {
		p.hook.Store(nil)
		return
	}
	p.hook.Store(&h)
}

// cut makes ClickHouse unreachable through the proxy: live connections are
// closed, new ones are accepted and closed at once (as a server that is
// going away does), until restore.
func (p *chProxy) cut() {
	p.down.Store(true)
	p.closeAll()
}

func (p *chProxy) restore() { p.down.Store(false) }

// hang makes ClickHouse accept and then go silent, as a server stuck on a
// disk or a lock does: live connections stop forwarding in both
// directions but stay open, new ones are accepted and never answered. Only
// the client's timeouts can end what it waits for.
func (p *chProxy) hang() { p.hung.Store(true) }

// unhang ends a hang the way a restarted server would: every connection of
// the hang is closed (what it held is dropped, never delivered late), and
// new ones are forwarded again.
func (p *chProxy) unhang() {
	p.closeAll()
	p.hung.Store(false)
}

// waitWhileHung blocks while the proxy hangs.
func (p *chProxy) waitWhileHung() {
	for p.hung.Load() {
		time.Sleep(10 * time.Millisecond)
	}
}

// closeAll closes every connection, both sides.
func (p *chProxy) closeAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		c.Close()
		delete(p.conns, c)
	}
}

func (p *chProxy) accept() {
	defer p.wg.Done()
	for {
		in, err := p.l.Accept()
		if err != nil {
			return
		}
		if p.down.Load() {
			p.refused.Add(1)
			in.Close()
			continue
		}
		if p.hung.Load() {
			p.held.Add(1)
			p.mu.Lock()
			p.conns[in] = true // closed by unhang or cleanup
			p.mu.Unlock()
			continue
		}
		out, err := net.Dial("tcp", p.target)
		if err != nil {
			in.Close()
			continue
		}
		p.mu.Lock()
		p.conns[in], p.conns[out] = true, true
		p.mu.Unlock()
		s := &wireState{}
		p.wg.Add(2)
		go p.pipe(in, out, s.fromClient(p))
		go p.pipe(out, in, s.fromServer(p))
	}
}

// pipe copies from src to dst; watch may hold or drop each chunk.
func (p *chProxy) pipe(src, dst net.Conn, watch func(chunk []byte) bool) {
	defer p.wg.Done()
	defer src.Close()
	defer dst.Close()
	buf := make([]byte, 64<<10)
	for {
		p.waitWhileHung()
		n, err := src.Read(buf)
		if n > 0 {
			p.waitWhileHung() // bytes read as the hang began are held too
			if !watch(buf[:n]) {
				return
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// wireState follows one connection through an INSERT (see chProxy).
type wireState struct {
	mu    sync.Mutex
	table string // the INSERT in progress, "" when none
	step  int    // 1 query sent, 2 header received, 3 data sent
	tail  []byte // end of the previous client chunk, for a query cut in two
}

func (s *wireState) fromClient(p *chProxy) func([]byte) bool {
	insert := []byte("INSERT INTO " + p.db + ".")
	resume := []byte("ORDER BY flush_version DESC")
	return func(chunk []byte) bool {
		s.mu.Lock()
		seen := append(s.tail, chunk...)
		s.tail = append([]byte(nil), seen[max(0, len(seen)-64):]...)
		var ev *proxyEvent
		switch i := bytes.Index(seen, insert); {
		case i >= 0:
			rest := seen[i+len(insert):]
			end := bytes.IndexAny(rest, " (")
			if end < 0 {
				end = len(rest)
			}
			s.table, s.step, s.tail = string(rest[:end]), 1, nil
			ev = &proxyEvent{Table: s.table, Phase: insertSent}
		case bytes.Contains(seen, resume):
			s.tail = nil
			ev = &proxyEvent{Phase: resumeRead}
		case s.step == 2:
			s.step = 3
		}
		s.mu.Unlock()
		return ev == nil || p.call(*ev)
	}
}

func (s *wireState) fromServer(p *chProxy) func([]byte) bool {
	return func([]byte) bool {
		s.mu.Lock()
		var ev *proxyEvent
		switch s.step {
		case 1:
			s.step = 2
		case 3:
			ev = &proxyEvent{Table: s.table, Phase: insertAnswered}
			s.table, s.step = "", 0
		}
		s.mu.Unlock()
		return ev == nil || p.call(*ev)
	}
}

func (p *chProxy) call(ev proxyEvent) bool {
	h := p.hook.Load()
	return h == nil || (*h)(ev)
}
