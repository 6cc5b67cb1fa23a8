import Foundation

// Expense claims and the confidentiality declaration some of them need. `{amount}` is formatted for the user's
// language by the caller (e.g. "1 234,50 kr").
extension NotificationCatalogue {
    /// To the approver: a claim is waiting for them.
    static let expenseSubmitted = Entry(
        channels: [.email, .inApp],
        placeholders: ["first_name", "amount", "organization", "link"],
        nb: NotificationTemplate(
            title: "Nytt refusjonskrav",
            body: "Et refusjonskrav på {amount} venter på behandling.",
            emailSubject: "Et refusjonskrav venter på behandlingen din",
            email: """
                Et nytt refusjonskrav på {amount} i {organization} venter på at du behandler det:
                {link}
                """,
            sms: "Et refusjonskrav på {amount} i {organization} venter på behandling i Meander: {link}"),
        nn: NotificationTemplate(
            title: "Nytt refusjonskrav",
            body: "Eit refusjonskrav på {amount} ventar på handsaming.",
            emailSubject: "Eit refusjonskrav ventar på handsaminga di",
            email: """
                Eit nytt refusjonskrav på {amount} i {organization} ventar på at du handsamar det:
                {link}
                """,
            sms: "Eit refusjonskrav på {amount} i {organization} ventar på handsaming i Meander: {link}"),
        en: NotificationTemplate(
            title: "New expense claim",
            body: "An expense claim of {amount} is waiting for review.",
            emailSubject: "An expense claim is waiting for your review",
            email: """
                A new expense claim of {amount} in {organization} is waiting for your review:
                {link}
                """,
            sms: "An expense claim of {amount} in {organization} is waiting for review in Meander: {link}"))

    static let expenseApproved = Entry(
        channels: [.push, .inApp],
        placeholders: ["first_name", "amount", "link"],
        nb: NotificationTemplate(
            title: "Refusjonskrav godkjent",
            body: "Refusjonskravet ditt på {amount} er godkjent.",
            emailSubject: "Refusjonskravet ditt er godkjent",
            email: """
                Refusjonskravet ditt på {amount} er godkjent. Du får beskjed når pengene er utbetalt.

                Se kravet her:
                {link}
                """,
            sms: "Refusjonskravet ditt på {amount} er godkjent i Meander. {link}"),
        nn: NotificationTemplate(
            title: "Refusjonskrav godkjent",
            body: "Refusjonskravet ditt på {amount} er godkjent.",
            emailSubject: "Refusjonskravet ditt er godkjent",
            email: """
                Refusjonskravet ditt på {amount} er godkjent. Du får melding når pengane er betalte ut.

                Sjå kravet her:
                {link}
                """,
            sms: "Refusjonskravet ditt på {amount} er godkjent i Meander. {link}"),
        en: NotificationTemplate(
            title: "Expense claim approved",
            body: "Your expense claim of {amount} has been approved.",
            emailSubject: "Your expense claim has been approved",
            email: """
                Your expense claim of {amount} has been approved. We will let you know when it has been paid.

                See the claim here:
                {link}
                """,
            sms: "Your expense claim of {amount} has been approved in Meander. {link}"))

    /// The one scenario that carries a free-text reason: the approver writes it to the claimant about the claim.
    static let expenseRejected = Entry(
        channels: [.push, .email, .inApp],
        placeholders: ["first_name", "amount", "reason", "link"],
        nb: NotificationTemplate(
            title: "Refusjonskrav avvist",
            body: "Refusjonskravet ditt på {amount} er avvist. Begrunnelse: {reason}",
            emailSubject: "Refusjonskravet ditt er avvist",
            email: """
                Refusjonskravet ditt på {amount} er avvist med denne begrunnelsen:

                {reason}

                Du kan rette kravet og sende det inn på nytt:
                {link}
                """,
            sms: "Refusjonskravet ditt på {amount} er avvist. Begrunnelse: {reason} {link}"),
        nn: NotificationTemplate(
            title: "Refusjonskrav avvist",
            body: "Refusjonskravet ditt på {amount} er avvist. Grunngiving: {reason}",
            emailSubject: "Refusjonskravet ditt er avvist",
            email: """
                Refusjonskravet ditt på {amount} er avvist med denne grunngivinga:

                {reason}

                Du kan rette kravet og sende det inn på nytt:
                {link}
                """,
            sms: "Refusjonskravet ditt på {amount} er avvist. Grunngiving: {reason} {link}"),
        en: NotificationTemplate(
            title: "Expense claim rejected",
            body: "Your expense claim of {amount} was rejected. Reason: {reason}",
            emailSubject: "Your expense claim was rejected",
            email: """
                Your expense claim of {amount} was rejected for this reason:

                {reason}

                You can correct the claim and submit it again:
                {link}
                """,
            sms: "Your expense claim of {amount} was rejected. Reason: {reason} {link}"))

    static let expensePaid = Entry(
        channels: [.push, .inApp],
        placeholders: ["first_name", "amount", "link"],
        nb: NotificationTemplate(
            title: "Refusjon utbetalt",
            body: "Refusjonen din på {amount} er utbetalt.",
            emailSubject: "Refusjonen din er utbetalt",
            email: """
                Refusjonen din på {amount} er utbetalt. Det kan ta et par dager før pengene står på kontoen din.

                Se kravet her:
                {link}
                """,
            sms: "Refusjonen din på {amount} er utbetalt. {link}"),
        nn: NotificationTemplate(
            title: "Refusjon utbetalt",
            body: "Refusjonen din på {amount} er betalt ut.",
            emailSubject: "Refusjonen din er betalt ut",
            email: """
                Refusjonen din på {amount} er betalt ut. Det kan ta eit par dagar før pengane står på kontoen din.

                Sjå kravet her:
                {link}
                """,
            sms: "Refusjonen din på {amount} er betalt ut. {link}"),
        en: NotificationTemplate(
            title: "Expense claim paid",
            body: "Your expense claim of {amount} has been paid.",
            emailSubject: "Your expense claim has been paid",
            email: """
                Your expense claim of {amount} has been paid. It may take a couple of days before the money is in your account.

                See the claim here:
                {link}
                """,
            sms: "Your expense claim of {amount} has been paid. {link}"))

    /// The signed confidentiality declaration (nn: teieplikterklæring) runs out; some expenses need a valid one.
    static let declarationExpiring = Entry(
        channels: [.email, .inApp],
        placeholders: ["first_name", "expires_at", "link"],
        nb: NotificationTemplate(
            title: "Taushetserklæringen din går ut",
            body: "Taushetserklæringen din gjelder til {expires_at}. Forny den i appen.",
            emailSubject: "Taushetserklæringen din går ut {expires_at}",
            email: """
                Taushetserklæringen du har signert i Meander, gjelder til {expires_at}. Uten en gyldig taushetserklæring kan du ikke sende inn enkelte utlegg, for eksempel sjåførhonorar.

                Forny den her:
                {link}
                """,
            sms: "Taushetserklæringen din i Meander gjelder til {expires_at}. Forny den her: {link}"),
        nn: NotificationTemplate(
            title: "Teieplikterklæringa di går ut",
            body: "Teieplikterklæringa di gjeld til {expires_at}. Forny ho i appen.",
            emailSubject: "Teieplikterklæringa di går ut {expires_at}",
            email: """
                Teieplikterklæringa du har signert i Meander, gjeld til {expires_at}. Utan ei gyldig teieplikterklæring kan du ikkje sende inn somme utlegg, til dømes sjåførhonorar.

                Forny ho her:
                {link}
                """,
            sms: "Teieplikterklæringa di i Meander gjeld til {expires_at}. Forny ho her: {link}"),
        en: NotificationTemplate(
            title: "Your confidentiality declaration expires",
            body: "Your confidentiality declaration is valid until {expires_at}. Renew it in the app.",
            emailSubject: "Your confidentiality declaration expires on {expires_at}",
            email: """
                The confidentiality declaration you signed in Meander is valid until {expires_at}. Without a valid declaration you cannot submit some expenses, such as driver fees.

                Renew it here:
                {link}
                """,
            sms: "Your confidentiality declaration in Meander is valid until {expires_at}. Renew it here: {link}"))
}
