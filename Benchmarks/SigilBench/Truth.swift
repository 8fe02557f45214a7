import SigilCore
import SigilService

/// One user's values as the generator wrote them: what the ground truth is computed from.
struct BenchUser: Sendable {
    var countries: Set<String> = []
    var employeeId: String?
    var projects: [String] = []
    var numVendors: Int?
    var certification: Bool?

    /// The demo's seven users, read from the demo's own values (they are in every bench tenant).
    static var demo: [BenchUser] {
        DemoData.userNames.map { name in
            let sets = DemoData.attributeValues[name]?.objectValue
            let marketing = sets?["Marketing"]?.objectValue
            let engineering = sets?["Engineering"]?.objectValue
            var user = BenchUser()
            user.countries = Set((marketing?["AppCountry"]?.arrayValue ?? []).compactMap(\.stringValue))
            user.employeeId = marketing?["EmployeeId"]?.stringValue
            user.projects = (engineering?["Project"]?.arrayValue ?? []).compactMap(\.stringValue)
            if case .integer(let n) = engineering?["NumVendors"] { user.numVendors = Int(n) }
            user.certification = engineering?["Certification"]?.boolValue
            return user
        }
    }
}

/// The filters `scripts/bench` checks and measures: each one's OData text beside the same
/// condition written in plain Swift over the generator's values. The generator counts every
/// user each condition holds for and writes the count and the text to bench.json, so a count
/// the server returns is compared with one computed without the server's code.
struct BenchFilter: Sendable {
    let name: String
    let filter: String
    let matches: @Sendable (BenchUser) -> Bool

    static let country = "customSecurityAttributes/Marketing/AppCountry"
    static let employeeId = "customSecurityAttributes/Marketing/EmployeeId"
    static let project = "customSecurityAttributes/Engineering/Project"
    static let numVendors = "customSecurityAttributes/Engineering/NumVendors"
    static let certification = "customSecurityAttributes/Engineering/Certification"

    static func gs(_ user: BenchUser) -> Bool { user.employeeId?.hasPrefix("GS") ?? false }

    static let all: [BenchFilter] = [
        BenchFilter(name: "eq:United States", filter: "\(country) eq 'United States'") { $0.countries.contains("United States") },
        BenchFilter(name: "eq:Canada", filter: "\(country) eq 'Canada'") { $0.countries.contains("Canada") },
        BenchFilter(name: "eq:Chile", filter: "\(country) eq 'Chile'") { $0.countries.contains("Chile") },
        BenchFilter(name: "startsWith:GS", filter: "startsWith(\(employeeId),'GS')") { gs($0) },
        BenchFilter(name: "startsWith:GS10000", filter: "startsWith(\(employeeId),'GS10000')") {
            $0.employeeId?.hasPrefix("GS10000") ?? false
        },
        BenchFilter(name: "ne:Canada", filter: "\(country) ne 'Canada'") { !$0.countries.contains("Canada") },
        // Several terms, as a user would write them.
        BenchFilter(name: "and:broad,broad", filter: "\(country) eq 'United States' and \(certification) eq true") {
            $0.countries.contains("United States") && $0.certification == true
        },
        BenchFilter(name: "or:rare,rare", filter: "\(country) eq 'Chile' or \(country) eq 'Egypt'") {
            $0.countries.contains("Chile") || $0.countries.contains("Egypt")
        },
        BenchFilter(name: "and:broad,not-rare", filter: "startsWith(\(employeeId),'GS') and not(\(country) eq 'Chile')") {
            gs($0) && !$0.countries.contains("Chile")
        },
        BenchFilter(name: "and:integer,middle", filter: "\(numVendors) eq 4 and \(country) eq 'Canada'") {
            $0.numVendors == 4 && $0.countries.contains("Canada")
        },
        BenchFilter(name: "and:boolean,middle", filter: "\(certification) eq false and \(country) eq 'Germany'") {
            $0.certification == false && $0.countries.contains("Germany")
        },
        BenchFilter(
            name: "mixed:8 terms",
            filter: "(\(country) eq 'India' or \(country) eq 'Japan' or \(country) eq 'Brazil') and \(certification) eq true"
                + " and not(\(numVendors) eq 0) and (startsWith(\(employeeId),'GS') or \(project) eq 'Alpine')"
                + " and not(\(country) eq 'Egypt')"
        ) { user in
            (user.countries.contains("India") || user.countries.contains("Japan") || user.countries.contains("Brazil"))
                && user.certification == true && !(user.numVendors == 0) && (gs(user) || user.projects.contains("Alpine"))
                && !user.countries.contains("Egypt")
        },
    ]
}
