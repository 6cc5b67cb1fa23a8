import Foundation

// The account: verification, passwords, security, invitations and memberships.
extension NotificationCatalogue {
    static let emailVerification = Entry(
        channels: [.email], mayBeUrgent: true, isMandatory: true,
        placeholders: ["first_name", "link"],
        nb: NotificationTemplate(
            title: "Bekreft e-postadressen din",
            body: "Bekreft e-postadressen din for å ta i bruk Meander.",
            emailSubject: "Bekreft e-postadressen din",
            email: """
                Bekreft e-postadressen din ved å åpne denne lenken:
                {link}

                Har du ikke bedt om dette, kan du se bort fra e-posten.
                """,
            sms: "Bekreft e-postadressen din i Meander: {link}"),
        nn: NotificationTemplate(
            title: "Stadfest e-postadressa di",
            body: "Stadfest e-postadressa di for å ta i bruk Meander.",
            emailSubject: "Stadfest e-postadressa di",
            email: """
                Stadfest e-postadressa di ved å opne denne lenkja:
                {link}

                Har du ikkje bede om dette, kan du sjå bort frå e-posten.
                """,
            sms: "Stadfest e-postadressa di i Meander: {link}"),
        en: NotificationTemplate(
            title: "Confirm your e-mail address",
            body: "Confirm your e-mail address to start using Meander.",
            emailSubject: "Confirm your e-mail address",
            email: """
                Confirm your e-mail address by opening this link:
                {link}

                If you did not ask for this, you can ignore this e-mail.
                """,
            sms: "Confirm your e-mail address for Meander: {link}"))

    static let passwordReset = Entry(
        channels: [.email], mayBeUrgent: true, isMandatory: true,
        placeholders: ["first_name", "link"],
        nb: NotificationTemplate(
            title: "Nytt passord",
            body: "Vi har sendt deg en lenke for å lage et nytt passord.",
            emailSubject: "Lag et nytt passord for Meander",
            email: """
                Noen, forhåpentligvis du, har bedt om å lage et nytt passord for Meander-kontoen din. Åpne lenken for å velge et nytt passord:
                {link}

                Lenken kan bare brukes én gang. Har du ikke bedt om dette, kan du se bort fra e-posten. Passordet ditt er ikke endret.
                """,
            sms: "Lag nytt passord for Meander: {link} Har du ikke bedt om dette, kan du se bort fra meldingen."),
        nn: NotificationTemplate(
            title: "Nytt passord",
            body: "Vi har sendt deg ei lenkje for å lage eit nytt passord.",
            emailSubject: "Lag eit nytt passord for Meander",
            email: """
                Nokon, forhåpentleg du, har bede om å lage eit nytt passord for Meander-kontoen din. Opne lenkja for å velje eit nytt passord:
                {link}

                Lenkja kan berre brukast éin gong. Har du ikkje bede om dette, kan du sjå bort frå e-posten. Passordet ditt er ikkje endra.
                """,
            sms: "Lag nytt passord for Meander: {link} Har du ikkje bede om dette, kan du sjå bort frå meldinga."),
        en: NotificationTemplate(
            title: "New password",
            body: "We have sent you a link to choose a new password.",
            emailSubject: "Choose a new password for Meander",
            email: """
                Someone, hopefully you, asked to choose a new password for your Meander account. Open this link to choose one:
                {link}

                The link works only once. If you did not ask for this, you can ignore this e-mail. Your password has not changed.
                """,
            sms: "Choose a new Meander password: {link} If you did not ask for this, ignore this message."))

    /// A sign-in on a new device, a changed password or e-mail address: what happened stays in the app.
    static let securityAlert = Entry(
        channels: [.email, .push], mayBeUrgent: true, isMandatory: true,
        placeholders: ["first_name", "occurred_at", "link"],
        nb: NotificationTemplate(
            title: "Viktig om kontoen din",
            body: "Kontoen din ble brukt eller endret {occurred_at}. Var det ikke deg? Bytt passord nå.",
            emailSubject: "Viktig: aktivitet på Meander-kontoen din",
            email: """
                Kontoen din i Meander ble brukt eller endret {occurred_at}, for eksempel ved innlogging på en ny enhet eller endring av passord.

                Var det deg, trenger du ikke gjøre noe. Hvis ikke, bytt passord med en gang og se over innloggingene dine:
                {link}
                """,
            sms: "Meander-kontoen din ble brukt eller endret {occurred_at}. Var det ikke deg, bytt passord nå: {link}"),
        nn: NotificationTemplate(
            title: "Viktig om kontoen din",
            body: "Kontoen din vart brukt eller endra {occurred_at}. Var det ikkje deg? Byt passord no.",
            emailSubject: "Viktig: aktivitet på Meander-kontoen din",
            email: """
                Kontoen din i Meander vart brukt eller endra {occurred_at}, til dømes ved innlogging på ei ny eining eller endring av passord.

                Var det deg, treng du ikkje gjere noko. Viss ikkje, byt passord med ein gong og sjå over innloggingane dine:
                {link}
                """,
            sms: "Meander-kontoen din vart brukt eller endra {occurred_at}. Var det ikkje deg, byt passord no: {link}"),
        en: NotificationTemplate(
            title: "Important: your account",
            body: "Your account was used or changed on {occurred_at}. Not you? Change your password now.",
            emailSubject: "Important: activity on your Meander account",
            email: """
                Your Meander account was used or changed on {occurred_at}, for example by a sign-in on a new device or a password change.

                If it was you, there is nothing to do. If not, change your password at once and review your sign-ins:
                {link}
                """,
            sms: "Your Meander account was used or changed on {occurred_at}. Not you? Change your password now: {link}"))

    static let invitation = Entry(
        channels: [.email], isMandatory: true,
        placeholders: ["first_name", "organization", "link"],
        nb: NotificationTemplate(
            title: "Invitasjon til Meander",
            body: "{organization} har invitert deg til Meander.",
            emailSubject: "{organization} inviterer deg til Meander",
            email: """
                {organization} har invitert deg til Meander, verktøyet deres for likepersonsarbeid.

                Opprett kontoen din her:
                {link}

                Kjenner du ikke til invitasjonen, kan du se bort fra e-posten.
                """,
            sms: "{organization} har invitert deg til Meander. Opprett kontoen din her: {link}"),
        nn: NotificationTemplate(
            title: "Invitasjon til Meander",
            body: "{organization} har invitert deg til Meander.",
            emailSubject: "{organization} inviterer deg til Meander",
            email: """
                {organization} har invitert deg til Meander, verktøyet deira for likepersonsarbeid.

                Opprett kontoen din her:
                {link}

                Kjenner du ikkje til invitasjonen, kan du sjå bort frå e-posten.
                """,
            sms: "{organization} har invitert deg til Meander. Opprett kontoen din her: {link}"),
        en: NotificationTemplate(
            title: "Invitation to Meander",
            body: "{organization} has invited you to Meander.",
            emailSubject: "{organization} invites you to Meander",
            email: """
                {organization} has invited you to Meander, their tool for peer mentoring.

                Create your account here:
                {link}

                If you do not know about this invitation, you can ignore this e-mail.
                """,
            sms: "{organization} has invited you to Meander. Create your account here: {link}"))

    /// Never the reason for the pause: it may be about the mentor's health.
    static let membershipPaused = Entry(
        channels: [.email, .inApp],
        placeholders: ["first_name", "organization"],
        nb: NotificationTemplate(
            title: "Medlemskapet ditt er satt på pause",
            body: "Medlemskapet ditt i {organization} er satt på pause.",
            emailSubject: "Medlemskapet ditt i {organization} er satt på pause",
            email: """
                Medlemskapet ditt i {organization} er satt på pause. Så lenge pausen varer, kan du ikke registrere nye aktiviteter eller få nye oppdrag, men det du har gjort, er tatt vare på.

                Har du spørsmål, ta kontakt med koordinatoren din.
                """,
            sms: "Medlemskapet ditt i {organization} er satt på pause. Ta kontakt med koordinatoren din om du har spørsmål."),
        nn: NotificationTemplate(
            title: "Medlemskap sett på pause",
            body: "Du er sett på pause som medlem i {organization}.",
            emailSubject: "Du er sett på pause som medlem i {organization}",
            email: """
                Du er sett på pause som medlem i {organization}. Så lenge pausen varer, kan du ikkje registrere nye aktivitetar eller få nye oppdrag, men det du har gjort, er teke vare på.

                Har du spørsmål, ta kontakt med koordinatoren din.
                """,
            sms: "Du er sett på pause som medlem i {organization}. Ta kontakt med koordinatoren din om du har spørsmål."),
        en: NotificationTemplate(
            title: "Your membership is paused",
            body: "Your membership of {organization} is paused.",
            emailSubject: "Your membership of {organization} is paused",
            email: """
                Your membership of {organization} is paused. While it is paused you cannot record new activities or receive new assignments, but everything you have done is kept.

                If you have questions, please contact your coordinator.
                """,
            sms: "Your membership of {organization} is paused. Contact your coordinator if you have questions."))
}
