/// The HTTP methods the CartStore API uses.
enum HTTPVerb: String, Sendable {
    case get = "GET"
    case put = "PUT"
    case post = "POST"
    case patch = "PATCH"
    case delete = "DELETE"
}
