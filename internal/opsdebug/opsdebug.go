// Package opsdebug mounts Go's runtime profiling endpoints on a daemon's
// operations listener. They are off unless the operator asks for them
// (--pprof), because a profile exposes memory contents and costs CPU; the
// operations listener is meant for loopback or a management network only.
package opsdebug

import (
	"net/http"
	"net/http/pprof"
)

// Mount adds /debug/pprof/ (index, named profiles, cmdline, profile, symbol,
// trace) to mux.
func Mount(mux *http.ServeMux) {
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
}
