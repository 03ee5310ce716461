import NIOCore
import NIOHTTP1
import NIOPosix

/// Reads what `cartstore-bench http --fill` reports of each node after the fill: the engine's
/// `bytesOnDisk` and `memtableBytes` from `GET /admin/status`, and the server's peak RSS from
/// /proc/PID/status when its pid is known.
enum NodeStatusProbe {
    /// One node's figures; nil where unavailable.
    struct Sample: Sendable {
        let node: String
        let bytesOnDisk: UInt64?
        let memtableBytes: UInt64?
        let pid: Int32?
        let peakResidentBytes: UInt64?
        /// Why `/admin/status` gave nothing.
        let failure: String?
    }

    /// An answer: status code and body.
    struct Answer: Sendable {
        let status: UInt
        let body: [UInt8]
    }

    static func sample(_ node: HTTPNode, pid: Int32?, group: any EventLoopGroup) -> Sample {
        var bytesOnDisk: UInt64?
        var memtableBytes: UInt64?
        var failure: String?
        do {
            let answer = try get(node, path: "/admin/status", group: group).wait()
            if answer.status == 200 {
                let from = JSONText.valueIndex(forKey: "engine", in: answer.body) ?? 0
                bytesOnDisk = JSONText.unsignedValue(forKey: "bytesOnDisk", in: answer.body, from: from)
                memtableBytes = JSONText.unsignedValue(forKey: "memtableBytes", in: answer.body, from: from)
            } else {
                failure = "HTTP \(answer.status)"
            }
        } catch {
            failure = "\(error)"
        }
        return Sample(node: node.description, bytesOnDisk: bytesOnDisk, memtableBytes: memtableBytes, pid: pid,
                      peakResidentBytes: pid.flatMap { SystemProbe.peakResidentBytes(pid: $0) }, failure: failure)
    }

    /// One `GET path` on a new connection, closed after the answer; fails after 10 s.
    static func get(_ node: HTTPNode, path: String, group: any EventLoopGroup) -> EventLoopFuture<Answer> {
        let loop = group.next()
        let promise = loop.makePromise(of: Answer.self)
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: node.hostHeader)
        headers.add(name: "Connection", value: "close")
        let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: path, headers: headers)
        ClientBootstrap(group: loop)
            .connectTimeout(.seconds(5))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(OneRequestHandler(head: head, promise: promise))
                }
            }
            .connect(to: node.address)
            .whenFailure { promise.fail($0) }
        return promise.futureResult
    }
}
