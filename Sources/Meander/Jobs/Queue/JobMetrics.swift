import FluentKit
import Foundation
import NIOConcurrencyHelpers
import Prometheus
import SQLKit

/// The queue's Prometheus metrics, in the app's registry: runs by kind and outcome, run time, and (read from the
/// database when scraped) the depth and oldest due job's age per kind.
final class JobMetrics: Sendable {
    /// How a run ended.
    enum Outcome: String, Sendable {
        case succeeded, retried, failed, discarded
        /// The worker no longer held the job (cancelled, or its lease taken).
        case lost
    }

    private let registry: PrometheusCollectorRegistry
    private let seenKinds = NIOLockedValueBox<Set<String>>([])
    private static let buckets: [Duration] = [
        .milliseconds(10), .milliseconds(50), .milliseconds(250), .seconds(1), .seconds(5), .seconds(30), .seconds(120),
        .seconds(600),
    ]

    init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
    }

    func finished(kind: String, outcome: Outcome, duration: Duration) {
        registry.makeCounter(
            name: "meander_jobs_runs_total", labels: [("kind", kind), ("outcome", outcome.rawValue)],
            help: "Job runs, by kind and how they ended (retried: failed and queued again)."
        ).increment()
        registry.makeDurationHistogram(
            name: "meander_job_run_duration_seconds", labels: [("kind", kind)], buckets: Self.buckets,
            help: "How long job runs took, by kind."
        ).record(duration)
    }

    /// Sets the depth and age gauges from the queue as it stands (called when metrics are scraped).
    func refresh(now: Date, on db: any Database) async throws {
        let rows = try await db.sqlDatabase().raw(
            "SELECT kind, COUNT(*) AS depth, MIN(run_at) AS oldest FROM jobs WHERE status = 'queued' AND run_at <= \(bind: now) GROUP BY kind"
        ).all(decoding: DepthRow.self)
        let running = try await db.sqlDatabase().raw(
            "SELECT kind, COUNT(*) AS depth, MIN(locked_at) AS oldest FROM jobs WHERE status = 'running' GROUP BY kind"
        ).all(decoding: DepthRow.self)
        let kinds = seenKinds.withLockedValue { seen in
            seen.formUnion(rows.map(\.kind))
            seen.formUnion(running.map(\.kind))
            return seen
        }
        for kind in kinds {
            let due = rows.first { $0.kind == kind }
            registry.makeGauge(
                name: "meander_jobs_queued", labels: [("kind", kind)], help: "Jobs due and waiting for a worker, by kind."
            ).set(Double(due?.depth ?? 0))
            registry.makeGauge(
                name: "meander_jobs_oldest_queued_age_seconds", labels: [("kind", kind)],
                help: "How long the oldest due job of the kind has waited."
            ).set(due?.oldest.map { max(0, now.timeIntervalSince($0)) } ?? 0)
            registry.makeGauge(
                name: "meander_jobs_running", labels: [("kind", kind)], help: "Jobs held by a worker, by kind."
            ).set(Double(running.first { $0.kind == kind }?.depth ?? 0))
        }
    }

    private struct DepthRow: Decodable {
        var kind: String
        var depth: Int
        var oldest: Date?
    }
}
