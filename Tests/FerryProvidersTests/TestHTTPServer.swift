import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A tiny blocking HTTP/1.1 server on 127.0.0.1 (port 0) for tests: records every request and answers with what
/// the handler returns — a response, a connection reset (RST), a plain close, or silence (to trigger timeouts).
final class TestHTTPServer: @unchecked Sendable {
    struct Request: Sendable {
        var method: String
        var target: String
        var headers: [(String, String)]
        var body: [UInt8]

        func header(_ name: String) -> String? {
            headers.first { $0.0.lowercased() == name.lowercased() }?.1
        }
    }

    enum Reply: Sendable {
        case respond(Int, [(String, String)], [UInt8])
        case reset
        case close
        case hang(Double)

        static func json(_ status: Int, _ text: String, headers: [(String, String)] = []) -> Reply {
            .respond(status, headers + [("Content-Type", "application/json")], Array(text.utf8))
        }
    }

    let port: Int
    private let fd: Int32
    private let lock = NSLock()
    private var _requests: [Request] = []
    private var _handler: @Sendable (Request) -> Reply
    private var stopped = false

    var requests: [Request] { lock.withLock { _requests } }
    var handler: @Sendable (Request) -> Reply {
        get { lock.withLock { _handler } }
        set { lock.withLock { _handler = newValue } }
    }

    init(handler: @escaping @Sendable (Request) -> Reply = { _ in .json(200, "{}") }) throws {
        _handler = handler
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EIO) }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = 0
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 128) == 0 else { close(fd); throw POSIXError(.EADDRINUSE) }
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
        }
        port = Int(UInt16(bigEndian: addr.sin_port))
        self.fd = fd
        let t = Thread { [self] in acceptLoop() }
        t.start()
    }

    var baseURL: String { "http://127.0.0.1:\(port)" }

    func stop() {
        lock.withLock { stopped = true }
        shutdown(fd, Int32(SHUT_RDWR))
        close(fd)
    }

    deinit { if !stopped { stop() } }

    private func acceptLoop() {
        while true {
            let c = accept(fd, nil, nil)
            if c < 0 {
                if lock.withLock({ stopped }) { return }
                if errno == EINTR { continue }
                return
            }
            let t = Thread { [self] in serve(c) }
            t.start()
        }
    }

    private func readSome(_ c: Int32, into buf: inout [UInt8]) -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let n = recv(c, &chunk, chunk.count, 0)
        if n <= 0 { return false }
        buf.append(contentsOf: chunk[0..<n])
        return true
    }

    private func serve(_ c: Int32) {
        var buf: [UInt8] = []
        defer { close(c) }
        while true {
            // Headers.
            var headerEnd: Int?
            while headerEnd == nil {
                if let r = find(buf, [13, 10, 13, 10]) { headerEnd = r; break }
                if !readSome(c, into: &buf) { return }
            }
            guard let he = headerEnd else { return }
            let head = String(decoding: buf[0..<he], as: UTF8.self)
            var lines = head.components(separatedBy: "\r\n")
            let requestLine = lines.removeFirst().split(separator: " ")
            guard requestLine.count >= 2 else { return }
            var headers: [(String, String)] = []
            for l in lines {
                guard let colon = l.firstIndex(of: ":") else { continue }
                headers.append((String(l[..<colon]), String(l[l.index(after: colon)...]).trimmingCharacters(in: .whitespaces)))
            }
            let length = Int(headers.first { $0.0.lowercased() == "content-length" }?.1 ?? "0") ?? 0
            var rest = Array(buf[(he + 4)...])
            while rest.count < length {
                var more: [UInt8] = []
                if !readSome(c, into: &more) { return }
                rest.append(contentsOf: more)
            }
            let body = Array(rest[0..<length])
            buf = Array(rest[length...])
            let req = Request(method: String(requestLine[0]), target: String(requestLine[1]), headers: headers, body: body)
            lock.withLock { _requests.append(req) }
            switch handler(req) {
            case .respond(let status, let hs, let b):
                var out = "HTTP/1.1 \(status) \(status < 400 ? "OK" : "Error")\r\n"
                for (k, v) in hs { out += "\(k): \(v)\r\n" }
                out += "Content-Length: \(b.count)\r\nConnection: keep-alive\r\n\r\n"
                let bytes = Array(out.utf8) + b
                var sent = 0
                while sent < bytes.count {
                    let n = bytes[sent...].withUnsafeBytes { send(c, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                    if n <= 0 { return }
                    sent += n
                }
            case .reset:
                var lg = linger(l_onoff: 1, l_linger: 0)
                setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, socklen_t(MemoryLayout<linger>.size))
                return
            case .close:
                return
            case .hang(let seconds):
                Thread.sleep(forTimeInterval: seconds)
                return
            }
        }
    }

    private func find(_ hay: [UInt8], _ needle: [UInt8]) -> Int? {
        guard hay.count >= needle.count else { return nil }
        for i in 0...(hay.count - needle.count) where hay[i] == needle[0] {
            if Array(hay[i..<(i + needle.count)]) == needle { return i }
        }
        return nil
    }
}
