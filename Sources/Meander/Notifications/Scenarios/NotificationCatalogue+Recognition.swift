import Foundation

// Certificates, badges, reports and the Bufdir export. SMS texts use no «» or “”: they are not GSM-7 characters,
// and one of them would make the whole message UCS-2 (70 characters a part instead of 160).
extension NotificationCatalogue {
    static let certificateIssued = Entry(
        channels: [.email, .inApp],
        placeholders: ["first_name", "course_title", "link"],
        nb: NotificationTemplate(
            title: "Nytt kursbevis",
            body: "Du har fått kursbevis for {course_title}. Gratulerer!",
            emailSubject: "Kursbeviset ditt for {course_title}",
            email: """
                Gratulerer med fullført kurs! Du har fått kursbevis for {course_title}.

                Se og last ned kursbeviset her:
                {link}
                """,
            sms: "Gratulerer! Du har fått kursbevis for {course_title} i Meander: {link}"),
        nn: NotificationTemplate(
            title: "Nytt kursbevis",
            body: "Du har fått kursbevis for {course_title}. Gratulerer!",
            emailSubject: "Kursbeviset ditt for {course_title}",
            email: """
                Gratulerer med fullført kurs! Du har fått kursbevis for {course_title}.

                Sjå og last ned kursbeviset her:
                {link}
                """,
            sms: "Gratulerer! Du har fått kursbevis for {course_title} i Meander: {link}"),
        en: NotificationTemplate(
            title: "New certificate",
            body: "You have received a certificate for {course_title}. Congratulations!",
            emailSubject: "Your certificate for {course_title}",
            email: """
                Congratulations on completing the course! You have received a certificate for {course_title}.

                See and download it here:
                {link}
                """,
            sms: "Congratulations! You have a certificate for {course_title} in Meander: {link}"))

    static let certificateExpiring = Entry(
        channels: [.email, .inApp],
        placeholders: ["first_name", "course_title", "expires_at", "link"],
        nb: NotificationTemplate(
            title: "Kursbeviset ditt går ut",
            body: "Kursbeviset for {course_title} gjelder til {expires_at}.",
            emailSubject: "Kursbeviset for {course_title} går ut {expires_at}",
            email: """
                Kursbeviset ditt for {course_title} gjelder til {expires_at}. For å fortsatt ha et gyldig kursbevis må du fornye det, for eksempel ved å ta kurset på nytt.

                Se kursbeviset og ledige kurs her:
                {link}
                """,
            sms: "Kursbeviset ditt for {course_title} gjelder til {expires_at}. Se hvordan du fornyer det: {link}"),
        nn: NotificationTemplate(
            title: "Kursbeviset ditt går ut",
            body: "Kursbeviset for {course_title} gjeld til {expires_at}.",
            emailSubject: "Kursbeviset for {course_title} går ut {expires_at}",
            email: """
                Kursbeviset ditt for {course_title} gjeld til {expires_at}. For å halde fram med eit gyldig kursbevis må du fornye det, til dømes ved å ta kurset på nytt.

                Sjå kursbeviset og ledige kurs her:
                {link}
                """,
            sms: "Kursbeviset ditt for {course_title} gjeld til {expires_at}. Sjå korleis du fornyar det: {link}"),
        en: NotificationTemplate(
            title: "Your certificate expires",
            body: "Your certificate for {course_title} is valid until {expires_at}.",
            emailSubject: "Your certificate for {course_title} expires on {expires_at}",
            email: """
                Your certificate for {course_title} is valid until {expires_at}. To keep a valid certificate, you need to renew it, for example by taking the course again.

                See the certificate and open courses here:
                {link}
                """,
            sms: "Your certificate for {course_title} is valid until {expires_at}. See how to renew it: {link}"))

    static let badgeAwarded = Entry(
        channels: [.push, .inApp],
        placeholders: ["first_name", "badge_name", "link"],
        nb: NotificationTemplate(
            title: "Ny utmerkelse!",
            body: "Du har fått utmerkelsen «{badge_name}». Gratulerer!",
            emailSubject: "Du har fått en ny utmerkelse",
            email: """
                Gratulerer! Du har fått utmerkelsen «{badge_name}» i Meander. Takk for innsatsen din.

                Se utmerkelsene dine her:
                {link}
                """,
            sms: "Gratulerer! Du har fått utmerkelsen {badge_name} i Meander. {link}"),
        nn: NotificationTemplate(
            title: "Ny utmerking!",
            body: "Du har fått utmerkinga «{badge_name}». Gratulerer!",
            emailSubject: "Du har fått ei ny utmerking",
            email: """
                Gratulerer! Du har fått utmerkinga «{badge_name}» i Meander. Takk for innsatsen din.

                Sjå utmerkingane dine her:
                {link}
                """,
            sms: "Gratulerer! Du har fått utmerkinga {badge_name} i Meander. {link}"),
        en: NotificationTemplate(
            title: "New badge!",
            body: "You have earned the badge “{badge_name}”. Congratulations!",
            emailSubject: "You have earned a new badge",
            email: """
                Congratulations! You have earned the badge “{badge_name}” in Meander. Thank you for your work.

                See your badges here:
                {link}
                """,
            sms: "Congratulations! You have earned the badge {badge_name} in Meander. {link}"))

    /// A report the user asked for has been made; it is downloaded after signing in.
    static let reportReady = Entry(
        channels: [.email, .inApp],
        placeholders: ["first_name", "report_name", "link"],
        nb: NotificationTemplate(
            title: "Rapporten er klar",
            body: "Rapporten «{report_name}» er klar.",
            emailSubject: "Rapporten «{report_name}» er klar",
            email: """
                Rapporten «{report_name}» som du bestilte, er klar. Logg inn for å laste den ned:
                {link}
                """,
            sms: "Rapporten {report_name} er klar i Meander: {link}"),
        nn: NotificationTemplate(
            title: "Rapporten er klar",
            body: "Rapporten «{report_name}» er klar.",
            emailSubject: "Rapporten «{report_name}» er klar",
            email: """
                Rapporten «{report_name}» som du bestilte, er klar. Logg inn for å laste han ned:
                {link}
                """,
            sms: "Rapporten {report_name} er klar i Meander: {link}"),
        en: NotificationTemplate(
            title: "Your report is ready",
            body: "The report “{report_name}” is ready.",
            emailSubject: "The report “{report_name}” is ready",
            email: """
                The report “{report_name}” you asked for is ready. Sign in to download it:
                {link}
                """,
            sms: "The report {report_name} is ready in Meander: {link}"))

    static let bufdirExportReady = Entry(
        channels: [.email, .inApp],
        placeholders: ["first_name", "organization", "year", "link"],
        nb: NotificationTemplate(
            title: "Bufdir-eksporten er klar",
            body: "Bufdir-eksporten for {organization} for {year} er klar.",
            emailSubject: "Bufdir-eksporten for {year} er klar",
            email: """
                Eksporten til Bufdir for {organization} for {year} er klar. Logg inn for å se over og laste den ned:
                {link}
                """,
            sms: "Bufdir-eksporten for {organization} for {year} er klar i Meander: {link}"),
        nn: NotificationTemplate(
            title: "Bufdir-eksporten er klar",
            body: "Bufdir-eksporten for {organization} for {year} er klar.",
            emailSubject: "Bufdir-eksporten for {year} er klar",
            email: """
                Eksporten til Bufdir for {organization} for {year} er klar. Logg inn for å sjå over og laste han ned:
                {link}
                """,
            sms: "Bufdir-eksporten for {organization} for {year} er klar i Meander: {link}"),
        en: NotificationTemplate(
            title: "Bufdir export ready",
            body: "The Bufdir export for {organization} for {year} is ready.",
            emailSubject: "The Bufdir export for {year} is ready",
            email: """
                The Bufdir export for {organization} for {year} is ready. Sign in to review and download it:
                {link}
                """,
            sms: "The Bufdir export for {organization} for {year} is ready in Meander: {link}"))
}
