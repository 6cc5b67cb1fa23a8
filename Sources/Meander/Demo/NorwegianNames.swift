/// Common Norwegian given names and surnames (Statistics Norway's most frequent), for realistic demo people.
enum NorwegianNames {
    static let givenNames = [
        "Anne", "Inger", "Kari", "Marit", "Ingrid", "Liv", "Eva", "Berit", "Astrid", "Bjørg", "Hilde", "Anna",
        "Solveig", "Marianne", "Randi", "Ida", "Nina", "Maria", "Elisabeth", "Kristin", "Bente", "Heidi", "Silje",
        "Hanne", "Gerd", "Linda", "Tone", "Ragnhild", "Camilla", "Nora", "Emma", "Sofie", "Ingeborg", "Sigrid",
        "Jan", "Per", "Bjørn", "Ole", "Lars", "Kjell", "Knut", "Arne", "Svein", "Thomas", "Hans", "Geir", "Tor",
        "Morten", "Terje", "Odd", "Erik", "Martin", "Andreas", "John", "Anders", "Rune", "Trond", "Tore", "Jon",
        "Kristian", "Magnus", "Henrik", "Jonas", "Eirik", "Sindre", "Håkon", "Øyvind", "Aksel", "Emil", "Filip",
    ]

    static let surnames = [
        "Hansen", "Johansen", "Olsen", "Larsen", "Andersen", "Pedersen", "Nilsen", "Kristiansen", "Jensen",
        "Karlsen", "Johnsen", "Pettersen", "Eriksen", "Berg", "Haugen", "Hagen", "Johannessen", "Andreassen",
        "Jacobsen", "Dahl", "Jørgensen", "Halvorsen", "Henriksen", "Lund", "Sørensen", "Jakobsen", "Moen",
        "Gundersen", "Iversen", "Strand", "Solberg", "Svendsen", "Eide", "Knutsen", "Martinsen", "Paulsen",
        "Bakken", "Kristoffersen", "Mathisen", "Lie", "Amundsen", "Nguyen", "Rasmussen", "Ahmed", "Lunde",
        "Solheim", "Berntsen", "Myhre", "Holm", "Ødegård", "Aas", "Sæther", "Bjørnstad", "Haug", "Vik", "Nygård",
    ]

    static let streets = [
        "Storgata", "Kirkeveien", "Skolegata", "Parkveien", "Fjordveien", "Strandgata", "Bakkeveien", "Solbakken",
        "Granveien", "Bjørkeveien", "Furuveien", "Industriveien", "Stasjonsveien", "Havnegata", "Elvegata",
        "Lia", "Haugveien", "Sjøgata", "Nordre gate", "Søndre gate",
    ]

    /// "Ørsted" → "orsted": a plain ASCII form for e-mail addresses.
    static func ascii(_ text: String) -> String {
        var result = ""
        for character in text.lowercased() {
            switch character {
            case "æ": result += "ae"
            case "ø": result += "o"
            case "å": result += "a"
            case "é", "è": result += "e"
            case "á": result += "a"
            case "ä": result += "a"
            case "ö": result += "o"
            case "ü": result += "u"
            case "a"..."z", "0"..."9": result.append(character)
            default: continue
            }
        }
        return result
    }
}
