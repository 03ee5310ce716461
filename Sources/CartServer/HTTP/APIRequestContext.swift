import Hummingbird
import Logging

/// The per-request context of the HTTP API: Hummingbird's core storage plus the request id,
/// which `RequestIDMiddleware` sets and every log line and response carries.
public struct APIRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The client's `X-Request-Id` when valid, else one this node made.
    public var requestID = ""

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
    }

    /// Bodies above this are refused with 413 before they are read whole (raw values may be up
    /// to 1 MiB; cart bodies are far smaller and checked again by their route).
    public var maxUploadSize: Int { 1 << 20 }
}
