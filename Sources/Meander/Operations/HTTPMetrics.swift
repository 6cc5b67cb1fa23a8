import Prometheus
import Vapor

/// Request counts and latencies by route and status, kept in the app's own Prometheus registry.
///
/// The registry is per application (not the process-global `MetricsSystem`), so that tests can run many apps
/// side by side.
public final class HTTPMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    private static let buckets: [Duration] = [
        .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
        .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10),
    ]
    private var requestsDescriptor: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "meander", metricName: "http_requests", unitName: "total",
            helpText: "HTTP requests handled, by method, route template and status.")
    }
    private var durationDescriptor: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "meander", metricName: "http_request_duration", unitName: "seconds",
            helpText: "HTTP request latency, by method, route template and status.")
    }

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
    }

    func record(method: String, route: String, status: UInt, duration: Duration) {
        let labels = [("method", method), ("route", route), ("status", String(status))]
        registry.makeCounter(descriptor: requestsDescriptor, labels: labels).increment()
        registry.makeDurationHistogram(descriptor: durationDescriptor, labels: labels, buckets: Self.buckets)
            .record(duration)
    }

    /// The Prometheus text exposition of every metric.
    public func exposition() -> String {
        registry.emitToString()
    }
}

/// Records every request into `HTTPMetrics`, labelled with the matched route's template (never the raw path,
/// which would carry ids and explode the label space).
struct MetricsMiddleware: AsyncMiddleware {
    let metrics: HTTPMetrics

    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        let clock = ContinuousClock()
        let start = clock.now
        // ProblemMiddleware sits inside this one, so errors arrive here as responses.
        let response = try await next.respond(to: request)
        metrics.record(
            method: request.method.rawValue,
            route: Self.routeLabel(for: request),
            status: response.status.code,
            duration: clock.now - start)
        return response
    }

    static func routeLabel(for request: Request) -> String {
        guard let route = request.route else { return "unmatched" }
        return "/"
            + route.path.map { component in
                switch component {
                case .constant(let value): value
                case .parameter(let name): "{\(name)}"
                case .anything: "*"
                case .catchall: "**"
                }
            }.joined(separator: "/")
    }
}
