import FluentKit

/// Every migration of Meander, in the one order they run (a table comes after the tables it references).
///
/// Append new migrations at the end; never reorder or rename one (Fluent records them by type name).
enum MigrationList {
    static var all: [any Migration] {
        [
            // tenants and identity
            CreateOrganization(),
            CreateUser(),
            CreateOrganizationMembership(),
            CreateUserRole(),
            CreateSession(),
            CreateRefreshToken(),
            CreateIdempotencyKey(),
            CreateAuditLogEntry(),
            // contacts and the activity taxonomy
            CreateContact(),
            CreateContactMentorAssignment(),
            CreateActivityType(),
            SeedGlobalActivityTypes(),
            // events before activities (an activity may stem from an event)
            CreateEvent(),
            CreateEventRegistration(),
            CreateActivity(),
            CreateActivityAttachment(),
            CreateEncryptedDispatch(),
            // expenses
            CreateMileageRate(),
            SeedMileageRates(),
            CreateExpenseClaim(),
            CreateExpenseItem(),
            CreateReceipt(),
            CreateConfidentialityDeclaration(),
            // courses
            CreateCourse(),
            CreateCourseEnrollment(),
            CreateCertificate(),
            // recognition
            CreateBadge(),
            CreateUserBadge(),
            CreateReferral(),
            // notifications
            CreateNotification(),
            CreateNotificationPreference(),
            // reporting
            CreateBufdirCountingRule(),
            CreateBufdirReport(),
            CreateBufdirExportAudit(),
            // background work
            CreateJob(),
            // identity links (invitations, password resets)
            CreateActionToken(),
            // audit chain: checkpoint of the head, then the append-only triggers
            CreateAuditChainHead(),
            UpdateAuditLogEntryAppendOnly(),
            CreateLoginThrottle(),
            // encryption at rest: the organisations' wrapped data keys
            CreateOrganizationDataKey(),
            // Bufdir's counting rules per reporting year (data, not code)
            SeedBufdirCountingRules(),
            // Bufdir exports: report provenance, and the append-only export audit
            UpdateBufdirReportingForExports(),
            // the audit checkpoint keeps the hash it moved on from (one-statement appends on PostgreSQL)
            UpdateAuditChainHeadPreviousHash(),
            // the activity list's order as an index, and what the planner must know about mentors' organisations
            UpdateActivityListIndexes(),
            // the durable job queue: queues, unique keys, leases and the discarded status
            UpdateJobsForDurableQueue(),
            // notification delivery: suppression reasons, deduplication, weekday quiet hours, push devices
            UpdateNotificationsForDelivery(),
        ]
    }
}
