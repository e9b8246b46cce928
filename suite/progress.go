package suite

import (
	"encoding/json"
	"net"
	"strings"
	"sync"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/refreshsuite/refreshsuite/reports"
)

// Progress is what a suite process tells the run about a container once its
// last spec has been reported: one JSON line on the run's progress socket.
type Progress struct {
	Container  string  `json:"container"`
	Passed     int     `json:"passed"`
	Failed     int     `json:"failed"`
	Deviations int     `json:"deviations"`
	Skipped    int     `json:"skipped"`
	Ms         float64 `json:"ms"`
}

// progress counts the reported specs of each container of this process.
// Ordered containers run whole in one process, so the count of a
// container is complete when it reaches its number of specs.
type progress struct {
	mu     sync.Mutex
	conn   net.Conn
	want   map[string]int
	counts map[string]*Progress
	seen   map[string]int
}

// dialProgress connects to the run's socket; without one (the package's
// own test run, a socket that is gone) the counts go nowhere.
func dialProgress(path string) *progress {
	p := &progress{want: map[string]int{}, counts: map[string]*Progress{}, seen: map[string]int{}}
	if path != "" {
		p.conn, _ = net.Dial("unix", path)
	}
	return p
}

func (p *progress) expect(container string, specs int) { p.want[container] = specs }

// spec is a ReportAfterEach: it runs for every spec, those ginkgo's filters
// left out included, which count towards the container's end but not in it.
func (p *progress) spec(r types.SpecReport) {
	if r.LeafNodeType != types.NodeTypeIt {
		return
	}
	name := strings.Join(r.ContainerHierarchyTexts, " ")
	p.mu.Lock()
	defer p.mu.Unlock()
	c := p.counts[name]
	if c == nil {
		c = &Progress{Container: name}
		p.counts[name] = c
	}
	p.seen[name]++
	d, hasData := reports.Data(r)
	switch {
	case r.State == types.SpecStatePassed:
		c.Passed++
	case r.State == types.SpecStateSkipped && d.Deviation != "":
		c.Deviations++
	case r.State == types.SpecStateSkipped && !hasData && r.Failure.Message == "":
		// not selected
	case r.State.Is(types.SpecStateSkipped | types.SpecStatePending):
		c.Skipped++
	default:
		c.Failed++
	}
	c.Ms += float64(r.RunTime.Milliseconds())
	if p.seen[name] < p.want[name] || c.Passed+c.Failed+c.Deviations+c.Skipped == 0 || p.conn == nil {
		return
	}
	b, _ := json.Marshal(c)
	_, _ = p.conn.Write(append(b, '\n'))
}

func (p *progress) close() {
	if p.conn != nil {
		p.conn.Close()
	}
}
