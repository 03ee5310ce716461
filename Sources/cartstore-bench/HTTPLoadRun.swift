import NIOCore
import NIOPosix

/// Runs one phase of `cartstore-bench http` on fresh connections: opens `connections`
/// connections (connection i to node i mod nodes, on event loop i mod threads), drives them
/// (a timed run, or a fill until every user is loaded), stops them, and merges what they
/// measured. The calling thread coordinates: it sleeps, prints a progress line to stderr each
/// second, and moves the phase on.
struct HTTPLoadRun {
    /// What the calling thread holds of each connection.
    private struct Handle: Sendable {
        let connection: NIOLoopBound<HTTPLoadConnection>
        let closed: EventLoopFuture<Void>
    }

    let group: MultiThreadedEventLoopGroup
    let nodes: [HTTPNode]
    let connections: Int
    let plan: HTTPLoadPlan
    /// Server processes whose CPU time is measured over the interval (may be empty).
    let serverPIDs: [Int32]

    /// Warmup (requests flow, nothing is recorded), then `duration` seconds measured, then stop.
    func timed(warmupSeconds: Int, durationSeconds: Int) throws -> HTTPLoadResult {
        let control = HTTPLoadControl(phase: warmupSeconds > 0 ? .warmup : .measuring)
        let start = monotonicNanoseconds()
        let (recorders, handles) = try openConnections(control)
        var progress = HTTPProgress(control: control, since: start)
        if warmupSeconds > 0 {
            progress.run(until: start + UInt64(warmupSeconds) * 1_000_000_000, while: { true }) { elapsed, rate, errors in
                "http: warmup \(elapsed)/\(warmupSeconds) s: \(rate) ops/s, errors \(errors)"
            }
        }
        let serverBefore = serverCPUSeconds()
        let clientBefore = SystemProbe.selfCPUSeconds()
        let measureStart = monotonicNanoseconds()
        control.enter(.measuring)
        progress.restart(at: measureStart)
        progress.run(until: measureStart + UInt64(durationSeconds) * 1_000_000_000, while: { true }) { elapsed, rate, errors in
            "http: \(elapsed)/\(durationSeconds) s: \(rate) ops/s, errors \(errors)"
        }
        control.enter(.finished)
        let measureEnd = monotonicNanoseconds()
        let clientAfter = SystemProbe.selfCPUSeconds()
        let serverAfter = serverCPUSeconds()

        let stats = try closeConnections(recorders: recorders, handles: handles)
        return HTTPLoadResult(stats: stats, seconds: Double(measureEnd - measureStart) / 1e9,
                              clientCPUSeconds: clientAfter - clientBefore,
                              serverCPUSeconds: difference(serverBefore, serverAfter))
    }

    /// Loads users `0..<count` (the plan's mode must be `.fill(count)`), each connection
    /// taking the next user as soon as it is free, until all are claimed and answered.
    func fill(count: Int) throws -> HTTPLoadResult {
        let control = HTTPLoadControl(phase: .measuring)
        let serverBefore = serverCPUSeconds()
        let clientBefore = SystemProbe.selfCPUSeconds()
        let start = monotonicNanoseconds()
        let (recorders, handles) = try openConnections(control)
        var progress = HTTPProgress(control: control, since: start)
        progress.run(until: nil, while: { control.connectionsDone.load(ordering: .relaxed) < connections }) { elapsed, rate, errors in
            let claimed = min(count, control.nextFillUser.load(ordering: .relaxed))
            return "http: fill \(elapsed) s: \(rate) carts/s, \(claimed)/\(count) claimed, errors \(errors)"
        }
        let stats = try closeConnections(recorders: recorders, handles: handles)
        let end = stats.endNanoseconds > start ? stats.endNanoseconds : monotonicNanoseconds()
        let clientAfter = SystemProbe.selfCPUSeconds()
        let serverAfter = serverCPUSeconds()
        return HTTPLoadResult(stats: stats, seconds: Double(end - start) / 1e9,
                              clientCPUSeconds: clientAfter - clientBefore,
                              serverCPUSeconds: difference(serverBefore, serverAfter))
    }

    // MARK: - Connections

    /// One recorder per event loop, then the connections (each created and started on its loop).
    private func openConnections(_ control: HTTPLoadControl) throws -> ([NIOLoopBound<HTTPLoadRecorder>], [Handle]) {
        let loops = Array(group.makeIterator())
        guard !loops.isEmpty else { throw HTTPBenchError.eventLoop("the event loop group has no loops") }
        var recorders: [NIOLoopBound<HTTPLoadRecorder>] = []
        for loop in loops {
            recorders.append(try loop.submit { NIOLoopBound(HTTPLoadRecorder(), eventLoop: loop) }.wait())
        }
        var handles: [Handle] = []
        let plan = self.plan
        for i in 0..<connections {
            let loop = loops[i % loops.count]
            let recorder = recorders[i % loops.count]
            let node = nodes[i % nodes.count]
            handles.append(try loop.submit {
                let connection = HTTPLoadConnection(index: i, eventLoop: loop, node: node, plan: plan,
                                                    control: control, recorder: recorder.value)
                connection.start()
                return Handle(connection: NIOLoopBound(connection, eventLoop: loop), closed: connection.closedFuture)
            }.wait())
        }
        return (recorders, handles)
    }

    /// Stops every connection, waits until all are closed, and merges the loops' statistics.
    private func closeConnections(recorders: [NIOLoopBound<HTTPLoadRecorder>], handles: [Handle]) throws -> HTTPLoadStats {
        for handle in handles {
            let connection = handle.connection
            connection.eventLoop.execute { connection.value.stop() }
        }
        if let first = handles.first {
            try EventLoopFuture<Void>.andAllComplete(handles.map(\.closed), on: first.closed.eventLoop).wait()
        }
        var stats = HTTPLoadStats()
        for recorder in recorders {
            stats.merge(try recorder.eventLoop.submit { recorder.value.stats }.wait())
        }
        return stats
    }

    // MARK: - Server CPU

    private func serverCPUSeconds() -> Double? {
        guard !serverPIDs.isEmpty else { return nil }
        var total = 0.0
        for pid in serverPIDs {
            guard let s = SystemProbe.processCPUSeconds(pid: pid) else { return nil }
            total += s
        }
        return total
    }

    private func difference(_ before: Double?, _ after: Double?) -> Double? {
        guard let before, let after else { return nil }
        return after - before
    }
}
