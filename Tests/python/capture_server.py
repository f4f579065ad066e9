"""A recording HTTP server on 127.0.0.1 (port 0): keeps method, raw path, raw query, headers and body of every
request and answers 200 with a canned JSON body (or what `responder` returns)."""
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Captured:
    def __init__(self, method, target, headers, body):
        self.method = method
        self.target = target
        self.path, _, self.query = target.partition("?")
        self.headers = headers  # [(name, value)] as received
        self.body = body

    def header(self, name):
        n = name.lower()
        for k, v in self.headers:
            if k.lower() == n:
                return v
        return None


class CaptureServer:
    def __init__(self, responder=None):
        self.requests = []
        self.lock = threading.Lock()
        self.responder = responder or (lambda req: (200, [("Content-Type", "application/json")], b"{}"))
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                req = Captured(self.command, self.path, list(self.headers.items()), body)
                with outer.lock:
                    outer.requests.append(req)
                status, headers, payload = outer.responder(req)
                self.send_response(status)
                for k, v in headers:
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_DELETE = _handle

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def clear(self):
        with self.lock:
            self.requests = []

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()
