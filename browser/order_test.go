package browser

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"testing"
	"time"
)

// An action the harness takes on the page between budgets, stamped with the
// scenario clock (where the last budget left the page), lands on the timeline
// after everything the page did before it: its reports and its requests. The
// page fetches and then reports, at a timer inside a budget; once the harness
// sees the report it acts, and its stamp must not be earlier than either.
func TestHarnessActionsAfterThePagesEntries(t *testing.T) {
	app := serve(t, "localhost", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/":
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprint(w, `<!doctype html><script>
				setTimeout(async () => { await fetch('/ping'); refreshsuite.emit('pinged', String(Date.now())); }, 4321);
				refreshsuite.ready({ loggedIn: false });
			</script>`)
		default:
			fmt.Fprint(w, "pong")
		}
	}))
	_, tl, clock := openVirtual(t, app+"/")
	pinged := func() bool {
		for _, e := range tl.Entries() {
			if e.What == "client.event" && e.Fields["type"] == "pinged" {
				return true
			}
		}
		return false
	}
	if err := clock.Until(context.Background(), pinged, 20*time.Second); err != nil {
		t.Fatal(err)
	}
	action := tl.Add("harness.network", map[string]string{"state": "offline"})
	for _, e := range tl.Entries() {
		late := e.At > action.At
		switch {
		case e.What == "browser.request" && e.Fields["url"] == app+"/ping" && late:
			t.Errorf("the page's request at %.1fms is stamped after the harness's later action at %.1fms", e.Ms(), action.Ms())
		case e.What == "client.event" && e.Fields["type"] == "pinged":
			pageMs, _ := strconv.ParseFloat(e.Fields["info"], 64)
			if late {
				t.Errorf("the page's report at %.1fms (page clock %.0f) is stamped after the harness's later action at %.1fms", e.Ms(), pageMs, action.Ms())
			}
		}
	}
}
