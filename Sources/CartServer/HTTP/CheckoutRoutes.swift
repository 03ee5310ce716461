import CartCluster
import CartVersioning
import HTTPTypes
import Hummingbird

/// `POST /v1/carts/{user}/checkout` and `GET /v1/orders/{id}`: the strongly consistent,
/// idempotent checkout (`ClusterNode+Checkout`). The client names the checkout with its
/// `Idempotency-Key`, which becomes the order's id: every attempt with that key, through any
/// node and at any time, answers the same order (201 for the attempt whose order was chosen,
/// 200 with `Idempotent-Replayed: true` for every other) or none. A 503 or 409
/// `checkout_contended` leaves the outcome open: retry with the same key.
///
/// Thread safety: `Sendable` (immutable; the gateway is thread-safe).
struct CheckoutRoutes: Sendable {
    let node: NodeGateway

    /// What an order answer's body is (keys sorted by `JSONBody`).
    struct OrderBody: Encodable {
        /// The checkout id (the `Idempotency-Key` that created the order).
        var id: String
        /// The cart's user (the cart key without `cart:`).
        var user: String
        /// The ordered items, ascending by SKU bytes, as the cart API renders them.
        var items: [CartItem]
        var totalMinor: Int64
        /// When the coordinator built the order, in ms since the Unix epoch (its clock).
        var createdAtMs: UInt64
        /// The node that built the order (`n<id>`).
        var coordinator: String

        init(_ order: Order) {
            id = order.checkoutID.text
            let prefix = Array("cart:".utf8)
            let userBytes = order.cartKey.starts(with: prefix) ? Array(order.cartKey.dropFirst(prefix.count)) : order.cartKey
            user = String(decoding: userBytes, as: UTF8.self)
            items = order.items
            totalMinor = order.totalMinor
            createdAtMs = order.createdMs
            coordinator = order.coordinator.description
        }
    }

    func checkout(_ request: Request, context: APIRequestContext) async throws(APIError) -> Response {
        let user = try APIRequestParsing.text(context, "user", bytesMax: CartRoutes.userBytesMax)
        let id = try APIRequestParsing.checkoutID(request)
        let quorum = try APIRequestParsing.quorum(request)
        let reply = try await node.submit(ClientRequest(key: CartRoutes.key(user), operation: .checkout(id),
                                                        timeoutMs: quorum.timeoutMs))
        guard case let .checkedOut(order, replayed) = reply else {
            throw APIError.from(reply, keyName: "user") ?? APIError(.internalServerError, "internal", "unexpected reply \(reply)")
        }
        var response = try JSONBody.response(OrderBody(order), status: replayed ? .ok : .created)
        response.headers[.idempotencyKey] = id.text
        response.headers[.location] = Self.orderPath(id)
        if replayed { response.headers[.idempotentReplayed] = "true" }
        return response
    }

    func show(_ request: Request, context: APIRequestContext) async throws(APIError) -> Response {
        let text = try APIRequestParsing.text(context, "id", bytesMax: CheckoutID.bytesMax)
        let id: CheckoutID
        do { id = try CheckoutID(text) } catch {
            throw .badRequest("invalid_id", "the order id is not a checkout id: \(error.reason)")
        }
        let quorum = try APIRequestParsing.quorum(request)
        let reply = try await node.submit(ClientRequest(key: id.orderKey, operation: .readOrder(id), timeoutMs: quorum.timeoutMs))
        switch reply {
        case let .order(order):
            return try JSONBody.response(OrderBody(order))
        case .notFound:
            throw APIError(.notFound, "order_not_found", "no order was decided for checkout id \(id)")
        default:
            throw APIError.from(reply, keyName: "id") ?? APIError(.internalServerError, "internal", "unexpected reply \(reply)")
        }
    }

    /// `/v1/orders/{id}`, the id percent-encoded as one path segment (every byte outside RFC
    /// 3986's unreserved set as `%XX`).
    static func orderPath(_ id: CheckoutID) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var encoded: [UInt8] = []
        for byte in id.text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                encoded.append(byte)
            default:
                encoded += [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]]
            }
        }
        return "/v1/orders/" + String(decoding: encoded, as: UTF8.self)
    }
}
