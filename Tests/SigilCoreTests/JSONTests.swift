import Testing

@testable import SigilCore

/// Parses `text`, expecting a failure, and returns the parser's message.
private func parseFailure(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> String? {
    let error = #expect(throws: JSONParseError.self, sourceLocation: sourceLocation) { try JSON.parse(text) }
    return error?.message
}

@Suite struct JSONParseTests {
    @Test func compactDocumentRoundTripsByteForByte() throws {
        let text = #"{"@odata.context":"x","value":[{"id":"Engineering","n":-12,"d":1.5,"b":true,"f":false,"z":null,"a":[],"o":{}}]}"#
        let value = try JSON.parse(text)
        #expect(value.serializedString == text)
        #expect(try JSON.parse(value.serialized()) == value)
    }

    @Test func objectKeysKeepTheirWrittenOrder() throws {
        let value = try JSON.parse(##"{"zeta":1,"alpha":2,"Engineering@odata.type":"#x","Engineering":{}}"##)
        let object = try #require(value.objectValue)
        #expect(object.keys == ["zeta", "alpha", "Engineering@odata.type", "Engineering"])
        #expect(value.serializedString == ##"{"zeta":1,"alpha":2,"Engineering@odata.type":"#x","Engineering":{}}"##)
    }

    @Test func objectEqualityIsOrderSensitive() {
        let ab: JSONValue = ["a": 1, "b": 2]
        let ba: JSONValue = ["b": 2, "a": 1]
        #expect(ab != ba)
        #expect(ab == ["a": 1, "b": 2])
    }

    @Test func whitespaceAroundTokensIsAccepted() throws {
        let value = try JSON.parse(" \n\t{ \"a\" : [ 1 , 2 ] ,\r\n \"b\" : \"c\" }\r\n ")
        #expect(value == ["a": [1, 2], "b": "c"])
    }

    @Test func parsesFromBytes() throws {
        let bytes: [UInt8] = Array(#"{"id":"Ingeniería"}"#.utf8)
        #expect(try JSON.parse(bytes) == ["id": "Ingeniería"])
    }

    @Test func integersStayIntegersAndDecimalsStayDoubles() throws {
        #expect(try JSON.parse("1") == .integer(1))
        #expect(try JSON.parse("-42") == .integer(-42))
        #expect(try JSON.parse("-0") == .integer(0))
        #expect(try JSON.parse("1.0") == .double(1.0))
        #expect(try JSON.parse("1.5") == .double(1.5))
        #expect(try JSON.parse("1e2") == .double(100))
        #expect(try JSON.parse("2.5E-1") == .double(0.25))
        #expect(try JSON.parse("9223372036854775807") == .integer(Int64.max))
        #expect(try JSON.parse("-9223372036854775808") == .integer(Int64.min))
        // One past Int64: still a number, but no longer an integer.
        #expect(try JSON.parse("9223372036854775808") == .double(0x1p63))
    }

    @Test func integerAndDoubleAreDifferentValues() throws {
        #expect(JSONValue.integer(1) != JSONValue.double(1))
        #expect(try JSON.parse(#"{"v":1}"#) != JSON.parse(#"{"v":1.0}"#))
    }

    @Test func numbersSerialise() {
        #expect(JSONValue.integer(-7).serializedString == "-7")
        #expect(JSONValue.integer(Int64.max).serializedString == "9223372036854775807")
        #expect(JSONValue.double(1.5).serializedString == "1.5")
        #expect(JSONValue.double(-0.25).serializedString == "-0.25")
        #expect(JSONValue.double(2.0).serializedString == "2")
        #expect(JSONValue.double(.nan).serializedString == "null")
        #expect(JSONValue.double(.infinity).serializedString == "null")
    }

    @Test func literalsAndScalars() throws {
        #expect(try JSON.parse("true") == .bool(true))
        #expect(try JSON.parse("false") == .bool(false))
        #expect(try JSON.parse("null") == .null)
        #expect(try JSON.parse(#""x""#) == .string("x"))
        #expect(try JSON.parse("[]") == .array([]))
        #expect(try JSON.parse("{}") == .object(JSONObject()))
    }

    @Test func simpleEscapesDecode() throws {
        #expect(try JSON.parse(#""\"\\\/\b\f\n\r\t""#) == .string("\"\\/\u{08}\u{0C}\n\r\t"))
    }

    @Test func unicodeEscapesDecode() throws {
        #expect(try JSON.parse(#""\u00e9\u00C9""#) == .string("éÉ"))
        #expect(try JSON.parse(#""\u0000""#) == .string("\u{0}"))
        #expect(try JSON.parse(#""\uD83D\uDE00""#) == .string("😀"))
        #expect(try JSON.parse(#""a\ud83d\ude00b""#) == .string("a😀b"))
        #expect(try JSON.parse(#""😀 raw""#) == .string("😀 raw"))
    }

    @Test(arguments: [
        #""\uD83D""#,
        #""\uD83Dx""#,
        #""\uD83D\u0041""#,
        #""\uDE00""#,
        #""\uDE00\uD83D""#,
    ])
    func unpairedSurrogatesAreRefused(_ text: String) {
        #expect(parseFailure(text)?.contains("unpaired surrogate in string") == true)
    }

    @Test(arguments: [#""\x""#, #""\u12G4""#, #""\u12""#, #""\'""#])
    func invalidEscapesAreRefused(_ text: String) {
        let message = parseFailure(text)
        #expect(message?.contains("invalid escape in string") == true || message?.contains("invalid \\u escape") == true)
    }

    @Test func rawControlCharacterInStringIsRefused() {
        #expect(parseFailure("\"a\u{0A}b\"")?.contains("control character in string") == true)
        #expect(parseFailure("\"a\u{09}b\"")?.contains("control character in string") == true)
    }

    @Test func invalidUTF8IsRefused() {
        let error = #expect(throws: JSONParseError.self) { try JSON.parse([0x22, 0xFF, 0xFE, 0x22] as [UInt8]) }
        #expect(error?.message.contains("string is not valid UTF-8") == true)
    }

    @Test func unterminatedStringIsRefused() {
        #expect(parseFailure(#""abc"#)?.contains("unterminated string") == true)
    }

    @Test func duplicateKeysAreRefused() {
        #expect(parseFailure(#"{"a":1,"a":2}"#) == "duplicate property 'a' at byte 12.")
        // The same key spelled with an escape is still the same key.
        #expect(parseFailure(#"{"id":1,"\u0069d":2}"#)?.contains("duplicate property 'id'") == true)
        // Nested objects are checked too.
        #expect(parseFailure(#"{"o":{"x":1,"x":1}}"#)?.contains("duplicate property 'x'") == true)
    }

    @Test func keysDifferingOnlyInCaseAreDistinct() throws {
        let value = try JSON.parse(#"{"a":1,"A":2}"#)
        #expect(value.objectValue?.keys == ["a", "A"])
        #expect(value.objectValue?["A"] == 2)
    }

    @Test func depthLimitIsSixtyFourLevels() throws {
        #expect(JSON.maxDepth == 64)
        let deepest = String(repeating: "[", count: 64) + String(repeating: "]", count: 64)
        _ = try JSON.parse(deepest)
        let tooDeep = String(repeating: "[", count: 65) + String(repeating: "]", count: 65)
        #expect(parseFailure(tooDeep)?.hasPrefix("JSON nested too deeply") == true)
    }

    @Test func depthLimitAppliesToObjects() throws {
        func nested(_ levels: Int) -> String {
            String(repeating: #"{"a":"#, count: levels - 1) + "1" + String(repeating: "}", count: levels - 1)
        }
        // `levels` values: `levels - 1` objects around a number.
        _ = try JSON.parse(nested(64))
        #expect(parseFailure(nested(65))?.hasPrefix("JSON nested too deeply") == true)
    }

    @Test func trailingContentIsRefusedWithItsPosition() {
        #expect(parseFailure("{} x") == "unexpected content after the JSON value at byte 3.")
    }

    @Test(arguments: ["1 2", "[1]]", "{}}", "truex", "nullnull", "\"a\"\"b\"", "{},", "01"])
    func trailingGarbageIsRefused(_ text: String) {
        #expect(parseFailure(text)?.hasPrefix("unexpected content after the JSON value") == true)
    }

    @Test(arguments: [
        "", "   ", "{", "[", "[1,]", #"{"a"}"#, #"{"a":1,}"#, "{a:1}", "1.", ".5", "+1", "-", "1e", "1e+", "tru", "nul", "'a'", "[1 2]",
        #"{"a":1 "b":2}"#, "\u{FEFF}{}",
    ])
    func malformedDocumentsAreRefused(_ text: String) {
        #expect(throws: JSONParseError.self) { try JSON.parse(text) }
    }
}

@Suite struct JSONSerialiseTests {
    @Test func stringEscapes() {
        let value = JSONValue.string("q\"b\\n\nr\rt\t\u{01}\u{1F}/é😀")
        #expect(value.serializedString == #""q\"b\\n\nr\rt\t\u0001\u001f/é😀""#)
    }

    @Test func everyControlCharacterRoundTrips() throws {
        let text = String((0..<0x20).map { Character(Unicode.Scalar(UInt8($0))) })
        let serialized = JSONValue.string(text).serializedString
        #expect(!serialized.unicodeScalars.contains { $0.value < 0x20 })
        #expect(try JSON.parse(serialized) == .string(text))
    }

    @Test func keysAreEscapedToo() {
        var object = JSONObject()
        object.append("a\"b", 1)
        #expect(JSONValue.object(object).serializedString == #"{"a\"b":1}"#)
    }

    @Test func literalBuiltValueSerialisesInOrder() {
        let value: JSONValue = ["id": "Engineering", "description": nil, "maxAttributesPerSet": 25, "tags": ["a", true, 1]]
        #expect(value.serializedString == #"{"id":"Engineering","description":null,"maxAttributesPerSet":25,"tags":["a",true,1]}"#)
    }

    @Test func optionalInitialisers() {
        #expect(JSONValue(String?.none) == .null)
        #expect(JSONValue(String?.some("x")) == .string("x"))
        #expect(JSONValue(Bool?.some(false)) == .bool(false))
        #expect(JSONValue(Int?.some(7)) == .integer(7))
        #expect(JSONValue(Int?.none) == .null)
    }
}

@Suite struct JSONObjectTests {
    @Test func subscriptReplacesInPlaceAndRemoves() {
        var object = JSONObject([(key: "a", value: 1), (key: "b", value: 2), (key: "c", value: 3)])
        object["b"] = "two"
        #expect(object.keys == ["a", "b", "c"])
        #expect(object["b"] == "two")
        object["a"] = nil
        #expect(object.keys == ["b", "c"])
        object["d"] = .null
        #expect(object.keys == ["b", "c", "d"])
        #expect(object["d"] == .null)
        #expect(object["missing"] == nil)
        #expect(object.count == 3)
        #expect(object.contains("c"))
        #expect(!object.contains("C"))
    }

    @Test func accessorsAndTypeNames() {
        let value: JSONValue = ["s": "x", "b": true, "i": 1, "d": .double(0.5), "a": [], "o": [:], "n": nil]
        let object = value.objectValue
        #expect(object?["s"]?.stringValue == "x")
        #expect(object?["b"]?.boolValue == true)
        #expect(object?["a"]?.arrayValue == [])
        #expect(object?["o"]?.objectValue == JSONObject())
        #expect(object?["n"]?.isNull == true)
        #expect(object?["i"]?.stringValue == nil)
        #expect(object?["s"]?.boolValue == nil)
        #expect(object?.map { $0.value.typeName } == ["String", "Boolean", "number", "number", "array", "object", "null"])
    }
}

@Suite struct PayloadTests {
    @Test func bodyMustBeAnObject() {
        #expect(throws: GraphError.badRequest("The request body must be a JSON object describing a AttributeSet.")) {
            try Payload(["x"], resource: "AttributeSet")
        }
    }

    @Test func booleansAcceptTheDocumentedStringSpellings() throws {
        var payload = try Payload(["a": "true", "b": "False", "c": true, "d": nil], resource: "AllowedValue")
        #expect(try payload.bool("a") == .value(true))
        #expect(try payload.bool("b") == .value(false))
        #expect(try payload.bool("c") == .value(true))
        #expect(try payload.bool("d") == .null)
        #expect(try payload.bool("e") == .absent)
    }

    @Test(arguments: [JSONValue.string("yes"), .string("TRUE"), .integer(1), .array([])])
    func otherBooleanSpellingsAreRefused(_ value: JSONValue) throws {
        var payload = try Payload(["isActive": value], resource: "AllowedValue")
        #expect(throws: GraphError.badRequest("Invalid value specified for property 'isActive' of resource 'AllowedValue': expected Boolean.")) {
            try payload.bool("isActive")
        }
    }

    @Test func int32RefusesOutOfRangeAndDecimals() throws {
        let expected = GraphError.badRequest("Invalid value specified for property 'm' of resource 'AttributeSet': expected Int32.")
        var ok = try Payload(["m": .integer(Int64(Int32.max))], resource: "AttributeSet")
        #expect(try ok.int32("m") == .value(Int32.max))
        var big = try Payload(["m": .integer(Int64(Int32.max) + 1)], resource: "AttributeSet")
        #expect(throws: expected) { try big.int32("m") }
        var decimal = try Payload(["m": .double(2.0)], resource: "AttributeSet")
        #expect(throws: expected) { try decimal.int32("m") }
        var text = try Payload(["m": "2"], resource: "AttributeSet")
        #expect(throws: expected) { try text.int32("m") }
    }

    @Test func unknownPropertiesAreRefusedByNameButAnnotationsPass() throws {
        var payload = try Payload(["@odata.type": "#microsoft.graph.attributeSet", "@microsoft.graph.x": 1, "id": "E", "bogus": 1, "other": 2], resource: "AttributeSet")
        _ = try payload.string("id")
        #expect(throws: GraphError.badRequest("Invalid property 'bogus'.")) { try payload.rejectUnknownProperties() }
        _ = payload.raw("bogus")
        #expect(throws: GraphError.invalidProperty("other")) { try payload.rejectUnknownProperties() }
        _ = payload.raw("other")
        try payload.rejectUnknownProperties()
    }

    @Test func annotationPrefixes() {
        #expect(Payload.isAnnotation("@odata.type"))
        #expect(Payload.isAnnotation("@microsoft.graph.conflictBehavior"))
        #expect(!Payload.isAnnotation("odata.type"))
        #expect(!Payload.isAnnotation("allowedValues@delta"))
    }

    @Test func requiredAndNullHandling() throws {
        var payload = try Payload(["id": nil, "n": 1], resource: "AllowedValue")
        #expect(throws: GraphError.badRequest("Property 'id' of resource 'AllowedValue' is required.")) { try payload.requiredString("id") }
        #expect(throws: GraphError.badRequest("Invalid value specified for property 'n' of resource 'AllowedValue': expected String.")) {
            try payload.requiredString("n")
        }
    }
}
