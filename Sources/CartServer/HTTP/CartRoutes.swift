import CartCluster
import CartVersioning
import Foundation
import HTTPTypes
import Hummingbird

/// `/v1/carts/{user}`: carts as shoppers see them. A read answers the merged cart and its
/// causal context; every mutation is a cart operation identified by its `Idempotency-Key`, so a
/// retry through any node applies once, and is relative to the context the client sends (what
/// it saw), so a remove never takes away an add it did not see.
struct CartRoutes: Sendable {
    /// Longest user id in bytes (the key is `cart:` followed by it).
    static let userBytesMax = 200
    /// Largest cart request body.
    static let bodyBytesMax = 64 << 10

    let node: NodeGateway

    /// The body of `POST …/items`.
    struct AddItem: Decodable {
        var sku: String
        var quantity: Int64?
        var name: String?
        var priceMinor: Int64?
        var metadata: [String: String]?
    }

    /// The body of `PATCH …/items/{sku}`.
    struct SetQuantity: Decodable {
        var quantity: Int64
    }

    /// What a cart answer's body is.
    struct CartBody: Encodable {
        var user: String
        var items: [CartItem]
        var context: String
    }

    func show(_ request: Request, context: APIRequestContext) async throws(APIError) -> Response {
        let user = try APIRequestParsing.text(context, "user", bytesMax: Self.userBytesMax)
        let quorum = try APIRequestParsing.quorum(request)
        let reply = try await node.submit(ClientRequest(key: Self.key(user), operation: .get, r: quorum.r, timeoutMs: quorum.timeoutMs))
        switch reply {
        case let .found(.cart(state)):
            return try Self.cartResponse(user: user, view: state.view)
        case .notFound:
            return try Self.cartResponse(user: user, view: CartView(items: [], context: CausalContext()))
        case .found(.siblings):
            throw APIError(.internalServerError, "internal", "the key holds raw values, not a cart")
        default:
            throw APIError.from(reply, keyName: "user") ?? APIError(.internalServerError, "internal", "unexpected reply \(reply)")
        }
    }

    func add(_ request: Request, context: APIRequestContext) async throws(APIError) -> Response {
        let user = try APIRequestParsing.text(context, "user", bytesMax: Self.userBytesMax)
        let body = try await APIRequestParsing.json(AddItem.self, request, bytesMax: Self.bodyBytesMax)
        let details = CartItemDetails(name: body.name, priceMinor: body.priceMinor, metadata: body.metadata)
        return try await mutate(.add(sku: body.sku, quantity: body.quantity ?? 1, details: details), user: user, request: request)
    }

    func setQuantity(_ request: Request, context: APIRequestContext) async throws(APIError) -> Response {
        let user = try APIRequestParsing.text(context, "user", bytesMax: Self.userBytesMax)
        let sku = try APIRequestParsing.text(context, "sku", bytesMax: VersioningLimits.default.skuBytesMax)
        let body = try await APIRequestParsing.json(SetQuantity.self, request, bytesMax: Self.bodyBytesMax)
        return try await mutate(.setQuantity(sku: sku, quantity: body.quantity), user: user, request: request)
    }

    func remove(_ request: Request, context: APIRequestContext) async throws(APIError) -> Response {
        let user = try APIRequestParsing.text(context, "user", bytesMax: Self.userBytesMax)
        let sku = try APIRequestParsing.text(context, "sku", bytesMax: VersioningLimits.default.skuBytesMax)
        return try await mutate(.remove(sku: sku), user: user, request: request)
    }

    func clear(_ request: Request, context: APIRequestContext) async throws(APIError) -> Response {
        let user = try APIRequestParsing.text(context, "user", bytesMax: Self.userBytesMax)
        return try await mutate(.clear, user: user, request: request)
    }

    // MARK: - Helpers

    private func mutate(_ operation: CartOperation, user: String, request: Request) async throws(APIError) -> Response {
        let quorum = try APIRequestParsing.quorum(request)
        let observed = try APIRequestParsing.context(request)
        let id = try APIRequestParsing.operationID(request)
        let reply = try await node.submit(ClientRequest(key: Self.key(user), operation: .cart(operation, id: id, observed: observed),
                                                   r: quorum.r, w: quorum.w, timeoutMs: quorum.timeoutMs))
        guard case let .written(.cart(state), _, duplicate, _) = reply else {
            throw APIError.from(reply, keyName: "user") ?? APIError(.internalServerError, "internal", "unexpected reply \(reply)")
        }
        var response = try Self.cartResponse(user: user, view: state.view)
        response.headers[.idempotencyKey] = id.description
        if duplicate { response.headers[.idempotentReplayed] = "true" }
        return response
    }


    static func key(_ user: String) -> [UInt8] { Array("cart:".utf8) + Array(user.utf8) }

    static func cartResponse(user: String, view: CartView) throws(APIError) -> Response {
        let token: String
        do { token = try view.context.token() } catch {
            throw APIError(.internalServerError, "internal", "the cart's context does not encode: \(error)")
        }
        let body = CartBody(user: user, items: view.items, context: token)
        var response = try JSONBody.response(body)
        response.headers[.causalContext] = token
        return response
    }
}
