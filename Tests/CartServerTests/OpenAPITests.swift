import CartServer
import Foundation
import Testing

/// `openapi.yaml` and the served API agree: every (method, path) in the file is registered and
/// answers on a real server, and every registered route is in the file.
@Suite("OpenAPI", .serialized, .timeLimit(.minutes(2)))
struct OpenAPITests {
    /// The (method, path) pairs under `paths:` (a path at two spaces of indentation, its methods
    /// at four).
    static func documentedRoutes() throws -> Set<String> {
        let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("openapi.yaml")
        let text = try String(contentsOf: file, encoding: .utf8)
        var routes: Set<String> = []
        var inPaths = false
        var path: String?
        let methods: Set<String> = ["get", "put", "post", "delete", "patch", "head", "options"]
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if !line.hasPrefix(" ") && !line.isEmpty && !line.hasPrefix("#") { inPaths = line.hasPrefix("paths:"); continue }
            guard inPaths else { continue }
            if line.hasPrefix("  /") && !line.hasPrefix("   ") {
                path = String(line.dropFirst(2).prefix { $0 != ":" })
            } else if line.hasPrefix("    ") && !line.hasPrefix("     "), let path {
                let name = line.dropFirst(4).prefix { $0 != ":" }
                if methods.contains(String(name)) { routes.insert("\(name.uppercased()) \(path)") }
            }
        }
        return routes
    }

    @Test("the file and the router name the same routes")
    func sameRoutes() throws {
        let documented = try Self.documentedRoutes()
        let served = Set(APIRouter.routes.map { "\($0.method.rawValue) \($0.path)" })
        #expect(!documented.isEmpty)
        #expect(documented.subtracting(served).isEmpty, "documented, not served: \(documented.subtracting(served).sorted())")
        #expect(served.subtracting(documented).isEmpty, "served, not documented: \(served.subtracting(documented).sorted())")
    }

    @Test("every documented route answers on a real server (never the unknown-route 404)")
    func everyRouteAnswers() async throws {
        let cluster = try ServerCluster(nodes: 1)
        defer { cluster.stopAll() }
        try await cluster.startAll()
        for route in try Self.documentedRoutes().sorted() {
            let parts = route.split(separator: " ")
            let path = String(parts[1]).replacingOccurrences(of: "{user}", with: "openapi")
                .replacingOccurrences(of: "{sku}", with: "mug").replacingOccurrences(of: "{key}", with: "openapi-key")
            let body: [UInt8]? = parts[0] == "POST" || parts[0] == "PATCH" || parts[0] == "PUT"
                ? Array(#"{"sku":"mug","quantity":1}"#.utf8) : nil
            let answer = try await cluster.client.send(String(parts[0]), cluster.url(1, path), body: body)
            #expect(!(answer.status == 404 && (answer.json["detail"] as? String)?.hasPrefix("no route") == true), "\(route) is not served")
            #expect(answer.status != 405 && answer.status < 500, "\(route): \(answer.status) \(answer.text.prefix(200))")
        }
    }
}
