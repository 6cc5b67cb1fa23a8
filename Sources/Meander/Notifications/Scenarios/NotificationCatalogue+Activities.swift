import Foundation

// Contacts, activities and dispatches. None of these texts names a contact or says anything about one: who it is,
// where they live and what they need stays behind the login (a dispatch is readable by its recipient alone).
extension NotificationCatalogue {
    static let contactAssigned = Entry(
        channels: [.push, .inApp],
        placeholders: ["first_name", "link"],
        nb: NotificationTemplate(
            title: "Ny kontakt",
            body: "Du har fått en ny kontakt å følge opp. Se mer i appen.",
            emailSubject: "Du har fått en ny kontakt i Meander",
            email: """
                Koordinatoren din har gitt deg en ny kontakt å følge opp. Logg inn i Meander for å se hvem det gjelder:
                {link}
                """,
            sms: "Du har fått en ny kontakt å følge opp i Meander. Logg inn for å se mer: {link}"),
        nn: NotificationTemplate(
            title: "Ny kontakt",
            body: "Du har fått ein ny kontakt å følgje opp. Sjå meir i appen.",
            emailSubject: "Du har fått ein ny kontakt i Meander",
            email: """
                Koordinatoren din har gitt deg ein ny kontakt å følgje opp. Logg inn i Meander for å sjå kven det gjeld:
                {link}
                """,
            sms: "Du har fått ein ny kontakt å følgje opp i Meander. Logg inn for å sjå meir: {link}"),
        en: NotificationTemplate(
            title: "New contact",
            body: "You have a new contact to follow up. See more in the app.",
            emailSubject: "You have a new contact in Meander",
            email: """
                Your coordinator has given you a new contact to follow up. Sign in to Meander to see who it is:
                {link}
                """,
            sms: "You have a new contact to follow up in Meander. Sign in to see more: {link}"))

    static let activityApproved = Entry(
        channels: [.inApp],
        placeholders: ["first_name", "link"],
        nb: NotificationTemplate(
            title: "Aktivitet godkjent",
            body: "En aktivitet du registrerte, er godkjent.",
            emailSubject: "Aktiviteten din er godkjent",
            email: """
                En aktivitet du registrerte i Meander, er godkjent. Takk for innsatsen!

                Se aktiviteten her:
                {link}
                """,
            sms: "En aktivitet du registrerte i Meander, er godkjent. Takk for innsatsen! {link}"),
        nn: NotificationTemplate(
            title: "Aktivitet godkjend",
            body: "Ein aktivitet du registrerte, er godkjend.",
            emailSubject: "Aktiviteten din er godkjend",
            email: """
                Ein aktivitet du registrerte i Meander, er godkjend. Takk for innsatsen!

                Sjå aktiviteten her:
                {link}
                """,
            sms: "Ein aktivitet du registrerte i Meander, er godkjend. Takk for innsatsen! {link}"),
        en: NotificationTemplate(
            title: "Activity approved",
            body: "An activity you recorded has been approved.",
            emailSubject: "Your activity has been approved",
            email: """
                An activity you recorded in Meander has been approved. Thank you for your work!

                See the activity here:
                {link}
                """,
            sms: "An activity you recorded in Meander has been approved. Thank you! {link}"))

    /// The reason stays in the app: a coordinator may have written about the contact in it.
    static let activityRejected = Entry(
        channels: [.push, .inApp],
        placeholders: ["first_name", "link"],
        nb: NotificationTemplate(
            title: "Aktivitet avvist",
            body: "En aktivitet du registrerte, er avvist. Se begrunnelsen i appen.",
            emailSubject: "En aktivitet du registrerte, er avvist",
            email: """
                En aktivitet du registrerte i Meander, er avvist. Du finner begrunnelsen og kan rette opp aktiviteten her:
                {link}

                Ta kontakt med koordinatoren din om noe er uklart.
                """,
            sms: "En aktivitet du registrerte i Meander, er avvist. Se begrunnelsen i appen: {link}"),
        nn: NotificationTemplate(
            title: "Aktivitet avvist",
            body: "Ein aktivitet du registrerte, er avvist. Sjå grunngivinga i appen.",
            emailSubject: "Ein aktivitet du registrerte, er avvist",
            email: """
                Ein aktivitet du registrerte i Meander, er avvist. Du finn grunngivinga og kan rette opp aktiviteten her:
                {link}

                Ta kontakt med koordinatoren din om noko er uklart.
                """,
            sms: "Ein aktivitet du registrerte i Meander, er avvist. Sjå grunngivinga i appen: {link}"),
        en: NotificationTemplate(
            title: "Activity rejected",
            body: "An activity you recorded was rejected. See why in the app.",
            emailSubject: "An activity you recorded was rejected",
            email: """
                An activity you recorded in Meander was rejected. You can see why and correct it here:
                {link}

                Please contact your coordinator if anything is unclear.
                """,
            sms: "An activity you recorded in Meander was rejected. See why in the app: {link}"))

    /// Only that a dispatch arrived: its content is readable by the recipient alone, after signing in.
    static let dispatchReceived = Entry(
        channels: [.push, .sms, .inApp], mayBeUrgent: true,
        placeholders: ["first_name", "link"],
        nb: NotificationTemplate(
            title: "Nytt oppdrag",
            body: "Du har fått et nytt oppdrag. Åpne appen for å lese det.",
            emailSubject: "Du har fått et nytt oppdrag",
            email: """
                Du har fått et nytt oppdrag fra koordinatoren din. Av hensyn til personvernet kan du bare lese det når du er logget inn i Meander:
                {link}
                """,
            sms: "Du har fått et nytt oppdrag i Meander. Logg inn for å lese det: {link}"),
        nn: NotificationTemplate(
            title: "Nytt oppdrag",
            body: "Du har fått eit nytt oppdrag. Opne appen for å lese det.",
            emailSubject: "Du har fått eit nytt oppdrag",
            email: """
                Du har fått eit nytt oppdrag frå koordinatoren din. Av omsyn til personvernet kan du berre lese det når du er logga inn i Meander:
                {link}
                """,
            sms: "Du har fått eit nytt oppdrag i Meander. Logg inn for å lese det: {link}"),
        en: NotificationTemplate(
            title: "New assignment",
            body: "You have a new assignment. Open the app to read it.",
            emailSubject: "You have a new assignment",
            email: """
                You have a new assignment from your coordinator. To protect privacy, you can only read it when you are signed in to Meander:
                {link}
                """,
            sms: "You have a new assignment in Meander. Sign in to read it: {link}"))

    /// An unread dispatch whose ciphertext is about to be destroyed.
    static let dispatchExpiring = Entry(
        channels: [.push, .inApp],
        placeholders: ["first_name", "expires_at", "link"],
        nb: NotificationTemplate(
            title: "Oppdrag blir snart slettet",
            body: "Et oppdrag du ikke har lest, blir slettet {expires_at}.",
            emailSubject: "Et oppdrag til deg blir slettet {expires_at}",
            email: """
                Du har et oppdrag i Meander som du ikke har lest ennå. Det blir slettet {expires_at}, og etter det kan ingen lese det.

                Les oppdraget her:
                {link}
                """,
            sms: "Du har et ulest oppdrag i Meander som blir slettet {expires_at}. Les det her: {link}"),
        nn: NotificationTemplate(
            title: "Oppdrag blir snart sletta",
            body: "Eit oppdrag du ikkje har lese, blir sletta {expires_at}.",
            emailSubject: "Eit oppdrag til deg blir sletta {expires_at}",
            email: """
                Du har eit oppdrag i Meander som du ikkje har lese enno. Det blir sletta {expires_at}, og etter det kan ingen lese det.

                Les oppdraget her:
                {link}
                """,
            sms: "Du har eit ulese oppdrag i Meander som blir sletta {expires_at}. Les det her: {link}"),
        en: NotificationTemplate(
            title: "Assignment deleted soon",
            body: "An assignment you have not read will be deleted on {expires_at}.",
            emailSubject: "An assignment for you will be deleted on {expires_at}",
            email: """
                You have an assignment in Meander that you have not read yet. It will be deleted on {expires_at}, after which nobody can read it.

                Read it here:
                {link}
                """,
            sms: "You have an unread assignment in Meander that will be deleted on {expires_at}. Read it here: {link}"))
}
