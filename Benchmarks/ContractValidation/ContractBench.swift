// ContractBench: what the contract costs, at start-up and per request, each against a baseline of the same bytes
// timed in the same run (scripts/bench-contract builds it in release mode and runs it).
//
//   ContractBench [--samples N] [--sample-ms MS]
//
// Each case alternates samples of the check and of its baseline (--samples of each, default 15, each about
// --sample-ms long, default 60), takes the median rate of each, and prints the check's time as a multiple of the
// baseline's: the ratio stays comparable between runs and machines where the raw rates do not.
//
// - start-up: `ContractBenchmark.load` (the contract's parse, as `configure` does it) against `Yams.load` of the same
//   text (the YAML parse alone);
// - requests: `ContractBenchmark.Request.check` (the middleware's parameter and body checks; for the batch also each
//   item against `createActivity`'s body, as its handler does) against `JSONSerialization.jsonObject` of the same
//   body, or `URLComponents` splitting the same query string.
import Foundation
import Meander
import Yams

struct Options {
    var samples = 15
    var sampleMilliseconds = 60

    init(_ arguments: [String]) {
        var rest = arguments.dropFirst()
        while let flag = rest.popFirst() {
            guard let value = rest.popFirst().flatMap(Int.init), value > 0 else { usage() }
            switch flag {
            case "--samples": samples = value
            case "--sample-ms": sampleMilliseconds = value
            default: usage()
            }
        }
    }

    func usage() -> Never {
        FileHandle.standardError.write(Data("usage: ContractBench [--samples N] [--sample-ms MS]\n".utf8))
        exit(64)
    }
}

/// One thing to time: `work` returns a number that depends on what it did, so that the optimiser keeps it.
struct Work {
    var name: String
    var run: () throws -> Int
}

struct Case {
    var name: String
    var check: Work
    var baseline: Work
}

/// Runs `work` `count` times; the seconds it took.
func time(_ work: Work, _ count: Int) throws -> Double {
    var sink = 0
    let start = ContinuousClock.now
    for _ in 0..<count { sink &+= try work.run() }
    let elapsed = ContinuousClock.now - start
    if sink == Int.min { print("") }  // keeps the results alive
    return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
}

/// How many runs of `work` fill about `seconds`.
func calibrate(_ work: Work, seconds: Double) throws -> Int {
    var count = 1
    while true {
        let elapsed = try time(work, count)
        if elapsed >= seconds / 4 { return max(1, Int(Double(count) * seconds / elapsed)) }
        count *= 4
    }
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
}

/// Median ops/s of the check and of the baseline, from alternating samples.
func measure(_ benchCase: Case, options: Options) throws -> (check: Double, baseline: Double) {
    let seconds = Double(options.sampleMilliseconds) / 1000
    let checkCount = try calibrate(benchCase.check, seconds: seconds)
    let baselineCount = try calibrate(benchCase.baseline, seconds: seconds)
    var checkRates: [Double] = []
    var baselineRates: [Double] = []
    for _ in 0..<options.samples {
        checkRates.append(Double(checkCount) / (try time(benchCase.check, checkCount)))
        baselineRates.append(Double(baselineCount) / (try time(benchCase.baseline, baselineCount)))
    }
    return (median(checkRates), median(baselineRates))
}

@main
enum ContractBench {
    static let uuids: [String] = (1...400).map { index in String(format: "5f0c%04x-0b6e-4c2a-9d3e-8a1b2c3d%04x", index, index) }
    static let yesterday: String = Date().addingTimeInterval(-86_400).formatted(.iso8601)

    static func activity(_ index: Int) -> [String: Any] {
        [
            "client_id": uuids[index], "organization_id": uuids[200], "activity_type_id": uuids[201],
            "mentor_id": uuids[202], "contact_id": uuids[203 + index % 50], "occurred_at": yesterday,
            "duration_minutes": 90, "participant_count": 3, "place": "Deichman Grünerløkka", "channel": "in_person",
            "country_code": "NO", "municipality_code": "0301",
            // One line: the batch's middleware check holds its free-form items to the single-line text rule.
            "summary": "Met at the library, talked about school and the football team.", "status": "registered",
        ]
    }

    static func contact() -> [String: Any] {
        [
            "organization_id": uuids[200], "first_name": "Kari", "last_name": "Nordmann", "birth_year": 2009,
            "phone": "+47 912 34 567", "address": "Thorvald Meyers gate 1", "postal_code": "0555", "postal_place": "Oslo",
            "municipality_code": "0301", "needs": "Homework help on Tuesdays.\nLikes chess.",
            "consent": ["scope": "contact-data", "given_at": yesterday], "status": "active",
            "mentor_ids": [uuids[202], uuids[204]],
        ]
    }

    static let listQuery =
        "limit=50&organization_id=\(uuids[200])&from=2025-01-01T00:00:00Z&to=2025-12-31T23:59:59Z&status=registered"
        + "&counts_for_bufdir=true&mentor_id=\(uuids[202])"

    static func json(_ object: Any) throws -> Data { try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) }

    static func parsingJSON(_ data: Data) -> Work {
        Work(name: "JSONSerialization.jsonObject") { ((try JSONSerialization.jsonObject(with: data)) as? [String: Any])?.count ?? 0 }
    }

    static func checking(_ request: ContractBenchmark.Request) -> Work {
        Work(name: "check") {
            let errors = request.check()
            guard errors == 0 else { throw BenchError.invalid(errors) }
            return 1
        }
    }

    enum BenchError: Error { case invalid(Int) }

    static func main() throws {
        let options = Options(CommandLine.arguments)
        let document = try ContractBenchmark.bundledDocument()
        let activityBody = try json(activity(0))
        let batchBody = try json(["items": (0..<100).map(activity)])
        let contactBody = try json(contact())

        let cases: [Case] = [
            Case(
                name: "start-up: parse the contract",
                check: Work(name: "load") { try ContractBenchmark.load(document) },
                baseline: Work(name: "Yams.load") { ((try Yams.load(yaml: document)) as? [String: Any])?.count ?? 0 }),
            Case(
                name: "POST /activities (\(activityBody.count) B)",
                check: checking(try .init(operationID: "createActivity", body: activityBody)),
                baseline: parsingJSON(activityBody)),
            Case(
                name: "POST /activities/batch, 100 items (\(batchBody.count) B)",
                check: checking(try .init(operationID: "createActivitiesBatch", body: batchBody, itemsAs: "createActivity")),
                baseline: parsingJSON(batchBody)),
            Case(
                name: "POST /contacts (\(contactBody.count) B)",
                check: checking(try .init(operationID: "createContact", body: contactBody)),
                baseline: parsingJSON(contactBody)),
            Case(
                name: "GET /activities?… (7 query parameters)",
                check: checking(try .init(operationID: "listActivities", query: listQuery)),
                baseline: Work(name: "URLComponents.queryItems") { URLComponents(string: "?" + listQuery)?.queryItems?.count ?? 0 }),
        ]

        print("samples \(options.samples) x ~\(options.sampleMilliseconds) ms each, medians; ratio = check time / baseline time")
        print(
            "case".padding(toLength: 46, withPad: " ", startingAt: 0) + "check ops/s".leftPadded(14) + "baseline ops/s".leftPadded(16)
                + "ratio".leftPadded(9) + "  baseline")
        for benchCase in cases {
            let (check, baseline) = try measure(benchCase, options: options)
            print(
                benchCase.name.padding(toLength: 46, withPad: " ", startingAt: 0) + String(format: "%14.0f", check)
                    + String(format: "%16.0f", baseline) + String(format: "%9.2f", baseline / check) + "  " + benchCase.baseline.name)
        }
    }
}

extension String {
    func leftPadded(_ width: Int) -> String { String(repeating: " ", count: max(0, width - count)) + self }
}
