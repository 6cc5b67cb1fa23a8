import Testing

@testable import Meander

/// `ActivityTransitions`, the activity status rules, as a table: no database, no HTTP.
@Suite("Activity transitions")
struct ActivityTransitionsTests {
    /// What a row expects: the status afterwards, or a refusal with its code.
    enum Outcome: Equatable, CustomStringConvertible {
        case allowed(Activity.Status)
        case refused(AppError.Code)

        var description: String {
            switch self {
            case .allowed(let status): "allowed → \(status.rawValue)"
            case .refused(let code): "refused \(code.rawValue)"
            }
        }
    }

    struct Row: CustomTestStringConvertible, Sendable {
        var change: ActivityTransitions.Change
        var status: Activity.Status
        var staff = false
        var paused = false
        var closed = false
        var expected: Outcome

        var testDescription: String {
            "\(change) on \(status.rawValue)\(staff ? " by staff" : " by mentor")\(paused ? ", paused" : "")"
                + "\(closed ? ", closed period" : "") → \(expected)"
        }
    }

    static let table: [Row] = [
        // Edits and deletes: a mentor's own unapproved work, while the period is open.
        Row(change: .edit, status: .draft, expected: .allowed(.draft)),
        Row(change: .edit, status: .registered, expected: .allowed(.registered)),
        Row(change: .edit, status: .rejected, expected: .allowed(.rejected)),
        Row(change: .edit, status: .approved, expected: .refused(.conflict)),
        Row(change: .edit, status: .approved, staff: true, expected: .refused(.conflict)),
        Row(change: .edit, status: .registered, paused: true, expected: .refused(.forbidden)),
        Row(change: .edit, status: .registered, staff: true, paused: true, expected: .allowed(.registered)),
        Row(change: .edit, status: .registered, closed: true, expected: .refused(.conflict)),
        // A paused mentor is told about the pause before anything else.
        Row(change: .edit, status: .approved, paused: true, closed: true, expected: .refused(.forbidden)),
        Row(change: .delete, status: .draft, expected: .allowed(.draft)),
        Row(change: .delete, status: .rejected, expected: .allowed(.rejected)),
        Row(change: .delete, status: .approved, staff: true, expected: .refused(.conflict)),
        Row(change: .delete, status: .registered, paused: true, expected: .refused(.forbidden)),
        Row(change: .delete, status: .draft, staff: true, closed: true, expected: .refused(.conflict)),
        // Review: staff only, registered only, open period only.
        Row(change: .approve, status: .registered, staff: true, expected: .allowed(.approved)),
        Row(change: .reject, status: .registered, staff: true, expected: .allowed(.rejected)),
        Row(change: .approve, status: .registered, expected: .refused(.forbidden)),
        Row(change: .reject, status: .registered, paused: true, expected: .refused(.forbidden)),
        Row(change: .approve, status: .draft, staff: true, expected: .refused(.conflict)),
        Row(change: .approve, status: .approved, staff: true, expected: .refused(.conflict)),
        Row(change: .reject, status: .rejected, staff: true, expected: .refused(.conflict)),
        Row(change: .approve, status: .registered, staff: true, closed: true, expected: .refused(.conflict)),
        Row(change: .approve, status: .registered, staff: true, paused: true, expected: .allowed(.approved)),
        // Evidence: may be added to approved work, never in a closed period, not by a paused mentor.
        Row(change: .addEvidence, status: .approved, expected: .allowed(.approved)),
        Row(change: .addEvidence, status: .registered, paused: true, expected: .refused(.forbidden)),
        Row(change: .addEvidence, status: .registered, staff: true, closed: true, expected: .refused(.conflict)),
        Row(change: .removeEvidence, status: .approved, expected: .allowed(.approved)),
        Row(change: .removeEvidence, status: .registered, closed: true, expected: .refused(.conflict)),
    ]

    @Test("each change in each situation", arguments: table)
    func decides(_ row: Row) {
        // given
        let facts = ActivityTransitions.Facts(
            status: row.status, byStaff: row.staff, callerPaused: row.paused, periodClosed: row.closed)
        // when
        let outcome: Outcome =
            switch ActivityTransitions.decide(row.change, facts) {
            case .success(let status): .allowed(status)
            case .failure(let error): .refused(error.code)
            }
        // then
        #expect(outcome == row.expected)
    }

    @Test(
        "in a closed period every change of every status is refused, with the closed-period answer where only the period stood in the way")
    func closedPeriodRefusesEverything() {
        for change in ActivityTransitions.Change.allCases {
            for status in Activity.Status.allCases {
                // given: staff, so that only the period can refuse what the status allows
                let open = ActivityTransitions.Facts(status: status, byStaff: true, callerPaused: false, periodClosed: false)
                var closed = open
                closed.periodClosed = true
                // when
                let inOpen = ActivityTransitions.decide(change, open)
                let inClosed = ActivityTransitions.decide(change, closed)
                // then
                #expect((try? inClosed.get()) == nil, "\(change) on \(status) in a closed period")
                if case .failure(let error) = inClosed, case .success = inOpen {
                    #expect(error == AppError.closedPeriod())
                }
            }
        }
    }

    @Test("an edit's status: the one asked for, a corrected rejection back to registered, otherwise unchanged")
    func statusAfterEdit() {
        let table: [(Activity.Status, Activity.Status?, Bool, Activity.Status?)] = [
            (.draft, .registered, false, .registered),
            (.registered, .draft, true, .draft),
            (.rejected, nil, true, .registered),
            (.rejected, nil, false, nil),
            (.registered, nil, true, nil),
            (.draft, nil, true, nil),
            (.rejected, .draft, true, .draft),
        ]
        for (current, requested, fieldsChanged, expected) in table {
            #expect(
                ActivityTransitions.status(afterEdit: current, requested: requested, fieldsChanged: fieldsChanged)
                    == expected, "\(current) asked \(String(describing: requested)), changed \(fieldsChanged)")
        }
    }

    @Test("a new activity is a draft only when asked")
    func initialStatus() {
        #expect(ActivityTransitions.initialStatus(draft: true) == .draft)
        #expect(ActivityTransitions.initialStatus(draft: false) == .registered)
    }
}
