package csms

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
)

// connBufSize is the size of each connection's read and write buffers.
// OCPP-J frames are mostly a few hundred bytes; a larger frame is read or
// written past the buffer, straight to the socket. net/http's hijacked
// buffers are 4 KiB each, which every idle charger would keep.
const connBufSize = 512

// leanHijack hands coder/websocket a hijacked connection with small
// buffers instead of net/http's.
type leanHijack struct {
	http.ResponseWriter
	// conn, when set, receives the hijacked connection (for its write
	// deadline).
	conn *net.Conn
}

// Unwrap returns the wrapped ResponseWriter (for http.ResponseController).
func (w leanHijack) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Hijack hijacks the connection and returns it with buffers of
// connBufSize. Bytes net/http had read ahead are kept in front of the
// socket.
func (w leanHijack) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	nc, brw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	if err := brw.Writer.Flush(); err != nil {
		nc.Close()
		return nil, nil, err
	}
	if w.conn != nil {
		*w.conn = nc
	}
	// coder/websocket takes what the reader has buffered and re-bases the
	// reader on the socket: the bytes read ahead must sit in the buffer.
	n := brw.Reader.Buffered()
	if n == 0 {
		return nc, bufio.NewReadWriter(bufio.NewReaderSize(nc, connBufSize), bufio.NewWriterSize(nc, connBufSize)), nil
	}
	ahead, _ := brw.Reader.Peek(n)
	br := bufio.NewReaderSize(io.MultiReader(bytes.NewReader(bytes.Clone(ahead)), nc), max(connBufSize, n))
	if _, err := br.Peek(n); err != nil {
		nc.Close()
		return nil, nil, err
	}
	return nc, bufio.NewReadWriter(br, bufio.NewWriterSize(nc, connBufSize)), nil
}
