import Testing

@testable import Meander

// No Foundation in this file: it has a `Notification` too.
/// Values of the length real ones have, per language.
enum TypicalNotificationValues {
    static func values(_ language: NotificationLanguage) -> [String: String] {
        var values = [
            "first_name": "Kari",
            "link": "https://app.meander.no/l/4Fq9xK2m",
            "organization": "Norges Handikapforbund Trøndelag",
            "amount": "1 234,50 kr",
            "event_title": "Likepersonssamling i Trondheim",
            "course_title": "Grunnkurs for likepersoner",
            "starts_at": "12. mars kl. 18.00",
            "expires_at": "14. mars kl. 12.00",
            "occurred_at": "12. mars kl. 18.04",
            "reason": "Kvittering for parkering mangler.",
            "year": "2026",
            "badge_name": "50 aktiviteter",
            "report_name": "Aktiviteter per kommune 2026",
        ]
        if language == .en {
            values["amount"] = "NOK 1,234.50"
            values["starts_at"] = "12 March at 18:00"
            values["expires_at"] = "14 March at 12:00"
            values["occurred_at"] = "12 March at 18:04"
            values["reason"] = "The parking receipt is missing."
            values["badge_name"] = "50 activities"
        }
        return values
    }

    /// Only the scenario's own placeholders, so that a template using an undeclared one fails to render.
    static func values(for scenario: Notification.Scenario, _ language: NotificationLanguage) -> [String: String] {
        values(language).filter { scenario.requiredPlaceholders.contains($0.key) }
    }
}

@Suite("Notification scenarios: the catalogue and its templates")
struct NotificationCatalogueTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var scenario: Notification.Scenario
        var language: NotificationLanguage
        var testDescription: String { "\(scenario.rawValue) \(language.rawValue)" }
    }

    static let cases = Notification.Scenario.allCases.flatMap { scenario in
        NotificationLanguage.allCases.map { Case(scenario: scenario, language: $0) }
    }

    /// Every text of a template, with the layout around the e-mail.
    static func texts(_ scenario: Notification.Scenario, _ language: NotificationLanguage) -> [String] {
        let template = scenario.catalogue.template(language)
        return [
            template.title, template.body, template.emailSubject, template.sms,
            NotificationLayout.of(language).email(template, isMandatory: scenario.isMandatory),
        ]
    }

    /// The words of a text, lower-cased.
    static func words(_ text: String) -> Set<String> {
        Set(text.lowercased().split(whereSeparator: { !$0.isLetter }).map(String.init))
    }

    @Test("every scenario renders in every language with only its required placeholders", arguments: cases)
    func renders(_ given: Case) throws {
        // given
        let values = TypicalNotificationValues.values(for: given.scenario, given.language)

        // when
        let rendered = try given.scenario.render(language: given.language, values: values)

        // then
        for text in [rendered.title, rendered.body, rendered.emailSubject, rendered.emailText, rendered.smsText] {
            #expect(!text.isEmpty)
            #expect(NotificationTemplating.placeholders(text).isEmpty, "a placeholder is left in \(text)")
        }
        #expect(rendered.emailText.hasPrefix(given.language == .en ? "Hi Kari," : "Hei Kari,"))
        if values["link"] != nil {
            #expect(rendered.emailHTML.contains("<a href=\"https://app.meander.no/l/4Fq9xK2m\">"))
        }
        #expect(rendered.emailHTML.contains("<html lang=\"\(given.language.rawValue)\">"))
        // the e-mail says everything the scenario has to say
        for name in given.scenario.requiredPlaceholders {
            #expect(rendered.emailText.contains(values[name] ?? "—"), "the e-mail lacks {\(name)}")
        }
    }

    @Test("the declared placeholders are exactly those the templates use, and no push text carries a link")
    func placeholdersDeclared() {
        for scenario in Notification.Scenario.allCases {
            let declared = Set(scenario.requiredPlaceholders)
            #expect(declared.count == scenario.requiredPlaceholders.count, "\(scenario): a placeholder is declared twice")
            for language in NotificationLanguage.allCases {
                let used = Set(Self.texts(scenario, language).flatMap(NotificationTemplating.placeholders))
                #expect(used == declared, "\(scenario) \(language): uses \(used.sorted()), declares \(declared.sorted())")
                let template = scenario.catalogue.template(language)
                #expect(!NotificationTemplating.placeholders(template.title + template.body).contains("link"), "\(scenario) \(language)")
            }
        }
    }

    @Test("Bokmål and Nynorsk differ: each scenario's e-mail differs, and neither uses the other's words")
    func bokmalAndNynorsk() {
        // Words that belong to one written standard only (as they are used in these texts).
        let bokmalOnly: Set = [
            "ikke", "et", "en", "hva", "hvis", "fra", "jeg", "mye", "noe", "noen", "hvem", "hvordan", "bare", "også", "mer",
            "ble", "gjelder", "ennå", "påminnelse", "hilsen", "vennlig", "ventelisten", "begrunnelsen", "behandling",
        ]
        let nynorskOnly: Set = [
            "ikkje", "eit", "ein", "kva", "viss", "frå", "eg", "mykje", "noko", "nokon", "kven", "korleis", "berre", "meir",
            "vart", "gjeld", "enno", "påminning", "helsing", "venleg", "ventelista", "grunngivinga", "handsaming", "sjå",
        ]
        for scenario in Notification.Scenario.allCases {
            let nb = scenario.catalogue.nb
            let nn = scenario.catalogue.nn
            let en = scenario.catalogue.en
            #expect(nb.email != nn.email, "\(scenario): the Bokmål and Nynorsk e-mails are the same")
            #expect(nb.email != en.email && nb.title != en.title, "\(scenario): English is not translated")
            let nbWords = Self.texts(scenario, .nb).reduce(into: Set<String>()) { $0.formUnion(Self.words($1)) }
            let nnWords = Self.texts(scenario, .nn).reduce(into: Set<String>()) { $0.formUnion(Self.words($1)) }
            #expect(nnWords.isDisjoint(with: bokmalOnly), "\(scenario) nn uses Bokmål: \(nnWords.intersection(bokmalOnly).sorted())")
            #expect(nbWords.isDisjoint(with: nynorskOnly), "\(scenario) nb uses Nynorsk: \(nbWords.intersection(nynorskOnly).sorted())")
        }
    }

    @Test("the texts carry no special-category data or contact details")
    func noSensitiveWords() {
        // Health anywhere; for dispatches and contacts, also nothing that reaches a person.
        let health = ["diagnos", "helse", "health", "sykdom", "sjukdom", "illness", "medisin", "medical", "medication"]
        let contactDetails = ["adresse", "address", "telefon", "phone", "navn", "namn", "name"]
        let dispatchScenarios: [Notification.Scenario] = [.dispatchReceived, .dispatchExpiring, .contactAssigned]
        for scenario in Notification.Scenario.allCases {
            let banned = dispatchScenarios.contains(scenario) ? health + contactDetails : health
            for language in NotificationLanguage.allCases {
                for text in Self.texts(scenario, language) {
                    // The words around the placeholders (`{first_name}` is not a name).
                    let lowered = NotificationTemplating.parts(text).map {
                        if case .text(let words) = $0 { words.lowercased() } else { "" }
                    }.joined(separator: " ")
                    for word in banned {
                        #expect(!lowered.contains(word), "\(scenario) \(language) mentions '\(word)': \(text)")
                    }
                }
            }
        }
        for scenario in dispatchScenarios {
            #expect(Set(scenario.requiredPlaceholders).isSubset(of: ["first_name", "link", "expires_at"]), "\(scenario)")
        }
    }

    @Test("SMS texts are GSM-7 and fit one message with typical values", arguments: cases)
    func smsFits(_ given: Case) throws {
        // when
        let rendered = try given.scenario.render(
            language: given.language, values: TypicalNotificationValues.values(for: given.scenario, given.language))

        // then
        let length = try #require(SMSText.gsm7Length(rendered.smsText), "not GSM-7: \(rendered.smsText)")
        #expect(length <= 160, "\(length) characters: \(rendered.smsText)")
        #expect(SMSText.parts(rendered.smsText) == 1)
        #expect(rendered.title.count <= 50, "title of \(rendered.title.count): \(rendered.title)")
        #expect(rendered.body.count <= 140, "body of \(rendered.body.count): \(rendered.body)")
    }

    @Test("HTML escapes every value; a link that is not http(s) is text; the text part keeps the values as they are")
    func escapesHTML() throws {
        // given
        let values = [
            "first_name": "Kari & \"Ola\"", "amount": "<b>1 kr</b>", "reason": "<script>alert('x')</script> & co",
            "link": "https://app.meander.no/l/a?b=1&c='2'",
        ]

        // when
        let rendered = try Notification.Scenario.expenseRejected.render(language: .nb, values: values)
        var withScript = values
        withScript["link"] = "javascript:alert(1)"
        let scripted = try Notification.Scenario.expenseRejected.render(language: .nb, values: withScript)

        // then
        #expect(rendered.emailHTML.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; co"))
        #expect(rendered.emailHTML.contains("Hei Kari &amp; &quot;Ola&quot;,"))
        #expect(rendered.emailHTML.contains("&lt;b&gt;1 kr&lt;/b&gt;"))
        #expect(rendered.emailHTML.contains("<a href=\"https://app.meander.no/l/a?b=1&amp;c=&#39;2&#39;\">"))
        #expect(!rendered.emailHTML.contains("<script>"))
        #expect(!rendered.emailHTML.contains("<b>"))
        #expect(!scripted.emailHTML.contains("href=\"javascript"))
        #expect(scripted.emailHTML.contains("javascript:alert(1)"))
        #expect(rendered.emailText.contains("<script>alert('x')</script> & co"))
        #expect(rendered.emailHTML.contains("<p>Hei Kari &amp; &quot;Ola&quot;,</p>"))
        #expect(rendered.emailHTML.contains("Vennlig hilsen<br>\nMeander"))
    }

    @Test("a missing or blank value is an error naming the scenario and the placeholder")
    func missingValue() {
        // given
        var values = TypicalNotificationValues.values(for: .expenseRejected, .nb)
        values["reason"] = nil
        var blank = values
        blank["reason"] = " \n "

        // when
        let missing = #expect(throws: NotificationTemplateError.self) {
            try Notification.Scenario.expenseRejected.render(language: .nn, values: values)
        }
        let empty = #expect(throws: NotificationTemplateError.self) {
            try Notification.Scenario.expenseRejected.render(language: .en, values: blank)
        }

        // then
        #expect(missing == .missingValue(scenario: .expenseRejected, placeholder: "reason"))
        #expect(missing?.description == "notification 'expense_rejected': no value for {reason}")
        #expect(empty == .missingValue(scenario: .expenseRejected, placeholder: "reason"))
    }

    @Test("values are put in once and on one line: a value that looks like a placeholder stays as it is")
    func valuesAreNotTemplates() throws {
        // given
        var values = TypicalNotificationValues.values(for: .eventCancelled, .nb)
        values["first_name"] = "{link}"
        values["event_title"] = "Sommerfest\r\nBcc: x@example.org"

        // when
        let rendered = try Notification.Scenario.eventCancelled.render(language: .nb, values: values)

        // then
        #expect(rendered.emailText.hasPrefix("Hei {link},"))
        #expect(rendered.emailSubject == "Avlyst: Sommerfest  Bcc: x@example.org")
        let breaks = rendered.emailSubject.filter(\.isNewline)
        #expect(breaks.isEmpty)
    }

    static let templateParts: [(String, [NotificationTemplating.Part])] = [
        ("Hei {first_name}!", [.text("Hei "), .placeholder("first_name"), .text("!")]),
        ("{a}{b}", [.placeholder("a"), .placeholder("b")]),
        ("{Name} { } {} {x", [.text("{Name} { } {} {x")]),
        ("{{link}}", [.text("{"), .placeholder("link"), .text("}")]),
    ]

    @Test("templates: a placeholder is {lower_case}; other braces are text", arguments: templateParts)
    func parts(_ template: String, _ expected: [NotificationTemplating.Part]) {
        #expect(NotificationTemplating.parts(template) == expected)
    }

    @Test("mandatory, urgent and default channels")
    func flags() {
        let mandatory = Set(Notification.Scenario.allCases.filter(\.isMandatory))
        #expect(mandatory == [.passwordReset, .emailVerification, .securityAlert, .invitation])
        for scenario in mandatory {
            #expect(scenario.defaultChannels.contains(.email), "\(scenario) is mandatory by e-mail but does not send one")
        }
        for scenario in [Notification.Scenario.securityAlert, .passwordReset, .dispatchReceived] {
            #expect(scenario.mayBeUrgent, "\(scenario)")
        }
        for scenario in [Notification.Scenario.badgeAwarded, .reportReady, .certificateIssued, .eventRegistered, .activityApproved] {
            #expect(!scenario.mayBeUrgent, "\(scenario)")
        }
        for scenario in Notification.Scenario.allCases {
            #expect(!scenario.defaultChannels.isEmpty, "\(scenario) has no default channel")
        }
        // SMS costs money and reaches a phone others may see: only where it matters.
        #expect(Set(Notification.Scenario.allCases.filter { $0.defaultChannels.contains(.sms) }) == [.dispatchReceived])
    }

    static let locales: [(String, NotificationLanguage)] = [
        ("nb", .nb), ("nb-NO", .nb), ("nb_NO", .nb), ("no", .nb), ("NO", .nb), ("nn", .nn), ("nn-NO", .nn), ("NN_no", .nn),
        ("en", .en), ("en-GB", .en), ("en_US", .en), ("sv-SE", .nb), ("", .nb), ("  en ", .en), ("nno", .nn), ("eng", .en), ("nob", .nb),
        ("english", .nb),
    ]

    @Test("language from a user's locale", arguments: locales)
    func language(_ locale: String, _ expected: NotificationLanguage) {
        #expect(NotificationLanguage(locale: locale) == expected)
    }

    @Test("GSM-7 lengths: æøå count one, € two, « makes the text UCS-2")
    func gsm7() {
        #expect(SMSText.gsm7Length("Hei Åse, blåbær på øya") == 22)
        #expect(SMSText.gsm7Length("10 €") == 5)
        #expect(SMSText.gsm7Length("«Hei»") == nil)
        #expect(SMSText.parts(String(repeating: "a", count: 160)) == 1)
        #expect(SMSText.parts(String(repeating: "a", count: 161)) == 2)
        #expect(SMSText.parts(String(repeating: "a", count: 306)) == 2)
        #expect(SMSText.parts(String(repeating: "a", count: 307)) == 3)
        #expect(SMSText.parts("«" + String(repeating: "a", count: 69)) == 1)
        #expect(SMSText.parts("«" + String(repeating: "a", count: 70)) == 2)
    }
}
