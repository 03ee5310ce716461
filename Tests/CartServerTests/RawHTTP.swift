import Foundation

/// One HTTP/1.1 request written byte for byte on a fresh socket, for targets that an HTTP
/// client library would normalise before sending (`%ZZ`, `%FF`), and for bodies the server
/// refuses before reading them whole (AsyncHTTPClient traps on an answer that arrives while it
/// still sends).
enum RawHTTP {
    /// Sends `method target` with `body` to 127.0.0.1:`port`; returns the status and the body.
    static func exchange(port: Int, method: String, target: String, headers: [String: String] = [:],
                         body: [UInt8] = []) throws -> TestHTTPClient.Answer {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ServerCluster.Failure("socket: errno \(errno)") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw ServerCluster.Failure("connect: errno \(errno)") }
        let extra = headers.map { "\($0.key): \($0.value)\r\n" }.joined()
        let head = "\(method) \(target) HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: \(body.count)\r\n\(extra)Connection: close\r\n\r\n"
        let request = Array(head.utf8) + body
        // The server may answer (413) and close before the whole body is sent: stop writing then
        // (MSG_NOSIGNAL: no SIGPIPE) and read the answer.
        var sent = 0
        while sent < request.count {
            let n = request.withUnsafeBytes { send(fd, $0.baseAddress! + sent, $0.count - sent, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { break }
            sent += n
        }
        var response: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            response += chunk[0..<n]
        }
        let text = String(decoding: response, as: UTF8.self)
        guard let split = text.range(of: "\r\n\r\n") else { throw ServerCluster.Failure("no response head: \(text.prefix(200))") }
        let lines = text[..<split.lowerBound].split(separator: "\r\n")
        let status = Int(lines.first?.split(separator: " ").dropFirst().first ?? "") ?? 0
        var fields: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            fields[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return TestHTTPClient.Answer(status: status, headers: fields, body: Array(text[split.upperBound...].utf8))
    }
}
