import Testing

@testable import SigilCore

/// Look-alike set and attribute names (`Confusables`, confusables.txt): the skeleton as UTS #39
/// defines it, Sigil's comparison keys on top of it, and the schema rules that refuse a new name
/// looking like an existing one.
@Suite struct ConfusablesTests {
    @Test func theWholeTableIsCompiledIn() {
        #expect(Confusables.prototypes.count == 6311)
        #expect(Confusables.prototypes[0x0395] == ["E"])
        #expect(Confusables.prototypes[0x006D] == ["r", "n"])
        // Prototypes are not mapped again.
        #expect(Confusables.prototypes[0x0045] == nil)
    }

    @Test(arguments: [
        ("\u{395}ngineering", "Engineering"),  // Greek capital Epsilon
        ("\u{415}ngineering", "Engineering"),  // Cyrillic capital Ie
        ("p\u{430}yp\u{430}l", "paypal"),  // Cyrillic small a
        ("\u{FF45}ngineering", "engineering"),  // fullwidth small e
        ("modern", "rnodern"),  // m's prototype is rn
        ("Sa1es", "Sales"),  // 1 and l share the prototype l
        ("Ill", "lll"),  // so do I and l
    ])
    func skeletonsOfLookAlikesAreEqual(_ lookAlike: String, _ original: String) {
        #expect(Confusables.skeleton(lookAlike) == Confusables.skeleton(original))
    }

    @Test func theSkeletonKeepsCaseAndCombiningMarks() {
        #expect(Confusables.skeleton("Engineering") == "Engineering")
        #expect(Confusables.skeleton("Engineering") != Confusables.skeleton("engineering"))
        #expect(Confusables.skeleton("Engine\u{301}ering").unicodeScalars.contains("\u{301}"))
        #expect(Confusables.skeleton("Engine\u{301}ering") != Confusables.skeleton("Engineering"))
    }

    @Test(arguments: [
        "\u{395}ngineering",  // Greek capital Epsilon
        "\u{FF25}ngineering",  // fullwidth capital E
        "E\u{301}ngineering",  // combining acute on the E (NFC makes it É)
        "Engine\u{301}ering",  // combining acute on an e
        "Engin\u{E9}ering",  // precomposed é
        "Engineer\u{131}ng",  // dotless i
        "\u{415}ngineering",  // Cyrillic capital Ie
        "engineering", "ENGINEERING",  // another case
        "\u{395}NGINEERING", "\u{3B5}ngineering".uppercased(),  // Greek Epsilon, upper case
        "Engi\u{34F}neering",  // combining grapheme joiner, default-ignorable
        "Engineering\u{3164}",  // Hangul filler, an invisible letter, default-ignorable after NFKC
        "Eng\u{1D5C2}neering",  // mathematical sans-serif small i (NFKC)
    ])
    func namesThatLookLikeEngineeringAreLookAlikes(_ name: String) {
        #expect(Confusables.lookAlike(name, "Engineering"))
        #expect(Confusables.lookAlike("Engineering", name))
    }

    @Test(arguments: [
        ("Illinois", "\u{399}llinois"),  // Latin I and Greek capital Iota map to l
        ("illinois", "\u{399}llinois"),  // and Greek Iota folds to iota, which maps to i
        ("Mail", "rnail"), ("mail", "RNAIL"),  // m and rn, in either case
        ("Stra\u{DF}e", "STRASSE"),  // ß folds to ss
        ("Ingenier\u{ED}a", "Ingenieria"),  // nonspacing marks are dropped
    ])
    func lookAlikesAcrossCaseAndMarks(_ a: String, _ b: String) {
        #expect(Confusables.lookAlike(a, b))
    }

    @Test(arguments: [
        ("Engineering", "Engineers"), ("Engineering", "Marketing"), ("Engineering", "\u{418}\u{43D}\u{436}\u{435}\u{43D}\u{435}\u{440}\u{438}\u{44F}"),
        ("Project", "ProjectDate"), ("Sales", "Sale"), ("Mail", "Mall"), ("\u{5DE}\u{5D7}\u{5E7}\u{5E8}", "Research"),
    ])
    func differentNamesAreNotLookAlikes(_ a: String, _ b: String) {
        #expect(!Confusables.lookAlike(a, b))
    }

    /// The name rules refuse invisible format characters, but marks and a few invisible letters
    /// pass: the look-alike rule is what keeps such names from posing as others.
    @Test(arguments: ["Engine\u{301}ering", "Engi\u{34F}neering", "Engineering\u{3164}"])
    func marksAndInvisibleLettersPassTheNameRules(_ name: String) throws {
        try SchemaRules.validateName(name, property: "id")
    }

    // MARK: Schema rules

    static let engineering = AttributeSet(id: "Engineering")
    static let marketing = AttributeSet(id: "Marketing")
    static let project = AttributeDefinition(
        attributeSet: "Engineering", name: "Project", type: .string, isCollection: false, isSearchable: true, usePreDefinedValuesOnly: false)
    static let schema = Schema(sets: [engineering, marketing], definitions: [project])

    static func definitionBody(set: String = "Engineering", name: String) -> JSONValue {
        [
            "attributeSet": .string(set), "isCollection": false, "isSearchable": true, "name": .string(name), "status": "Available",
            "type": "String", "usePreDefinedValuesOnly": false,
        ]
    }

    @Test(arguments: ["\u{395}ngineering", "\u{FF25}ngineering", "Engine\u{301}ering", "\u{39C}arketing"])
    func aSetThatLooksLikeAnExistingOneIsRefusedNamingIt(_ id: String) {
        let existing = Confusables.lookAlike(id, "Engineering") ? "Engineering" : "Marketing"
        #expect(
            throws: GraphError.badRequest(
                "Another object with a look-alike value for property id already exists: '\(id)' looks like attribute set '\(existing)'.")
        ) { try SchemaRules.createSet(["id": .string(id)], in: Self.schema) }
    }

    @Test func anExactDuplicateKeepsTheDuplicateMessage() {
        #expect(throws: GraphError.duplicateId) { try SchemaRules.createSet(["id": "ENGINEERING"], in: Self.schema) }
        #expect(throws: GraphError.duplicateId) { try SchemaRules.createDefinition(Self.definitionBody(name: "project"), in: Self.schema) }
    }

    @Test func unicodeNamesThatLookLikeNothingAreStillAccepted() throws {
        for id in ["Ingenier\u{ED}a", "\u{5DE}\u{5D7}\u{5E7}\u{5E8}", "\u{5DE5}\u{7A0B}", "Engineers"] {
            #expect(try SchemaRules.createSet(["id": .string(id)], in: Self.schema) == .createSet(AttributeSet(id: id)))
        }
    }

    @Test func aDefinitionThatLooksLikeAnotherInItsSetIsRefusedNamingIt() throws {
        for name in ["Pr\u{3BF}ject", "PR\u{41E}JECT", "Proj\u{435}ct", "Proje\u{300}ct"] {
            #expect(
                throws: GraphError.badRequest(
                    "Another object with a look-alike value for property name already exists: '\(name)' looks like attribute 'Project' of attribute set 'Engineering'."
                )
            ) { try SchemaRules.createDefinition(Self.definitionBody(name: name), in: Self.schema) }
        }
        // Definitions of other sets do not collide: their ids differ by the set.
        let other = try SchemaRules.createDefinition(Self.definitionBody(set: "Marketing", name: "Pr\u{3BF}ject"), in: Self.schema)
        guard case .createDefinition(let definition, _) = other else {
            Issue.record("expected a definition, got \(other)")
            return
        }
        #expect(definition.name == "Pr\u{3BF}ject")
    }

    @Test func checkingAgainstAFullTenantStaysCheap() throws {
        let sets = (0..<499).map { AttributeSet(id: "Set\($0)Name") }
        let full = Schema(sets: sets)
        let clock = ContinuousClock()
        let start = clock.now
        #expect(try SchemaRules.createSet(["id": "Last"], in: full) == .createSet(AttributeSet(id: "Last")))
        let elapsed = clock.now - start
        // Generous: this runs inside the store's write transaction, so it must stay far below a second.
        #expect(elapsed < .seconds(1))
    }
}
