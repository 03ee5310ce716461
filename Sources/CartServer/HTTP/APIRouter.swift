import CartCluster
import HTTPTypes
import Hummingbird

/// The HTTP API's routes, in one table (`Endpoint`): the router is built from it, and the test
/// that compares the served API with `openapi.yaml` reads it.
public struct APIRouter: Sendable {
    /// One served route.
    public struct Route: Hashable, Sendable {
        public var method: HTTPRequest.Method
        /// The OpenAPI path template, e.g. `/v1/carts/{user}`.
        public var path: String

        /// Hummingbird's spelling of the template: `{name}` becomes `:name`.
        var routerPath: String {
            path.split(separator: "/", omittingEmptySubsequences: false).map { segment in
                segment.hasPrefix("{") && segment.hasSuffix("}") ? ":" + segment.dropFirst().dropLast() : segment
            }.joined(separator: "/")
        }
    }

    /// Every endpoint of the API.
    public enum Endpoint: CaseIterable, Sendable {
        case showCart, clearCart, addItem, setQuantity, removeItem
        case checkout, showOrder
        case getValue, putValue, deleteValue
        case ring, members, status, health, ready, metrics

        public var route: Route {
            switch self {
            case .showCart: return Route(method: .get, path: "/v1/carts/{user}")
            case .clearCart: return Route(method: .delete, path: "/v1/carts/{user}")
            case .addItem: return Route(method: .post, path: "/v1/carts/{user}/items")
            case .setQuantity: return Route(method: .patch, path: "/v1/carts/{user}/items/{sku}")
            case .removeItem: return Route(method: .delete, path: "/v1/carts/{user}/items/{sku}")
            case .checkout: return Route(method: .post, path: "/v1/carts/{user}/checkout")
            case .showOrder: return Route(method: .get, path: "/v1/orders/{id}")
            case .getValue: return Route(method: .get, path: "/v1/kv/{key}")
            case .putValue: return Route(method: .put, path: "/v1/kv/{key}")
            case .deleteValue: return Route(method: .delete, path: "/v1/kv/{key}")
            case .ring: return Route(method: .get, path: "/admin/ring")
            case .members: return Route(method: .get, path: "/admin/members")
            case .status: return Route(method: .get, path: "/admin/status")
            case .health: return Route(method: .get, path: "/health")
            case .ready: return Route(method: .get, path: "/ready")
            case .metrics: return Route(method: .get, path: "/metrics")
            }
        }
    }

    /// The routes served: the router registers exactly these.
    public static var routes: [Route] { Endpoint.allCases.map(\.route) }

    let carts: CartRoutes
    let checkouts: CheckoutRoutes
    let keyValues: KeyValueRoutes
    let admin: AdminRoutes

    init(runtime: NodeRuntime, transport: PeerTransport, members: [Member], metrics: ServerMetrics, ready: ServingState) {
        let gateway = NodeGateway(runtime: runtime, metrics: metrics)
        carts = CartRoutes(node: gateway)
        checkouts = CheckoutRoutes(node: gateway)
        keyValues = KeyValueRoutes(node: gateway)
        admin = AdminRoutes(runtime: runtime, transport: transport, members: members, metrics: metrics, ready: ready)
    }

    /// Answers `request` at `endpoint`.
    func respond(_ endpoint: Endpoint, _ request: Request, _ context: APIRequestContext) async throws -> Response {
        switch endpoint {
        case .showCart: return try await carts.show(request, context: context)
        case .clearCart: return try await carts.clear(request, context: context)
        case .addItem: return try await carts.add(request, context: context)
        case .setQuantity: return try await carts.setQuantity(request, context: context)
        case .removeItem: return try await carts.remove(request, context: context)
        case .checkout: return try await checkouts.checkout(request, context: context)
        case .showOrder: return try await checkouts.show(request, context: context)
        case .getValue: return try await keyValues.get(request, context: context)
        case .putValue: return try await keyValues.put(request, context: context)
        case .deleteValue: return try await keyValues.delete(request, context: context)
        case .ring: return try admin.ring(request, context: context)
        case .members: return try admin.members(request, context: context)
        case .status: return try admin.status(request, context: context)
        case .health: return try admin.health(request, context: context)
        case .ready: return try admin.readiness(request, context: context)
        case .metrics: return admin.metricsText(request, context: context)
        }
    }

    /// The Hummingbird router: metrics outermost (so that errors are timed too), then request
    /// ids and error rendering, then the routes.
    func build(node: UInt64) -> Router<APIRequestContext> {
        let router = Router(context: APIRequestContext.self)
        router.add(middleware: MetricsMiddleware<APIRequestContext>())
        router.add(middleware: RequestIDMiddleware(node: node))
        for endpoint in Endpoint.allCases {
            let route = endpoint.route
            router.on(RouterPath(route.routerPath), method: route.method) { request, context in
                try await self.respond(endpoint, request, context)
            }
        }
        return router
    }
}
