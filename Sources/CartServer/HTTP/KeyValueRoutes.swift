import CartCluster
import CartVersioning
import HTTPTypes
import Hummingbird

/// `/v1/kv/{key}`: opaque values under any key outside `cart:`, with Riak's conventions: a read
/// answers the one value, or `300 Multiple Choices` listing every concurrent sibling with the
/// context to send back when resolving them; writes and deletes are relative to the context
/// they send (`X-Causal-Context`), and a blind write becomes a sibling.
struct KeyValueRoutes: Sendable {
    /// Largest value accepted.
    static let valueBytesMax = 1 << 20

    let node: NodeGateway

    func get(_ request: Request, context: APIRequestContext) async throws(APIError) -> Response {
        let key = try APIRequestParsing.key(context)
        let quorum = try APIRequestParsing.quorum(request)
        let reply = try await node.submit(ClientRequest(key: key, operation: .get, r: quorum.r, timeoutMs: quorum.timeoutMs))
        switch reply {
        case .notFound:
            throw APIError(.notFound, "not_found", "no value under this key")
        case let .found(.siblings(set)):
            let view: SiblingsView
            do { view = try SiblingsView(set, policy: .siblings) } catch {
                throw APIError(.internalServerError, "internal", "the key's context does not encode: \(error)")
            }
            if set.readsAsDeleted {
                var response = RequestIDMiddleware.render(APIError(.notFound, "not_found", "the value under this key was deleted"))
                response.headers[.causalContext] = view.context
                return response
            }
            let versions = set.resolvedVersions(policy: .siblings)
            guard versions.count == 1, let value = versions.first?.sibling.value else {
                var response = try JSONBody.response(view, status: .multipleChoices)
                response.headers[.causalContext] = view.context
                return response
            }
            return Response(status: .ok, headers: [.contentType: "application/octet-stream", .causalContext: view.context],
                            body: ResponseBody(byteBuffer: ByteBuffer(bytes: value)))
        case .found(.cart):
            throw APIError(.badRequest, "wrong_kind", "the key holds a cart: read it with /v1/carts")
        default:
            throw APIError.from(reply) ?? APIError(.internalServerError, "internal", "unexpected reply \(reply)")
        }
    }

    func put(_ request: Request, context: APIRequestContext) async throws(APIError) -> Response {
        let key = try APIRequestParsing.key(context)
        let quorum = try APIRequestParsing.quorum(request)
        let vector = try APIRequestParsing.versionVector(request)
        let value = try await APIRequestParsing.body(request, bytesMax: Self.valueBytesMax)
        return try await write(ClientRequest(key: key, operation: .put(value: value, context: vector),
                                             r: quorum.r, w: quorum.w, timeoutMs: quorum.timeoutMs))
    }

    func delete(_ request: Request, context: APIRequestContext) async throws(APIError) -> Response {
        let key = try APIRequestParsing.key(context)
        let quorum = try APIRequestParsing.quorum(request)
        let vector = try APIRequestParsing.versionVector(request)
        return try await write(ClientRequest(key: key, operation: .delete(context: vector),
                                             r: quorum.r, w: quorum.w, timeoutMs: quorum.timeoutMs))
    }

    private func write(_ request: ClientRequest) async throws(APIError) -> Response {
        let reply = try await node.submit(request)
        guard case let .written(.siblings(set), _, _, _) = reply else {
            throw APIError.from(reply) ?? APIError(.internalServerError, "internal", "unexpected reply \(reply)")
        }
        let token: String
        do { token = try CausalContext(versionVector: set.context).token() } catch {
            throw APIError(.internalServerError, "internal", "the key's context does not encode: \(error)")
        }
        return Response(status: .noContent, headers: [.causalContext: token])
    }

}
