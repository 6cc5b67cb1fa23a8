import Foundation

// Events and courses. `{starts_at}` and `{expires_at}` are formatted for the user's language and time zone by the
// caller (nb "12. mars kl. 18.00", en "12 March at 18:00").
extension NotificationCatalogue {
    static let eventReminder = Entry(
        channels: [.push, .inApp],
        placeholders: ["first_name", "event_title", "starts_at", "link"],
        nb: NotificationTemplate(
            title: "Påminnelse: {event_title}",
            body: "{event_title} starter {starts_at}.",
            emailSubject: "Påminnelse: {event_title} {starts_at}",
            email: """
                Dette er en påminnelse om at {event_title} starter {starts_at}.

                Se detaljer eller meld deg av her:
                {link}
                """,
            sms: "Påminnelse: {event_title} starter {starts_at}. {link}"),
        nn: NotificationTemplate(
            title: "Påminning: {event_title}",
            body: "{event_title} byrjar {starts_at}.",
            emailSubject: "Påminning: {event_title} {starts_at}",
            email: """
                Dette er ei påminning om at {event_title} byrjar {starts_at}.

                Sjå detaljar eller meld deg av her:
                {link}
                """,
            sms: "Påminning: {event_title} byrjar {starts_at}. {link}"),
        en: NotificationTemplate(
            title: "Reminder: {event_title}",
            body: "{event_title} starts on {starts_at}.",
            emailSubject: "Reminder: {event_title} on {starts_at}",
            email: """
                This is a reminder that {event_title} starts on {starts_at}.

                See the details or cancel your registration here:
                {link}
                """,
            sms: "Reminder: {event_title} starts on {starts_at}. {link}"))

    static let eventRegistered = Entry(
        channels: [.email, .inApp],
        placeholders: ["first_name", "event_title", "starts_at", "link"],
        nb: NotificationTemplate(
            title: "Du er påmeldt",
            body: "Du er påmeldt {event_title} {starts_at}.",
            emailSubject: "Påmeldingsbekreftelse: {event_title}",
            email: """
                Du er påmeldt {event_title}, som starter {starts_at}.

                Se detaljer eller meld deg av her:
                {link}
                """,
            sms: "Du er påmeldt {event_title} {starts_at}. {link}"),
        nn: NotificationTemplate(
            title: "Du er påmeldt",
            body: "Du er påmeldt {event_title} {starts_at}.",
            emailSubject: "Stadfesting av påmelding: {event_title}",
            email: """
                Du er påmeldt {event_title}, som byrjar {starts_at}.

                Sjå detaljar eller meld deg av her:
                {link}
                """,
            sms: "Du er påmeldt {event_title} {starts_at}. {link}"),
        en: NotificationTemplate(
            title: "You are registered",
            body: "You are registered for {event_title} on {starts_at}.",
            emailSubject: "Registration confirmed: {event_title}",
            email: """
                You are registered for {event_title}, which starts on {starts_at}.

                See the details or cancel your registration here:
                {link}
                """,
            sms: "You are registered for {event_title} on {starts_at}. {link}"))

    /// Moved from the waiting list onto the event without being asked (a freed seat).
    static let eventWaitlistPromoted = Entry(
        channels: [.push, .email, .inApp],
        placeholders: ["first_name", "event_title", "starts_at", "link"],
        nb: NotificationTemplate(
            title: "Du har fått plass",
            body: "Du har fått plass på {event_title} {starts_at}.",
            emailSubject: "Du har fått plass på {event_title}",
            email: """
                En plass er blitt ledig, og du er flyttet fra ventelisten og påmeldt {event_title}, som starter {starts_at}.

                Kan du likevel ikke komme, meld deg av så plassen går til nestemann:
                {link}
                """,
            sms: "Du har fått plass på {event_title} {starts_at}. Kan du ikke komme, meld deg av: {link}"),
        nn: NotificationTemplate(
            title: "Du har fått plass",
            body: "Du har fått plass på {event_title} {starts_at}.",
            emailSubject: "Du har fått plass på {event_title}",
            email: """
                Ein plass har blitt ledig, og du er flytta frå ventelista og påmeldt {event_title}, som byrjar {starts_at}.

                Kan du likevel ikkje kome, meld deg av så plassen går til nestemann:
                {link}
                """,
            sms: "Du har fått plass på {event_title} {starts_at}. Kan du ikkje kome, meld deg av: {link}"),
        en: NotificationTemplate(
            title: "You have a place",
            body: "You have a place at {event_title} on {starts_at}.",
            emailSubject: "You have a place at {event_title}",
            email: """
                A place has become free, and you have been moved from the waiting list and registered for {event_title}, which starts on {starts_at}.

                If you cannot come after all, please cancel so the place goes to the next person:
                {link}
                """,
            sms: "You have a place at {event_title} on {starts_at}. If you cannot come, cancel here: {link}"))

    /// May be urgent: a cancellation shortly before the start must reach people before they set out.
    static let eventCancelled = Entry(
        channels: [.push, .email, .inApp], mayBeUrgent: true,
        placeholders: ["first_name", "event_title", "starts_at", "link"],
        nb: NotificationTemplate(
            title: "Avlyst: {event_title}",
            body: "{event_title} {starts_at} er avlyst.",
            emailSubject: "Avlyst: {event_title}",
            email: """
                {event_title}, som skulle vært {starts_at}, er dessverre avlyst.

                Se mer her:
                {link}
                """,
            sms: "{event_title} {starts_at} er dessverre avlyst. {link}"),
        nn: NotificationTemplate(
            title: "Avlyst: {event_title}",
            body: "{event_title} {starts_at} er avlyst.",
            emailSubject: "Avlyst: {event_title}",
            email: """
                {event_title}, som skulle ha vore {starts_at}, er dessverre avlyst.

                Sjå meir her:
                {link}
                """,
            sms: "{event_title} {starts_at} er dessverre avlyst. {link}"),
        en: NotificationTemplate(
            title: "Cancelled: {event_title}",
            body: "{event_title} on {starts_at} has been cancelled.",
            emailSubject: "Cancelled: {event_title}",
            email: """
                {event_title}, which was to take place on {starts_at}, has unfortunately been cancelled.

                See more here:
                {link}
                """,
            sms: "{event_title} on {starts_at} has unfortunately been cancelled. {link}"))

    /// A freed seat offered to the first on the waiting list, who must answer by `{expires_at}`.
    static let eventSeatOffered = Entry(
        channels: [.push, .email, .inApp],
        placeholders: ["first_name", "event_title", "starts_at", "expires_at", "link"],
        nb: NotificationTemplate(
            title: "Ledig plass til deg",
            body: "Du får tilbud om plass på {event_title}. Svar innen {expires_at}.",
            emailSubject: "Tilbud om plass på {event_title}",
            email: """
                En plass er blitt ledig på {event_title}, som starter {starts_at}, og du står først på ventelisten.

                Svar innen {expires_at} om du vil ha plassen. Ellers går den videre til nestemann:
                {link}
                """,
            sms: "Du får tilbud om plass på {event_title} {starts_at}. Svar innen {expires_at}: {link}"),
        nn: NotificationTemplate(
            title: "Ledig plass til deg",
            body: "Du får tilbod om plass på {event_title}. Svar innan {expires_at}.",
            emailSubject: "Tilbod om plass på {event_title}",
            email: """
                Ein plass har blitt ledig på {event_title}, som byrjar {starts_at}, og du står først på ventelista.

                Svar innan {expires_at} om du vil ha plassen. Elles går han vidare til nestemann:
                {link}
                """,
            sms: "Du får tilbod om plass på {event_title} {starts_at}. Svar innan {expires_at}: {link}"),
        en: NotificationTemplate(
            title: "A place for you",
            body: "You are offered a place at {event_title}. Reply by {expires_at}.",
            emailSubject: "A place at {event_title} is offered to you",
            email: """
                A place has become free at {event_title}, which starts on {starts_at}, and you are first on the waiting list.

                Reply by {expires_at} if you want the place. Otherwise it goes to the next person:
                {link}
                """,
            sms: "You are offered a place at {event_title} on {starts_at}. Reply by {expires_at}: {link}"))

    static let courseReminder = Entry(
        channels: [.push, .inApp],
        placeholders: ["first_name", "course_title", "starts_at", "link"],
        nb: NotificationTemplate(
            title: "Påminnelse: {course_title}",
            body: "Kurset {course_title} starter {starts_at}.",
            emailSubject: "Påminnelse: {course_title} {starts_at}",
            email: """
                Dette er en påminnelse om at kurset {course_title} starter {starts_at}.

                Se detaljer her:
                {link}
                """,
            sms: "Påminnelse: kurset {course_title} starter {starts_at}. {link}"),
        nn: NotificationTemplate(
            title: "Påminning: {course_title}",
            body: "Kurset {course_title} byrjar {starts_at}.",
            emailSubject: "Påminning: {course_title} {starts_at}",
            email: """
                Dette er ei påminning om at kurset {course_title} byrjar {starts_at}.

                Sjå detaljar her:
                {link}
                """,
            sms: "Påminning: kurset {course_title} byrjar {starts_at}. {link}"),
        en: NotificationTemplate(
            title: "Reminder: {course_title}",
            body: "The course {course_title} starts on {starts_at}.",
            emailSubject: "Reminder: {course_title} on {starts_at}",
            email: """
                This is a reminder that the course {course_title} starts on {starts_at}.

                See the details here:
                {link}
                """,
            sms: "Reminder: the course {course_title} starts on {starts_at}. {link}"))

    static let courseWaitlistPromoted = Entry(
        channels: [.push, .email, .inApp],
        placeholders: ["first_name", "course_title", "starts_at", "link"],
        nb: NotificationTemplate(
            title: "Du har fått kursplass",
            body: "Du har fått plass på kurset {course_title}.",
            emailSubject: "Du har fått plass på {course_title}",
            email: """
                En plass er blitt ledig, og du er flyttet fra ventelisten og tatt opp på kurset {course_title}, som starter {starts_at}.

                Kan du likevel ikke delta, meld deg av så plassen går til nestemann:
                {link}
                """,
            sms: "Du har fått plass på kurset {course_title} {starts_at}. Kan du ikke delta, meld deg av: {link}"),
        nn: NotificationTemplate(
            title: "Du har fått kursplass",
            body: "Du har fått plass på kurset {course_title}.",
            emailSubject: "Du har fått plass på {course_title}",
            email: """
                Ein plass har blitt ledig, og du er flytta frå ventelista og teken opp på kurset {course_title}, som byrjar {starts_at}.

                Kan du likevel ikkje delta, meld deg av så plassen går til nestemann:
                {link}
                """,
            sms: "Du har fått plass på kurset {course_title} {starts_at}. Kan du ikkje delta, meld deg av: {link}"),
        en: NotificationTemplate(
            title: "You have a course place",
            body: "You have a place on the course {course_title}.",
            emailSubject: "You have a place on {course_title}",
            email: """
                A place has become free, and you have been moved from the waiting list and enrolled on the course {course_title}, which starts on {starts_at}.

                If you cannot take part after all, please cancel so the place goes to the next person:
                {link}
                """,
            sms: "You have a place on the course {course_title} on {starts_at}. If you cannot take part, cancel here: {link}"))
}
