import Foundation

/// What Meander says in each scenario, in Bokmål, Nynorsk and English, and how it says it by default.
///
/// The texts are data, a file per area (`NotificationCatalogue+Account.swift`, `+Activities`, `+Expenses`, `+Events`,
/// `+Recognition`), each scenario's three languages side by side for review.
enum NotificationCatalogue {
    /// One scenario: its default channels, whether it may be urgent or mandatory, its placeholders and its texts.
    struct Entry: Sendable {
        /// The channels used when the user's preferences say nothing else.
        var channels: Set<Notification.Channel>
        /// Whether a message of this scenario may skip the user's quiet hours (`Notification.isUrgent`).
        var mayBeUrgent = false
        /// Whether the e-mail is sent whatever the preferences say (account safety and access).
        var isMandatory = false
        /// The placeholders every caller must fill (`render` throws without them).
        var placeholders: [String]
        var nb: NotificationTemplate
        var nn: NotificationTemplate
        var en: NotificationTemplate

        func template(_ language: NotificationLanguage) -> NotificationTemplate {
            switch language {
            case .nb: nb
            case .nn: nn
            case .en: en
            }
        }
    }
}

extension NotificationLayout {
    static func of(_ language: NotificationLanguage) -> NotificationLayout {
        switch language {
        case .nb:
            NotificationLayout(
                greeting: "Hei {first_name},", signOff: "Vennlig hilsen\nMeander",
                optionalFooter:
                    "Du får denne e-posten fordi du bruker Meander. Du kan velge hvilke varsler du får, under Innstillinger i appen."
            )
        case .nn:
            NotificationLayout(
                greeting: "Hei {first_name},", signOff: "Venleg helsing\nMeander",
                optionalFooter:
                    "Du får denne e-posten fordi du brukar Meander. Du kan velje kva varsel du får, under Innstillingar i appen."
            )
        case .en:
            NotificationLayout(
                greeting: "Hi {first_name},", signOff: "Best regards,\nMeander",
                optionalFooter:
                    "You are receiving this e-mail because you use Meander. You can choose which notifications you get under Settings in the app."
            )
        }
    }
}

extension Notification.Scenario {
    /// This scenario's entry in the catalogue.
    var catalogue: NotificationCatalogue.Entry {
        switch self {
        case .emailVerification: NotificationCatalogue.emailVerification
        case .passwordReset: NotificationCatalogue.passwordReset
        case .securityAlert: NotificationCatalogue.securityAlert
        case .invitation: NotificationCatalogue.invitation
        case .membershipPaused: NotificationCatalogue.membershipPaused
        case .contactAssigned: NotificationCatalogue.contactAssigned
        case .activityApproved: NotificationCatalogue.activityApproved
        case .activityRejected: NotificationCatalogue.activityRejected
        case .dispatchReceived: NotificationCatalogue.dispatchReceived
        case .dispatchExpiring: NotificationCatalogue.dispatchExpiring
        case .declarationExpiring: NotificationCatalogue.declarationExpiring
        case .expenseSubmitted: NotificationCatalogue.expenseSubmitted
        case .expenseApproved: NotificationCatalogue.expenseApproved
        case .expenseRejected: NotificationCatalogue.expenseRejected
        case .expensePaid: NotificationCatalogue.expensePaid
        case .eventReminder: NotificationCatalogue.eventReminder
        case .eventRegistered: NotificationCatalogue.eventRegistered
        case .eventWaitlistPromoted: NotificationCatalogue.eventWaitlistPromoted
        case .eventCancelled: NotificationCatalogue.eventCancelled
        case .eventSeatOffered: NotificationCatalogue.eventSeatOffered
        case .courseReminder: NotificationCatalogue.courseReminder
        case .courseWaitlistPromoted: NotificationCatalogue.courseWaitlistPromoted
        case .certificateIssued: NotificationCatalogue.certificateIssued
        case .certificateExpiring: NotificationCatalogue.certificateExpiring
        case .badgeAwarded: NotificationCatalogue.badgeAwarded
        case .reportReady: NotificationCatalogue.reportReady
        case .bufdirExportReady: NotificationCatalogue.bufdirExportReady
        }
    }

    /// The channels used when the user's preferences say nothing else.
    var defaultChannels: Set<Notification.Channel> { catalogue.channels }

    /// Whether a message of this scenario may skip quiet hours (the caller still decides per message).
    var mayBeUrgent: Bool { catalogue.mayBeUrgent }

    /// Whether preferences cannot switch this scenario's e-mail off.
    var isMandatory: Bool { catalogue.isMandatory }

    /// The placeholders `render` needs values for.
    var requiredPlaceholders: [String] { catalogue.placeholders }
}
