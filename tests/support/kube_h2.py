"""HTTP/2 over TLS for kube_api_server.py: one connection, many streams.

A real kube-apiserver offers ALPN "h2" and libcurl (CURL_HTTP_VERSION_2TLS) takes it, so the
library's HTTP/2 path is what runs against a cluster. This module speaks that protocol with
hyper-h2 (Debian python3-h2) and hands every stream to the same request handling as HTTP/1.1:
a stream handler is the server's KubeHandler with its socket plumbing replaced (StreamMixin).

Threads: the connection's thread is the only one that touches the TLS socket (an OpenSSL
connection must not be read and written from two threads at once); each request runs in its
own thread, queues frames into the shared H2Connection under a lock and wakes the connection
thread to send them. Outbound DATA waits for flow-control window, so a slow reader of a watch
holds back only its own stream.
"""

import email.message
import select
import socket
import ssl
import sys
import threading

try:
    import h2  # noqa: F401
except ImportError:
    # configure's python3 may be a pyenv without Debian's packages; python3-h2 (and its
    # hpack, hyperframe) are pure Python and load from Debian's tree (as test_python.sh
    # falls back to /usr/bin/python3 for pytest).
    sys.path.append("/usr/lib/python3/dist-packages")
    try:
        import h2  # noqa: F401
    except ImportError:
        raise ImportError("kube_h2 needs hyper-h2: apt-get install python3-h2 "
                          "(scripts/setup-debian.sh)") from None
import h2.config  # noqa: E402
import h2.connection  # noqa: E402
import h2.errors  # noqa: E402
import h2.events  # noqa: E402
import h2.exceptions  # noqa: E402
import h2.settings  # noqa: E402

IDLE_TIMEOUT = 300          # as KubeHandler.timeout: an idle connection is closed after this
MAX_CONCURRENT_STREAMS = 250  # what a kube-apiserver advertises (--http2-max-streams-per-connection default)
# Headers that belong to an HTTP/1.1 connection and are forbidden in HTTP/2 (RFC 9113 8.2.2).
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "upgrade", "proxy-connection"}


class StreamGone(ConnectionResetError):
    """The client reset the stream or the connection ended: the answer has nowhere to go."""


class Connection:
    """The state one HTTP/2 connection shares between its I/O thread and its stream threads."""

    def __init__(self, sock, server, handler_class, client_address):
        self.sock, self.server = sock, server
        self.handler_class, self.client_address = handler_class, client_address
        self.h2 = h2.connection.H2Connection(
            h2.config.H2Configuration(client_side=False, header_encoding="utf-8"))
        self.lock = threading.Lock()
        self.cond = threading.Condition(self.lock)  # window updates, resets, closes
        self.streams = {}          # stream id -> Stream still being received or answered
        self.closed = False
        self.aborting = False      # a stream asked the connection thread to drop the connection
        self.wake_r, self.wake_w = socket.socketpair()
        self.wake_r.setblocking(False)

    # ---- the connection thread ---------------------------------------

    def serve(self):
        try:
            with self.lock:
                self.h2.update_settings({h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS:
                                         MAX_CONCURRENT_STREAMS})
                self.h2.initiate_connection()
            self.flush()
            idle = 0.0
            while not self.closed:
                if self.aborting:
                    self.sock.shutdown(socket.SHUT_RDWR)  # here: no TLS read is in flight
                    break
                if self.sock.pending():
                    readable = [self.sock]
                else:
                    readable, _, _ = select.select([self.sock, self.wake_r], [], [], 1.0)
                if self.wake_r in readable:
                    try:
                        while self.wake_r.recv(4096):
                            pass
                    except BlockingIOError:
                        pass
                if self.sock in readable:
                    data = self.sock.recv(65536)
                    if not data:
                        break
                    self.receive(data)
                    idle = 0.0
                elif not readable:
                    with self.lock:
                        busy = bool(self.streams)
                    idle = 0.0 if busy else idle + 1.0
                    if idle >= IDLE_TIMEOUT:
                        with self.lock:
                            self.h2.close_connection()
                        self.flush()
                        break
                self.flush()
        except (OSError, ssl.SSLError, h2.exceptions.ProtocolError):
            pass
        finally:
            self.close()

    def receive(self, data):
        try:
            with self.lock:
                events = self.h2.receive_data(data)
        except h2.exceptions.ProtocolError:
            self.flush()  # the GOAWAY h2 queued for the peer
            raise
        for ev in events:
            if isinstance(ev, h2.events.RequestReceived):
                with self.lock:
                    self.streams[ev.stream_id] = Stream(self, ev.stream_id, ev.headers)
            elif isinstance(ev, h2.events.DataReceived):
                with self.lock:
                    # The body is buffered whole (bounded by MAX_BODY): give the window back now.
                    self.h2.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
                    st = self.streams.get(ev.stream_id)
                if st:
                    st.body.extend(ev.data)
            elif isinstance(ev, h2.events.StreamEnded):
                # h2 reports the end of a request separately, also for HEADERS with END_STREAM.
                with self.lock:
                    st = self.streams.get(ev.stream_id)
                if st and not st.started:
                    st.start()
            elif isinstance(ev, h2.events.StreamReset):
                self.stream_gone(ev.stream_id)
            elif isinstance(ev, h2.events.ConnectionTerminated):
                self.closed = True
            elif isinstance(ev, (h2.events.WindowUpdated, h2.events.RemoteSettingsChanged)):
                with self.cond:
                    self.cond.notify_all()

    def flush(self):
        with self.lock:
            out = self.h2.data_to_send()
        if out:
            self.sock.sendall(out)

    def wake(self):
        try:
            self.wake_w.send(b"x")
        except OSError:
            pass

    def stream_gone(self, stream_id):
        with self.cond:
            st = self.streams.get(stream_id)
            if st:
                st.gone = True
            self.cond.notify_all()

    def close(self):
        with self.cond:
            self.closed = True
            for st in self.streams.values():
                st.gone = True
            self.cond.notify_all()
        for s in (self.wake_r, self.wake_w):
            s.close()

    # ---- called from stream threads ----------------------------------

    def send_headers(self, stream, headers, end_stream=False):
        with self.cond:
            if stream.gone or self.closed:
                raise StreamGone()
            try:
                self.h2.send_headers(stream.id, headers, end_stream=end_stream)
            except (h2.exceptions.StreamClosedError, h2.exceptions.ProtocolError):
                stream.gone = True
                raise StreamGone() from None
        self.wake()

    def send_data(self, stream, data, end_stream=False):
        """Send data as DATA frames as the peer's flow-control windows allow."""
        view = memoryview(bytes(data))
        while True:
            with self.cond:
                while True:
                    if stream.gone or self.closed:
                        raise StreamGone()
                    try:
                        window = self.h2.local_flow_control_window(stream.id)
                    except h2.exceptions.StreamClosedError:
                        stream.gone = True
                        raise StreamGone() from None
                    if window > 0 or not view:
                        break
                    self.cond.wait(1.0)
                n = min(len(view), window, self.h2.max_outbound_frame_size)
                last = n == len(view)
                try:
                    self.h2.send_data(stream.id, view[:n].tobytes(), end_stream=end_stream and last)
                except (h2.exceptions.StreamClosedError, h2.exceptions.ProtocolError):
                    stream.gone = True
                    raise StreamGone() from None
            self.wake()
            view = view[n:]
            if last:
                return

    def reset(self, stream, code=h2.errors.ErrorCodes.INTERNAL_ERROR):
        with self.cond:
            if not (stream.gone or self.closed):
                try:
                    self.h2.reset_stream(stream.id, code)
                except (h2.exceptions.StreamClosedError, h2.exceptions.ProtocolError):
                    pass
            stream.gone = True
        self.wake()

    def abort(self):
        """Drop the whole connection, as a network failure would (the drop faults)."""
        with self.cond:
            self.aborting = True
            for st in self.streams.values():
                st.gone = True
            self.cond.notify_all()
        self.wake()

    def finished(self, stream):
        with self.cond:
            self.streams.pop(stream.id, None)
        self.wake()


class Stream:
    """One request on the connection, answered in its own thread."""

    def __init__(self, conn, stream_id, headers):
        self.conn, self.id = conn, stream_id
        self.headers = headers
        self.body = bytearray()
        self.started = self.gone = False

    def start(self):
        self.started = True
        threading.Thread(target=self.run, name=f"h2-stream-{self.id}", daemon=True).start()

    def run(self):
        handler = None
        try:
            handler = self.conn.handler_class.for_stream(self)
            handler.dispatch()
            handler.finish_stream()
        except StreamGone:
            pass
        except Exception:  # noqa: BLE001 - a broken stream must not take the connection down
            if self.conn.server.verbose:
                import traceback
                traceback.print_exc()
            self.conn.reset(self)
        finally:
            self.conn.finished(self)


class StreamWriter:
    """The handler's wfile on HTTP/2: bytes written become DATA frames of the stream."""

    def __init__(self, stream):
        self.stream = stream

    def write(self, data):
        if data:
            self.stream.conn.send_data(self.stream, data)
        return len(data)

    def flush(self):
        pass


class StreamMixin:
    """Replaces KubeHandler's socket plumbing by one HTTP/2 stream; the dispatch stays shared.

    Mix in before the handler class: class H2Handler(StreamMixin, KubeHandler).
    """

    http_version = "2"

    @classmethod
    def for_stream(cls, stream):
        # BaseHTTPRequestHandler.__init__ would read a request from a socket: skip it.
        self = cls.__new__(cls)
        conn = stream.conn
        self.stream, self.server = stream, conn.server
        self.client_address = conn.client_address
        self.request = self.connection = conn.sock
        self.wfile = StreamWriter(stream)
        self.close_connection = False
        self.request_version = "HTTP/2.0"
        pseudo, msg = {}, email.message.Message()
        for k, v in stream.headers:
            if k.startswith(":"):
                pseudo[k] = v
            else:
                msg[k] = v
        self.command = pseudo.get(":method", "GET")
        self.path = pseudo.get(":path", "/")
        if ":authority" in pseudo and "Host" not in msg:
            msg["Host"] = pseudo[":authority"]
        self.headers = msg
        self.requestline = f"{self.command} {self.path} HTTP/2.0"
        self.h2_headers, self.h2_headers_sent, self.h2_chunked = None, False, False
        return self

    # -- response head: collected, then sent as one HEADERS frame --

    def send_response_only(self, code, message=None):
        self.h2_headers = [(":status", str(code))]

    def send_header(self, keyword, value):
        k = keyword.lower()
        if k == "transfer-encoding":
            self.h2_chunked = True  # a stream of unknown length: HTTP/2 just keeps sending DATA
        if k not in HOP_BY_HOP:
            self.h2_headers.append((k, str(value)))

    def end_headers(self):
        head, self.h2_headers = self.h2_headers, None
        self.h2_headers_sent = True
        self.stream.conn.send_headers(self.stream, head)

    # -- body: DATA frames; a chunked stream's framing is HTTP/1.1's own --

    def write_chunk(self, data):
        self.wfile.write(data)

    def end_chunks(self):
        pass  # the stream ends when the handler returns (finish_stream)

    def finish_stream(self):
        st = self.stream
        if st.gone:
            return
        if not self.h2_headers_sent:
            # dispatch answered nothing (a dropped connection was already aborted).
            return self.stream.conn.reset(st)
        st.conn.send_data(st, b"", end_stream=True)

    def client_gone(self):
        return self.stream.gone or self.stream.conn.closed

    def drop_connection(self, carried_out):
        if carried_out:
            # The write happened and its answer is lost with the connection: the client cannot
            # know whether it took effect (libcurl: CURLE_HTTP2/CURLE_PARTIAL_FILE).
            self.stream.conn.abort()
        else:
            # Nothing was done. HTTP/2 says so with REFUSED_STREAM, which a client may retry on a
            # new connection (RFC 9113 8.7; libcurl does, as it re-sends a request on HTTP/1.1
            # when a reused connection closes before any byte of the answer).
            self.stream.conn.reset(self.stream, h2.errors.ErrorCodes.REFUSED_STREAM)


def serve_connection(handler, stream_handler_class):
    """Run HTTP/2 on the TLS socket of an accepted connection (its handler's thread)."""
    sock = handler.request
    sock.settimeout(10)  # a peer that stops reading must not hold a send forever
    Connection(sock, handler.server, stream_handler_class, handler.client_address).serve()
