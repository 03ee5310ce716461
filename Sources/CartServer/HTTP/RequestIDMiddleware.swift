import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Synchronization

/// Gives every request an id (the client's `X-Request-Id` if it is 1…128 visible ASCII bytes,
/// else `<node>-<process>-<n>`), puts it in the request's logger metadata and in every response,
/// and turns every error into the API's JSON error body: `APIError` as it is, Hummingbird's own
/// errors (unknown route, body too large, …) with the API's kinds, anything else as a 500 that is
/// logged. Errors thrown past a middleware lose its headers, so this one renders them itself.
public struct RequestIDMiddleware: RouterMiddleware {
    public typealias Context = APIRequestContext

    /// The sequence of ids this node makes.
    private final class Sequence: Sendable {
        let last = Atomic<UInt64>(0)
    }

    private let prefix: String
    private let sequence = Sequence()

    public init(node: UInt64) {
        prefix = "\(node)-\(String(UInt32.random(in: 0...UInt32.max), radix: 36))"
    }

    public func handle(_ request: Request, context: Context,
                       next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        let id: String
        if let given = request.headers[.requestID], (1...128).contains(given.utf8.count),
           given.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) {
            id = given
        } else {
            id = "\(prefix)-\(sequence.last.wrappingAdd(1, ordering: .relaxed).newValue)"
        }
        context.requestID = id
        context.logger[metadataKey: "request_id"] = .string(id)
        var response: Response
        do {
            response = try await next(request, context)
        } catch let error as APIError {
            response = Self.render(error)
        } catch let error as any HTTPResponseError {
            let apiError: APIError
            switch error.status {
            case .notFound:
                apiError = APIError(.notFound, "not_found", "no route \(request.method) \(request.uri.path)")
            case .contentTooLarge:
                apiError = APIError(.contentTooLarge, "body_too_large", "the body is larger than \(context.maxUploadSize) bytes")
            case .methodNotAllowed:
                apiError = APIError(.methodNotAllowed, "method_not_allowed", "\(request.method) is not allowed on \(request.uri.path)")
            default:
                apiError = APIError(error.status, error.status.code < 500 ? "bad_request" : "internal", "\(error)")
            }
            response = Self.render(apiError)
        } catch {
            context.logger.error("request failed", metadata: ["error": "\(error)", "path": "\(request.uri.path)"])
            response = Self.render(APIError(.internalServerError, "internal", "\(error)"))
        }
        if response.status.code >= 500 {
            context.logger.warning("request answered with an error",
                                   metadata: ["status": "\(response.status.code)", "method": "\(request.method)", "path": "\(request.uri.path)"])
        }
        response.headers[.requestID] = id
        return response
    }

    /// The JSON body of an error.
    static func render(_ error: APIError) -> Response {
        let body = (try? JSONSerialization.data(withJSONObject: ["error": error.kind, "detail": error.detail], options: [.sortedKeys, .withoutEscapingSlashes]))
            ?? Data("{\"error\":\"internal\"}".utf8)
        return Response(status: error.status, headers: [.contentType: "application/json"],
                        body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
    }
}
