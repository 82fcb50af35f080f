package console

import (
	"bytes"
	"io"
	"net/http"
	"strconv"
)

// inproc is an http.RoundTripper that hands each request of the API client
// to the gateway's own /v1 handler in this process: the console goes through
// exactly what an agency system goes through (authentication of the
// session's token, role check, admission, validation, problems, logs,
// metrics), without a network hop or a second TLS identity.
type inproc struct{ h http.Handler }

func (t inproc) RoundTrip(req *http.Request) (*http.Response, error) {
	r := req.Clone(req.Context())
	r.RequestURI = req.URL.RequestURI()
	r.RemoteAddr = "127.0.0.1:0" // the console, not the browser
	if r.Body == nil {
		r.Body = http.NoBody
	}
	w := &recorder{header: http.Header{}}
	t.h.ServeHTTP(w, r)
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return &http.Response{
		Status: strconv.Itoa(w.status) + " " + http.StatusText(w.status), StatusCode: w.status,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: w.header, Body: io.NopCloser(bytes.NewReader(w.buf.Bytes())),
		ContentLength: int64(w.buf.Len()), Request: req,
	}, nil
}

// recorder collects a handler's answer (the console never streams through
// the API client; the live feed is passed through directly, see feed).
type recorder struct {
	header http.Header
	status int
	buf    bytes.Buffer
}

func (w *recorder) Header() http.Header { return w.header }
func (w *recorder) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}
func (w *recorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.buf.Write(b)
}
