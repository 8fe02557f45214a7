import SigilCore
import Testing

@testable import SigilClient

/// Command-line words typed by the server's definitions: `Set.Attr=value` assignments and the
/// `Set.Attr == value` / `!=` / `starts-with` filters, translated to OData.
@Suite struct AttributeCatalogTests {
    let catalog = ClientFixtures.catalog
    let refusal = ClientFixtures.refusal

    @Test func definitionsDecodeFromGraphJSON() throws {
        let project = try catalog.definition("Engineering.Project")
        #expect(project.type == .string && project.isCollection && project.usePreDefinedValuesOnly && project.status == .available)
        #expect(try catalog.definition("engineering.numvendors").type == .integer)
        #expect(AttributeCatalog.decode(["attributeSet": "A", "name": "B", "type": "Colour"]) == nil)
        #expect(AttributeCatalog.decode(["name": "B", "type": "String"]) == nil)
    }

    @Test func referencesNameASetAndAnAttribute() throws {
        #expect(try AttributeCatalog.split("Engineering.Project.Phase") == ("Engineering", "Project.Phase"))
        let usage = "'Project' should name an attribute as Set.Attribute, e.g. Engineering.ProjectDate"
        #expect(refusal { _ = try AttributeCatalog.split("Project") } == usage)
        #expect(refusal { _ = try AttributeCatalog.split(".Project") } == "'.Project' should name an attribute as Set.Attribute, e.g. Engineering.ProjectDate")
        #expect(refusal { _ = try AttributeCatalog.split("Engineering.") } == "'Engineering.' should name an attribute as Set.Attribute, e.g. Engineering.ProjectDate")
        #expect(refusal { _ = try catalog.definition("Engineering.Colour") } == "There is no attribute 'Colour' in attribute set 'Engineering' (or you may not read it).")
    }

    @Test func assignmentsAreTypedByTheirDefinition() throws {
        #expect(try catalog.assignment("Engineering.NumVendors=4").values == [.integer(4)])
        #expect(try catalog.assignment("Engineering.Active=TRUE").values == [.boolean(true)])
        #expect(try catalog.assignment("Engineering.ProjectDate=2024-01-01").values == [.string("2024-01-01")])
        // Only multi-valued attributes split on commas; a value may hold `=`.
        #expect(try catalog.assignment("Engineering.Project=Alpine,Baker").values == [.string("Alpine"), .string("Baker")])
        #expect(try catalog.assignment("Marketing.AppCountry=a,b=c").values == [.string("a,b=c")])
        #expect(try catalog.assignment("marketing.appcountry=x").definition.id == "Marketing_AppCountry")
    }

    @Test func assignmentRefusals() {
        #expect(refusal { _ = try catalog.assignment("Engineering.NumVendors") } == "'Engineering.NumVendors' should be Set.Attribute=value, e.g. Engineering.NumVendors=4")
        #expect(refusal { _ = try catalog.assignment("Engineering.NumVendors=") } == "Give Engineering.NumVendors a value, or use `unset` to remove it.")
        #expect(refusal { _ = try catalog.assignment("Engineering.Project=,") } == "Give Engineering.Project a value, or use `unset` to remove it.")
        #expect(
            refusal { _ = try catalog.assignment("Engineering.NumVendors=four") }
                == "Engineering.NumVendors takes whole numbers: 'four' is not a whole number between -2147483648 and 2147483647.")
        #expect(
            refusal { _ = try catalog.assignment("Engineering.NumVendors=2147483648") }
                == "Engineering.NumVendors takes whole numbers: '2147483648' is not a whole number between -2147483648 and 2147483647.")
        #expect(refusal { _ = try catalog.assignment("Engineering.Active=yes") } == "Engineering.Active takes true or false, not 'yes'.")
    }

    @Test func filtersTranslateToOData() throws {
        let path = "customSecurityAttributes/Marketing/AppCountry"
        #expect(try catalog.filter("Marketing.AppCountry == Canada") == "\(path) eq 'Canada'")
        #expect(try catalog.filter("Marketing.AppCountry != O'Brien") == "\(path) ne 'O''Brien'")
        #expect(try catalog.filter("Marketing.AppCountry == New Zealand") == "\(path) eq 'New Zealand'")
        #expect(try catalog.filter("marketing.appcountry  ==  x") == "\(path) eq 'x'")
        #expect(try catalog.filter("Engineering.NumVendors != -4") == "customSecurityAttributes/Engineering/NumVendors ne -4")
        #expect(try catalog.filter("Engineering.Active == False") == "customSecurityAttributes/Engineering/Active eq false")
        #expect(
            try catalog.filter("Engineering.ProjectDate starts-with 2024") == "startsWith(customSecurityAttributes/Engineering/ProjectDate,'2024')")
    }

    /// Spaces around the operator separate, however many: `A.B ==  x` looks for 'x'; spaces
    /// inside the value stay.
    @Test func extraSpacesBeforeTheValueAreSeparators() throws {
        #expect(try catalog.filter("Marketing.AppCountry ==  Canada") == "customSecurityAttributes/Marketing/AppCountry eq 'Canada'")
        #expect(
            try catalog.filter("Marketing.AppCountry ==   New York") == "customSecurityAttributes/Marketing/AppCountry eq 'New York'")
    }

    /// What the client writes, the server's parser reads back as the comparison meant.
    @Test func translatedFiltersParseAsMeant() throws {
        #expect(
            try FilterParser.parse(catalog.filter("Marketing.AppCountry != it's 'quoted'"))
                == .comparison(path: ["customSecurityAttributes", "Marketing", "AppCountry"], op: .ne, value: .string("it's 'quoted'")))
        #expect(
            try FilterParser.parse(catalog.filter("Engineering.NumVendors == 12"))
                == .comparison(path: ["customSecurityAttributes", "Engineering", "NumVendors"], op: .eq, value: .integer(12)))
        #expect(
            try FilterParser.parse(catalog.filter("Engineering.ProjectDate starts-with a'b"))
                == .startsWith(path: ["customSecurityAttributes", "Engineering", "ProjectDate"], prefix: .string("a'b")))
    }

    @Test func filterRefusals() {
        let shape = "--filter takes 'Set.Attribute == value' (or != or starts-with), e.g. \"Marketing.AppCountry == Canada\""
        #expect(refusal { _ = try catalog.filter("Marketing.AppCountry ==") } == shape)
        #expect(refusal { _ = try catalog.filter("Marketing.AppCountry") } == shape)
        #expect(refusal { _ = try catalog.filter("Marketing.AppCountry eq Canada") } == "The operator must be ==, != or starts-with, not 'eq'.")
        #expect(refusal { _ = try catalog.filter("Marketing.Colour == Red") } == "There is no attribute 'Colour' in attribute set 'Marketing' (or you may not read it).")
        #expect(refusal { _ = try catalog.filter("AppCountry == Canada") } == "'AppCountry' should name an attribute as Set.Attribute, e.g. Engineering.ProjectDate")
        #expect(
            refusal { _ = try catalog.filter("Engineering.NumVendors == many") }
                == "Engineering.NumVendors takes whole numbers: 'many' is not a whole number between -2147483648 and 2147483647.")
        #expect(refusal { _ = try catalog.filter("Engineering.Active != maybe") } == "Engineering.Active takes true or false, not 'maybe'.")
    }

    /// The filter reads the set's definitions from the server first, and only that set's.
    @Test func filterLoadsTheNamedSetFromTheServer() async throws {
        let stub = StubGraph { request in
            request.path.hasPrefix("/directory/customSecurityAttributeDefinitions?")
                ? (200, StubGraph.page(ClientFixtures.definitions.filter { $0.objectValue?["attributeSet"] == "Marketing" }))
                : (404, StubGraph.error("Request_ResourceNotFound", "no"))
        }
        #expect(try await AttributeCatalog.filter("Marketing.AppCountry == Canada", client: stub.client) == "customSecurityAttributes/Marketing/AppCountry eq 'Canada'")
        #expect(stub.requests.map(\.path) == ["/directory/customSecurityAttributeDefinitions?$filter=attributeSet%20eq%20%27marketing%27"])
        await #expect(throws: ClientError.self) { try await AttributeCatalog.filter("Engineering.NumVendors == 1", client: stub.client) }
    }
}
