/// The statistics of one event loop's connections of `cartstore-bench http`. Every connection
/// of the loop records into it, and only on the loop's thread, so it needs no lock; one
/// histogram set per loop rather than per connection keeps the memory (about 140 KB per
/// histogram) and the cache footprint independent of `--connections`.
final class HTTPLoadRecorder {
    var stats = HTTPLoadStats()
}
