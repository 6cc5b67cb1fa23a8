import Foundation

/// What may happen to an activity, and the status it has afterwards: a plain value with no I/O. The services gather
/// the facts (the activity's status, the caller's roles in its lineage, whether a finalised Bufdir report has closed
/// its day) and ask; `ActivityTransitionsTests` holds the rules to a table.
///
/// ```
///   draft ◀──edit──▶ registered ──approve──▶ approved        approved: read-only, evidence may still be added
///                      │    ▲
///                   reject  └──edit (a corrected rejection goes back for review)
///                      ▼    │
///                    rejected
/// ```
///
/// In a closed Bufdir period nothing changes at all. A mentor whose membership is paused reads their history but
/// changes none of it; coordinators and admins are not held back by their own pause.
enum ActivityTransitions {
    /// A change someone asks for.
    enum Change: Sendable, Equatable, CaseIterable {
        /// Change its fields (PATCH).
        case edit
        /// Delete it (soft).
        case delete
        case approve
        case reject
        /// Upload evidence to it.
        case addEvidence
        /// Delete one of its evidence files.
        case removeEvidence
    }

    /// What the decision depends on.
    struct Facts: Sendable, Equatable {
        var status: Activity.Status
        /// A coordinator or admin in the activity's lineage.
        var byStaff: Bool
        /// The caller's membership in the lineage is paused.
        var callerPaused: Bool
        /// A finalised or submitted Bufdir report covers the activity's day.
        var periodClosed: Bool
    }

    /// The status a new activity gets: a draft when the mentor asks for one, otherwise registered.
    static func initialStatus(draft: Bool) -> Activity.Status { draft ? .draft : .registered }

    /// Whether `change` may happen, and the status afterwards (an edit's is decided by `status(afterEdit:)`).
    static func decide(_ change: Change, _ facts: Facts) -> Result<Activity.Status, AppError> {
        switch change {
        case .edit, .delete:
            if !facts.byStaff, facts.callerPaused { return .failure(pausedChange) }
            if facts.status == .approved { return .failure(approvedIsFinal) }
            if facts.periodClosed { return .failure(.closedPeriod()) }
            return .success(facts.status)
        case .approve, .reject:
            guard facts.byStaff else {
                return .failure(AppError(.forbidden, "Only coordinators and admins review activities."))
            }
            guard facts.status == .registered else {
                return .failure(
                    AppError(
                        .conflict,
                        "Only a registered activity can be reviewed (this one is \(facts.status.rawValue))."))
            }
            if facts.periodClosed { return .failure(.closedPeriod()) }
            return .success(change == .approve ? .approved : .rejected)
        case .addEvidence:
            if !facts.byStaff, facts.callerPaused { return .failure(pausedChange) }
            if facts.periodClosed { return .failure(.closedPeriod()) }
            return .success(facts.status)
        case .removeEvidence:
            if facts.periodClosed { return .failure(.closedPeriod()) }
            return .success(facts.status)
        }
    }

    /// `decide`, throwing the refusal.
    @discardableResult
    static func check(_ change: Change, _ facts: Facts) throws -> Activity.Status {
        try decide(change, facts).get()
    }

    /// The status after an allowed edit: the one asked for (draft or registered), or, for a rejected activity whose
    /// fields were corrected, registered again so that it goes back for review. `nil` when it stays as it is.
    static func status(
        afterEdit current: Activity.Status, requested: Activity.Status?, fieldsChanged: Bool
    ) -> Activity.Status? {
        if let requested { return requested }
        if current == .rejected, fieldsChanged { return .registered }
        return nil
    }

    static let pausedChange = AppError(
        .forbidden, "Your membership here is paused: you can read your history but not change it.")

    static let approvedIsFinal = AppError(.conflict, "The activity is approved and can no longer be changed.")
}
