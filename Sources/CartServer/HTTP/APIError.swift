import CartCluster
import CartVersioning
import HTTPTypes

/// An HTTP error answer: a status and the body `{"error": kind, "detail": detail}`. Every client
/// mistake maps to a 4xx (contract 5); a 5xx means the cluster or this node could not do it.
public struct APIError: Error, Hashable, Sendable, CustomStringConvertible {
    public var status: HTTPResponse.Status
    /// A stable snake_case name clients can branch on.
    public var kind: String
    /// A sentence for the human reading it.
    public var detail: String

    public init(_ status: HTTPResponse.Status, _ kind: String, _ detail: String) {
        self.status = status
        self.kind = kind
        self.detail = detail
    }

    public var description: String { "\(status.code) \(kind): \(detail)" }

    public static func badRequest(_ kind: String, _ detail: String) -> APIError { APIError(.badRequest, kind, detail) }

    /// The answer to a request the node refused before changing anything.
    public init(_ rejection: RequestRejection, keyName: String = "key") {
        switch rejection {
        case .invalidQuorum, .invalidTimeout:
            self.init(.badRequest, "invalid_parameter", rejection.description)
        case .invalidKey:
            self.init(.badRequest, "invalid_\(keyName)", rejection.description)
        case .wrongKind:
            self.init(.badRequest, "wrong_kind", "\(rejection): cart keys take the /v1/carts API, other keys /v1/kv")
        case let .cart(error):
            self.init(error)
        case let .siblings(error):
            switch error {
            case .contextNotCovered: self.init(.conflict, "context_not_covered", error.description)
            case .valueTooLarge: self.init(.contentTooLarge, "value_too_large", error.description)
            case .missingOwnWrites, .counterExhausted, .tooManyReplicas:
                self.init(.internalServerError, "internal", error.description)
            }
        case .emptyCart:
            self.init(.conflict, "empty_cart", "\(rejection): nothing to check out")
        case .checkoutContended:
            self.init(.conflict, "checkout_contended", rejection.description)
        case .checkoutIDInUse:
            self.init(.conflict, "idempotency_key_in_use", rejection.description)
        }
    }

    /// The answer to a cart operation the cart refused.
    public init(_ error: CartOperationError) {
        switch error {
        case .invalidSKU: self.init(.badRequest, "invalid_sku", error.description)
        case .invalidQuantity: self.init(.badRequest, "invalid_quantity", error.description)
        case .invalidDetails: self.init(.badRequest, "invalid_details", error.description)
        case .invalidOperationID: self.init(.badRequest, "invalid_idempotency_key", error.description)
        case .itemNotFound: self.init(.notFound, "item_not_found", error.description)
        case .cartFull: self.init(.contentTooLarge, "cart_full", error.description)
        case .cartTooLarge: self.init(.contentTooLarge, "cart_too_large", error.description)
        case .staleContext: self.init(.conflict, "stale_context", error.description)
        case .observedContextNotCovered: self.init(.conflict, "context_not_covered", error.description)
        case .tooManyRecentOperations: self.init(.tooManyRequests, "too_many_recent_operations", error.description)
        case .missingOwnWrites, .tooManyReplicas, .counterExhausted:
            self.init(.internalServerError, "internal", error.description)
        }
    }

    /// The answer to a reply that is not a success.
    public static func from(_ reply: ClientReply, keyName: String = "key") -> APIError? {
        switch reply {
        case .found, .notFound, .written, .checkedOut, .order: return nil
        case let .rejected(rejection): return APIError(rejection, keyName: keyName)
        case let .unavailable(error):
            return APIError(.serviceUnavailable, "unavailable",
                            "\(error); a mutation's outcome is unknown: retry it with the same Idempotency-Key")
        case let .storageFailed(detail): return APIError(.internalServerError, "storage_failed", detail)
        }
    }
}
