package browser

import (
	"bufio"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// refuser is the proxy of a Chromium with an allow-list: every host not on
// the list goes to it, and it refuses each request (403) after noting the
// host. Allowed hosts bypass it (--proxy-bypass-list), as loopback hosts
// always do, so what they serve is untouched.
type refuser struct {
	ln net.Listener
	mu sync.Mutex
	// sink is told of every refused request; set per session.
	sink func(host, url string)
	wg   sync.WaitGroup
}

func startRefuser() (*refuser, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	r := &refuser{ln: ln}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			r.wg.Add(1)
			go func() { defer r.wg.Done(); r.refuse(c) }()
		}
	}()
	return r, nil
}

func (r *refuser) refuse(c net.Conn) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	req, err := http.ReadRequest(bufio.NewReader(c))
	if err != nil {
		return
	}
	host, u := req.Host, ""
	if req.Method != http.MethodConnect {
		u = req.URL.Scheme + "://" + req.URL.Host + req.URL.Path
	}
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	r.mu.Lock()
	sink := r.sink
	r.mu.Unlock()
	if sink != nil {
		sink(host, u)
	}
	body := "refreshsuite: " + host + " is not on the browser's allow-list\n"
	resp := &http.Response{StatusCode: http.StatusForbidden, ProtoMajor: 1, ProtoMinor: 1, Header: http.Header{"Content-Type": {"text/plain"}},
		ContentLength: int64(len(body)), Body: nopBody{strings.NewReader(body)}, Close: true}
	_ = resp.Write(c)
}

type nopBody struct{ *strings.Reader }

func (nopBody) Close() error { return nil }

func (r *refuser) addr() string { return r.ln.Addr().String() }

func (r *refuser) close() {
	_ = r.ln.Close()
	r.wg.Wait()
}

// OnRefused sets what is told of each request the allow-list refuses (nil:
// nobody); a browser without an allow-list refuses nothing.
func (b *Browser) OnRefused(sink func(host, url string)) {
	if b.refuser == nil {
		return
	}
	b.refuser.mu.Lock()
	b.refuser.sink = sink
	b.refuser.mu.Unlock()
}

// bypassList is Chromium's --proxy-bypass-list for the allowed hosts.
func bypassList(hosts []string) string {
	var out []string
	for _, h := range hosts {
		if h = strings.TrimSpace(h); h != "" {
			out = append(out, h)
		}
	}
	return strings.Join(out, ";")
}
