package reports

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/refreshsuite/refreshsuite/timeline"
)

// steps draws each harness step from its start to the next one's, the last
// to the end of the timeline.
func (d drawing) steps(es []timeline.Entry) []glyph {
	var steps []timeline.Entry
	for _, e := range es {
		if e.What == "harness.step" {
			steps = append(steps, e)
		}
	}
	var out []glyph
	for i, s := range steps {
		to := d.end
		if i+1 < len(steps) {
			to = steps[i+1].Ms()
		}
		text := s.Fields["index"] + " " + s.Fields["step"]
		if c := s.Fields["call"]; c != "" {
			text = s.Fields["index"] + " call " + c
		}
		title := fmt.Sprintf("%s\nuntil %.1fms", tooltip(s), to)
		out = append(out, d.bar(s.Ms(), to, "step", "", text, title))
	}
	return out
}

func (d drawing) harness(es []timeline.Entry) []glyph {
	var out []glyph
	for _, e := range es {
		if e.What == "harness.forged-message" {
			out = append(out, d.marker(e, "forged-message", "bad", "square", "forged message from "+host(e.Fields["origin"])))
		}
	}
	return out
}

// tokens draws what each successful token response issued: the access token
// for expires_in_ms and the id token for id_token_ttl_ms, one above the other.
func (d drawing) tokens(es []timeline.Entry) []glyph {
	var out []glyph
	for _, e := range es {
		if (e.What != "idp.token" && e.What != "idp.authorize") || e.Fields["outcome"] != "ok" {
			continue
		}
		access, id := field(e, "expires_in_ms"), field(e, "id_token_ttl_ms")
		if access <= 0 && id <= 0 {
			continue
		}
		at := e.Ms()
		x1 := d.ax.x(math.Min(at+math.Max(access, id), d.end)) + 6
		x0 := d.ax.x(at)
		out = append(out, glyph{from: x0, to: x1, bareFrom: x0, bareTo: x1, draw: func(top float64, _ bool) []item {
			var items []item
			if access > 0 {
				items = append(items, d.thinBar(at, at+access, top+2, "access-token", tokenTitle("access token", e, access)))
			}
			if id > 0 {
				items = append(items, d.thinBar(at, at+id, top+9, "id-token", tokenTitle("id token", e, id)))
			}
			return items
		}})
	}
	return out
}

// requests marks the IdP's authorize and token requests, refreshes apart,
// and the faults the IdP and the app server applied.
func (d drawing) requests(es []timeline.Entry) []glyph {
	var out []glyph
	for _, e := range es {
		class := ""
		if o := e.Fields["outcome"]; o != "" && o != "ok" {
			class = "bad"
		}
		switch {
		case e.What == "idp.token" && e.Fields["grant_type"] == "refresh_token":
			text := "refresh_token grant"
			if e.Fields["actor"] == "harness" {
				text = "replayed refresh_token"
			}
			out = append(out, d.marker(e, "refresh", class, "diamond", text+outcome(e)))
		case e.What == "idp.authorize" && e.Fields["dest"] == "iframe":
			text := "iframe authorize"
			if p := e.Fields["prompt"]; p != "" {
				text += " prompt=" + p
			}
			out = append(out, d.marker(e, "refresh", class, "diamond", text+outcome(e)))
		case e.What == "idp.token":
			out = append(out, d.marker(e, "request", class, "circle", e.Fields["grant_type"]+" grant"+outcome(e)))
		case e.What == "idp.authorize":
			out = append(out, d.marker(e, "request", class, "circle", "authorize"+outcome(e)))
		case e.What == "idp.fault" || e.What == "app.fault":
			src, _, _ := strings.Cut(e.What, ".")
			out = append(out, d.marker(e, "fault", "bad", "triangle", src+" fault: "+e.Fields["do"]))
		}
	}
	return out
}

// frames draws each iframe from its attach to the detach of the same element
// (same parent, id and src), or to the end when it never left.
func (d drawing) frames(es []timeline.Entry) []glyph {
	var out []glyph
	used := map[int]bool{}
	for i, e := range es {
		if e.What != "browser.frame-attached" {
			continue
		}
		to, gone := d.end, "still attached at the end"
		for j := i + 1; j < len(es); j++ {
			x := es[j]
			if x.What == "browser.frame-detached" && !used[j] && x.Fields["frame"] == e.Fields["frame"] &&
				x.Fields["id"] == e.Fields["id"] && x.Fields["src"] == e.Fields["src"] {
				used[j] = true
				to, gone = x.Ms(), fmt.Sprintf("detached at %.1fms", x.Ms())
				break
			}
		}
		name := e.Fields["id"]
		if name == "" {
			name = e.Fields["src"]
		}
		class := ""
		if e.Fields["visible"] == "yes" {
			class = "visible"
		}
		out = append(out, d.bar(e.Ms(), to, "iframe", class, "iframe "+name, tooltip(e)+"\n"+gone))
	}
	return out
}

func (d drawing) messages(es []timeline.Entry) []glyph {
	var out []glyph
	for _, e := range es {
		switch e.What {
		case "browser.post-message":
			out = append(out, d.marker(e, "post-message", "", "square", "postMessage to "+host(e.Fields["target_origin"])))
		case "browser.message":
			out = append(out, d.marker(e, "message", "", "square", "message from "+host(e.Fields["origin"])))
		}
	}
	return out
}

func (d drawing) client(es []timeline.Entry) []glyph {
	var out []glyph
	for _, e := range es {
		t := e.Fields["type"]
		switch {
		case e.What == "client.event" && t == "silent_refresh_timeout":
			out = append(out, d.marker(e, "timeout", "bad", "triangle", t))
		case e.What == "client.event":
			class := ""
			if strings.Contains(t, "error") || strings.Contains(t, "fail") {
				class = "bad"
			}
			text := t
			if i := e.Fields["info"]; i != "" {
				text += " " + i
			}
			out = append(out, d.marker(e, "client-event", class, "circle", text))
		case e.What == "client.ready":
			text, class := "ready, logged out", ""
			if e.Fields["logged_in"] == "yes" {
				text = "ready, logged in"
			}
			if e.Fields["error"] != "" {
				text, class = "ready with an error", "bad"
			}
			out = append(out, d.marker(e, "ready", class, "circle", text))
		}
	}
	return out
}

// thinBar is half a row high, so that a response's two tokens share a row.
func (d drawing) thinBar(from, to, y float64, what, title string) item {
	x0 := d.ax.x(from)
	x1 := math.Max(d.ax.x(math.Min(to, d.end)), x0+2)
	it := item{What: what, Title: title, Rects: []box{{X: x0, Y: y, W: x1 - x0, H: 6}}}
	if to > d.end {
		it.Polys = []string{pts(x1-1, y-1, x1+4, y+3, x1-1, y+7)}
	}
	return it
}

func tokenTitle(name string, e timeline.Entry, life float64) string {
	fp := e.Fields["access_token"]
	if name == "id token" {
		fp = e.Fields["id_token"]
	}
	grant := "dest=" + e.Fields["dest"]
	if g := e.Fields["grant_type"]; g != "" {
		grant = "grant_type=" + g
	}
	return fmt.Sprintf("%s %s, issued at %.1fms by %s (%s)\nlives %.0fms, expires at %.1fms\n\n%s", name, fp, e.Ms(), e.What, grant, life, e.Ms()+life, tooltip(e))
}

func outcome(e timeline.Entry) string {
	switch o := e.Fields["outcome"]; o {
	case "", "ok":
		return ""
	case "error":
		return ": " + e.Fields["error"]
	default:
		return ": " + o
	}
}

// host shortens an origin for a label: the scheme says little there.
func host(origin string) string {
	if _, h, ok := strings.Cut(origin, "://"); ok {
		return h
	}
	return origin
}

func field(e timeline.Entry, name string) float64 {
	v, err := strconv.ParseFloat(e.Fields[name], 64)
	if err != nil {
		return 0
	}
	return v
}

// tooltip is an entry with every field, one per line.
func tooltip(e timeline.Entry) string {
	keys := make([]string, 0, len(e.Fields))
	for k := range e.Fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	fmt.Fprintf(&b, "%s at %.1fms", e.What, e.Ms())
	for _, k := range keys {
		if v := e.Fields[k]; v != "" {
			fmt.Fprintf(&b, "\n%s=%s", k, v)
		}
	}
	return b.String()
}
